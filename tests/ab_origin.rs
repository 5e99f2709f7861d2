//! A/B variants the origin can see: every request a split passes to the origin carries the
//! assignment in its `Cookie` and in `X-Redirect-Variant`, the first request (fresh
//! assignment) included; no other request the origin sees carries a variant header, even a
//! forged one; decisions name their variant (for analytics).

use edge_redirects::{
    random_from_fraction, Decision, Engine, HeaderChange, Request, VARIANT_HEADER,
};

const BUNDLE: &str = r#"{
  "version": 1,
  "rules": [
    { "id": "pricing-test", "from": "/pricing", "split": { "cookie": "ab_pricing", "variants": [
      { "name": "control", "weight": 1, "to": null },
      { "name": "new", "weight": 1, "to": "/pricing-v2" } ] } },
    { "id": "contact", "from": "/contact", "methods": ["POST"], "forward": true, "to": "/thanks" },
    { "id": "blog", "from": "/blog/:slug", "to": "/posts/:slug" }
  ]
}"#;

/// `(name, value)` of each change that sets a header; removals as `(name, "")`.
fn changes(decision: &Decision<'_>, headers: &[(&str, &str)]) -> Vec<(String, String)> {
    decision
        .origin_request_changes(headers)
        .into_iter()
        .map(|c| match c {
            HeaderChange::Set(n, v) | HeaderChange::Append(n, v) => (n.to_string(), v.into_owned()),
            HeaderChange::Remove(n) => (n.to_string(), String::new()),
        })
        .collect()
}

fn request<'a>(
    url: &'a str,
    method: &'a str,
    headers: &'a [(&'a str, &'a str)],
    fraction: f64,
) -> Request<'a> {
    Request {
        method,
        headers,
        random: random_from_fraction(fraction),
        ..Request::get(url)
    }
}

#[test]
fn a_fresh_visitor_who_stays_is_told_to_the_origin_on_the_first_request() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let headers = [("cookie", "session=1; ab_pricing=stale")];
    // random 0.1 of weights 1:1 draws "control", the variant that stays.
    let decision = engine.evaluate(&request(
        "https://example.com/pricing",
        "GET",
        &headers,
        0.1,
    ));
    assert!(matches!(decision, Decision::Origin(_)), "{decision:?}");
    assert_eq!(decision.variant(), Some("control"));
    assert_eq!(
        changes(&decision, &headers),
        [
            ("Cookie".into(), "session=1; ab_pricing=control".into()),
            (VARIANT_HEADER.into(), "pricing-test=control".into()),
        ]
    );
}

#[test]
fn a_sticky_visitor_keeps_its_cookie_and_gets_the_header() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let headers = [
        ("cookie", "ab_pricing=control"),
        ("x-redirect-variant", "pricing-test=new"),
    ];
    let decision = engine.evaluate(&request(
        "https://example.com/pricing",
        "GET",
        &headers,
        0.9,
    ));
    assert_eq!(decision.variant(), Some("control"));
    assert_eq!(
        changes(&decision, &headers),
        [(VARIANT_HEADER.into(), "pricing-test=control".into())]
    );
}

#[test]
fn a_redirected_variant_is_named_and_changes_no_origin_request() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let decision = engine.evaluate(&request("https://example.com/pricing", "GET", &[], 0.9));
    assert!(matches!(decision, Decision::Redirect(_)), "{decision:?}");
    assert_eq!(decision.variant(), Some("new"));
    assert!(changes(&decision, &[]).is_empty());
}

#[test]
fn no_other_request_reaches_the_origin_with_a_variant_header() {
    let engine = Engine::compile(BUNDLE).unwrap();
    let forged = [("X-Redirect-Variant", "pricing-test=new")];
    for (url, method) in [
        ("https://example.com/about", "GET"),
        ("https://example.com/contact", "POST"),
    ] {
        let decision = engine.evaluate(&request(url, method, &forged, 0.5));
        assert!(
            !matches!(decision, Decision::Redirect(_)),
            "{url}: {decision:?}"
        );
        assert_eq!(decision.variant(), None);
        assert_eq!(
            changes(&decision, &forged),
            [(VARIANT_HEADER.into(), String::new())]
        );
        assert!(changes(&decision, &[("accept", "*/*")]).is_empty());
    }
    let blog = engine.evaluate(&request("https://example.com/blog/x", "GET", &forged, 0.5));
    assert_eq!(blog.variant(), None);
}
