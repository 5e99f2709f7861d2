//! `redirects test`: a site's own expectations, with a diff on failure; also replays the
//! shared decision fixtures.

#[path = "cli/support.rs"]
mod support;

use support::{golden, run, scratch};

#[test]
fn passing_cases() {
    let (code, out, err) = run(&[
        "test",
        "tests/cli/explain/bundle.json",
        "tests/cli/cases/pass.json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("5 passed, 0 failed\n"), "{out}");
}

#[test]
fn failing_cases_show_a_diff() {
    let (code, out, _) = run(&[
        "test",
        "tests/cli/explain/bundle.json",
        "tests/cli/cases/fail.json",
    ]);
    assert_eq!(code, 1);
    golden("test-fail.txt", &out);
    let (_, json, _) = run(&[
        "test",
        "--json",
        "tests/cli/explain/bundle.json",
        "tests/cli/cases/fail.json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 2);
    assert_eq!(v["cases"][1]["mismatches"][0]["field"], "status");
    assert_eq!(v["cases"][1]["mismatches"][0]["expected"], 301);
    assert_eq!(v["cases"][1]["mismatches"][0]["actual"], 308);
}

#[test]
fn malformed_case_file_is_exit_2() {
    let path = scratch(
        "bad-cases.json",
        r#"{"cases":[{"request":"https://a.example/","expect":{"stauts":301}}]}"#,
    );
    let (code, _, err) = run(&[
        "test",
        "tests/cli/explain/bundle.json",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown key \"stauts\""), "{err}");
}

#[test]
fn shared_decision_fixtures_pass_through_the_cli() {
    let dir = support::root().join("tests/fixtures/decisions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let (code, out, err) = run(&["test", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{}:\n{out}{err}", file.display());
    }
}
