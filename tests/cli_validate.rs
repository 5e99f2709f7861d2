//! `redirects validate`: every error at once, as text and JSON, with exit codes.

#[path = "cli/support.rs"]
mod support;

use support::{golden, run, scratch};

#[test]
fn valid_bundle_passes_and_counts_rules() {
    let (code, out, err) = run(&["validate", "tests/cli/explain/bundle.json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "ok tests/cli/explain/bundle.json: 6 rules\n");
}

#[test]
fn every_error_is_reported_with_rule_pointer_and_hint() {
    let (code, out, _) = run(&["validate", "tests/cli/validate/errors.json"]);
    assert_eq!(code, 1);
    golden("validate-errors.txt", &out);
}

#[test]
fn json_output_is_stable() {
    let (code, out, _) = run(&["validate", "--json", "tests/cli/validate/errors.json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["valid"], false);
    let errors = v["errors"].as_array().expect("errors");
    assert!(errors.len() >= 5, "{out}");
    for e in errors {
        for key in [
            "kind",
            "rule_index",
            "rule_id",
            "pointer",
            "message",
            "hint",
        ] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
    }
    golden("validate-errors.json", &out);
}

#[test]
fn syntax_errors_give_line_and_column() {
    let (code, out, _) = run(&["validate", "tests/cli/validate/syntax.json"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("error[Syntax] tests/cli/validate/syntax.json:4:"),
        "{out}"
    );
    golden("validate-syntax.txt", &out);
    let (_, json, _) = run(&["validate", "--json", "tests/cli/validate/syntax.json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["errors"][0]["line"], 4);
    assert!(v["errors"][0]["column"].as_u64().is_some());
}

#[test]
fn default_file_is_rules_json_in_the_current_directory() {
    let (code, out, err) = run(&["validate"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok rules.json: "), "{out}");
}

#[test]
fn unreadable_file_is_exit_2() {
    let (code, out, err) = run(&["validate", "tests/cli/does-not-exist.json"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("cannot read tests/cli/does-not-exist.json"),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_exit_2() {
    let (code, _, err) = run(&["validate", "--no-such-flag"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn stdin_is_read_with_dash() {
    let path = scratch(
        "stdin.json",
        r#"{"version":1,"rules":[{"id":"a","from":"/a","to":"/b"}]}"#,
    );
    let out = support::redirects()
        .args(["validate", "-"])
        .pipe_stdin(&path)
        .expect("stdin")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok -: 1 rule\n");
}

#[test]
fn help_documents_exit_codes() {
    for args in [
        vec!["--help"],
        vec!["validate", "--help"],
        vec!["lint", "--help"],
    ] {
        let (code, out, _) = run(&args);
        assert_eq!(code, 0);
        assert!(
            out.contains("Exit codes:") && out.contains("2  usage or I/O error"),
            "{out}"
        );
    }
}

#[test]
fn no_colours_when_stdout_is_not_a_terminal() {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_redirects"))
        .current_dir(support::root())
        .env_remove("NO_COLOR")
        .args(["validate", "tests/cli/validate/errors.json"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(text.contains("error[Pattern]"));
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn errors_past_the_cap_are_counted_not_listed() {
    // 150 rules without `from`: the first 100 errors are listed, the rest counted.
    let rules: Vec<String> = (0..150)
        .map(|i| format!(r#"{{"id":"r{i}","to":"/"}}"#))
        .collect();
    let path = scratch(
        "many-errors.json",
        &format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(",")),
    );
    let file = path.to_str().expect("path");
    let (code, out, _) = run(&["validate", file]);
    assert_eq!(code, 1);
    assert_eq!(out.matches("error[MissingKey]").count(), 100, "{out}");
    assert!(
        out.ends_with(&format!(
            "and 50 more errors (only the first 100 are kept)\n{file}: 150 errors\n"
        )),
        "{out}"
    );
    let (_, json, _) = run(&["validate", "--json", file]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(100));
    assert_eq!(v["more_errors"], 50);
}

#[test]
fn a_bundle_too_big_for_the_worker_is_valid_with_a_warning() {
    let limit = edge_redirects::limits::WORKER_MAX_BUNDLE_BYTES;
    let core = r#"{"version":1,"rules":[{"id":"a","from":"/a","to":"/b"}]}"#;
    let at_limit = format!("{core}{}", " ".repeat(limit - core.len()));
    let path = scratch("at-the-ceiling.json", &at_limit);
    let (code, out, err) = run(&["validate", path.to_str().expect("path")]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");

    let path = scratch("over-the-ceiling.json", &format!("{at_limit} "));
    let file = path.to_str().expect("path");
    let (code, out, err) = run(&["validate", file]);
    assert_eq!(code, 0, "a warning, not a finding: {err}");
    assert_eq!(out, format!("ok {file}: 1 rule\n"));
    assert!(
        err.starts_with(&format!("warning: {file}: {} bytes;", limit + 1)),
        "{err}"
    );
    assert!(
        err.contains(&format!("refuses a bundle over {limit} bytes")),
        "{err}"
    );
    let (code, json, _) = run(&["validate", "--json", file]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["valid"], true);
    assert!(
        v["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("128 MB")),
        "{json}"
    );
}
