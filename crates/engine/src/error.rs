//! Compile errors: data that names the rule, the JSON pointer, what is wrong and how to fix it.

use crate::limits::MAX_ERRORS;
use std::fmt;

/// What kind of mistake a [`CompileError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not JSON; `line` and `column` say where.
    Syntax,
    /// A value has the wrong JSON type (a string where a list is expected, ...).
    Type,
    /// A key the format does not define (usually a typo).
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// `version` is absent or not `1`.
    Version,
    /// A setting has an invalid value.
    Setting,
    /// Two rules share an id, or an id is empty.
    Id,
    /// A `from` pattern is malformed.
    Pattern,
    /// A `host` is malformed.
    Host,
    /// A `methods` entry is not an HTTP method token.
    Method,
    /// A `to` target is malformed, or an absolute target is not a valid http(s) URL.
    Target,
    /// A target uses a placeholder that nothing captures.
    Placeholder,
    /// `status` is not one of 301, 302, 303, 307, 308, or does not fit the rule.
    Status,
    /// `to`, `split` and `forward` are missing or combined in a way that means nothing.
    Action,
    /// A `split` is malformed (weights, variant names, cookie name).
    Split,
    /// A condition in `when` / `unless` is malformed (geo code shape, empty list, ...).
    Condition,
    /// An entry of `headers` is not a valid header name or value.
    Header,
    /// The bundle exceeds one of the engine's documented limits.
    Limit,
}

/// One thing wrong with a rule bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// What kind of mistake this is.
    pub kind: ErrorKind,
    /// Index of the rule in `rules`, when the error is inside a rule.
    pub rule_index: Option<usize>,
    /// The rule's `id`, when the rule has a usable one.
    pub rule_id: Option<String>,
    /// RFC 6901 JSON pointer to the offending value, e.g. `/rules/3/to`.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// 1-based line of a JSON syntax error.
    pub line: Option<usize>,
    /// 1-based column of a JSON syntax error.
    pub column: Option<usize>,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "line {line}, column {column}: ")?;
        }
        match (self.rule_index, &self.rule_id) {
            (Some(i), Some(id)) => write!(f, "rule {i} ({id:?}) ")?,
            (Some(i), None) => write!(f, "rule {i} ")?,
            _ => {}
        }
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "at {pointer}: {}", self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// Every error found in a bundle. Never empty. Rules are reported in file order; within a
/// rule, keys are checked in a fixed order (`id`, unknown keys, `from`, `host`, `methods`,
/// `when`, `unless`, `to`, ...), so the same mistake always produces the same report.
///
/// At most [`MAX_ERRORS`] errors are kept, the first ones found; the rest are counted
/// ([`CompileErrors::omitted`]) so that a bundle wrong in every one of its rules costs no more
/// memory to reject than a bundle with a hundred mistakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileErrors {
    errors: Vec<CompileError>,
    omitted: usize,
}

impl CompileErrors {
    /// The errors kept: all of them, or the first [`MAX_ERRORS`]. Never empty.
    pub fn errors(&self) -> &[CompileError] {
        &self.errors
    }

    /// How many more errors were found than [`CompileErrors::errors`] holds.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// How many errors were found in all: kept and omitted.
    pub fn total(&self) -> usize {
        self.errors.len() + self.omitted
    }

    /// The errors kept, owned.
    pub fn into_errors(self) -> Vec<CompileError> {
        self.errors
    }

    /// A report of `errors` (never empty), keeping the first [`MAX_ERRORS`], plus `omitted`
    /// errors found but not kept.
    pub(crate) fn new(mut errors: Vec<CompileError>, omitted: usize) -> Self {
        debug_assert!(!errors.is_empty());
        let over = errors.len().saturating_sub(MAX_ERRORS);
        errors.truncate(MAX_ERRORS);
        CompileErrors {
            errors,
            omitted: omitted + over,
        }
    }

    /// A report of one error.
    pub(crate) fn one(error: CompileError) -> Self {
        CompileErrors::new(vec![error], 0)
    }
}

impl fmt::Display for CompileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.total();
        writeln!(
            f,
            "{n} error{} in rule bundle:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            writeln!(f, "  {e}")?;
        }
        if self.omitted > 0 {
            writeln!(
                f,
                "  and {} more error{} (only the first {MAX_ERRORS} are kept)",
                self.omitted,
                if self.omitted == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileErrors {}

/// Escapes one JSON pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
