//! `from` patterns: literal segments, `:name` (one segment), `:name*` and `*` (the rest); or,
//! with `"from_syntax": "path-to-regexp"`, a path-to-regexp source ([`PathRegex`]).

use crate::limits::MAX_PATTERN_SEGMENTS;
use crate::model::constraint::Constraints;
pub use crate::model::path_regex::PathRegex;
use crate::model::placeholder::is_name;
pub use crate::model::shaped::ShapedPlaceholder;
use crate::request::url::{comparable, PathSegments};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::ops::Range;

fn range(s: &Seg) -> Range<usize> {
    s.start as usize..s.end as usize
}

/// Heap a shaped segment (`:id(\d+)`, `item-{:id}`) is costed at by
/// [`Pattern::matcher_bytes`]: its shape and its share of the sets of shapes an index keeps
/// (measured natively: 1,044 bytes a rule with one shaped segment, over an exact rule's).
pub(crate) const SHAPED_SEGMENT_BYTES: usize = 1024 + 256;

/// One segment of a compiled `from` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'p> {
    /// Matches exactly this text (already decoded, lower-cased when matching ignores case).
    Literal(&'p str),
    /// `:name` — exactly one non-empty segment.
    Param(&'p str),
    /// `:name*` or `*` (named `splat`) — zero or more segments; always last.
    Splat(&'p str),
    /// A placeholder with a shape (`:id(\d+)`, `:slug.html`, `dash-{:id}`) — one non-empty
    /// part of exactly one segment, its name and its shape.
    Shaped(&'p str, &'p ShapedPlaceholder),
    /// A path-to-regexp source after its leading literal segments: the rest of the path must
    /// start with this literal text (comparable form, possibly empty), and the whole path
    /// match the source. Always last.
    Regex(&'p str, &'p PathRegex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Literal,
    Param,
    Splat,
    /// Index into the pattern's shapes.
    Shaped(u32),
    /// The pattern's path-to-regexp source; the text is the literal start of the rest.
    Regex,
}

/// A segment as stored: its kind and the range of its text (literal or name) in `text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    kind: Kind,
    start: u32,
    end: u32,
}

/// A compiled `from` pattern.
///
/// Stored as one string and a list of ranges: `text` is each segment's text (the comparable
/// literal, or the placeholder's name) behind a `/`, so for a pattern without placeholders
/// it is exactly the exact-path key. Such a pattern, when no literal holds a `/` (from
/// `%2F`), keeps no ranges at all: its segments are `text` cut at each `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: Box<str>,
    segs: Box<[Seg]>,
    /// What most patterns have none of: shapes, a path-to-regexp source (one pointer for
    /// both, as a bundle may hold 100,000 patterns).
    more: Option<Box<More>>,
}

/// The parts of a pattern most patterns do not have.
#[derive(Debug, Clone, PartialEq, Eq)]
struct More {
    /// The shapes of `Kind::Shaped` segments.
    shapes: Box<[ShapedPlaceholder]>,
    /// A path-to-regexp source (`"from_syntax": "path-to-regexp"`), matched whole.
    regex: Option<PathRegex>,
}

/// The segments of a pattern, in order.
#[derive(Debug, Clone)]
pub struct Segments<'p> {
    pattern: &'p Pattern,
    stored: std::slice::Iter<'p, Seg>,
    /// The segments of an exact pattern that keeps no ranges.
    cut: Option<std::str::Split<'p, char>>,
}

impl<'p> Iterator for Segments<'p> {
    type Item = Segment<'p>;
    fn next(&mut self) -> Option<Segment<'p>> {
        match &mut self.cut {
            Some(cut) => cut.next().map(Segment::Literal),
            None => self.stored.next().map(|s| self.pattern.segment(s)),
        }
    }
}

impl Pattern {
    /// Parses a `from` pattern on its own; the error says what is wrong.
    #[cfg(test)]
    pub(crate) fn parse(
        text: &str,
        case_sensitive: bool,
        strict_slash: bool,
    ) -> Result<Self, String> {
        Self::parse_in(
            text,
            case_sensitive,
            strict_slash,
            &mut Constraints::default(),
        )
    }

