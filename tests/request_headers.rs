//! Request headers the fixture format cannot express: several `Cookie` headers, header names in
//! any case, and a header that appears more than once.

use edge_redirects::{Decision, Engine, Request};

const BUNDLE: &str = r#"{
  "version": 1,
  "rules": [
    { "id": "beta", "from": "/dash", "when": { "cookie": { "beta": "1" } }, "to": "/beta" },
    { "id": "ab", "from": "/ab", "split": { "variants": [
      { "name": "a", "weight": 1, "to": "/a" }, { "name": "b", "weight": 1, "to": "/b" } ] } },
    { "id": "german", "from": "/welcome", "when": { "language": ["de"] }, "to": "/de" },
    { "id": "mobile", "from": "/app", "when": { "header": { "x-device": "mobile" } }, "to": "/m" }
  ]
}"#;

fn decide(path: &str, headers: &[(&str, &str)]) -> Option<String> {
    let engine = Engine::compile(BUNDLE).unwrap();
    let url = format!("https://example.com{path}");
    let request = Request {
        headers,
        ..Request::get(&url)
    };
    match engine.evaluate(&request) {
        Decision::Redirect(r) => Some(r.location),
        _ => None,
    }
}

#[test]
fn cookie_in_a_second_cookie_header_counts() {
    let headers = [("cookie", "theme=dark"), ("cookie", "beta=1")];
    assert_eq!(
        decide("/dash", &headers).as_deref(),
        Some("https://example.com/beta")
    );
}

#[test]
fn sticky_variant_in_a_second_cookie_header_is_honoured() {
    // Random 0 would assign "a"; the cookie says "b".
    let headers = [("Cookie", "x=1"), ("Cookie", "ab_ab=b")];
    assert_eq!(
        decide("/ab", &headers).as_deref(),
        Some("https://example.com/b")
    );
}

#[test]
fn request_header_names_are_case_insensitive() {
    assert_eq!(
        decide("/welcome", &[("Accept-Language", "de-DE")]).as_deref(),
        Some("https://example.com/de")
    );
    assert_eq!(
        decide("/dash", &[("COOKIE", "beta=1")]).as_deref(),
        Some("https://example.com/beta")
    );
    assert_eq!(
        decide("/app", &[("X-Device", "mobile")]).as_deref(),
        Some("https://example.com/m")
    );
}

#[test]
fn conditions_without_their_header_do_not_hold() {
    assert_eq!(decide("/dash", &[("cookies", "beta=1")]), None);
    assert_eq!(decide("/welcome", &[("content-language", "de")]), None);
    assert_eq!(decide("/app", &[]), None);
}
