//! A decision as the stable JSON object shared by `explain --json` and `test`.

use edge_redirects::Decision;
use serde_json::{json, Map, Value};

/// `{"outcome", "status", "location", "rule", "headers"}`; header names are lower-case and
/// repeated headers are joined with `, `.
pub fn decision_json(decision: &Decision<'_>) -> Map<String, Value> {
    let (status, location) = match decision {
        Decision::Redirect(r) => (Some(r.status), Some(r.location.clone())),
        Decision::Forward(f) => (Some(303), f.location.clone()),
        Decision::Origin(_) => (None, None),
    };
    let mut map = Map::new();
    map.insert("outcome".into(), json!(decision.outcome().name()));
    map.insert("status".into(), json!(status));
    map.insert("location".into(), json!(location));
    map.insert("rule".into(), json!(decision.rule()));
    map.insert(
        "headers".into(),
        Value::Object(headers_json(decision.headers())),
    );
    map
}

/// Headers as an object with lower-case names.
pub fn headers_json(headers: Vec<(&str, &str)>) -> Map<String, Value> {
    let mut map = Map::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        match map.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                map.insert(name, json!(value));
            }
        }
    }
    map
}
