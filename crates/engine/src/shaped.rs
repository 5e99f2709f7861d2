//! A placeholder that is not a whole plain segment: with a constraint (`:id(\d+)`,
//! `:locale(en|de|fr)`), with literal text around it (`:slug.html`, `dash-{:id}`,
//! `page-{:n(\d+)}.html`), or both. It still takes exactly one non-empty piece of one
//! segment, so the rule index sees it as a `:name` segment and the pattern checks the rest.

use crate::constraint::Constraint;
use crate::evaluate::request_url::comparable;
use crate::pattern::is_name;

/// A placeholder segment with a shape: literal prefix and suffix (comparable form) and an
/// optional constraint on the captured value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shaped {
    prefix: Box<str>,
    suffix: Box<str>,
    constraint: Option<Constraint>,
    /// Matching ignores case: the constraint compares letters case-insensitively.
    fold: bool,
}

impl Shaped {
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

    /// Parses a segment of a `from`: `Ok(None)` when it is not a shaped placeholder (a
    /// literal, `:name`, `:name*`, `*`), else the name and the shape.
    ///
    /// Forms: a segment starting with `:name` followed by `(constraint)` and/or literal text;
    /// or literal text with one `{:name}` / `{:name(constraint)}` in it. A literal never
    /// becomes a placeholder unless written so: `Special:Search` stays a literal.
    pub(crate) fn parse(
        raw: &str,
        case_sensitive: bool,
    ) -> Result<Option<(&str, Shaped)>, &'static str> {
        const UNCLOSED: &str = "a bracket without its closing one";
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
            return finish("", &raw[..end], constraint, literal, case_sensitive).map(Some);
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
            return Err("inside `{...}` write `:name` or `:name(constraint)`");
        }
        finish(
            &raw[..open],
            &inner[..end],
            constraint,
            &raw[close + 1..],
            case_sensitive,
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
) -> Result<(&'r str, Shaped), &'static str> {
    let name = &name[1..];
    if !is_name(name) {
        return Err("a placeholder name is letters, digits and `_`, not starting with a digit");
    }
    for text in [prefix, suffix] {
        if text.contains(['{', '}', ':', '*', '(', ')']) {
            return Err("one placeholder per segment, and `{` `}` `(` `)` `*` `:` only around it");
        }
    }
    let constraint = match constraint {
        "" => None,
        c => Some(Constraint::parse(&c[1..c.len() - 1])?),
    };
    Ok((
        name,
        Shaped {
            prefix: comparable(prefix, case_sensitive).into(),
            suffix: comparable(suffix, case_sensitive).into(),
            constraint,
            fold: !case_sensitive,
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

impl Shaped {
    /// Whether the request segment (`decoded`: its comparable form, `raw`: as sent) has this
    /// shape; the raw text of the placeholder's part, as sent, when it has.
    pub(crate) fn capture<'a>(&self, decoded: &str, raw: &'a str) -> Option<&'a str> {
        let (p, s) = (self.prefix.len(), self.suffix.len());
        if decoded.len() <= p + s
            || !decoded.starts_with(&*self.prefix)
            || !decoded.ends_with(&*self.suffix)
        {
            return None;
        }
        let middle = decoded.get(p..decoded.len() - s)?;
        if let Some(c) = &self.constraint {
            if !c.matches(middle, self.fold) {
                return None;
            }
        }
        if raw_offset(raw, decoded.len()) != Some(raw.len()) {
            return None;
        }
        let start = raw_offset(raw, p)?;
        let end = raw_offset(raw, decoded.len() - s)?;
        raw.get(start..end)
    }
}

/// The byte of `raw` where decoded byte `at` starts: `%XX` decodes to one byte (`%2F` stays
/// three). `None` when `at` falls inside an escape, or when the decoded form has another
/// length than this count (a replaced invalid sequence, a letter whose lower case is longer).
fn raw_offset(raw: &str, at: usize) -> Option<usize> {
    let bytes = raw.as_bytes();
    let hex = |b: u8| b.is_ascii_hexdigit();
    let (mut i, mut decoded) = (0, 0);
    while decoded < at && i < bytes.len() {
        let escape =
            bytes[i] == b'%' && i + 2 < bytes.len() && hex(bytes[i + 1]) && hex(bytes[i + 2]);
        if escape {
            let slash = bytes[i + 1] == b'2' && bytes[i + 2].eq_ignore_ascii_case(&b'f');
            decoded += if slash { 3 } else { 1 };
            i += 3;
        } else {
            decoded += 1;
            i += 1;
        }
    }
    (decoded == at).then_some(i)
}
