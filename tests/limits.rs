//! Every limit in `edge_redirects::limits`: a bundle just under it compiles, a bundle just over
//! it is rejected with an `ErrorKind::Limit` error that points at the value responsible.

use edge_redirects::limits::{
    MAX_BUNDLE_BYTES, MAX_CAPTURES, MAX_CONSTRAINT_BYTES, MAX_LIST_ENTRIES, MAX_PATTERN_SEGMENTS,
    MAX_RULES, MAX_TEXT_BYTES,
};
use edge_redirects::{CompileErrors, Engine, ErrorKind};
use serde_json::{json, Value};

/// The single error of a rejected bundle, which must be a `Limit` error at `pointer`.
fn expect_limit(result: Result<Engine, CompileErrors>, pointer: &str) {
    let errors = match result {
        Ok(_) => panic!("a bundle over the limit at {pointer} compiled"),
        Err(e) => e,
    };
    let limit: Vec<_> = errors
        .errors()
        .iter()
        .filter(|e| e.kind == ErrorKind::Limit)
        .collect();
    assert!(
        limit.iter().any(|e| e.pointer == pointer),
        "expected a Limit error at {pointer}, got:\n{errors}"
    );
    for e in &limit {
        assert!(
            e.message.contains("limit"),
            "the message names the limit: {e}"
        );
        assert!(!e.hint.is_empty(), "the error says how to fix it: {e}");
    }
}

fn compiles(bundle: &Value) {
    if let Err(errors) = Engine::from_value(bundle) {
        panic!("a bundle within the limits was rejected:\n{errors}");
    }
    Engine::compile(&bundle.to_string()).expect("and as text");
}

fn one_rule(rule: Value) -> Value {
    json!({ "version": 1, "rules": [rule] })
}

#[test]
fn bundle_text_size() {
    // A valid bundle padded with whitespace to exactly the limit, then one byte more.
    let core = r#"{"version":1,"rules":[{"id":"a","from":"/a","to":"/b"}]}"#;
    let mut text = String::with_capacity(MAX_BUNDLE_BYTES + 1);
    text.push_str(core);
    text.push_str(&" ".repeat(MAX_BUNDLE_BYTES - core.len()));
    assert_eq!(text.len(), MAX_BUNDLE_BYTES);
    Engine::compile(&text).expect("a bundle of exactly the limit compiles");
    text.push(' ');
    let errors = Engine::compile(&text).expect_err("one byte over is rejected");
    assert_eq!(errors.errors().len(), 1);
    let e = &errors.errors()[0];
    assert_eq!(e.kind, ErrorKind::Limit);
    assert_eq!(e.pointer, "");
    assert!(e.message.contains(&MAX_BUNDLE_BYTES.to_string()), "{e}");
}

#[test]
fn rule_count() {
    // Over: the count is checked before any rule is read, so the rules can be anything.
    let over = json!({ "version": 1, "rules": vec![Value::Null; MAX_RULES + 1] });
    expect_limit(Engine::from_value(&over), "/rules");
    // The way past it: an artifact, whose build takes a larger limit.
    let errors = Engine::from_value(&over).unwrap_err();
    assert!(
        errors.errors()[0]
            .hint
            .contains("redirects build --max-rules"),
        "{errors}"
    );
    // Exactly the limit: a million real rules compile (as a value: their text is larger than
    // the bundle size limit, so a bundle this big only arrives through `from_value`).
    let rules: Vec<Value> = (0..MAX_RULES)
        .map(|i| json!({ "id": format!("r{i}"), "from": format!("/r/{i}"), "to": "/" }))
        .collect();
    let bundle = json!({ "version": 1, "rules": rules });
    let engine = Engine::from_value(&bundle).expect("exactly MAX_RULES rules compile");
    assert_eq!(engine.rules().len(), MAX_RULES);
}

fn segments(n: usize) -> String {
    (0..n).map(|i| format!("/s{i}")).collect()
}

#[test]
fn pattern_segments_under() {
    compiles(&one_rule(
        json!({ "id": "a", "from": segments(MAX_PATTERN_SEGMENTS), "to": "/" }),
    ));
}

#[test]
fn pattern_segments_over_is_rejected() {
    let over =
        one_rule(json!({ "id": "a", "from": segments(MAX_PATTERN_SEGMENTS + 1), "to": "/" }));
    let errors = Engine::from_value(&over).expect_err("65 segments are rejected");
    let e = &errors.errors()[0];
    assert_eq!(e.pointer, "/rules/0/from");
    assert!(e.message.contains("limit"), "{e}");
}

