//! `redirects build`: the artifact written, read back by `explain`, `lint` and `test` as the
//! JSON it came from is; a bundle with errors writes nothing.

#[path = "cli/support.rs"]
mod support;

use serde_json::Value;
use support::{root, run, scratch};

fn temp(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("redirects-cli-build-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).display().to_string()
}

#[test]
fn an_artifact_answers_as_its_bundle() {
    let out = temp("rules.bin");
    let (code, stdout, stderr) = run(&["build", "rules.json", "-o", &out, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"EDGERDR\x01"));
    assert_eq!(report["bytes"], bytes.len());
    assert!(report["rules"].as_u64().unwrap() > 0);
    assert_eq!(report["id"].as_str().unwrap().len(), 16);
    for url in [
        "https://example.com/blog/hello?ref=x",
        "https://example.com/api/v1/users/42",
        "https://example.com/nothing-here",
    ] {
        let json = run(&["explain", "rules.json", url, "--json"]);
        let artifact = run(&["explain", &out, url, "--json"]);
        assert_eq!(json.0, artifact.0, "{url}");
        assert_eq!(json.1, artifact.1, "{url}");
    }
    let (code, _, stderr) = run(&["lint", &out]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_bundle_with_errors_writes_nothing() {
    let bad = temp("bad.json");
    std::fs::write(
        &bad,
        r#"{"version":1,"rules":[{"id":"a","from":"blog","to":"/x"}]}"#,
    )
    .unwrap();
    let out = temp("bad.bin");
    let (code, _, stderr) = run(&["build", &bad, "-o", &out]);
    assert_eq!(code, 1);
    assert!(stderr.contains("/rules/0/from"), "{stderr}");
    assert!(!std::path::Path::new(&out).exists());
    assert!(root().join("rules.json").exists());
}

#[test]
fn build_reports_rules_every_request_reads_and_takes_a_larger_rule_limit() {
    // 70 rules with no literal to be routed by: at the catch-all, which every request reads.
    let rules: Vec<String> = (0..70)
        .map(|i| {
            format!(
                r#"{{"id":"c{i}","from":"/:a/:b","when":{{"query":{{"q":"{i}"}}}},"to":"/t/{i}"}}"#
            )
        })
        .chain(std::iter::once(
            r#"{"id":"z","from":"/z","to":"/y"}"#.to_string(),
        ))
        .collect();
    let input = scratch(
        "catch-all.json",
        &format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(",")),
    );
    let out = scratch("catch-all.bin", "");
    let (input, out) = (input.to_str().unwrap(), out.to_str().unwrap());
    let (code, _, err) = run(&["build", input, "-o", out]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("70 rules have no literal segment"), "{err}");
    let (code, stdout, _) = run(&["build", input, "-o", out, "--json"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(r#""catch_all_rules": 70"#), "{stdout}");
    // The rule limit is the build's choice.
    let (code, _, err) = run(&["build", input, "-o", out, "--max-rules", "70"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("71 rules; the limit is 70"), "{err}");
    let (code, _, err) = run(&["build", input, "-o", out, "--max-rules", "0"]);
    assert_eq!(code, 2, "{err}");
    // Past MAX_BUILD_RULES (a part a rule at most): refused before anything is read.
    let past = (edge_redirects::limits::MAX_BUILD_RULES + 1).to_string();
    let (code, _, err) = run(&["build", input, "-o", out, "--max-rules", &past]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not in 1..=16777216"), "{err}");
}

#[test]
fn a_file_is_built_a_rule_at_a_time_into_the_bytes_stdin_builds_whole() {
    let out_file = temp("streamed.bin");
    let out_stdin = temp("whole.bin");
    let (code, stdout, stderr) = run(&["build", "rules.json", "-o", &out_file, "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let streamed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(streamed["streamed"], true);
    let whole = support::redirects()
        .args(["build", "-", "-o", &out_stdin, "--json"])
        .pipe_stdin(root().join("rules.json"))
        .expect("stdin")
        .output()
        .expect("the binary runs");
    assert_eq!(whole.status.code(), Some(0));
    let whole: Value = serde_json::from_slice(&whole.stdout).unwrap();
    assert_eq!(whole["streamed"], false);
    assert_eq!(
        std::fs::read(&out_file).unwrap(),
        std::fs::read(&out_stdin).unwrap()
    );
    for key in ["id", "rules", "parts", "bytes", "catch_all_rules"] {
        assert_eq!(streamed[key], whole[key], "{key}");
    }
}

#[test]
fn a_bad_rule_deep_in_a_file_is_pointed_at_and_nothing_is_written() {
    let rules: Vec<String> = (0..3_000)
        .map(|i| match i {
            2_345 => r#"{"id":"r2345","from":"/a/:b","to":"/:c"}"#.to_string(),
            i => format!(r#"{{"id":"r{i}","from":"/a/{i}","to":"/b/{i}"}}"#),
        })
        .collect();
    let input = scratch(
        "deep-error.json",
        &format!("{{\"version\": 1, \"rules\": [\n{}\n]}}", rules.join(",\n")),
    );
    let out = temp("deep-error.bin");
    let (code, _, stderr) = run(&["build", input.to_str().unwrap(), "-o", &out]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("/rules/2345/to"), "{stderr}");
    assert!(stderr.contains("r2345"), "{stderr}");
    assert!(!std::path::Path::new(&out).exists());
    // A syntax error far into the file: its line and column.
    let broken = scratch(
        "deep-syntax.json",
        &format!("{{\"version\": 1, \"rules\": [\n{}\n]}}", rules.join(",\n"))
            .replace(r#""id":"r2000","#, r#""id":"r2000""#),
    );
    let (code, _, stderr) = run(&["build", broken.to_str().unwrap(), "-o", &out]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("2002"), "the line of the error: {stderr}");
    assert!(!std::path::Path::new(&out).exists());
}
