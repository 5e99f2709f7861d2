//! Reading a bundle from text: the key order of the top level never changes what compiles
//! (rules are compiled while they are read, with the settings written before them; settings
//! written after them make the compiler compile from the parsed tree instead), and errors come
//! in the same order as for a parsed value.

use edge_redirects::{Decision, Engine, Request};
use serde_json::{json, Value};

const RULES: &str = r#"[
    { "id": "upper", "from": "/About", "to": "/about-us" },
    { "id": "slash", "from": "/docs/", "to": "/documentation" }
]"#;

fn location(engine: &Engine, url: &str) -> Option<String> {
    match engine.evaluate(&Request::get(url)) {
        Decision::Redirect(r) => Some(r.location),
        _ => None,
    }
}

/// What a bundle answers for requests that depend on the case and trailing-slash settings.
fn answers(text: &str) -> Vec<Option<String>> {
    let engine = Engine::compile(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    ["/About", "/about", "/docs/", "/docs"]
        .iter()
        .map(|p| location(&engine, &format!("https://example.com{p}")))
        .collect()
}

#[test]
fn settings_after_rules_apply_to_the_rules() {
    let settings = r#"{ "case_sensitive": true, "trailing_slash": "strict" }"#;
    let before = format!(r#"{{"version": 1, "settings": {settings}, "rules": {RULES}}}"#);
    let after = format!(r#"{{"rules": {RULES}, "version": 1, "settings": {settings}}}"#);
    let none = format!(r#"{{"rules": {RULES}, "version": 1}}"#);
    assert_eq!(answers(&before), answers(&after));
    // The settings really change the answers, so the comparison above can fail.
    assert_ne!(answers(&before), answers(&none));
    // And the text path agrees with the parsed-value path.
    let value: Value = serde_json::from_str(&after).unwrap();
    let from_value = Engine::from_value(&value).unwrap();
    assert_eq!(
        location(&from_value, "https://example.com/about"),
        answers(&after)[1]
    );
}

#[test]
fn a_repeated_rules_key_counts_once_the_last() {
    let text = format!(
        r#"{{"version": 1, "rules": [{{ "id": "old", "from": "/old", "to": "/x" }}], "rules": {RULES}}}"#
    );
    let engine = Engine::compile(&text).unwrap();
    let ids: Vec<&str> = engine.rules().iter().map(|r| r.id()).collect();
    assert_eq!(ids, ["upper", "slash"]);
}

#[test]
fn errors_come_in_the_same_order_from_text_and_from_a_value() {
    // Rule errors before the top-level mistakes in the text; the report puts the top level
    // first either way.
    let text = r#"{
        "rules": [ { "id": "a", "from": "nope", "to": "/x" }, { "id": "a", "from": "/b", "to": "/y" } ],
        "version": 2,
        "extra": true
    }"#;
    let pointers = |r: Result<Engine, edge_redirects::CompileErrors>| -> Vec<String> {
        r.expect_err("the bundle is rejected")
            .errors()
            .iter()
            .map(|e| e.pointer.clone())
            .collect()
    };
    let from_text = pointers(Engine::compile(text));
    let value: Value = serde_json::from_str(text).unwrap();
    let from_value = pointers(Engine::from_value(&value));
    assert_eq!(from_text, from_value);
    assert_eq!(from_text[0], "/extra");
    assert!(
        from_text.contains(&"/rules/0/from".to_string()),
        "{from_text:?}"
    );
    assert!(
        from_text.contains(&"/rules/1/id".to_string()),
        "{from_text:?}"
    );
}

#[test]
fn rules_of_the_wrong_type_are_a_type_error_on_either_path() {
    for rules in [
        json!({}),
        json!("x"),
        json!(1),
        json!(null),
        json!(true),
        json!(-1.5),
    ] {
        let text = json!({ "version": 1, "rules": rules }).to_string();
        let errors = Engine::compile(&text).expect_err("rejected");
        assert_eq!(errors.errors().len(), 1, "{text}: {errors}");
        assert_eq!(errors.errors()[0].pointer, "/rules", "{text}");
        assert!(
            errors.errors()[0].message.contains("array"),
            "{text}: {errors}"
        );
    }
}

#[test]
fn a_bundle_without_rules_says_so() {
    let errors = Engine::compile(r#"{"version": 1, "settings": {}}"#).expect_err("rejected");
    assert_eq!(errors.errors().len(), 1, "{errors}");
    assert_eq!(errors.errors()[0].pointer, "/rules");
}
