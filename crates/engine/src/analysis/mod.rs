//! Mistakes a valid bundle can still contain, found on the compiled rules: what
//! `redirects lint` reports.
//!
//! - loops and chains (`chains.rs`): each rule's target is built from a sample request that
//!   satisfies the rule (`sample.rs`), then followed through the engine as a visitor would follow
//!   it;
//! - rules that never fire and duplicate sources (`shadowing.rs`);
//! - permanent statuses on rules that vary per visitor, 301/302 on rules that accept methods
//!   other than GET and HEAD, and cache headers the engine drops (`statuses.rs`).
//!
//! ```
//! use edge_redirects::{analysis, Engine};
//!
//! let engine = Engine::compile(r#"{ "version": 1, "rules": [
//!     { "id": "ping", "from": "/ping", "to": "/pong" },
//!     { "id": "pong", "from": "/pong", "to": "/ping" }
//! ] }"#).unwrap();
//! let findings = analysis::analyse(&engine);
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].code, "loop");
//! ```

mod chains;
mod sample;
mod shadowing;
mod statuses;

use crate::engine::Engine;
use crate::host::host_matches;
use crate::rule::Rule;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The bundle should not deploy (a loop, a rule that can never fire because another has
    /// the same source).
    Error,
    /// Worth fixing; the bundle still works as written.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable kebab-case code: `loop`, `chain`, `never-fires`, `duplicate-source`,
    /// `permanent-conditional`, `method-change`, `ignored-cache-headers`.
    pub code: &'static str,
    /// The rules involved, `(index, id)`, the one to change first.
    pub rules: Vec<(usize, String)>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Every finding for a compiled bundle, ordered by the first rule involved, then severity
/// (errors first), then code.
pub fn analyse(engine: &Engine) -> Vec<Finding> {
    let rules = engine.rules();
    let mut findings = Vec::new();
    shadowing::check(rules, &mut findings);
    for rule in rules {
        statuses::check(rule, &mut findings);
        statuses::ignored_cache_headers(rule, &mut findings);
    }
    chains::check(engine, &mut findings);
    findings.sort_by(|a, b| {
        (a.rules.first().map(|r| r.0), a.severity, a.code).cmp(&(
            b.rules.first().map(|r| r.0),
            b.severity,
            b.code,
        ))
    });
    findings
}

/// A rule as findings name it.
fn named(rule: &Rule) -> (usize, String) {
    (rule.index(), rule.id().to_string())
}

/// Whether host restriction `a` admits every host restriction `b` admits (`None`: any host).
/// Both are normalised rule hosts: lower-case, `*.` for subdomains at any depth.
fn host_covers(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) if a == b => true,
        // `*.example.com` covers `www.example.com` and `*.www.example.com`, never the apex.
        (Some(a), Some(b)) => {
            a.starts_with("*.") && host_matches(a, b.strip_prefix("*.").unwrap_or(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{analyse, host_covers};
    use crate::Engine;

    fn codes(bundle: &str) -> Vec<(&'static str, Vec<usize>)> {
        let engine = Engine::compile(bundle).unwrap();
        analyse(&engine)
            .into_iter()
            .map(|f| (f.code, f.rules.iter().map(|r| r.0).collect()))
            .collect()
    }

    #[test]
    fn duplicates_compare_compiled_conditions() {
        // The same conditions written in another order or case are the same source.
        let found = codes(
            r#"{ "version": 1, "rules": [
                { "id": "a", "from": "/a", "to": "/x", "when": { "country": ["DE"], "header": { "X-A": "1" } } },
                { "id": "b", "from": "/a", "to": "/y", "when": { "header": { "x-a": "1" }, "country": ["de"] } },
                { "id": "c", "from": "/a", "to": "/z", "when": { "country": ["AT"] } }
            ] }"#,
        );
        assert_eq!(found, [("duplicate-source", vec![1, 0])]);
    }

    #[test]
    fn a_sample_request_meets_every_kind_of_condition() {
        // Each rule's sample request must reach the rule itself for its chain to be followed.
        let found = codes(
            r#"{ "version": 1, "rules": [
                { "id": "a", "from": "/a", "to": "/b", "when": { "query": { "p": "x*y", "id": ":id" },
                  "header": { "x-h": "*" }, "cookie": { "c": "1" }, "city": ["München"],
                  "language": ["de"] } },
                { "id": "b", "from": "/b", "to": "/c" }
            ] }"#,
        );
        assert_eq!(found, [("chain", vec![0, 1])]);
    }

    #[test]
    fn host_coverage() {
        assert!(host_covers(None, Some("example.com")));
        assert!(!host_covers(Some("example.com"), None));
        assert!(host_covers(Some("*.example.com"), Some("www.example.com")));
        assert!(host_covers(Some("*.example.com"), Some("*.a.example.com")));
        assert!(host_covers(Some("*.example.com"), Some("*.example.com")));
        assert!(!host_covers(Some("*.example.com"), Some("example.com")));
        assert!(!host_covers(Some("example.com"), Some("*.example.com")));
        assert!(!host_covers(Some("www.example.com"), Some("*.example.com")));
    }
}
