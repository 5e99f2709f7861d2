//! Time windows that cannot matter: one whose `after` is not before its `before` never opens,
//! and one whose `before` has passed is over (the rule can be removed).

use super::{named, Finding, Severity};
use crate::model::rule::Rule;
use crate::request::instant::{format_duration, format_instant};

/// Adds `window-never-opens` and `window-over` findings for `rule` at `now`, if known.
pub(super) fn check(rule: &Rule, now: Option<i64>, out: &mut Vec<Finding>) {
    let (after, before) = rule.when().window();
    match (after, before, now) {
        (Some(a), Some(b), _) if a >= b => out.push(Finding {
            severity: Severity::Warning,
            code: "window-never-opens",
            rules: vec![named(rule)],
            message: format!(
                "`when.after` {} is not before `when.before` {}: the rule never applies",
                format_instant(a),
                format_instant(b)
            ),
            hint: "swap the two instants, or fix the one that was mistyped (`after` is \
                   inclusive, `before` exclusive)"
                .into(),
        }),
        (_, Some(b), Some(now)) if b <= now => out.push(Finding {
            severity: Severity::Warning,
            code: "window-over",
            rules: vec![named(rule)],
            message: format!(
                "the window closed at {}, {} ago: the rule no longer applies",
                format_instant(b),
                format_duration(now - b)
            ),
            hint: "remove the rule, or move `when.before` later".into(),
        }),
        _ => {}
    }
}
