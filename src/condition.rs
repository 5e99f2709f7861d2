//! `when` / `unless` conditions: query, header, cookie, geolocation and language.

use crate::encode::decode_query;
use crate::request::Request;
use std::borrow::Cow;

/// A value test: exact text, a `*` glob, or presence with any value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `"*"`: present with any value.
    Any,
    /// No `*`: exactly this text.
    Exact(String),
    /// Text split at each `*`: the pieces must appear in order, anchored at both ends.
    Pieces(Vec<String>),
}

impl Glob {
    pub(crate) fn new(text: &str) -> Self {
        if text == "*" {
            Glob::Any
        } else if text.contains('*') {
            Glob::Pieces(text.split('*').map(str::to_string).collect())
        } else {
            Glob::Exact(text.to_string())
        }
    }

    pub(crate) fn matches(&self, value: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(e) => e == value,
            Glob::Pieces(pieces) => {
                let (first, rest) = (&pieces[0], &pieces[1..]);
                let Some(mut tail) = value.strip_prefix(first.as_str()) else {
                    return false;
                };
                let (last, middle) = rest.split_last().expect("a glob with `*` has two pieces");
                for piece in middle {
                    match tail.find(piece.as_str()) {
                        Some(at) => tail = &tail[at + piece.len()..],
                        None => return false,
                    }
                }
                tail.len() >= last.len() && tail.ends_with(last.as_str())
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Glob::Any => "present".into(),
            Glob::Exact(e) => format!("= {e:?}"),
            Glob::Pieces(p) => format!("~ {:?}", p.join("*")),
        }
    }
}

/// How one `when.query` entry tests its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryTest {
    /// Compare the decoded value with a glob.
    Glob(Glob),
    /// `":name"`: present with any value, captured as placeholder `name`.
    Capture(String),
}

/// The geolocation field a condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GeoField {
    Country,
    Continent,
    Region,
    City,
}

impl GeoField {
    fn name(self) -> &'static str {
        match self {
            GeoField::Country => "country",
            GeoField::Continent => "continent",
            GeoField::Region => "region",
            GeoField::City => "city",
        }
    }
}

/// One condition; a `when` holds when all of its conditions hold, an `unless` blocks a rule
/// when any of its conditions holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    Query(String, QueryTest),
    Header(String, Glob),
    Cookie(String, Glob),
    /// Geo list, stored lower-case.
    Geo(GeoField, Vec<String>),
    /// Primary language subtags, lower-case.
    Language(Vec<String>),
}

/// The conditions of a rule's `when` or `unless`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub(crate) list: Vec<Condition>,
}

impl Conditions {
    /// No conditions at all.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// Any country, continent, region or city condition.
    pub fn has_geo(&self) -> bool {
        self.list.iter().any(|c| matches!(c, Condition::Geo(..)))
    }
    /// A language condition.
    pub fn has_language(&self) -> bool {
        self.list
            .iter()
            .any(|c| matches!(c, Condition::Language(_)))
    }
    /// A cookie condition.
    pub fn has_cookie(&self) -> bool {
        self.list.iter().any(|c| matches!(c, Condition::Cookie(..)))
    }
    /// A query condition.
    pub fn has_query(&self) -> bool {
        self.list.iter().any(|c| matches!(c, Condition::Query(..)))
    }
    /// A header condition.
    pub fn has_header(&self) -> bool {
        self.list.iter().any(|c| matches!(c, Condition::Header(..)))
    }
    /// Human-readable descriptions, one per condition, in order.
    pub fn describe(&self) -> Vec<String> {
        self.list.iter().map(Condition::describe_one).collect()
    }
    /// Names captured by `":name"` query values.
    pub(crate) fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().filter_map(|c| match c {
            Condition::Query(_, QueryTest::Capture(n)) => Some(n.as_str()),
            _ => None,
        })
    }
}

