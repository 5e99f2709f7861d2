//! Every case of `tests/cli/golden/cases.json` through the native binary: the goldens the npm
//! CLI (`tests/js/cli-goldens.test.mjs`) must also reproduce, one list for both runners.

#[path = "cli/support.rs"]
mod support;

use serde_json::Value;
use support::{golden, root, run};

/// Checks one stream against the case's expectation: a golden file name, `""` for empty.
fn check_stream(case: &str, stream: &str, expected: Option<&Value>, actual: &str) {
    match expected.and_then(Value::as_str) {
        None => {}
        Some("") => assert!(actual.is_empty(), "{case}: {stream} not empty:\n{actual}"),
        Some(name) => golden(name, actual),
    }
}

#[test]
fn every_golden_case() {
    let text = std::fs::read_to_string(root().join("tests/cli/golden/cases.json"))
        .expect("tests/cli/golden/cases.json");
    let manifest: Value = serde_json::from_str(&text).expect("JSON");
    let cases = manifest["cases"].as_array().expect("cases");
    assert!(cases.len() > 20, "the list lost its cases");
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let args: Vec<&str> = case["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("string argument"))
            .collect();
        let (code, out, err) = run(&args);
        assert_eq!(
            Some(i64::from(code)),
            case["code"].as_i64(),
            "{name}: {err}"
        );
        check_stream(name, "stdout", case.get("stdout"), &out);
        check_stream(name, "stderr", case.get("stderr"), &err);
    }
}
