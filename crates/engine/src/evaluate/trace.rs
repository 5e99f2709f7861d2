//! Why each candidate rule did or did not apply: the data behind `redirects explain`.

use crate::answer::Decision;
use std::fmt;

/// The decision for a request together with the reasoning that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'e> {
    /// Exactly what [`crate::Engine::evaluate`] returns for the same request.
    pub decision: Decision<'e>,
    /// Each candidate rule whose host and pattern index matched, in file order, up to and
    /// including the one that applied.
    pub trace: Vec<TraceStep<'e>>,
}

/// One candidate rule and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceStep<'e> {
    /// Index of the rule in the bundle's `rules`.
    pub rule_index: usize,
    /// The rule's id.
    pub rule_id: &'e str,
    /// Whether it applied, and if not, why.
    pub verdict: Verdict,
}

/// The reason a candidate rule did or did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The rule applied and decided the request.
    Applied,
    /// The rule's `host` does not match the request's host.
    HostMismatch,
    /// The rule's `methods` do not include the request's method.
    MethodMismatch,
    /// The rule's pattern does not match the path (a guard: the index offers only rules whose
    /// pattern matches, so explanations do not show it).
    PatternMismatch,
    /// A `when` condition does not hold; the text describes it (`country in [DE, AT]`), and for
    /// a time window adds a second line saying when it opens or closed.
    WhenFailed(String),
    /// An `unless` condition holds; the text describes it (a window adds a second line).
    UnlessHeld(String),
    /// The target equals the request URL, so the rule is treated as not matching.
    LoopGuard,
    /// A placeholder substituted into the target's host produced a host outside
    /// `settings.allowed_hosts`.
    HostNotAllowed,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Applied => f.write_str("applied"),
            Verdict::HostMismatch => f.write_str("host does not match"),
            Verdict::MethodMismatch => f.write_str("method not in methods"),
            Verdict::PatternMismatch => f.write_str("pattern does not match"),
            Verdict::WhenFailed(c) => match c.split_once('\n') {
                Some((c, note)) => write!(f, "when: {c} does not hold ({note})"),
                None => write!(f, "when: {c} does not hold"),
            },
            Verdict::UnlessHeld(c) => match c.split_once('\n') {
                Some((c, note)) => write!(f, "unless: {c} holds ({note})"),
                None => write!(f, "unless: {c} holds"),
            },
            Verdict::LoopGuard => f.write_str("target equals the request URL (loop guard)"),
            Verdict::HostNotAllowed => f.write_str("target host is not in settings.allowed_hosts"),
        }
    }
}
