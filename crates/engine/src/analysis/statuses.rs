//! Statuses and headers that do not do what the rule's author expects: permanent redirects
//! that vary per visitor, 301/302 for methods with a body, cache headers the engine drops.

use super::{named, Finding, Severity};
use crate::model::rule::Rule;

/// `permanent-conditional` and `method-change`.
pub(super) fn check(rule: &Rule, findings: &mut Vec<Finding>) {
    if rule.passes() {
        // It sends no status: the origin answers.
        return;
    }
    let status = rule.status();
    let (when, unless) = (rule.when(), rule.unless());
    let varies = when.has_geo()
        || when.has_language()
        || when.has_cookie()
        || unless.has_geo()
        || unless.has_language()
        || unless.has_cookie()
        || rule.split().is_some();
    if matches!(status, 301 | 308) && varies {
        let what = if rule.split().is_some() {
            "an A/B split"
        } else {
            "geo, language or cookie conditions"
        };
        findings.push(Finding {
            severity: Severity::Warning,
            code: "permanent-conditional",
            rules: vec![named(rule)],
            message: format!(
                "status {status} is permanent, but the rule depends on {what}: browsers cache \
                 the redirect and never ask again, whatever the visitor's situation later"
            ),
            hint: "use 307 (or leave `status` out: the default is 307 for such rules)".into(),
        });
    }
    if matches!(status, 301 | 302) && !rule.forward() {
        let unsafe_methods: Vec<&str> = match rule.methods() {
            None => vec!["POST", "PUT", "PATCH", "DELETE"],
            Some(m) => m
                .iter()
                .map(String::as_str)
                .filter(|m| !matches!(*m, "GET" | "HEAD"))
                .collect(),
        };
        if !unsafe_methods.is_empty() {
            let which = if rule.methods().is_none() {
                "every method".to_string()
            } else {
                unsafe_methods.join(", ")
            };
            findings.push(Finding {
                severity: Severity::Warning,
                code: "method-change",
                rules: vec![named(rule)],
                message: format!(
                    "status {status} on a rule that matches {which}: clients may follow it \
                     with a GET and drop the request body"
                ),
                hint: format!(
                    "use {} to keep the method or 303 to switch to GET on purpose{}",
                    if status == 301 { 308 } else { 307 },
                    if rule.methods().is_none() {
                        ", or add \"methods\": [\"GET\", \"HEAD\"]"
                    } else {
                        ""
                    }
                ),
            });
        }
    }
}

/// `ignored-cache-headers`: cache headers on a rule whose answer depends on who asks. The
/// engine keeps such an answer `private, no-store` and drops shared-cache headers, so these
/// never take effect.
pub(super) fn ignored_cache_headers(rule: &Rule, findings: &mut Vec<Finding>) {
    const CACHE_HEADERS: [&str; 4] = [
        "cache-control",
        "cdn-cache-control",
        "cloudflare-cdn-cache-control",
        "surrogate-control",
    ];
    if !rule.per_visitor() {
        return;
    }
    let named_headers: Vec<&str> = rule
        .headers()
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| CACHE_HEADERS.iter().any(|c| n.eq_ignore_ascii_case(c)))
        .collect();
    if named_headers.is_empty() {
        return;
    }
    findings.push(Finding {
        severity: Severity::Warning,
        code: "ignored-cache-headers",
        rules: vec![named(rule)],
        message: format!(
            "the rule's answer depends on who asks (a split, or geo, language, cookie or header \
             conditions), so it is always sent with `Cache-Control: private, no-store` and \
             without shared-cache headers: its {} never take effect",
            named_headers.join(", ")
        ),
        hint: "remove these headers; a shared cache must never hand one visitor's answer to \
               another"
            .into(),
    });
}