    /// Parses a `from` in path-to-regexp syntax: the source compiled whole, filed under its
    /// leading literal segments, the literal start of the next one after them. With `defer`,
    /// the source's automaton is built when a path is first matched
    /// ([`PathRegex::compile_deferred`]).
    pub(crate) fn parse_path_to_regexp(
        text: &str,
        case_sensitive: bool,
        defer: bool,
    ) -> Result<Self, String> {
        let regex = if defer {
            PathRegex::compile_deferred(text, case_sensitive)?
        } else {
            PathRegex::compile(text, case_sensitive)?
        };
        let literal = regex.literal().to_string();
        let literal = literal.strip_prefix('/').unwrap_or(&literal);
        let mut pieces: Vec<&str> = literal.split('/').collect();
        let partial = pieces.pop().unwrap_or("");
        if pieces.len() >= MAX_PATTERN_SEGMENTS {
            return Err(format!(
                "pattern has more than {MAX_PATTERN_SEGMENTS} segments"
            ));
        }
        let mut out = String::new();
        let mut segs = Vec::with_capacity(pieces.len() + 1);
        for (kind, piece) in pieces
            .iter()
            .map(|p| (Kind::Literal, *p))
            .chain([(Kind::Regex, partial)])
        {
            out.push('/');
            let start = out.len();
            out.push_str(piece);
            let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(out.len())) else {
                return Err("pattern is too long".into());
            };
            segs.push(Seg { kind, start, end });
        }
        Ok(Pattern {
            text: out.into_boxed_str(),
            segs: segs.into_boxed_slice(),
            more: Some(Box::new(More {
                shapes: Box::default(),
                regex: Some(regex),
            })),
        })
    }

    /// Parses a `from` pattern of a bundle whose constraints so far are `known`.
    pub(crate) fn parse_in(
        text: &str,
        case_sensitive: bool,
        strict_slash: bool,
        known: &mut Constraints,
    ) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!("pattern {text:?} does not start with `/`"));
        }
        if outside_groups(text, b'?') {
            return Err(
                "a pattern never contains a query string; match it with `when.query` (an optional `:name?` is written as two rules)".into(),
            );
        }
        if outside_groups(text, b'#') {
            return Err(
                "a pattern never contains a fragment (`#`): browsers do not send it".into(),
            );
        }
        let cut = PathSegments::ranges(text, strict_slash);
        if cut.len() > MAX_PATTERN_SEGMENTS {
            return Err(format!(
                "pattern has {} segments; the limit is {MAX_PATTERN_SEGMENTS}",
                cut.len()
            ));
        }
        let source = text;
        let mut text = String::with_capacity(text.len());
        let mut segs: Vec<Seg> = Vec::with_capacity(cut.len());
        let mut shapes: Vec<ShapedPlaceholder> = Vec::new();
        let count = cut.len();
        for (i, &(start, end)) in cut.iter().enumerate() {
            let raw = &source[start..end];
            let last = i + 1 == count;
            let (kind, value) = if raw == "*" {
                (Kind::Splat, Cow::Borrowed("splat"))
            } else if let Some((name, shape)) = ShapedPlaceholder::parse(raw, case_sensitive, known)
                .map_err(|e| format!("`{raw}`: {e}"))?
            {
                shapes.push(shape);
                (Kind::Shaped(shapes.len() as u32 - 1), Cow::Borrowed(name))
            } else if let Some(name) = raw.strip_prefix(':') {
                match name.strip_suffix('*') {
                    Some(n) if is_name(n) => (Kind::Splat, Cow::Borrowed(n)),
                    _ if is_name(name) => (Kind::Param, Cow::Borrowed(name)),
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
                (Kind::Literal, comparable(raw, case_sensitive))
            };
            if kind == Kind::Splat && !last {
                return Err(format!(
                    "`{raw}` matches the rest of the path, so it must be the last segment"
                ));
            }
            if kind != Kind::Literal {
                let dup = segs
                    .iter()
                    .any(|s| s.kind != Kind::Literal && text[range(s)] == *value);
                if dup {
                    return Err(format!("placeholder `{value}` is captured twice"));
                }
            }
            text.push('/');
            let start = text.len();
            text.push_str(&value);
            let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(text.len())) else {
                return Err("pattern is too long".into());
            };
            segs.push(Seg { kind, start, end });
        }
        let cuttable = segs
            .iter()
            .all(|s| s.kind == Kind::Literal && !text[range(s)].contains('/'));
        Ok(Pattern {
            text: text.into_boxed_str(),
            segs: if cuttable {
                Box::default()
            } else {
                segs.into_boxed_slice()
            },
            more: (!shapes.is_empty()).then(|| {
                Box::new(More {
                    shapes: shapes.into_boxed_slice(),
                    regex: None,
                })
            }),
        })
    }

    fn segment(&self, s: &Seg) -> Segment<'_> {
        let t = &self.text[range(s)];
        match s.kind {
            Kind::Literal => Segment::Literal(t),
            Kind::Param => Segment::Param(t),
            Kind::Splat => Segment::Splat(t),
            Kind::Shaped(i) => Segment::Shaped(
                t,
                &self
                    .more
                    .as_ref()
                    .expect("shaped segments have shapes")
                    .shapes[i as usize],
            ),
            Kind::Regex => Segment::Regex(
                t,
                self.path_regex().expect("a regex segment has its source"),
            ),
        }
    }

    /// The segments in order.
    pub fn segments(&self) -> Segments<'_> {
        Segments {
            pattern: self,
            stored: self.segs.iter(),
            cut: (self.segs.is_empty() && !self.text.is_empty()).then(|| self.text[1..].split('/')),
        }
    }

    /// Whether the pattern has no placeholders (it goes into the exact-path map).
    pub fn is_exact(&self) -> bool {
        self.segs.iter().all(|s| s.kind == Kind::Literal)
    }

    /// About how many bytes of heap matching this pattern takes beyond its text: a
    /// path-to-regexp source's automaton and scratch space ([`PathRegex::heap_bytes`]), and
    /// 1,280 bytes for each shaped segment (its shape, and its share of the sets of shapes an
    /// index keeps).
    pub fn matcher_bytes(&self) -> usize {
        if self.is_exact() {
            return 0;
        }
        self.segments()
            .map(|s| match s {
                Segment::Regex(_, regex) => regex.heap_bytes(),
                Segment::Shaped(..) => SHAPED_SEGMENT_BYTES,
                Segment::Literal(_) | Segment::Param(_) | Segment::Splat(_) => 0,
            })
            .sum()
    }

    /// The exact-path key of a pattern without placeholders.
    pub(crate) fn exact_key(&self) -> &str {
        if self.text.is_empty() {
            "/"
        } else {
            &self.text
        }
    }

    /// The path-to-regexp source, for a `from` written in that syntax.
    pub fn path_regex(&self) -> Option<&PathRegex> {
        self.more.as_ref().and_then(|m| m.regex.as_ref())
    }

    /// Names the pattern captures, in order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.segments()
            .filter_map(|s| match s {
                Segment::Param(n) | Segment::Splat(n) | Segment::Shaped(n, _) => Some(n),
                Segment::Literal(_) | Segment::Regex(..) => None,
            })
            .chain(self.path_regex().into_iter().flat_map(|r| r.names()))
    }

    /// Matches the request's segments and appends the captures (raw, as sent) to `out`.
    pub(crate) fn captures<'p, 'a, T, const N: usize>(
        &'p self,
        path: &PathSegments<'a>,
        out: &mut SmallVec<[(&'p str, T); N]>,
        wrap: impl Fn(&'a str) -> T,
    ) -> bool {
        if self.segs.is_empty() {
            // Exact: the same key as the request's, compared without cutting it.
            return path.key() == self.exact_key();
        }
        if let Some(regex) = self.path_regex() {
            return regex.captures(path, out, wrap);
        }
        let mut i = 0;
        for seg in self.segments() {
            match seg {
                Segment::Literal(l) => {
                    if path.decoded.get(i).map(|d| d.as_ref()) != Some(l) {
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
                Segment::Shaped(n, shape) => {
                    let Some(d) = path.decoded.get(i) else {
                        return false;
                    };
                    match shape.capture(d, path.raw_segment(i), path.aligned[i]) {
                        Some(raw) => out.push((n, wrap(raw))),
                        None => return false,
                    }
                    i += 1;
                }
                Segment::Regex(..) => unreachable!("a regex pattern is matched whole"),
                Segment::Splat(n) => {
                    let trailing = path.decoded.last().is_some_and(|d| d.is_empty());
                    if trailing && !path.rest_takes_slash && i < path.decoded.len() {
                        return false;
                    }
                    out.push((n, wrap(path.raw_rest(i))));
                    return true;
                }
            }
        }
        i == path.decoded.len()
    }
}

/// Whether `byte` appears in `text` outside every `(...)` group (a constraint may hold `?`).
fn outside_groups(text: &str, byte: u8) -> bool {
    let mut depth = 0usize;
    let mut escaped = false;
    for &c in text.as_bytes() {
        match c {
            _ if escaped => escaped = false,
            b'\\' if depth > 0 => escaped = true,
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            c if c == byte && depth == 0 => return true,
            _ => {}
        }
    }
    false
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
