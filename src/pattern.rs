//! `from` patterns: literal segments, `:name` (one segment), `:name*` and `*` (the rest).

use crate::limits::MAX_PATTERN_SEGMENTS;
use crate::request_url::{comparable, PathSegments};
use smallvec::SmallVec;

/// One segment of a compiled `from` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Matches exactly this text (already decoded, lower-cased when matching ignores case).
    Literal(String),
    /// `:name` — exactly one non-empty segment.
    Param(String),
    /// `:name*` or `*` (named `splat`) — zero or more segments; always last.
    Splat(String),
}

/// A compiled `from` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

/// Whether `name` is a valid placeholder name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Pattern {
    /// Parses a `from` pattern; the error says what is wrong.
    pub(crate) fn parse(
        text: &str,
        case_sensitive: bool,
        strict_slash: bool,
    ) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!("pattern {text:?} does not start with `/`"));
        }
        if text.contains('?') {
            return Err(
                "a pattern never contains a query string; match it with `when.query`".into(),
            );
        }
        if text.contains('#') {
            return Err(
                "a pattern never contains a fragment (`#`): browsers do not send it".into(),
            );
        }
        let cut = PathSegments::new(text, true, strict_slash);
        if cut.raw.len() > MAX_PATTERN_SEGMENTS {
            return Err(format!(
                "pattern has {} segments; the limit is {MAX_PATTERN_SEGMENTS}",
                cut.raw.len()
            ));
        }
        let mut segments = Vec::with_capacity(cut.raw.len());
        let count = cut.raw.len();
        for i in 0..count {
            let raw = cut.raw_segment(i);
            let last = i + 1 == count;
            let segment = if raw == "*" {
                Segment::Splat("splat".into())
            } else if let Some(name) = raw.strip_prefix(':') {
                match name.strip_suffix('*') {
                    Some(n) if is_name(n) => Segment::Splat(n.into()),
                    _ if is_name(name) => Segment::Param(name.into()),
                    _ => {
                        return Err(format!(
                            "`{raw}` is not a valid placeholder: names are letters, digits and `_`, not starting with a digit"
                        ))
                    }
                }
            } else if raw.contains('*') {
                return Err(format!(
                    "`*` must be a whole segment (`/docs/*`), not part of `{raw}`"
                ));
            } else {
                Segment::Literal(comparable(raw, case_sensitive).into_owned())
            };
            if matches!(segment, Segment::Splat(_)) && !last {
                return Err(format!(
                    "`{raw}` matches the rest of the path, so it must be the last segment"
                ));
            }
            if let Segment::Param(n) | Segment::Splat(n) = &segment {
                let dup = segments
                    .iter()
                    .any(|s| matches!(s, Segment::Param(m) | Segment::Splat(m) if m == n));
                if dup {
                    return Err(format!("placeholder `{n}` is captured twice"));
                }
            }
            segments.push(segment);
        }
        Ok(Pattern { segments })
    }

    /// The segments in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether the pattern has no placeholders (it goes into the exact-path map).
    pub fn is_exact(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Literal(_)))
    }

    /// The exact-path key of a pattern without placeholders.
    pub(crate) fn exact_key(&self) -> String {
        if self.segments.is_empty() {
            return "/".into();
        }
        let len = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.len() + 1,
                _ => 1,
            })
            .sum();
        let mut key = String::with_capacity(len);
        for s in &self.segments {
            key.push('/');
            if let Segment::Literal(l) = s {
                key.push_str(l);
            }
        }
        key
    }

    /// Names the pattern captures, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(n) | Segment::Splat(n) => Some(n.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Matches the request's segments and appends the captures (raw, as sent) to `out`.
    pub(crate) fn captures<'p, 'a, T, const N: usize>(
        &'p self,
        path: &PathSegments<'a>,
        out: &mut SmallVec<[(&'p str, T); N]>,
        wrap: impl Fn(&'a str) -> T,
    ) -> bool {
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    if path.decoded.get(i).map(|d| d.as_ref()) != Some(l.as_str()) {
                        return false;
                    }
                    i += 1;
                }
                Segment::Param(n) => match path.decoded.get(i) {
                    Some(d) if !d.is_empty() => {
                        out.push((n, wrap(path.raw_segment(i))));
                        i += 1;
                    }
                    _ => return false,
                },
                Segment::Splat(n) => {
                    out.push((n, wrap(path.raw_rest(i))));
                    return true;
                }
            }
        }
        i == path.decoded.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p = Pattern::parse("/blog/:year/:slug", true, false).unwrap();
        let path = PathSegments::new("/blog/2024/hello%20world/", true, false);
        let mut caps: SmallVec<[_; 4]> = SmallVec::new();
        assert!(p.captures(&path, &mut caps, |s| s));
        assert_eq!(
            caps.as_slice(),
            [("year", "2024"), ("slug", "hello%20world")]
        );
        let p = Pattern::parse("/docs/*", true, false).unwrap();
        let mut caps: SmallVec<[_; 4]> = SmallVec::new();
        assert!(p.captures(&PathSegments::new("/docs", true, false), &mut caps, |s| s));
        assert_eq!(caps.as_slice(), [("splat", "")]);
        assert!(Pattern::parse("/a/*/b", true, false).is_err());
        assert!(Pattern::parse("a", true, false).is_err());
        assert!(Pattern::parse("/:1x", true, false).is_err());
        assert!(Pattern::parse("/:a/:a", true, false).is_err());
        assert!(Pattern::parse("/a*", true, false).is_err());
    }
}
