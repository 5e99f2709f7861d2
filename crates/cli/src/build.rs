//! `redirects build`: a bundle compiled into the artifact the worker embeds or reads from KV.

use crate::bundle::CmdResult;
use crate::errors::render_errors;
use crate::output::{plural, print_json, Paint};
use crate::Status;
use edge_redirects::artifact::{self, Options};
use edge_redirects::Engine;
use serde_json::json;
use std::path::Path;

/// More rules at the catch-all than this are reported: each request of the worker reads and
/// tries them.
const CATCH_ALL_NOTE: usize = 64;

/// Runs the command: validates `input` (every error at once, as `validate`), writes the
/// artifact to `output`, and says what it holds.
pub fn run(input: &Path, output: &Path, options: Options, as_json: bool) -> CmdResult {
    let host = crate::host::current();
    let started = host.now_millis();
    let text = crate::bundle::read_text(input)?;
    let file = input.display().to_string();
    let bytes = match artifact::build_with(&text, options) {
        Ok(bytes) => bytes,
        Err(errors) => {
            eprint!("{}", render_errors(&file, &errors, &Paint::stderr()));
            eprintln!("nothing written; run `redirects validate {file}` after fixing them");
            return Ok(Status::Findings);
        }
    };
    drop(text);
    let engine = Engine::load(bytes.as_slice().to_vec())
        .map_err(|e| format!("the artifact just built does not load (a bug): {e}"))?;
    let (id, parts) = engine.artifact().expect("loaded from an artifact");
    host.write(output, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    let seconds = ((host.now_millis() - started) / 1000.0).max(0.0);
    let catch_all = engine.catch_all_rules().unwrap_or(0);
    let id = format!("{id:016x}");
    if as_json {
        print_json(&json!({
            "file": file,
            "artifact": output.display().to_string(),
            "id": id,
            "rules": engine.rule_count(),
            "parts": parts,
            "catch_all_rules": catch_all,
            "bytes": bytes.len(),
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }));
    } else {
        let paint = Paint::stdout();
        println!(
            "{} {}: {}, {} parts, {} bytes, id {id} ({seconds:.2} s)",
            paint.green("built"),
            output.display(),
            plural(engine.rule_count(), "rule"),
            parts,
            bytes.len(),
        );
        if catch_all > CATCH_ALL_NOTE {
            eprintln!(
                "{} {} have no literal segment (or 4 literal bytes at a segment's start) among their first 8 to be routed by: every request reads them; give them one to keep requests cheap",
                paint.yellow("note:"),
                plural(catch_all, "rule"),
            );
        }
    }
    Ok(Status::Ok)
}
