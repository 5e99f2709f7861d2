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

/// The changes to the origin request for a sticky "control" visitor of the pricing split,
/// sending `headers`.
fn sticky_changes(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    let engine = Engine::compile(BUNDLE).unwrap();
    let decision = engine.evaluate(&request("https://example.com/pricing", "GET", headers, 0.9));
    assert_eq!(decision.variant(), Some("control"), "{headers:?}");
    changes(&decision, headers)
}

#[test]
fn a_sticky_visitor_keeps_its_cookie_and_gets_the_header() {
    let headers = [
        ("cookie", "ab_pricing=control"),
        ("x-redirect-variant", "pricing-test=new"),
    ];
    assert_eq!(
        sticky_changes(&headers),
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

#[test]
fn a_duplicated_assignment_cookie_reaches_the_origin_once_with_the_value_decided() {
    // The first copy is read (a known variant: sticky); a last-wins parser on the origin would
    // see the second, so every copy is replaced by the one value decided.
    for headers in [
        &[("cookie", "ab_pricing=control; ab_pricing=evil")][..],
        &[
            ("cookie", "ab_pricing=control"),
            ("Cookie", "a=1; ab_pricing=new"),
        ][..],
        &[("cookie", "ab_pricing=control;ab_pricing=control")][..],
    ] {
        let got = sticky_changes(headers);
        let cookie = got
            .iter()
            .find(|(n, _)| n == "Cookie")
            .map(|(_, v)| v.as_str());
        let cookie =
            cookie.unwrap_or_else(|| panic!("{headers:?}: the Cookie is not rewritten: {got:?}"));
        assert_eq!(
            cookie.matches("ab_pricing=").count(),
            1,
            "{headers:?}: {cookie}"
        );
        assert!(cookie.ends_with("ab_pricing=control"), "{cookie}");
        assert!(
            got.contains(&(VARIANT_HEADER.into(), "pricing-test=control".into())),
            "{got:?}"
        );
    }
}

#[test]
fn a_variant_header_spelt_with_underscores_never_reaches_the_origin() {
    let engine = Engine::compile(BUNDLE).unwrap();
    // CGI-style origins fold `X_Redirect_Variant` and `X-Redirect-Variant` into one variable.
    let forged = [("X_Redirect_Variant", "pricing-test=new")];
    let about = engine.evaluate(&request("https://example.com/about", "GET", &forged, 0.5));
    let removed = ("X_Redirect_Variant".to_string(), String::new());
    let got = changes(&about, &forged);
    assert!(got.contains(&removed), "{got:?}");
    let got = sticky_changes(&[
        ("cookie", "ab_pricing=control"),
        ("x_redirect_variant", "pricing-test=new"),
    ]);
    assert!(got.contains(&removed), "{got:?}");
}
