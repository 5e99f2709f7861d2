//! Importing a file with the `redirects` binary, checking its golden outputs, and asking the
//! compiled result for decisions.

#![allow(dead_code)]

use super::support::{golden, run};
use edge_redirects::{Decision, Engine, Request};

/// Imports `tests/cli/import/<input>`, checks the exit code and the golden outputs
/// (`<golden_name>.json`, `.stderr`) and returns the compiled engine.
pub fn import(format: &str, input: &str, golden_name: &str, expected_code: i32) -> Engine {
    let path = format!("tests/cli/import/{input}");
    let (code, out, err) = run(&["import", format, &path]);
    assert_eq!(code, expected_code, "{err}");
    golden(&format!("{golden_name}.json"), &out);
    golden(&format!("{golden_name}.stderr"), &err);
    Engine::compile(&out).unwrap_or_else(|e| panic!("imported bundle does not compile: {e}"))
}

/// What the engine answers: `(status, location)`, or `(0, "origin")`.
pub fn decide(engine: &Engine, request: &Request<'_>) -> (u16, String) {
    match engine.evaluate(request) {
        Decision::Redirect(r) => (r.status, r.location),
        Decision::Forward(f) => (303, f.location.unwrap_or_default()),
        Decision::Origin(_) => (0, "origin".to_string()),
    }
}

/// The answer to a GET of `url`.
pub fn get(engine: &Engine, url: &str) -> (u16, String) {
    decide(engine, &Request::get(url))
}

/// An expected answer.
pub fn pair(status: u16, location: &str) -> (u16, String) {
    (status, location.to_string())
}
