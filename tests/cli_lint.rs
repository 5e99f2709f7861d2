//! `redirects lint`: every finding, golden outputs, exit codes, and no false positives.

#[path = "cli/support.rs"]
mod support;

use serde_json::Value;
use support::{golden, run, scratch};

fn findings(file: &str) -> Vec<Value> {
    let (_, out, err) = run(&["lint", "--json", file]);
    assert!(err.is_empty(), "{err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    v["findings"].as_array().expect("findings").clone()
}

fn codes_for(findings: &[Value], rule: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["rules"][0]["id"] == rule)
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_kind_of_finding() {
    let (code, out, _) = run(&["lint", "tests/cli/lint/findings.json"]);
    assert_eq!(code, 1, "loops and duplicates are errors");
    golden("lint-findings.txt", &out);
    let f = findings("tests/cli/lint/findings.json");
    assert_eq!(codes_for(&f, "ping"), ["loop"]);
    assert_eq!(
        codes_for(&f, "pong"),
        Vec::<String>::new(),
        "one loop, reported once"
    );
    assert_eq!(codes_for(&f, "docs-v1"), ["chain"]);
    assert_eq!(codes_for(&f, "old-home"), ["chain"]);
    assert_eq!(codes_for(&f, "archive-2019"), ["never-fires"]);
    assert_eq!(codes_for(&f, "press-again"), ["duplicate-source"]);
    assert_eq!(codes_for(&f, "de-home"), ["permanent-conditional"]);
    assert_eq!(codes_for(&f, "form"), ["method-change"]);
    assert_eq!(codes_for(&f, "legacy"), ["method-change"]);
    assert_eq!(codes_for(&f, "sale"), ["ignored-cache-headers"]);
    let chain = f
        .iter()
        .find(|x| x["rules"][0]["id"] == "docs-v1")
        .expect("chain");
    assert!(
        chain["hint"]
            .as_str()
            .unwrap()
            .contains(r#""to": "/manual/:page""#),
        "{chain}"
    );
    let json = run(&["lint", "--json", "tests/cli/lint/findings.json"]).1;
    golden("lint-findings.json", &json);
}

#[test]
fn loops_and_chains_through_patterns_and_conditions() {
    let (code, out, _) = run(&["lint", "tests/cli/lint/patterns.json"]);
    assert_eq!(code, 1);
    golden("lint-patterns.txt", &out);
    let f = findings("tests/cli/lint/patterns.json");
    assert_eq!(codes_for(&f, "a"), ["loop"]);
    assert_eq!(codes_for(&f, "shop"), ["chain"]);
    assert_eq!(codes_for(&f, "lang"), ["chain"]);
    let shop = f
        .iter()
        .find(|x| x["rules"][0]["id"] == "shop")
        .expect("shop");
    assert!(
        shop["hint"]
            .as_str()
            .unwrap()
            .contains(r#""/products/:item""#),
        "{shop}"
    );
}

#[test]
fn clean_bundle_has_no_findings() {
    let (code, out, _) = run(&["lint", "tests/cli/lint/clean.json"]);
    assert_eq!(code, 0);
    assert_eq!(out, "tests/cli/lint/clean.json: 0 errors, 0 warnings\n");
}

#[test]
fn bundled_rules_json_has_no_findings() {
    let (code, out, _) = run(&["lint", "--deny-warnings", "rules.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.ends_with("rules.json: 0 errors, 0 warnings\n"), "{out}");
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let path = scratch(
        "warn.json",
        r#"{"version":1,"rules":[{"id":"a","from":"/a","to":"/b","status":301}]}"#,
    );
    let path = path.to_str().unwrap();
    assert_eq!(run(&["lint", path]).0, 0);
    assert_eq!(run(&["lint", "--deny-warnings", path]).0, 1);
}

#[test]
fn rules_that_differ_only_by_host_or_method_are_not_shadowed() {
    let path = scratch(
        "hosts.json",
        r#"{"version":1,"rules":[
            {"id":"shop","host":"shop.example.com","from":"/*","to":"https://example.com/shop/:splat"},
            {"id":"any","from":"/x","to":"/y"},
            {"id":"wild","host":"*.example.com","from":"/z/:p","to":"/zz/:p"},
            {"id":"sub","host":"a.example.com","from":"/z/q","to":"/q"},
            {"id":"post","from":"/f","methods":["POST"],"to":"/g","status":303},
            {"id":"get","from":"/f","methods":["GET"],"to":"/h"}
        ]}"#,
    );
    let f = findings(path.to_str().unwrap());
    let codes: Vec<(String, String)> = f
        .iter()
        .map(|x| (x["rules"][0]["id"].to_string(), x["code"].to_string()))
        .collect();
    assert_eq!(
        codes,
        [("\"sub\"".into(), "\"never-fires\"".into())],
        "{f:?}"
    );
}

#[test]
fn invalid_bundle_reports_validation_errors() {
    let (code, out, err) = run(&["lint", "tests/cli/validate/errors.json"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("7 errors"), "{err}");
}

#[test]
fn every_ab_variant_is_followed() {
    let path = scratch(
        "split-loop.json",
        r#"{"version":1,"rules":[
            {"id":"pricing","from":"/pricing","split":{"variants":[
                {"name":"a","weight":1,"to":"/p-a"},{"name":"b","weight":1,"to":"/p-b"}]}},
            {"id":"pb","from":"/p-b","to":"/pricing"}
        ]}"#,
    );
    let f = findings(path.to_str().unwrap());
    let looped = f
        .iter()
        .find(|x| x["code"] == "loop")
        .expect("a loop through variant b");
    assert_eq!(looped["rules"][0]["id"], "pricing");
    assert!(
        looped["message"].as_str().unwrap().contains("/p-b"),
        "{looped}"
    );
}

#[test]
fn many_findings_of_one_kind_are_counted_not_all_printed() {
    // A migrated bundle: 25 rules with the same warning.
    let rules: Vec<String> = (0..25)
        .map(|i| format!(r#"{{"id":"r{i}","from":"/old/{i}","to":"/new/{i}","status":301}}"#))
        .collect();
    let path = scratch(
        "many.json",
        &format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(",")),
    );
    let path = path.to_str().unwrap();
    let (code, out, _) = run(&["lint", path]);
    assert_eq!(code, 0);
    assert_eq!(out.matches("warning[method-change]").count(), 10, "{out}");
    assert!(
        out.contains("... and 15 more [method-change] (`redirects lint --all` lists every one)"),
        "{out}"
    );
    assert!(out.ends_with("0 errors, 25 warnings\n"), "{out}");
    let (_, all, _) = run(&["lint", "--all", path]);
    assert_eq!(all.matches("warning[method-change]").count(), 25);
    assert!(!all.contains("more [method-change]"));
    assert_eq!(findings(path).len(), 25, "JSON lists every finding");
}
