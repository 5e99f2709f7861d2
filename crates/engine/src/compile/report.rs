//! The one error reporter of compilation. Every error of a bundle's content goes through
//! [`Reader::err`], which names the rule being read, shortens long texts and keeps the first
//! [`MAX_ERRORS`] while counting the rest; unknown keys get a "did you mean" hint. The two
//! errors found before any value is read (the bundle too large, the text not JSON) are made
//! here too.

use super::json::{Object, Value};
use crate::error::{pointer_token, CompileError, CompileErrors, ErrorKind};
use crate::limits::{MAX_ERRORS, MAX_ERROR_TEXT_BYTES, MAX_SUGGESTED_KEY_CHARS, MAX_TEXT_BYTES};
use crate::model::constraint::Constraints;
use std::fmt;

/// The JSON pointer of rule `i`, `/rules/<i>`, written only when an error needs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct RulePointer(pub usize);

impl fmt::Display for RulePointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/rules/{}", self.0)
    }
}

/// Reads the parts of a bundle, collecting what is wrong with them. Each part of the format is
/// read by the methods in its own file (`rules.rs`, `conditions.rs`, ...).
#[derive(Default)]
pub(super) struct Reader {
    /// The first [`MAX_ERRORS`] errors found.
    errors: Vec<CompileError>,
    /// How many errors were found, kept or not.
    pub found: usize,
    /// The rule being read (index and usable id), named by every error.
    rule: Option<(usize, Option<String>)>,
    /// The placeholder constraints compiled so far, within the bundle's budget.
    pub constraints: Constraints,
    /// Path-to-regexp sources build their automata when a path is first matched, not now
    /// (the rules of an artifact's part, which its build checked).
    pub defer_automata: bool,
}

/// The error for bundle text over its limit ([`crate::limits::MAX_BUNDLE_BYTES`] for JSON read at run time).
pub(crate) fn too_large(bytes: usize, limit: usize) -> CompileErrors {
    CompileErrors::one(CompileError {
        kind: ErrorKind::Limit,
        rule_index: None,
        rule_id: None,
        pointer: String::new(),
        message: format!("the bundle is {bytes} bytes; the limit is {limit}"),
        hint: if limit == crate::limits::MAX_BUNDLE_BYTES {
            "`redirects build FILE -o rules.bin` validates a bundle this large as it builds the artifact (up to 4 GiB of text and `--max-rules`); `redirects test`, `explain` and `lint` then read rules.bin".into()
        } else {
            "split the bundle by host into several artifacts".into()
        },
        line: None,
        column: None,
    })
}

/// The error for text that is not JSON, with the parser's line and column.
pub(super) fn syntax(e: serde_json::Error) -> CompileErrors {
    CompileErrors::one(CompileError {
        kind: ErrorKind::Syntax,
        rule_index: None,
        rule_id: None,
        pointer: String::new(),
        message: format!("not valid JSON: {e}"),
        hint: "check for a missing comma or quote, or a trailing comma, just before this position"
            .into(),
        line: Some(e.line()),
        column: Some(e.column()),
    })
}

impl Reader {
    /// From now on, errors name rule `index` (and its `id`, once it is known to be usable).
    pub(super) fn in_rule(&mut self, index: usize, id: Option<&str>) {
        self.rule = Some((index, id.map(str::to_string)));
    }

    /// Takes over the errors `other` found, after this reader's own.
    pub(super) fn append(&mut self, other: Reader) {
        self.errors.extend(other.errors);
        self.found += other.found;
    }

    /// The bundle, or the errors found while reading it.
    pub(super) fn finish<T>(self, bundle: T) -> Result<T, CompileErrors> {
        if self.found == 0 {
            Ok(bundle)
        } else {
            let kept = self.errors.len();
            Err(CompileErrors::new(self.errors, self.found - kept))
        }
    }

    /// Whether [`MAX_ERRORS`] errors are kept already, so that more are only counted.
    fn full(&self) -> bool {
        self.errors.len() >= MAX_ERRORS
    }

    /// Reports one error at `pointer`.
    pub(super) fn err(&mut self, kind: ErrorKind, pointer: String, message: String, hint: &str) {
        self.found += 1;
        if self.full() {
            return;
        }
        let (rule_index, rule_id) = match &self.rule {
            Some((i, id)) => (Some(*i), id.clone()),
            None => (None, None),
        };
        self.errors.push(CompileError {
            kind,
            rule_index,
            rule_id,
            pointer: shorten(pointer),
            message: shorten(message),
            hint: hint.to_string(),
            line: None,
            column: None,
        });
    }

    /// Reports `found` where `expected` belongs.
    pub(super) fn type_err(&mut self, pointer: String, expected: &str, found: &Value) {
        if self.full() {
            self.found += 1;
            return;
        }
        let hint = format!("write {expected} here");
        self.err(
            ErrorKind::Type,
            pointer,
            format!("expected {expected}, found {}", kind_of(found)),
            &hint,
        );
    }

    /// Reports keys of `object` not in `known`; a close match is suggested.
    pub(super) fn unknown_keys(
        &mut self,
        object: &Object<'_>,
        known: &[&str],
        at: impl fmt::Display,
    ) {
        for key in object.keys() {
            if known.contains(&key) {
                continue;
            }
            if self.full() {
                self.found += 1;
                continue;
            }
            let hint = match closest(key, known) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("allowed keys here: {}", known.join(", ")),
            };
            self.err(
                ErrorKind::UnknownKey,
                format!("{at}/{}", pointer_token(key)),
                format!("unknown key `{key}`"),
                &hint,
            );
        }
    }

    /// `v` as a boolean, or a type error at `pointer`.
    pub(super) fn boolean(&mut self, v: &Value, pointer: impl FnOnce() -> String) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.type_err(pointer(), "`true` or `false`", v);
                None
            }
        }
    }

    /// `v` as a string of at most [`MAX_TEXT_BYTES`], or an error at `pointer`.
    pub(super) fn string<'v>(
        &mut self,
        v: &'v Value,
        pointer: impl FnOnce() -> String,
    ) -> Option<&'v str> {
        match v {
            Value::String(s) if s.len() > MAX_TEXT_BYTES => {
                self.err(
                    ErrorKind::Limit,
                    pointer(),
                    format!("{} bytes long; the limit is {MAX_TEXT_BYTES}", s.len()),
                    "shorten it",
                );
                None
            }
            Value::String(s) => Some(s),
            _ => {
                self.type_err(pointer(), "a string", v);
                None
            }
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The known key a mistyped `key` most likely means: the nearest within 2 edits, or a third of
/// the known key's length for long keys.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    // A key this long is too far from every known key for a suggestion.
    if key.chars().nth(MAX_SUGGESTED_KEY_CHARS).is_some() {
        return None;
    }
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// `text` cut to at most [`MAX_ERROR_TEXT_BYTES`], ending in `…` when cut.
fn shorten(mut text: String) -> String {
    if text.len() > MAX_ERROR_TEXT_BYTES {
        let mut end = MAX_ERROR_TEXT_BYTES - '…'.len_utf8();
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
        text.shrink_to_fit();
    }
    text
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
