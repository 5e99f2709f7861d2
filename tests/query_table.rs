//! Many rules on one path told apart by a query parameter (a lookup table imported from
//! Netlify: `/product.php id=123 /items/123`). The engine keys such rules by the parameter's
//! value instead of trying each; first match must still win exactly as a file-order scan
//! decides. Random tables mixing keyed rules, rules keyed on another parameter, globs,
//! captures, `unless` and unconditional rules are evaluated by the engine and by a naive scan
//! written here from the format document.

use edge_redirects::{Decision, Engine, Request};
use proptest::prelude::*;

/// One rule of the table, as the model sees it.
#[derive(Debug, Clone)]
enum Test {
    /// `when.query {name: value}` (exact).
    Exact(&'static str, &'static str),
    /// `when.query {id: value, color: other}`: two exact tests.
    Two(&'static str, &'static str),
    /// `when.query {id: "1*"}` (a glob).
    Glob,
    /// `when.query {id: ":v"}` (present, captured).
    Capture,
    /// `unless.query {id: value}`.
    Unless(&'static str),
    /// No condition.
    Always,
}

const VALUES: [&str; 6] = ["1", "12", "123", "a b", "é", "7"];

fn test() -> impl Strategy<Value = Test> {
    let value = prop::sample::select(&VALUES[..]);
    prop_oneof![
        8 => (Just("id"), value.clone()).prop_map(|(n, v)| Test::Exact(n, v)),
        2 => (Just("sku"), value.clone()).prop_map(|(n, v)| Test::Exact(n, v)),
        1 => (value.clone(), prop::sample::select(&["red", "blue"][..])).prop_map(|(v, c)| Test::Two(v, c)),
        1 => Just(Test::Glob),
        1 => Just(Test::Capture),
        1 => value.prop_map(Test::Unless),
        1 => Just(Test::Always),
    ]
}

fn rule_json(i: usize, t: &Test) -> serde_json::Value {
    let mut rule = serde_json::json!({ "id": format!("r{i}"), "from": "/product.php", "to": format!("/items/{i}") });
    let when = match t {
        Test::Exact(n, v) => Some(serde_json::json!({ "query": { *n: v } })),
        Test::Two(v, c) => Some(serde_json::json!({ "query": { "id": v, "color": c } })),
        Test::Glob => Some(serde_json::json!({ "query": { "id": "1*" } })),
        Test::Capture => {
            rule["to"] = serde_json::json!(format!("/items/{i}/:v"));
            Some(serde_json::json!({ "query": { "id": ":v" } }))
        }
        Test::Unless(v) => {
            rule["unless"] = serde_json::json!({ "query": { "id": v } });
            None
        }
        Test::Always => None,
    };
    if let Some(w) = when {
        rule["when"] = w;
    }
    rule
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= s.len() && u8::from_str_radix(&s[i + 1..i + 3], 16).is_ok() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded `(name, value)` pairs of a query.
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(n), decode(v))
        })
        .collect()
}

/// The first rule, in file order, whose conditions hold.
fn model(tests: &[Test], query: &str) -> Option<usize> {
    let pairs = pairs(query);
    let has = |n: &str, f: &dyn Fn(&str) -> bool| pairs.iter().any(|(pn, pv)| pn == n && f(pv));
    tests.iter().position(|t| match t {
        Test::Exact(n, v) => has(n, &|x| x == *v),
        Test::Two(v, c) => has("id", &|x| x == *v) && has("color", &|x| x == *c),
        Test::Glob => has("id", &|x| x.starts_with('1')),
        Test::Capture => has("id", &|_| true),
        Test::Unless(v) => !has("id", &|x| x == *v),
        Test::Always => true,
    })
}

/// A query sending some of the values, some encoded, some twice, in any order.
fn query() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(&VALUES[..]).prop_map(|v| format!("id={}", v.replace(' ', "+"))),
        prop::sample::select(&VALUES[..]).prop_map(|v| format!("sku={}", v.replace(' ', "%20"))),
        Just("id=%31%32".to_string()),
        Just("id=%C3%A9".to_string()),
        Just("color=red".to_string()),
        Just("color=blue".to_string()),
        Just("other=1".to_string()),
        Just("id".to_string()),
    ];
    prop::collection::vec(part, 0..5).prop_map(|parts| parts.join("&"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn keyed_tables_keep_first_match(tests in prop::collection::vec(test(), 16..120), queries in prop::collection::vec(query(), 1..20)) {
        let rules: Vec<serde_json::Value> = tests.iter().enumerate().map(|(i, t)| rule_json(i, t)).collect();
        let engine = Engine::from_value(&serde_json::json!({ "version": 1, "rules": rules })).unwrap();
        for q in &queries {
            let url = format!("https://example.com/product.php?{q}");
            let got = match engine.evaluate(&Request::get(&url)) {
                Decision::Redirect(r) => Some(r.rule.trim_start_matches('r').parse::<usize>().unwrap()),
                _ => None,
            };
            prop_assert_eq!(got, model(&tests, q), "query {:?}", q);
        }
    }
}

#[test]
fn a_lookup_table_answers_by_value() {
    // 20,000 rules, the shape `redirects import netlify` gives a `_redirects` lookup table.
    let rules: Vec<serde_json::Value> = (0..20_000)
        .map(|i| {
            rule_json(
                i,
                &Test::Exact("id", Box::leak(i.to_string().into_boxed_str())),
            )
        })
        .collect();
    let engine = Engine::from_value(&serde_json::json!({ "version": 1, "rules": rules })).unwrap();
    for (query, expect) in [
        ("id=19999", Some("https://example.com/items/19999")),
        ("x=1&id=0", Some("https://example.com/items/0")),
        ("id=%31%32", Some("https://example.com/items/12")),
        ("id=20000", None),
        ("", None),
    ] {
        let url = format!("https://example.com/product.php?{query}");
        let got = match engine.evaluate(&Request::get(&url)) {
            // The query is carried over (`preserve_query`); the path tells the rule.
            Decision::Redirect(r) => r.location.split('?').next().map(str::to_string),
            _ => None,
        };
        assert_eq!(got.as_deref(), expect, "{query}");
    }
}