/// The pattern-segment limit is reported as a `Pattern` error, not as the `Limit` error
/// `edge_redirects::limits` promises for every limit.
#[test]
fn pattern_segments_over_is_a_limit_error() {
    let over =
        one_rule(json!({ "id": "a", "from": segments(MAX_PATTERN_SEGMENTS + 1), "to": "/" }));
    expect_limit(Engine::from_value(&over), "/rules/0/from");
}

fn captures(n: usize) -> String {
    (0..n).map(|i| format!("/:p{i}")).collect()
}

#[test]
fn placeholder_count_from_the_pattern() {
    compiles(&one_rule(
        json!({ "id": "a", "from": captures(MAX_CAPTURES), "to": "/:p0" }),
    ));
    expect_limit(
        Engine::from_value(&one_rule(
            json!({ "id": "a", "from": captures(MAX_CAPTURES + 1), "to": "/:p0" }),
        )),
        "/rules/0/from",
    );
}

#[test]
fn placeholder_count_counts_query_captures() {
    let rule = |n: usize| {
        json!({
            "id": "a",
            "from": captures(MAX_CAPTURES - 2),
            "when": { "query": (0..n).map(|i| (format!("q{i}"), Value::from(format!(":c{i}")))).collect::<serde_json::Map<_, _>>() },
            "to": "/:p0",
        })
    };
    compiles(&one_rule(rule(2)));
    expect_limit(Engine::from_value(&one_rule(rule(3))), "/rules/0/from");
}

#[test]
fn text_value_length() {
    let path = |n: usize| format!("/{}", "a".repeat(n - 1));
    type MakeRule = fn(String) -> Value;
    let fields: [(&str, MakeRule); 4] = [
        ("from", |t| json!({ "id": "a", "from": t, "to": "/" })),
        ("to", |t| json!({ "id": "a", "from": "/a", "to": t })),
        (
            "id",
            |t| json!({ "id": t.replace('/', "i"), "from": "/a", "to": "/" }),
        ),
        (
            "headers/X-Note",
            |t| json!({ "id": "a", "from": "/a", "to": "/", "headers": { "X-Note": t.replace('/', "n") } }),
        ),
    ];
    for (field, rule) in fields {
        compiles(&one_rule(rule(path(MAX_TEXT_BYTES))));
        expect_limit(
            Engine::from_value(&one_rule(rule(path(MAX_TEXT_BYTES + 1)))),
            &format!("/rules/0/{field}"),
        );
    }
    // A host of more than 8 KiB, in a rule and in the settings.
    let long_host = format!("{}.example.com", "a.".repeat(MAX_TEXT_BYTES / 2));
    expect_limit(
        Engine::from_value(&one_rule(
            json!({ "id": "a", "host": long_host, "from": "/", "to": "/b" }),
        )),
        "/rules/0/host",
    );
    expect_limit(
        Engine::from_value(
            &json!({ "version": 1, "settings": { "allowed_hosts": [long_host] }, "rules": [] }),
        ),
        "/settings/allowed_hosts/0",
    );
}

#[test]
fn condition_list_entries() {
    let codes: Vec<String> = (0..MAX_LIST_ENTRIES + 1)
        .map(|i| {
            let a = b'A' + (i / 26 % 26) as u8;
            let b = b'A' + (i % 26) as u8;
            format!("{}{}", a as char, b as char)
        })
        .collect();
    // Codes repeat after 676; duplicates are allowed, only the count matters.
    let rule = |n: usize| json!({ "id": "a", "from": "/a", "when": { "country": codes[..n] }, "to": "/b" });
    compiles(&one_rule(rule(MAX_LIST_ENTRIES)));
    expect_limit(
        Engine::from_value(&one_rule(rule(MAX_LIST_ENTRIES + 1))),
        "/rules/0/when/country",
    );
    for key in ["query", "header", "cookie"] {
        let map = |n: usize| -> serde_json::Map<String, Value> {
            (0..n)
                .map(|i| (format!("n{i}"), Value::from("*")))
                .collect()
        };
        let rule =
            |n: usize| json!({ "id": "a", "from": "/a", "unless": { key: map(n) }, "to": "/b" });
        compiles(&one_rule(rule(MAX_LIST_ENTRIES)));
        expect_limit(
            Engine::from_value(&one_rule(rule(MAX_LIST_ENTRIES + 1))),
            &format!("/rules/0/unless/{key}"),
        );
    }
}