impl Condition {
    /// Whether the condition holds; a `":name"` query capture is appended to `captures`.
    pub(crate) fn holds<'r>(
        &self,
        request: &Request<'r>,
        query: &mut Query<'r>,
        captures: &mut Vec<Cow<'r, str>>,
    ) -> bool {
        match self {
            Condition::Query(name, test) => {
                let found = query.values(name).find(|value| match test {
                    QueryTest::Capture(_) => true,
                    QueryTest::Glob(g) => g.matches(value),
                });
                match (found, test) {
                    (Some(v), QueryTest::Capture(_)) => {
                        captures.push(v.clone());
                        true
                    }
                    (found, _) => found.is_some(),
                }
            }
            Condition::Header(name, glob) => request
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && glob.matches(v)),
            Condition::Cookie(name, glob) => {
                cookie_value(request, name).is_some_and(|v| glob.matches(v))
            }
            Condition::Geo(field, list) => {
                let value = match field {
                    GeoField::Country => request.geo.country,
                    GeoField::Continent => request.geo.continent,
                    GeoField::Region => request.geo.region,
                    GeoField::City => request.geo.city,
                };
                value.is_some_and(|v| {
                    let v = v.trim();
                    list.iter().any(|l| {
                        l.eq_ignore_ascii_case(v)
                            || (*field == GeoField::City && *l == v.to_lowercase())
                    })
                })
            }
            Condition::Language(list) => preferred_language(request)
                .is_some_and(|lang| list.iter().any(|l| l.eq_ignore_ascii_case(lang))),
        }
    }

    pub(crate) fn describe_one(&self) -> String {
        match self {
            Condition::Query(n, QueryTest::Capture(c)) => format!("query {n} present (as :{c})"),
            Condition::Query(n, QueryTest::Glob(g)) => format!("query {n} {}", g.describe()),
            Condition::Header(n, g) => format!("header {n} {}", g.describe()),
            Condition::Cookie(n, g) => format!("cookie {n} {}", g.describe()),
            Condition::Geo(f, list) => format!("{} in [{}]", f.name(), list.join(", ")),
            Condition::Language(list) => format!("language in [{}]", list.join(", ")),
        }
    }
}

/// A request's query string, decoded once, the first time a condition asks for it: every rule
/// that tests the query then costs a lookup, not another pass over the whole string (a query
/// can be kilobytes long, and a lookup table of query rules can make thousands of candidates).
#[derive(Debug)]
pub(crate) struct Query<'r> {
    raw: Option<&'r str>,
    /// Decoded `(name, value)` pairs, sorted by name; pairs of one name keep their order.
    pairs: Option<Vec<(Cow<'r, str>, Cow<'r, str>)>>,
}

impl<'r> Query<'r> {
    /// The query of a request, without `?`, if it has one.
    pub(crate) fn new(raw: Option<&'r str>) -> Self {
        Query { raw, pairs: None }
    }

    /// The decoded values of parameter `name`, in the order they were sent.
    pub(crate) fn values(&mut self, name: &str) -> impl Iterator<Item = &Cow<'r, str>> + '_ {
        let raw = self.raw.unwrap_or("");
        let pairs = self.pairs.get_or_insert_with(|| {
            let mut pairs: Vec<_> = query_pairs(raw)
                .map(|(n, v)| (decode_query(n), decode_query(v)))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            pairs
        });
        let start = pairs.partition_point(|(n, _)| n.as_ref() < name);
        let len = pairs[start..].partition_point(|(n, _)| n.as_ref() == name);
        pairs[start..start + len].iter().map(|(_, v)| v)
    }
}

/// The raw `(name, value)` pairs of a query string, empty pairs skipped.
pub(crate) fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// The value of cookie `name` from the request's `Cookie` header(s), first occurrence.
pub(crate) fn cookie_value<'r>(request: &Request<'r>, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| v.split(';'))
        .find_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            (n.trim() == name).then(|| {
                let v = v.trim();
                v.strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
            })
        })
}

/// The primary subtag of the visitor's first acceptable language: the highest q-value in
/// `Accept-Language`, ties kept in header order, `q=0` and `*` ignored.
pub(crate) fn preferred_language<'r>(request: &Request<'r>) -> Option<&'r str> {
    let header = request.header("accept-language")?;
    let mut best: Option<(&str, u32)> = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        if tag.is_empty() || tag == "*" {
            continue;
        }
        let mut q = 1000;
        for param in parts {
            if let Some(v) = param
                .trim()
                .strip_prefix("q=")
                .or_else(|| param.trim().strip_prefix("Q="))
            {
                q = parse_q(v.trim()).unwrap_or(0);
            }
        }
        if q == 0 {
            continue;
        }
        if best.is_none_or(|(_, bq)| q > bq) {
            best = Some((tag, q));
        }
    }
    best.map(|(tag, _)| tag.split('-').next().unwrap_or(tag))
}

/// Parses a q-value (`0`, `0.8`, `1.000`) into thousandths.
fn parse_q(v: &str) -> Option<u32> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u32::from(b - b'0') * [100, 10, 1][i];
    }
    let q = whole + thousandths;
    (q <= 1000).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(Glob::new("*Mobile*").matches("Foo Mobile Safari"));
        assert!(!Glob::new("*Mobile*").matches("Desktop"));
        assert!(Glob::new("a*").matches("a"));
        assert!(!Glob::new("ab*ba").matches("aba"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("x").matches("x"));
    }

    #[test]
    fn languages() {
        let h = [("Accept-Language", "fr;q=0.5, de-AT, en;q=0.9")];
        let r = Request {
            headers: &h,
            ..Request::get("https://a/")
        };
        assert_eq!(preferred_language(&r), Some("de"));
        let h = [("accept-language", "*, en;q=0")];
        let r = Request {
            headers: &h,
            ..Request::get("https://a/")
        };
        assert_eq!(preferred_language(&r), None);
    }
}
