//! `redirects explain`: decisions and traces, as text (golden) and JSON.

#[path = "cli/support.rs"]
mod support;

use serde_json::{json, Value};
use support::{golden, run};

const BUNDLE: &str = "tests/cli/explain/bundle.json";

fn explain(args: &[&str]) -> (i32, String) {
    let mut all = vec!["explain", BUNDLE];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all);
    assert!(err.is_empty(), "{err}");
    (code, out)
}

fn explain_json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out) = explain(&all);
    assert_eq!(code, 0);
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn geo_redirect_text() {
    let (code, out) = explain(&["https://example.com/", "--country", "AT"]);
    assert_eq!(code, 0);
    golden("explain-geo.txt", &out);
}

#[test]
fn skipped_candidates_say_why() {
    let (_, out) = explain(&[
        "https://example.com/",
        "--lang",
        "fr-CA,en;q=0.5",
        "--cookie",
        "stay=1",
    ]);
    golden("explain-origin.txt", &out);
    let v = explain_json(&[
        "https://example.com/",
        "--lang",
        "fr-CA",
        "--cookie",
        "stay=1",
    ]);
    assert_eq!(v["outcome"], "origin");
    assert_eq!(v["rule"], Value::Null);
    assert_eq!(v["trace"][0]["verdict"], "when_failed");
    assert_eq!(v["trace"][1]["verdict"], "unless_held");
}

#[test]
fn method_mismatch_then_applied() {
    let (_, out) = explain(&["https://example.com/blog/hello?ref=mail"]);
    golden("explain-blog.txt", &out);
    let v = explain_json(&["https://example.com/blog/hello?ref=mail"]);
    assert_eq!(v["outcome"], "redirect");
    assert_eq!(v["status"], 308);
    assert_eq!(v["location"], "https://example.com/posts/hello?ref=mail");
    assert_eq!(v["rule"], "blog");
    assert_eq!(v["headers"]["x-redirect-rule"], "blog");
    assert_eq!(
        v["trace"],
        json!([
            { "rule_index": 3, "rule_id": "api", "verdict": "method_mismatch", "reason": "method not in methods" },
            { "rule_index": 4, "rule_id": "blog", "verdict": "applied", "reason": "applied" }
        ])
    );
}

#[test]
fn forward_outcome() {
    let v = explain_json(&["https://example.com/blog/hello", "-X", "post"]);
    assert_eq!(v["outcome"], "forward");
    assert_eq!(v["status"], 303);
    assert_eq!(v["location"], "https://example.com/thanks");
    assert_eq!(v["rule"], "api");
}

#[test]
fn ab_split_by_cookie_and_by_random() {
    let v = explain_json(&["https://example.com/pricing", "--cookie", "ab_pricing=new"]);
    assert_eq!(v["location"], "https://example.com/pricing-v2");
    let (_, out) = explain(&["https://example.com/pricing", "--random", "0.1"]);
    golden("explain-split.txt", &out);
    let stay = explain_json(&["https://example.com/pricing", "--random", "0.1"]);
    assert_eq!(stay["outcome"], "origin");
    assert_eq!(stay["rule"], "pricing");
    assert!(stay["headers"]["set-cookie"]
        .as_str()
        .is_some_and(|c| c.starts_with("ab_pricing=control;")));
    let moved = explain_json(&["https://example.com/pricing", "--random", "0.9"]);
    assert_eq!(moved["location"], "https://example.com/pricing-v2");
}

#[test]
fn headers_and_host_are_used() {
    let v = explain_json(&["shop.example.com/blog/x", "-H", "X-Test: 1"]);
    assert_eq!(v["rule"], "shop-host");
    assert_eq!(v["location"], "https://example.com/blog/x");
}

#[test]
fn a_bare_path_is_a_usage_error() {
    let (code, _, err) = run(&["explain", BUNDLE, "/blog/x"]);
    assert_eq!(code, 2);
    assert!(err.contains("https://example.com/blog/x"), "{err}");
}

#[test]
fn an_invalid_bundle_is_reported_not_explained() {
    let (code, out, err) = run(&[
        "explain",
        "tests/cli/validate/errors.json",
        "https://example.com/",
    ]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("error[Pattern]"), "{err}");
}

const LAUNCH: &str = "tests/cli/explain/launch.json";

fn explain_launch(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["explain", LAUNCH];
    all.extend_from_slice(args);
    run(&all)
}

/// `explain --json` against the launch bundle, which must succeed.
fn launch_json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = explain_launch(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("JSON")
}

#[test]
fn a_dormant_rule_says_when_it_wakes() {
    let (code, out, err) = explain_launch(&[
        "https://example.com/product",
        "--at",
        "2026-12-24T07:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    golden("explain-dormant.txt", &out);
    let v = launch_json(&[
        "https://example.com/product",
        "--at",
        "2026-12-24T09:00:00+00:00",
    ]);
    assert_eq!(v["rule"], "product-launch");
    assert_eq!(v["headers"]["cache-control"], "public, max-age=86400");
    assert_eq!(v["trace"][0]["verdict"], "applied");
}

#[test]
fn at_must_be_an_instant_with_an_offset() {
    let (code, _, err) =
        explain_launch(&["https://example.com/product", "--at", "2026-12-24T09:00:00"]);
    assert_eq!(code, 2);
    assert!(err.contains("no offset"), "{err}");
}

#[test]
fn ip_and_asn_describe_the_visitor() {
    let visitor =
        |ip: &str| launch_json(&["https://example.com/internal", "--ip", ip, "--asn", "64496"]);
    let office = visitor("::ffff:192.0.2.9");
    assert_eq!(office["rule"], "office");
    assert_eq!(office["headers"]["cache-control"], "private, no-store");
    let elsewhere = visitor("192.0.3.1");
    assert_eq!(elsewhere["outcome"], "origin");
    assert_eq!(elsewhere["trace"][0]["verdict"], "when_failed");
    assert_eq!(
        elsewhere["trace"][0]["reason"],
        "when: ip in [192.0.2.0/24] does not hold"
    );
}

#[test]
fn the_continent_follows_the_country() {
    let v = launch_json(&["https://example.com/shop", "--country", "fr"]);
    assert_eq!(v["rule"], "europe");
    // An explicit continent wins.
    let v = launch_json(&[
        "https://example.com/shop",
        "--country",
        "FR",
        "--continent",
        "NA",
    ]);
    assert_eq!(v["outcome"], "origin");
}
