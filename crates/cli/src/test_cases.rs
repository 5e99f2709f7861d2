//! `redirects test`: a site's own redirect expectations checked against its bundle.
//!
//! The case file is the shared fixture format's `cases` list (a top-level array works too);
//! `request` may be just a URL, and an expected `location` may be a path, resolved against the
//! request URL.

use crate::bundle::{load_valid, read_text, CmdResult};
use crate::errors::render_errors;
use crate::output::{print_json, Paint};
use crate::request_args::{summary, RequestBuf};
use crate::Status;
use edge_redirects::cases::{BundleSource, Case, CaseFile, Mismatch};
use edge_redirects::{Decision, Engine};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;

/// One case and its result.
struct CaseResult {
    name: String,
    request: RequestBuf,
    /// What the bundle decided, in one line.
    got: String,
    mismatches: Vec<Mismatch>,
}

/// Runs the command. Without `bundle`, the case file's own `bundle` (inline) or `bundle_file`
/// (relative to the current directory, as in the shared fixtures) is used, else `rules.json`.
pub fn run(bundle: Option<&Path>, cases_path: &Path, as_json: bool) -> CmdResult {
    let cases_text = read_text(cases_path)?;
    let in_file = |e: String| format!("{}: {e}", cases_path.display());
    let file = CaseFile::parse(&cases_text).map_err(in_file)?;
    let engine = match (bundle, &file.bundle) {
        (Some(path), _) => load_valid(path)?,
        (None, Some(BundleSource::Inline(text))) => match Engine::compile(text) {
            Ok(engine) => Some((text.clone(), engine)),
            Err(errors) => {
                let name = format!("{} (bundle)", cases_path.display());
                eprint!("{}", render_errors(&name, &errors, &Paint::stderr()));
                None
            }
        },
        (None, Some(BundleSource::File(file))) => load_valid(Path::new(file))?,
        (None, None) => load_valid(Path::new("rules.json"))?,
    };
    let Some((_, engine)) = engine else {
        return Ok(Status::Findings);
    };
    let results: Vec<CaseResult> = file
        .cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| check_case(&engine, i, case))
        .collect();
    let failed = results.iter().filter(|r| !r.mismatches.is_empty()).count();
    let passed = results.len() - failed;
    if as_json {
        let list: Vec<Value> = results
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "passed": r.mismatches.is_empty(),
                    "mismatches": r.mismatches.iter().map(|m| json!({
                        "field": m.field, "expected": m.expected, "actual": m.actual
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&json!({ "passed": passed, "failed": failed, "cases": list }));
    } else {
        print!("{}", render(&results, &Paint::stdout()));
    }
    Ok(if failed == 0 {
        Status::Ok
    } else {
        Status::Findings
    })
}

fn check_case(engine: &Engine, index: usize, case: Case) -> CaseResult {
    let name = case.label(index);
    let mut request = case.request;
    request.method.make_ascii_uppercase();
    let decision = request.with(|r| engine.evaluate(r));
    let mismatches = case.expect.mismatches(&decision);
    let got = match &decision {
        Decision::Redirect(r) => {
            format!("redirect {} {} (rule {:?})", r.status, r.location, r.rule)
        }
        Decision::Forward(f) => format!(
            "forward, then 303 {} (rule {:?})",
            f.location.as_deref().unwrap_or("to the origin's Location"),
            f.rule
        ),
        Decision::Origin(p) => match p.rule {
            Some(rule) => format!("origin (rule {rule:?})"),
            None => "origin (no rule applied)".to_string(),
        },
    };
    CaseResult {
        name,
        request,
        got,
        mismatches,
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn render(results: &[CaseResult], paint: &Paint) -> String {
    let mut out = String::new();
    for r in results {
        if r.mismatches.is_empty() {
            let _ = writeln!(out, "{}   {}", paint.green("ok"), r.name);
            continue;
        }
        let _ = writeln!(out, "{} {}", paint.red("FAIL"), paint.bold(&r.name));
        let _ = writeln!(out, "     {}", paint.dim(&summary(&r.request)));
        let _ = writeln!(out, "     {}", paint.dim(&format!("got {}", r.got)));
        for m in &r.mismatches {
            let _ = writeln!(
                out,
                "     {}",
                paint.red(&format!("- {}: {}", m.field, show(&m.expected)))
            );
            let _ = writeln!(
                out,
                "     {}",
                paint.green(&format!("+ {}: {}", m.field, show(&m.actual)))
            );
        }
    }
    let failed = results.iter().filter(|r| !r.mismatches.is_empty()).count();
    let summary = format!("{} passed, {} failed", results.len() - failed, failed);
    let _ = writeln!(
        out,
        "{}",
        if failed == 0 {
            paint.green(&summary)
        } else {
            paint.red(&summary)
        }
    );
    out
}
