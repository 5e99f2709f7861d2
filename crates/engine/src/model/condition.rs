//! `when` / `unless` conditions: time windows, query, header, cookie, geolocation, language,
//! IP ranges and networks (ASN).

use crate::limits::MAX_VALUE_BYTES_TESTED;
use crate::request::instant::{format_duration, format_instant};
use crate::request::network::{IpRanges, Numbers};
use crate::request::visitor::VisitorData;
use std::borrow::Cow;

/// A value test: exact text, a `*` glob, or presence with any value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

    /// Whether `value` matches; a value over [`MAX_VALUE_BYTES_TESTED`] matches only
    /// [`Glob::Any`].
    pub(crate) fn matches(&self, value: &str) -> bool {
        if value.len() > MAX_VALUE_BYTES_TESTED {
            return *self == Glob::Any;
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum QueryTest {
    /// Compare the decoded value with a glob.
    Glob(Glob),
    /// `":name"`: present with any value, captured as placeholder `name`.
    Capture(String),
}

/// The geolocation field a condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeoField {
    /// `cf.country`: ISO 3166-1 alpha-2 codes.
    Country,
    /// `cf.continent`: `AF AN AS EU NA OC SA`.
    Continent,
    /// `cf.regionCode`: ISO 3166-2 subdivision codes without the country.
    Region,
    /// `cf.city`: city names.
    City,
}

impl GeoField {
    /// The field's key in `when` / `unless` (`country`, `continent`, `region`, `city`).
    pub fn name(self) -> &'static str {
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Condition {
    /// `after`: the request's time is at or past this instant (seconds since the Unix epoch).
    After(i64),
    /// `before`: the request's time is before this instant.
    Before(i64),
    Query(String, QueryTest),
    Header(String, Glob),
    Cookie(String, Glob),
    /// Geo list, stored lower-case.
    Geo(GeoField, CodeList),
    /// Primary language subtags, lower-case.
    Language(CodeList),
    /// `ip`: the visitor's address (`CF-Connecting-IP`) is in one of the ranges.
    Ip(Box<IpRanges>),
    /// `asn`: the visitor's network (`cf.asn`) is one of these.
    Asn(Numbers),
}

/// A geo or language condition's codes or names, lower-case: as written (for explanations) and sorted (a
/// request's value is one binary search, however long the list and however many rules on a
/// path carry one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CodeList {
    written: Vec<String>,
    sorted: Box<[String]>,
}

impl CodeList {
    /// `values`, already lower-case, in the order written.
    pub(crate) fn new(values: Vec<String>) -> Self {
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        CodeList {
            written: values,
            sorted: sorted.into_boxed_slice(),
        }
    }

    /// The values in the order written.
    pub(crate) fn written(&self) -> &[String] {
        &self.written
    }

    /// Whether `value` (any case, trimmed) is in the list.
    fn contains(&self, value: &str) -> bool {
        let value = value.trim().to_lowercase();
        self.sorted.binary_search(&value).is_ok()
    }
}

/// The conditions of a rule's `when` or `unless`.
///
/// Equal (and equally hashed) when they test the same things in the same order, as compiled:
/// header names lower-case, geo and language lists lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Conditions {
    pub(crate) list: Vec<Condition>,
}

