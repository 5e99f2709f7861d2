//! `when` / `unless` conditions: query, header, cookie, geolocation and language.

use crate::limits::MAX_VALUE_BYTES_TESTED;
use crate::visitor::Visitor;
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
        visitor: &mut Visitor<'_, 'r>,
        captures: &mut Vec<Cow<'r, str>>,
    ) -> bool {
        match self {
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
                value.is_some_and(|v| {
                    let v = v.trim();
                    // The list is stored lower-case; a non-ASCII city is lowered once, here.
                    if v.is_ascii() {
                        list.iter().any(|l| l.eq_ignore_ascii_case(v))
                    } else {
                        let v = v.to_lowercase();
                        list.contains(&v)
                    }
                })
            }
            Condition::Language(list) => visitor
                .language()
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
    fn a_value_over_the_tested_length_is_only_present() {
        let long = format!("Mobile{}", "x".repeat(MAX_VALUE_BYTES_TESTED));
        assert!(Glob::new("*").matches(&long));
        assert!(!Glob::new("Mobile*").matches(&long));
        assert!(Glob::new("Mobile*").matches(&long[..MAX_VALUE_BYTES_TESTED]));
    }
}
