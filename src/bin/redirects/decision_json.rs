//! A decision as the stable JSON object shared by `explain --json` and `test`.

use edge_redirects::Decision;
use serde_json::{json, Map, Value};

/// `{"outcome", "status", "location", "rule", "headers"}`; header names are lower-case and
/// repeated headers are joined with `, `.
pub fn decision_json(decision: &Decision<'_>) -> Map<String, Value> {
    let (outcome, status, location, headers) = match decision {
        Decision::Redirect(r) => (
            "redirect",
            Some(r.status),
            Some(r.location.clone()),
            r.headers().collect(),
        ),
        Decision::Forward(f) => ("forward", Some(303), f.location.clone(), Vec::new()),
        Decision::Origin(p) => ("origin", None, None, pairs(&p.headers)),
    };
    let mut map = Map::new();
    map.insert("outcome".into(), json!(outcome));
    map.insert("status".into(), json!(status));
    map.insert("location".into(), json!(location));
    map.insert("rule".into(), json!(decision.rule()));
    map.insert("headers".into(), Value::Object(headers_json(headers)));
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

/// Owned header pairs as borrowed ones.
pub fn pairs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}
