//! `redirects schema`: the committed rules.schema.json is what the command prints, and the
//! schema names every key the bundles in this repository use.

#[path = "cli/support.rs"]
mod support;

use serde_json::Value;
use support::{root, run};

fn schema() -> Value {
    let (code, out, _) = run(&["schema"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(root().join("rules.schema.json")).expect("committed");
    let printed: Value = serde_json::from_str(&out).expect("JSON");
    let committed: Value = serde_json::from_str(&committed).expect("committed JSON");
    assert!(
        printed == committed,
        "rules.schema.json is stale: run `cargo run --bin redirects -- schema > rules.schema.json`"
    );
    printed
}

/// Checks `value` against the schema's `properties` (following `$ref` and `items`), reporting
/// keys the schema does not know.
fn known_keys(schema: &Value, node: &Value, value: &Value, at: &str, unknown: &mut Vec<String>) {
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/definitions/");
            &schema["definitions"][name]
        }
        None => node,
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match node.get("properties").and_then(|p| p.get(k)) {
                    Some(child) => known_keys(schema, child, v, &format!("{at}/{k}"), unknown),
                    None => match node.get("additionalProperties") {
                        Some(Value::Bool(false)) | None => unknown.push(format!("{at}/{k}")),
                        Some(extra) => known_keys(schema, extra, v, &format!("{at}/{k}"), unknown),
                    },
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = node.get("items") {
                for (i, v) in items.iter().enumerate() {
                    known_keys(schema, item, v, &format!("{at}/{i}"), unknown);
                }
            }
        }
        _ => {}
    }
}

#[test]
fn committed_schema_is_current_and_covers_the_bundles() {
    let schema = schema();
    assert_eq!(schema["required"], serde_json::json!(["version", "rules"]));
    let mut bundles = vec![
        root().join("rules.json"),
        root().join("tests/cli/explain/bundle.json"),
        root().join("tests/cli/lint/findings.json"),
        root().join("tests/cli/lint/clean.json"),
        root().join("tests/cli/lint/patterns.json"),
    ];
    for entry in std::fs::read_dir(root().join("tests/cli/golden")).expect("golden") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json")
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("import-"))
        {
            bundles.push(path);
        }
    }
    for path in bundles {
        let text = std::fs::read_to_string(&path).expect("bundle");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        let mut unknown = Vec::new();
        known_keys(&schema, &schema, &value, "", &mut unknown);
        assert!(unknown.is_empty(), "{}: {unknown:?}", path.display());
    }
}

#[test]
fn schema_rejects_unknown_keys_like_the_engine() {
    let schema = schema();
    let value: Value = serde_json::from_str(
        r#"{"version":1,"rules":[{"id":"a","from":"/a","to":"/b","stauts":301}]}"#,
    )
    .expect("JSON");
    let mut unknown = Vec::new();
    known_keys(&schema, &schema, &value, "", &mut unknown);
    assert_eq!(unknown, ["/rules/0/stauts"]);
}
