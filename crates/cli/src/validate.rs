//! `redirects validate`: every error in a bundle at once.

use crate::bundle::{load, CmdResult};
use crate::errors::render_errors;
use crate::output::{plural, print_json, Paint};
use crate::Status;
use edge_redirects::limits::WORKER_MAX_BUNDLE_BYTES;
use edge_redirects::{CompileError, CompileErrors, Engine};
use serde_json::{json, Value};
use std::path::Path;

/// Runs the command.
pub fn run(path: &Path, as_json: bool) -> CmdResult {
    let loaded = load(path)?;
    let file = path.display().to_string();
    let warning = too_big_for_the_worker(loaded.text.len());
    if let (Some(warning), false) = (&warning, as_json) {
        let paint = Paint::stderr();
        eprintln!("{} {file}: {warning}", paint.yellow("warning:"));
    }
    if as_json {
        print_json(&report(&file, loaded.text.len(), &loaded.engine));
    } else {
        match &loaded.engine {
            Ok(engine) => {
                let paint = Paint::stdout();
                let rules = plural(engine.rules().len(), "rule");
                println!("{} {file}: {rules}", paint.green("ok"));
            }
            Err(errors) => print!("{}", render_errors(&file, errors, &Paint::stdout())),
        }
    }
    Ok(match loaded.engine {
        Ok(_) => Status::Ok,
        Err(_) => Status::Findings,
    })
}

/// The stable JSON object `validate --json` prints for a bundle of `bytes` bytes named `file`
/// that compiled to `result`: `{file, valid, rules?, errors, more_errors?, warnings?}`.
pub fn report(file: &str, bytes: usize, result: &Result<Engine, CompileErrors>) -> Value {
    let mut out = match result {
        Ok(engine) => {
            json!({ "file": file, "valid": true, "rules": engine.rules().len(), "errors": [] })
        }
        Err(errors) => {
            let list: Vec<Value> = errors.errors().iter().map(error_json).collect();
            let mut out = json!({ "file": file, "valid": false, "errors": list });
            if errors.omitted() > 0 {
                out["more_errors"] = json!(errors.omitted());
            }
            out
        }
    };
    if let Some(warning) = too_big_for_the_worker(bytes) {
        out["warnings"] = json!([warning]);
    }
    out
}

/// The warning for a bundle of `bytes` bytes that the worker would refuse to read from KV
/// (it would not fit a 128 MB isolate once compiled), if it is one.
fn too_big_for_the_worker(bytes: usize) -> Option<String> {
    (bytes > WORKER_MAX_BUNDLE_BYTES).then(|| {
        format!(
            "{bytes} bytes; the worker refuses a bundle over {WORKER_MAX_BUNDLE_BYTES} bytes \
             from KV (compiled, it would not fit the 128 MB of a Workers isolate) and keeps \
             serving the last good one; split the rules by host over several workers, or \
             replace runs of exact rules with patterns"
        )
    })
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