/// A read-only view of one compiled condition, for tools that reason about a bundle (lint's
/// analysis builds sample requests from it) without reading the JSON again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionView<'c> {
    /// `after`: the request's time is at or past `at` (seconds since the Unix epoch).
    After {
        /// The instant the window opens, inclusive.
        at: i64,
    },
    /// `before`: the request's time is before `at` (seconds since the Unix epoch).
    Before {
        /// The instant the window closes, exclusive.
        at: i64,
    },
    /// `query`: parameter `name` (as written) tested by `test`, which may be a capture.
    Query {
        /// The parameter name.
        name: &'c str,
        /// The value test.
        test: ValueTest<'c>,
    },
    /// `header`: header `name` (lower-case) tested by `test` (never a capture).
    Header {
        /// The header name, lower-case.
        name: &'c str,
        /// The value test.
        test: ValueTest<'c>,
    },
    /// `cookie`: cookie `name` (as written) tested by `test` (never a capture).
    Cookie {
        /// The cookie name.
        name: &'c str,
        /// The value test.
        test: ValueTest<'c>,
    },
    /// `country`, `continent`, `region` or `city`: one of `values` (trimmed, lower-case).
    Geo {
        /// The geolocation field.
        field: GeoField,
        /// The accepted values, lower-case.
        values: &'c [String],
    },
    /// `language`: one of the primary subtags `values` (lower-case).
    Language {
        /// The accepted primary language subtags, lower-case.
        values: &'c [String],
    },
    /// `ip`: the visitor's address is in one of `entries` (addresses and CIDR ranges, as
    /// written).
    Ip {
        /// The addresses and ranges, as written.
        entries: &'c [String],
    },
    /// `asn`: the visitor's autonomous system number is one of `numbers`.
    Asn {
        /// The accepted numbers, as written.
        numbers: &'c [u32],
    },
}

