//! `redirects lint`: mistakes a valid bundle can still contain, found by the engine's
//! [`analysis`](edge_redirects::analysis) and rendered here: as text (at most
//! [`SHOWN_PER_CODE`] findings of each code unless `--all`) or as JSON, with the exit code
//! `scripts/build` relies on (errors stop a deploy; warnings only with `--deny-warnings`).

use crate::bundle::{load_valid, CmdResult};
use crate::output::{plural, print_json, Paint};
use crate::Status;
use edge_redirects::analysis::{analyse_at, Finding, Severity};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;

/// How many findings of one code the text output shows unless asked for all: a migrated
/// bundle can have thousands of the same warning.
const SHOWN_PER_CODE: usize = 10;

/// Runs the command.
pub fn run(path: &Path, as_json: bool, deny_warnings: bool, all: bool) -> CmdResult {
    let Some((_, engine)) = load_valid(path)? else {
        return Ok(Status::Findings);
    };
    let findings = analyse_at(&engine, Some(crate::request_args::unix_now()));
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let file = path.display().to_string();
    if as_json {
        print_json(&report(&file, &findings));
    } else {
        let shown = if all { usize::MAX } else { SHOWN_PER_CODE };
        print!("{}", render(&file, &findings, shown, &Paint::stdout()));
    }
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        Status::Findings
    } else {
        Status::Ok
    })
}

/// The stable JSON object `lint --json` prints: `{file, errors, warnings, findings}`.
pub fn report(file: &str, findings: &[Finding]) -> Value {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let list: Vec<Value> = findings.iter().map(finding_json).collect();
    json!({ "file": file, "errors": errors, "warnings": findings.len() - errors, "findings": list })
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "severity": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "code": f.code,
        "rules": f.rules.iter().map(|(i, id)| json!({ "index": i, "id": id })).collect::<Vec<_>>(),
        "message": f.message,
        "hint": f.hint,
    })
}

fn render(file: &str, findings: &[Finding], shown: usize, paint: &Paint) -> String {
    let mut out = String::new();
    let mut per_code: Vec<(&str, usize)> = Vec::new();
    for f in findings {
        let seen = match per_code.iter_mut().find(|(c, _)| *c == f.code) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                per_code.push((f.code, 1));
                1
            }
        };
        if seen > shown {
            continue;
        }
        let head = match f.severity {
            Severity::Error => paint.red(&format!("error[{}]", f.code)),
            Severity::Warning => paint.yellow(&format!("warning[{}]", f.code)),
        };
        let who = f
            .rules
            .first()
            .map(|(i, id)| format!("rule #{i} {}", paint.cyan(&format!("{id:?}"))))
            .unwrap_or_default();
        let _ = writeln!(out, "{head} {who}");
        let _ = writeln!(out, "  {}", f.message);
        let _ = writeln!(out, "  {}", paint.dim(&format!("hint: {}", f.hint)));
    }
    for (code, n) in per_code.iter().filter(|(_, n)| *n > shown) {
        let _ = writeln!(
            out,
            "{}",
            paint.dim(&format!(
                "... and {} more [{code}] (`redirects lint --all` lists every one)",
                n - shown
            ))
        );
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let summary = format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    let summary = if errors > 0 {
        paint.red(&summary)
    } else if warnings > 0 {
        paint.yellow(&summary)
    } else {
        paint.green(&summary)
    };
    let _ = writeln!(out, "{file}: {summary}");
    out
}
