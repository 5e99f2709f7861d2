//! Mistakes a valid bundle can still contain, found on the compiled rules: what
//! `redirects lint` reports.
//!
//! - loops and chains (`chains.rs`): each rule's target is built from a sample request that
//!   satisfies the rule (`sample.rs`), then followed through the engine as a visitor would follow
//!   it;
//! - rules that never fire and duplicate sources (`shadowing.rs`);
//! - permanent statuses on rules that vary per visitor, 301/302 on rules that accept methods
//!   other than GET and HEAD, and cache headers the engine drops (`statuses.rs`);
//! - time windows that never open or are over (`windows.rs`, with [`analyse_at`]).
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
mod windows;

use crate::engine::Engine;
use crate::model::rule::Rule;
use crate::request::host::host_matches;

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
    /// `permanent-conditional`, `method-change`, `ignored-cache-headers`, `window-never-opens`,
    /// `window-over`.
    pub code: &'static str,
    /// The rules involved, `(index, id)`, the one to change first.
    pub rules: Vec<(usize, String)>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Every finding for a compiled bundle, ordered by the first rule involved, then severity
/// (errors first), then code. Windows that are over are not reported: the time is not known
/// ([`analyse_at`]).
pub fn analyse(engine: &Engine) -> Vec<Finding> {
    analyse_at(engine, None)
}

/// [`analyse`] at `now` (seconds since the Unix epoch): windows closed by then are reported
/// too (`window-over`).
pub fn analyse_at(engine: &Engine, now: Option<i64>) -> Vec<Finding> {
    let rules = engine.rules();
    let mut findings = Vec::new();
    shadowing::check(rules, &mut findings);
    for rule in rules {
        statuses::check(rule, &mut findings);
        statuses::ignored_cache_headers(rule, &mut findings);
        windows::check(rule, now, &mut findings);
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
    fn a_rule_in_its_own_case_is_covered_only_in_that_case() {
        // `/docs` as written does not cover `/Docs` compared in any case (it also takes
        // `/DOCS`); two rules in the same case with the same literal do cover each other.
        let found = codes(
            r#"{ "version": 1, "rules": [
                { "id": "a", "from": "/docs", "to": "/x" },
                { "id": "b", "from": "/Docs", "to": "/y", "case_sensitive": false },
                { "id": "c", "from": "/DOCS/:p", "to": "/z", "case_sensitive": false },
                { "id": "d", "from": "/docs/:q", "to": "/w", "case_sensitive": false }
            ] }"#,
        );
        assert_eq!(found, [("duplicate-source", vec![3, 2])]);
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
    fn windows_that_never_open_or_are_over() {
        let engine = Engine::compile(
            r#"{ "version": 1, "rules": [
                { "id": "swapped", "from": "/a", "to": "/x",
                  "when": { "after": "2026-12-25T00:00:00Z", "before": "2026-12-24T00:00:00Z" } },
                { "id": "empty", "from": "/b", "to": "/x",
                  "when": { "after": "2026-12-24T00:00:00Z", "before": "2026-12-24T00:00:00Z" } },
                { "id": "over", "from": "/c", "to": "/x", "when": { "before": "2026-01-01T00:00:00Z" } },
                { "id": "ahead", "from": "/d", "to": "/x",
                  "when": { "after": "2026-01-01T00:00:00Z", "before": "2027-01-01T00:00:00Z" } }
            ] }"#,
        )
        .unwrap();
        let now = crate::request::instant::parse_instant("2026-06-01T00:00:00Z").ok();
        let found: Vec<_> = super::analyse_at(&engine, now)
            .into_iter()
            .map(|f| (f.code, f.rules[0].0))
            .collect();
        assert_eq!(
            found,
            [
                ("window-never-opens", 0),
                ("window-never-opens", 1),
                ("window-over", 2)
            ]
        );
        assert_eq!(codes_of(super::analyse(&engine)), ["window-never-opens"; 2]);
    }

    fn codes_of(findings: Vec<super::Finding>) -> Vec<&'static str> {
        findings.into_iter().map(|f| f.code).collect()
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
