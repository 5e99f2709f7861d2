//! `redirects test`: a site's own redirect expectations checked against its bundle.
//!
//! The case file is the shared fixture format's `cases` list (a top-level array works too);
//! `request` may be just a URL, and an expected `location` may be a path, resolved against the
//! request URL.

use crate::bundle::{load_valid, read_text, CmdResult};
use crate::decision_json::decision_json;
use crate::output::{print_json, Paint};
use crate::request_args::{from_case_json, OwnedRequest};
use crate::validate::render_errors;
use crate::Status;
use edge_redirects::{Decision, Engine};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;

/// One expectation that did not hold.
struct Mismatch {
    field: String,
    expected: Value,
    actual: Value,
}

/// One case and its result.
struct CaseResult {
    name: String,
    request: OwnedRequest,
    /// What the bundle decided, in one line.
    got: String,
    mismatches: Vec<Mismatch>,
}

/// Runs the command. Without `bundle`, the case file's own `bundle` (inline) or `bundle_file`
/// (relative to the current directory, as in the shared fixtures) is used, else `rules.json`.
pub fn run(bundle: Option<&Path>, cases_path: &Path, as_json: bool) -> CmdResult {
    let cases_text = read_text(cases_path)?;
    let in_file = |e: String| format!("{}: {e}", cases_path.display());
    let doc: Value =
        serde_json::from_str(&cases_text).map_err(|e| in_file(format!("not JSON: {e}")))?;
    let cases = cases_of(&doc).map_err(in_file)?;
    let engine = match (bundle, doc.get("bundle"), doc.get("bundle_file")) {
        (Some(path), _, _) => load_valid(path)?,
        (None, Some(inline), _) => {
            let text = inline.to_string();
            match Engine::compile(&text) {
                Ok(engine) => Some((text, engine)),
                Err(errors) => {
                    let name = format!("{} (bundle)", cases_path.display());
                    eprint!("{}", render_errors(&name, &errors, &Paint::stderr()));
                    None
                }
            }
        }
        (None, None, Some(file)) => {
            let file = file
                .as_str()
                .ok_or_else(|| in_file("bundle_file must be a string".into()))?;
            load_valid(Path::new(file))?
        }
        (None, None, None) => load_valid(Path::new("rules.json"))?,
    };
    let Some((_, engine)) = engine else {
        return Ok(Status::Findings);
    };
    let mut results = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        results.push(check_case(&engine, i, case).map_err(|e| in_file(format!("case #{i}: {e}")))?);
    }
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

fn cases_of(doc: &Value) -> Result<&Vec<Value>, String> {
    match doc {
        Value::Array(cases) => Ok(cases),
        Value::Object(obj) => match obj.get("cases") {
            Some(Value::Array(cases)) => Ok(cases),
            _ => Err("expected {\"cases\": [...]} or an array of cases".into()),
        },
        _ => Err("expected {\"cases\": [...]} or an array of cases".into()),
    }
}

const EXPECT_KEYS: &[&str] = &[
    "outcome",
    "status",
    "location",
    "rule",
    "headers",
    "absent_headers",
    "body",
];

fn check_case(engine: &Engine, index: usize, case: &Value) -> Result<CaseResult, String> {
    let obj = case.as_object().ok_or("a case must be an object")?;
    let request = from_case_json(obj.get("request").ok_or("case has no request")?)?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("#{index} {}", request.url));
    let expect = obj
        .get("expect")
        .and_then(Value::as_object)
        .ok_or("case has no expect object")?;
    if let Some(key) = expect.keys().find(|k| !EXPECT_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key {key:?} in expect ({})",
            EXPECT_KEYS.join(", ")
        ));
    }
    let decision = request.with(|r| engine.evaluate(r));
    let actual = decision_json(&decision);
    let mut mismatches = Vec::new();
    let mut compare = |field: &str, expected: Value, actual: Value| {
        if expected != actual {
            mismatches.push(Mismatch {
                field: field.to_string(),
                expected,
                actual,
            });
        }
    };
    for key in ["outcome", "status", "rule"] {
        if let Some(expected) = expect.get(key) {
            compare(key, expected.clone(), actual[key].clone());
        }
    }
    if let Some(expected) = expect.get("location") {
        let expected = match expected.as_str() {
            Some(path) if path.starts_with('/') && !path.starts_with("//") => {
                json!(resolve(&request.url, path))
            }
            _ => expected.clone(),
        };
        compare("location", expected, actual["location"].clone());
    }
    let actual_headers = actual["headers"].as_object().cloned().unwrap_or_default();
    if let Some(headers) = expect.get("headers") {
        let headers = headers
            .as_object()
            .ok_or("expect.headers must be an object")?;
        for (name, value) in headers {
            let lower = name.to_ascii_lowercase();
            compare(
                &format!("headers.{lower}"),
                value.clone(),
                actual_headers.get(&lower).cloned().unwrap_or(Value::Null),
            );
        }
    }
    if let Some(absent) = expect.get("absent_headers") {
        let absent = absent
            .as_array()
            .ok_or("expect.absent_headers must be an array")?;
        for name in absent {
            let lower = name
                .as_str()
                .ok_or("expect.absent_headers must list strings")?
                .to_ascii_lowercase();
            compare(
                &format!("headers.{lower}"),
                Value::Null,
                actual_headers.get(&lower).cloned().unwrap_or(Value::Null),
            );
        }
    }
    if let Some(expected) = expect.get("body") {
        let has_body = match &decision {
            Decision::Redirect(r) => json!(r.has_body()),
            _ => Value::Null,
        };
        compare("body", expected.clone(), has_body);
    }
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
    Ok(CaseResult {
        name,
        request,
        got,
        mismatches,
    })
}

fn resolve(base: &str, path: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(path))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| path.to_string())
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
        let _ = writeln!(out, "     {}", paint.dim(&r.request.summary()));
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
