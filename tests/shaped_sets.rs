//! The shapes at one place of the rule index are told apart by shared DFAs (one pass over a
//! segment for many shapes). Whatever the sets decide must be what each rule decides alone:
//! the first rule in file order whose own pattern matches wins. Checked here against that
//! model, rule by rule, over shapes that overlap and values that sit on their edges.

use edge_redirects::{Engine, Request};

/// Shapes that overlap in every way a segment can: constraints, literal text around the
/// placeholder, empty and long middles, case.
const SHAPES: &[&str] = &[
    r"/s/:x(\d+)",
    r"/s/:x([a-z]+)",
    r"/s/{:x}.html",
    r"/s/page-{:n(\d+)}.html",
    r"/s/:x(a|ab)",
    r"/s/pre-{:x}",
    r"/s/:x(.*)-v2",
    r"/s/:x([A-Z]{2})",
    r"/s/:x((a|a)*b)",
    r"/s/{:x(\w+)}-n",
    r"/s/:x",
    r"/s/:x(.{64})",
];

const VALUES: &[&str] = &[
    "123",
    "abc",
    "ABC",
    "index.html",
    "page-12.html",
    "page-x.html",
    "a",
    "ab",
    "pre-",
    "pre-x",
    "x-v2",
    "-v2",
    "DE",
    "de",
    "aaab",
    "aaa",
    "w-n",
    "%61b",
    "a%2Fb",
    "page-%31.html",
    ".html",
    "Pre-X",
    "é",
    "12.html",
];

fn url(value: &str) -> String {
    format!("https://example.com/s/{value}")
}

fn rule(i: usize, from: &str) -> serde_json::Value {
    serde_json::json!({ "id": format!("r{i}"), "from": from, "to": format!("/t/{i}") })
}

/// Checks every value against every order of the first `count` shapes tried here.
fn check(case_sensitive: bool) {
    let settings = serde_json::json!({ "case_sensitive": case_sensitive });
    let compile = |rules: Vec<serde_json::Value>| {
        let text = serde_json::json!({ "version": 1, "settings": settings, "rules": rules });
        Engine::compile(&text.to_string()).expect("the bundle compiles")
    };
    // Each shape alone: the model.
    let alone: Vec<Engine> = SHAPES
        .iter()
        .enumerate()
        .map(|(i, s)| compile(vec![rule(i, s)]))
        .collect();
    let long = "a".repeat(64);
    let longer = "a".repeat(1025);
    let values: Vec<&str> = VALUES
        .iter()
        .copied()
        .chain([long.as_str(), longer.as_str()])
        .collect();
    // Rotations of the file order, so every shape is first once.
    for start in 0..SHAPES.len() {
        let order: Vec<usize> = (0..SHAPES.len())
            .map(|k| (start + k) % SHAPES.len())
            .collect();
        let together = compile(order.iter().map(|&i| rule(i, SHAPES[i])).collect());
        for value in &values {
            let u = url(value);
            let expected = order
                .iter()
                .find(|&&i| alone[i].evaluate(&Request::get(&u)).rule().is_some())
                .map(|i| format!("r{i}"));
            let got = together.evaluate(&Request::get(&u));
            assert_eq!(
                got.rule().map(str::to_string),
                expected,
                "case_sensitive {case_sensitive}, order from {start}, value {value:?}"
            );
        }
    }
}

#[test]
fn shapes_together_decide_as_each_rule_alone() {
    check(true);
}

#[test]
fn shapes_together_decide_as_each_rule_alone_ignoring_case() {
    check(false);
}

/// Ten thousand shapes at one place still decide as the model, for values that match one of
/// them, none, or the last.
#[test]
fn ten_thousand_shapes_at_one_place_decide_as_alone() {
    let rules: Vec<_> = (0..10_000)
        .map(|i| rule(i, &format!("/s/:page([a-z0-9-]+-v{i})")))
        .collect();
    let text = serde_json::json!({ "version": 1, "rules": rules });
    let engine = Engine::compile(&text.to_string()).expect("compiles");
    for (value, expected) in [
        ("intro-v0", Some("r0")),
        ("intro-v9999", Some("r9999")),
        ("a-b-c-v512", Some("r512")),
        ("intro-v10000", None),
        ("intro", None),
        ("INTRO-v1", None),
    ] {
        let d = engine.evaluate(&Request::get(&url(value)));
        assert_eq!(d.rule(), expected, "{value}");
    }
}
