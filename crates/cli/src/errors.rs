//! Compile errors as people read them, for every command that loads a bundle.

use crate::output::{plural, Paint};
use edge_redirects::limits::MAX_ERRORS;
use edge_redirects::CompileErrors;
use std::fmt::Write;

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
    if errors.omitted() > 0 {
        let _ = writeln!(
            out,
            "and {} (only the first {MAX_ERRORS} are kept)",
            plural(errors.omitted(), "more error")
        );
    }
    let _ = writeln!(
        out,
        "{}: {}",
        file,
        paint.red(&plural(errors.total(), "error"))
    );
    out
}
