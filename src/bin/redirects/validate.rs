//! `redirects validate`: every error in a bundle at once.

use crate::bundle::{load, CmdResult};
use crate::output::{plural, print_json, Paint};
use crate::Status;
use edge_redirects::{CompileError, CompileErrors};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;

/// Runs the command.
pub fn run(path: &Path, as_json: bool) -> CmdResult {
    let loaded = load(path)?;
    let file = path.display().to_string();
    match &loaded.engine {
        Ok(engine) => {
            let rules = engine.rules().len();
            if as_json {
                print_json(&json!({ "file": file, "valid": true, "rules": rules, "errors": [] }));
            } else {
                let paint = Paint::stdout();
                println!("{} {file}: {}", paint.green("ok"), plural(rules, "rule"));
            }
            Ok(Status::Ok)
        }
        Err(errors) => {
            if as_json {
                let list: Vec<Value> = errors.errors().iter().map(error_json).collect();
                print_json(&json!({ "file": file, "valid": false, "errors": list }));
            } else {
                print!("{}", render_errors(&file, errors, &Paint::stdout()));
            }
            Ok(Status::Findings)
        }
    }
}

/// One error as the stable JSON object `validate --json` prints.
pub fn error_json(e: &CompileError) -> Value {
    json!({
        "kind": format!("{:?}", e.kind),
        "rule_index": e.rule_index,
        "rule_id": e.rule_id,
        "pointer": e.pointer,
        "message": e.message,
        "hint": e.hint,
        "line": e.line,
        "column": e.column,
    })
}

/// Errors as people read them: one block per error, then a count.
pub fn render_errors(file: &str, errors: &CompileErrors, paint: &Paint) -> String {
    let mut out = String::new();
    for e in errors.errors() {
        let head = paint.red(&format!("error[{:?}]", e.kind));
        let place = match (e.line, e.column) {
            (Some(line), Some(column)) => format!("{file}:{line}:{column}"),
            _ => {
                let pointer = if e.pointer.is_empty() {
                    "/"
                } else {
                    &e.pointer
                };
                match (e.rule_index, &e.rule_id) {
                    (Some(i), Some(id)) => {
                        format!("rule #{i} {} at {pointer}", paint.cyan(&format!("{id:?}")))
                    }
                    (Some(i), None) => format!("rule #{i} at {pointer}"),
                    _ => format!("at {pointer}"),
                }
            }
        };
        let _ = writeln!(out, "{head} {place}");
        let _ = writeln!(out, "  {}", e.message);
        if !e.hint.is_empty() {
            let _ = writeln!(out, "  {}", paint.dim(&format!("hint: {}", e.hint)));
        }
    }
    let _ = writeln!(
        out,
        "{}: {}",
        file,
        paint.red(&plural(errors.errors().len(), "error"))
    );
    out
}