fn split(n: usize) -> Value {
    let variants: Vec<Value> = (0..n)
        .map(|i| json!({ "name": format!("v{i}"), "weight": 1, "to": null }))
        .collect();
    one_rule(json!({ "id": "a", "from": "/a", "split": { "variants": variants } }))
}

#[test]
fn split_variants() {
    compiles(&split(MAX_LIST_ENTRIES));
    let errors = Engine::from_value(&split(MAX_LIST_ENTRIES + 1)).expect_err("too many variants");
    let e = &errors.errors()[0];
    assert_eq!(e.pointer, "/rules/0/split/variants");
    assert!(e.message.contains(&MAX_LIST_ENTRIES.to_string()), "{e}");
}

/// Too many split variants is reported as a `Split` error, not as `Limit`.
#[test]
fn split_variants_over_is_a_limit_error() {
    expect_limit(
        Engine::from_value(&split(MAX_LIST_ENTRIES + 1)),
        "/rules/0/split/variants",
    );
}

/// Limits hold at once for every rule: each over-limit rule gets its own error.
#[test]
fn every_rule_over_a_limit_is_reported() {
    let bundle = json!({ "version": 1, "rules": [
        { "id": "a", "from": captures(MAX_CAPTURES + 1), "to": "/" },
        { "id": "b", "from": "/b", "to": format!("/{}", "x".repeat(MAX_TEXT_BYTES)) },
        { "id": "c", "from": "/c", "when": { "language": vec!["de"; MAX_LIST_ENTRIES + 1] }, "to": "/" },
    ]});
    let errors = Engine::from_value(&bundle).expect_err("three rules over limits");
    let pointers: Vec<&str> = errors
        .errors()
        .iter()
        .filter(|e| e.kind == ErrorKind::Limit)
        .map(|e| e.pointer.as_str())
        .collect();
    assert_eq!(
        pointers,
        ["/rules/0/from", "/rules/1/to", "/rules/2/when/language"],
        "{errors}"
    );
}

#[test]
fn rule_count_in_text() {
    // The text path counts while reading: one rule over the limit is rejected with the limit
    // error alone, not with a million errors about the rules themselves.
    let text = format!(
        r#"{{"version": 1, "rules": [{}]}}"#,
        vec!["null"; MAX_RULES + 1].join(",")
    );
    expect_limit(Engine::compile(&text), "/rules");
}

/// Compiled constraints have a budget in bytes for the whole bundle (distinct texts count once):
/// hundreds of distinct constraints of about 45 KB compiled each pass it at a rule that the
/// error names, where sixty compile. Rules that repeat one text never do.
#[test]
fn compiled_constraints_over_the_bundles_budget() {
    let rule = |i: usize| json!({ "id": format!("c{i}"), "from": format!("/c{i}/:v([a-z0-9]{{0,200}}x{i})"), "to": "/t" });
    compiles(&json!({ "version": 1, "rules": (0..60).map(rule).collect::<Vec<_>>() }));
    let over = json!({ "version": 1, "rules": (0..600).map(rule).collect::<Vec<_>>() });
    let Err(errors) = Engine::from_value(&over) else {
        panic!("a bundle over the budget compiled")
    };
    let first = &errors.errors()[0];
    assert_eq!(first.kind, ErrorKind::Limit, "{first}");
    assert!(first.pointer.starts_with("/rules/") && first.pointer.ends_with("/from"));
    let at: usize = first.pointer["/rules/".len()..first.pointer.len() - "/from".len()]
        .parse()
        .unwrap();
    assert!(
        (60..600).contains(&at),
        "the budget of {MAX_CONSTRAINT_BYTES} bytes is passed at rule {at}"
    );
    assert!(
        first.message.contains("limit") && !first.hint.is_empty(),
        "{first}"
    );
    // The same text in every rule is compiled once.
    let same = |i: usize| json!({ "id": format!("c{i}"), "from": format!("/c{i}/:v([a-z0-9]{{0,200}}x)"), "to": "/t" });
    compiles(&json!({ "version": 1, "rules": (0..600).map(same).collect::<Vec<_>>() }));
}