/// How a query, header or cookie condition tests its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueTest<'c> {
    /// `"*"`: present with any value.
    Present,
    /// Exactly this text.
    Exact(&'c str),
    /// A `*` glob, as the pieces between its `*`s (at least two; the first and last are
    /// anchored at the ends of the value, and may be empty).
    Glob(&'c [String]),
    /// `":name"` in `when.query`: present with any value, captured as placeholder `name`.
    Capture(&'c str),
}

impl<'c> ValueTest<'c> {
    fn of_glob(glob: &'c Glob) -> Self {
        match glob {
            Glob::Any => ValueTest::Present,
            Glob::Exact(e) => ValueTest::Exact(e),
            Glob::Pieces(p) => ValueTest::Glob(p),
        }
    }
}

impl Conditions {
    /// The conditions in the order they are tested: the window (`after`, `before`), query,
    /// header, cookie, the geo fields, language, then `ip` and `asn`.
    pub fn iter(&self) -> impl Iterator<Item = ConditionView<'_>> {
        self.list.iter().map(|c| match c {
            Condition::After(at) => ConditionView::After { at: *at },
            Condition::Before(at) => ConditionView::Before { at: *at },
            Condition::Ip(r) => ConditionView::Ip {
                entries: r.written(),
            },
            Condition::Asn(n) => ConditionView::Asn {
                numbers: n.written(),
            },
            Condition::Query(name, QueryTest::Capture(c)) => ConditionView::Query {
                name,
                test: ValueTest::Capture(c),
            },
            Condition::Query(name, QueryTest::Glob(g)) => ConditionView::Query {
                name,
                test: ValueTest::of_glob(g),
            },
            Condition::Header(name, g) => ConditionView::Header {
                name,
                test: ValueTest::of_glob(g),
            },
            Condition::Cookie(name, g) => ConditionView::Cookie {
                name,
                test: ValueTest::of_glob(g),
            },
            Condition::Geo(field, list) => ConditionView::Geo {
                field: *field,
                values: list.written(),
            },
            Condition::Language(list) => ConditionView::Language {
                values: list.written(),
            },
        })
    }
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
    /// An `ip` or `asn` condition.
    pub fn has_network(&self) -> bool {
        self.list
            .iter()
            .any(|c| matches!(c, Condition::Ip(_) | Condition::Asn(_)))
    }
    /// An `after` or `before` condition.
    pub fn has_window(&self) -> bool {
        self.list
            .iter()
            .any(|c| matches!(c, Condition::After(_) | Condition::Before(_)))
    }
    /// The window's bounds, `(after, before)` in seconds since the Unix epoch, each `None`
    /// when not given.
    pub fn window(&self) -> (Option<i64>, Option<i64>) {
        let mut out = (None, None);
        for c in &self.list {
            match c {
                Condition::After(t) => out.0 = Some(*t),
                Condition::Before(t) => out.1 = Some(*t),
                _ => {}
            }
        }
        out
    }
    /// Human-readable descriptions, one per condition, in order.
    pub fn describe(&self) -> Vec<String> {
        self.list.iter().map(Condition::describe_one).collect()
    }
    /// Names captured by `":name"` query values.
    /// The query parameters these conditions require an exact value of: `(name, value)`.
    pub(crate) fn exact_query_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().filter_map(|c| match c {
            Condition::Query(name, QueryTest::Glob(Glob::Exact(value))) => {
                Some((name.as_str(), value.as_str()))
            }
            _ => None,
        })
    }

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
        visitor: &mut VisitorData<'_, 'r>,
        captures: &mut Vec<Cow<'r, str>>,
    ) -> bool {
        match self {
            Condition::After(at) => visitor.request.now.is_some_and(|now| now >= *at),
            Condition::Before(at) => visitor.request.now.is_some_and(|now| now < *at),
            Condition::Ip(ranges) => visitor.address().is_some_and(|a| ranges.contains(a)),
            Condition::Asn(n) => visitor.request.geo.asn.is_some_and(|asn| n.has(asn)),
            Condition::Query(name, test) => {
                let found = visitor.query.values(name).find(|value| match test {
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
            Condition::Header(name, glob) => visitor.header_values(name).any(|v| glob.matches(v)),
            Condition::Cookie(name, glob) => visitor.cookie(name).is_some_and(|v| glob.matches(v)),
            Condition::Geo(field, list) => {
                let geo = visitor.request.geo;
                let value = match field {
                    GeoField::Country => geo.country,
                    GeoField::Continent => geo.continent,
                    GeoField::Region => geo.region,
                    GeoField::City => geo.city,
                };
                value.is_some_and(|v| list.contains(v))
            }
            Condition::Language(list) => visitor.language().is_some_and(|lang| list.contains(lang)),
        }
    }

    /// [`Condition::describe_one`], and for a window bound a second line saying when it opens
    /// or closed relative to `now` (the request's time): why a rule is dormant and when it
    /// wakes. `held`: the condition held (an `unless` that blocked the rule).
    pub(crate) fn describe_at(&self, now: Option<i64>, held: bool) -> String {
        let text = self.describe_one();
        let (Condition::After(t) | Condition::Before(t), Some(now)) = (self, now) else {
            return match self {
                Condition::After(_) | Condition::Before(_) => {
                    format!("{text}\nthe request has no time")
                }
                _ => text,
            };
        };
        let (t, now) = (*t, now);
        let note = match (self, held) {
            (Condition::After(_), false) => format!(
                "dormant: it wakes at {}, in {}",
                format_instant(t),
                format_duration(t - now)
            ),
            (Condition::Before(_), false) => {
                format!("the window closed {} ago", format_duration(now - t))
            }
            (Condition::After(_), _) => format!("held since {} ago", format_duration(now - t)),
            _ => format!("dormant until then, in {}", format_duration(t - now)),
        };
        format!("{text}\n{note}")
    }

    pub(crate) fn describe_one(&self) -> String {
        match self {
            Condition::After(t) => format!("after {}", format_instant(*t)),
            Condition::Before(t) => format!("before {}", format_instant(*t)),
            Condition::Ip(r) => format!("ip in [{}]", shortened(r.written())),
            Condition::Asn(n) => {
                let texts: Vec<String> = n.written().iter().map(u32::to_string).collect();
                format!("asn in [{}]", shortened(&texts))
            }
            Condition::Query(n, QueryTest::Capture(c)) => format!("query {n} present (as :{c})"),
            Condition::Query(n, QueryTest::Glob(g)) => format!("query {n} {}", g.describe()),
            Condition::Header(n, g) => format!("header {n} {}", g.describe()),
            Condition::Cookie(n, g) => format!("cookie {n} {}", g.describe()),
            Condition::Geo(f, list) => format!("{} in [{}]", f.name(), list.written().join(", ")),
            Condition::Language(list) => {
                format!("language in [{}]", list.written().join(", "))
            }
        }
    }
}

/// A list joined with `, `, the first eight entries only and a count of the rest.
fn shortened(items: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut out = items[..items.len().min(SHOWN)].join(", ");
    if items.len() > SHOWN {
        out.push_str(&format!(", and {} more", items.len() - SHOWN));
    }
    out
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
    fn the_view_gives_back_what_was_compiled() {
        let engine = crate::Engine::compile(
            r#"{ "version": 1, "rules": [ { "id": "r", "from": "/", "to": "/x",
                "when": { "language": ["DE"], "country": ["US"], "header": { "User-Agent": "*Mobile*" },
                          "query": { "id": ":id", "ref": "*" }, "cookie": { "beta": "1" } } } ] }"#,
        )
        .unwrap();
        let view: Vec<ConditionView<'_>> = engine.rules()[0].when().iter().collect();
        let pieces = ["".to_string(), "Mobile".to_string(), "".to_string()];
        let us = ["us".to_string()];
        let de = ["de".to_string()];
        assert_eq!(
            view,
            [
                ConditionView::Query {
                    name: "id",
                    test: ValueTest::Capture("id")
                },
                ConditionView::Query {
                    name: "ref",
                    test: ValueTest::Present
                },
                ConditionView::Header {
                    name: "user-agent",
                    test: ValueTest::Glob(&pieces)
                },
                ConditionView::Cookie {
                    name: "beta",
                    test: ValueTest::Exact("1")
                },
                ConditionView::Geo {
                    field: GeoField::Country,
                    values: &us
                },
                ConditionView::Language { values: &de },
            ]
        );
    }

    #[test]
    fn windows_say_when_they_open_or_closed() {
        let t = crate::request::instant::parse_instant("2026-12-24T09:00:00Z").unwrap();
        let (after, before) = (Condition::After(t), Condition::Before(t));
        let said = |c: &Condition, now: Option<i64>, held| c.describe_at(now, held);
        assert_eq!(
            said(&after, Some(t - 7_260), false),
            "after 2026-12-24T09:00:00Z\ndormant: it wakes at 2026-12-24T09:00:00Z, in 2h 1m"
        );
        assert_eq!(
            said(&before, Some(t + 90), false),
            "before 2026-12-24T09:00:00Z\nthe window closed 1m 30s ago"
        );
        assert_eq!(
            said(&after, Some(t + 5), true),
            "after 2026-12-24T09:00:00Z\nheld since 5s ago"
        );
        assert_eq!(
            said(&before, Some(t - 5), true),
            "before 2026-12-24T09:00:00Z\ndormant until then, in 5s"
        );
        assert_eq!(
            said(&after, None, false),
            "after 2026-12-24T09:00:00Z\nthe request has no time"
        );
        let ip = crate::Engine::compile(
            r#"{ "version": 1, "rules": [ { "id": "r", "from": "/", "to": "/x", "when": { "ip": ["192.0.2.1"] } } ] }"#,
        )
        .unwrap();
        assert_eq!(ip.rules()[0].when().describe(), ["ip in [192.0.2.1]"]);
    }

    #[test]
    fn a_value_over_the_tested_length_is_only_present() {
        let long = format!("Mobile{}", "x".repeat(MAX_VALUE_BYTES_TESTED));
        assert!(Glob::new("*").matches(&long));
        assert!(!Glob::new("Mobile*").matches(&long));
        assert!(Glob::new("Mobile*").matches(&long[..MAX_VALUE_BYTES_TESTED]));
    }
}
