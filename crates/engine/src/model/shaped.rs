//! A placeholder that is not a whole plain segment: with a constraint (`:id(\d+)`,
//! `:locale(en|de|fr)`), with literal text around it (`:slug.html`, `dash-{:id}`,
//! `page-{:n(\d+)}.html`), or both. It still takes exactly one non-empty piece of one
//! segment, so the rule index sees it as a `:name` segment and the pattern checks the rest.

use crate::model::constraint::{Constraint, Constraints, Refusal, ShapeParts};
use crate::model::placeholder::is_name;
use crate::request::url::{comparable, raw_offset, raw_offset_from_end};

/// A placeholder segment with a shape: literal prefix and suffix (comparable form) and an
/// optional constraint on the captured value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShapedPlaceholder {
    prefix: Box<str>,
    suffix: Box<str>,
    constraint: Option<Constraint>,
}

impl ShapedPlaceholder {
    /// The literal text before the placeholder (decoded; lower-case when matching ignores case).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    /// The literal text after it.
    pub fn suffix(&self) -> &str {
        &self.suffix
    }
    /// The constraint as written, without its parentheses.
    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_ref().map(Constraint::as_str)
    }

    /// The shape as the rule index's sets of shapes read it.
    pub(crate) fn parts(&self) -> ShapeParts<'_> {
        ShapeParts {
            prefix: &self.prefix,
            constraint: self.constraint.as_ref(),
            suffix: &self.suffix,
        }
    }

    /// Parses a segment of a `from`: `Ok(None)` when it is not a shaped placeholder (a
    /// literal, `:name`, `:name*`, `*`), else the name and the shape.
    ///
    /// Forms: a segment starting with `:name` followed by `(constraint)` and/or literal text;
    /// or literal text with one `{:name}` / `{:name(constraint)}` in it. A literal never
    /// becomes a placeholder unless written so: `Special:Search` stays a literal.
    pub(crate) fn parse<'r>(
        raw: &'r str,
        case_sensitive: bool,
        known: &mut Constraints,
    ) -> Result<Option<(&'r str, ShapedPlaceholder)>, Refusal> {
        const UNCLOSED: Refusal = Refusal::Borrowed("a bracket without its closing one");
        if raw.starts_with(':') {
            let end = name_end(raw, 1);
            let after = &raw[end..];
            if end == 1 || after.is_empty() || after == "*" {
                return Ok(None);
            }
            let (constraint, literal) = if after.starts_with('(') {
                let close = closing(after, 0, b')').ok_or(UNCLOSED)?;
                (&after[..=close], &after[close + 1..])
            } else {
                ("", after)
            };
            return finish("", &raw[..end], constraint, literal, case_sensitive, known).map(Some);
        }
        let Some(open) = raw.find("{:") else {
            return Ok(None);
        };
        let close = closing(raw, open, b'}').ok_or(UNCLOSED)?;
        let inner = &raw[open + 1..close];
        let end = name_end(inner, 1);
        let constraint = &inner[end..];
        let bracketed = constraint.starts_with('(')
            && closing(constraint, 0, b')') == Some(constraint.len() - 1);
        if !constraint.is_empty() && !bracketed {
            return Err("inside `{...}` write `:name` or `:name(constraint)`".into());
        }
        finish(
            &raw[..open],
            &inner[..end],
            constraint,
            &raw[close + 1..],
            case_sensitive,
            known,
        )
        .map(Some)
    }
}

/// The end of the placeholder name starting at byte `from`.
fn name_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(text.len(), |i| from + i)
}

/// Finishes parsing: `name` is `:name`, `constraint` is `(...)` or empty.
fn finish<'r>(
    prefix: &'r str,
    name: &'r str,
    constraint: &'r str,
    suffix: &'r str,
    case_sensitive: bool,
    known: &mut Constraints,
) -> Result<(&'r str, ShapedPlaceholder), Refusal> {
    let name = &name[1..];
    if !is_name(name) {
        return Err(
            "a placeholder name is letters, digits and `_`, not starting with a digit".into(),
        );
    }
    for text in [prefix, suffix] {
        if text.contains(['{', '}', ':', '*', '(', ')']) {
            return Err(
                "one placeholder per segment, and `{` `}` `(` `)` `*` `:` only around it".into(),
            );
        }
    }
    let constraint = match constraint {
        "" => None,
        c => Some(Constraint::parse(
            &c[1..c.len() - 1],
            !case_sensitive,
            known,
        )?),
    };
    Ok((
        name,
        ShapedPlaceholder {
            prefix: comparable(prefix, case_sensitive).into(),
            suffix: comparable(suffix, case_sensitive).into(),
            constraint,
        },
    ))
}

/// The index of the `close` that ends the group opened at byte `open`, skipping nested
/// brackets and `\`-escapes.
fn closing(text: &str, open: usize, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, &c) in text.as_bytes().iter().enumerate().skip(open) {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            b'\\' => escaped = true,
            b'(' | b'{' => depth += 1,
            b')' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (c == close).then_some(i);
                }
            }
            _ => {}
        }
    }
    None
}

impl ShapedPlaceholder {
    /// Whether the request segment (`decoded`: its comparable form, `raw`: as sent, `aligned`:
    /// whether offsets in one map to the other, [`PathSegments::aligned`]) has this shape; the
    /// raw text of the placeholder's part, as sent, when it has. The work is the prefix, the
    /// suffix and at most [`MAX_CONSTRAINT_VALUE_BYTES`] of the value, whatever the segment's
    /// length.
    ///
    /// [`PathSegments::aligned`]: crate::request::url::PathSegments::aligned
    /// [`MAX_CONSTRAINT_VALUE_BYTES`]: crate::limits::MAX_CONSTRAINT_VALUE_BYTES
    pub(crate) fn capture<'a>(
        &self,
        decoded: &str,
        raw: &'a str,
        aligned: bool,
    ) -> Option<&'a str> {
        let (p, s) = (self.prefix.len(), self.suffix.len());
        if decoded.len() <= p + s
            || !decoded.starts_with(&*self.prefix)
            || !decoded.ends_with(&*self.suffix)
        {
            return None;
        }
        let middle = decoded.get(p..decoded.len() - s)?;
        if let Some(c) = &self.constraint {
            if !c.matches(middle) {
                return None;
            }
        }
        if !aligned {
            return None;
        }
        let start = raw_offset(raw, p)?;
        let end = raw.len() - raw_offset_from_end(raw, s)?;
        raw.get(start..end)
    }
}
