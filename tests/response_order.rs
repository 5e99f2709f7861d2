//! The order of headers on responses the engine decides: `Location` first, then the defaults,
//! then the rule's `headers`, then `Set-Cookie` for an A/B assignment, then `X-Redirect-Rule`.
//! (Fixture files check header values; order needs Rust.)

use edge_redirects::{random_from_fraction, Decision, Engine, Request};

const BUNDLE: &str = r#"{
  "version": 1,
  "settings": { "debug_header": true },
  "rules": [
    { "id": "ab", "from": "/ab", "headers": { "X-Test": "on", "Vary": "Cookie" }, "split": { "variants": [
      { "name": "stay", "weight": 1, "to": null },
      { "name": "go", "weight": 1, "to": "/go" } ] } },
    { "id": "moved", "from": "/moved", "headers": { "Cache-Control": "max-age=5" }, "to": "/new" }
  ]
}"#;

fn names<'h>(headers: impl IntoIterator<Item = (&'h str, &'h str)>) -> Vec<String> {
    headers
        .into_iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect()
}

fn position(names: &[String], name: &str) -> usize {
    names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{name} missing from {names:?}"))
}

#[test]
fn redirect_headers_end_with_rule_headers_cookie_and_debug_header() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let request = Request {
        random: random_from_fraction(0.9),
        ..Request::get("https://example.com/ab")
    };
    let Decision::Redirect(r) = engine.evaluate(&request) else {
        panic!("random 0.9 assigns the redirecting variant");
    };
    let names = names(r.headers());
    assert_eq!(names[0], "location");
    // Among themselves the rule's headers may come in any order.
    let rule_headers = position(&names, "x-test").max(position(&names, "vary"));
    let order = [
        rule_headers,
        position(&names, "set-cookie"),
        position(&names, "x-redirect-rule"),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "headers out of order: {names:?}"
    );
    assert_eq!(names.last().map(String::as_str), Some("x-redirect-rule"));
    for default in ["content-type", "cache-control"] {
        assert!(
            position(&names, default) < order[0],
            "{default} after the rule's headers: {names:?}"
        );
    }
}

#[test]
fn staying_variant_adds_cookie_then_debug_header_to_the_origin_response() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let request = Request {
        random: random_from_fraction(0.1),
        ..Request::get("https://example.com/ab")
    };
    let decision = engine.evaluate(&request);
    assert!(
        matches!(decision, Decision::Origin(_)),
        "random 0.1 assigns the staying variant"
    );
    let names = names(decision.headers());
    assert!(
        position(&names, "set-cookie") < position(&names, "x-redirect-rule"),
        "{names:?}"
    );
}

#[test]
fn rule_cache_control_replaces_the_default_in_place_of_adding_one() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let Decision::Redirect(r) = engine.evaluate(&Request::get("https://example.com/moved")) else {
        panic!("/moved redirects");
    };
    let values: Vec<&str> = r
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(values, ["max-age=5"]);
    assert_eq!(r.header("x-redirect-rule"), Some("moved"));
}
