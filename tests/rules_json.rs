//! The bundled example `rules.json`: it compiles, shows every feature the format has, keeps its
//! headline rules usable on any host (local development included), and every rule is exercised
//! by `tests/fixtures/decisions/rules_json.json`.

use edge_redirects::{Decision, Engine, Request, Rule};
use serde_json::Value;
use std::collections::BTreeSet;

const RULES_JSON: &str = include_str!("../rules.json");
const FIXTURE: &str = include_str!("fixtures/decisions/rules_json.json");

fn engine() -> Engine {
    Engine::compile(RULES_JSON).unwrap_or_else(|e| panic!("rules.json does not compile:\n{e}"))
}

fn rule<'e>(engine: &'e Engine, id: &str) -> &'e Rule {
    engine
        .rules()
        .iter()
        .find(|r| r.id() == id)
        .unwrap_or_else(|| panic!("rules.json has no rule {id:?}"))
}

#[test]
fn compiles_and_starts_with_its_schema() {
    let engine = engine();
    assert!(!engine.rules().is_empty());
    let first_key = RULES_JSON
        .trim_start()
        .trim_start_matches('{')
        .trim_start()
        .split(':')
        .next()
        .unwrap();
    assert_eq!(first_key, "\"$schema\"");
    let v: Value = serde_json::from_str(RULES_JSON).unwrap();
    assert_eq!(v["$schema"], "./rules.schema.json");
}

#[test]
fn every_rule_is_exercised_by_the_fixture() {
    let engine = engine();
    let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
    assert_eq!(fixture["bundle_file"], "rules.json");
    let decided: BTreeSet<&str> = fixture["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["expect"]["rule"].as_str())
        .collect();
    let missing: Vec<&str> = engine
        .rules()
        .iter()
        .map(Rule::id)
        .filter(|id| !decided.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules never decide a case in rules_json.json: {missing:?}"
    );
}

#[test]
fn shows_every_feature_of_the_format() {
    let engine = engine();
    let rules = engine.rules();
    let any = |what: &str, f: &dyn Fn(&Rule) -> bool| {
        assert!(rules.iter().any(f), "rules.json has no {what}");
    };
    any("plain 308 move", &|r| {
        r.status() == 308 && r.when().is_empty()
    });
    any("rest-of-path move", &|r| r.from().ends_with("*"));
    any("Post-Redirect-Get form", &|r| {
        r.forward() && r.status() == 303
    });
    any("country rule", &|r| {
        r.when().has_geo() && r.from() == "/store"
    });
    any("language rule", &|r| r.when().has_language());
    any("host-specific rule", &|r| r.host().is_some());
    any("query capture", &|r| r.when().has_query());
    any("unless condition", &|r| !r.unless().is_empty());
    any("absolute target", &|r| {
        r.to().is_some_and(|t| t.starts_with("https://"))
    });
    let geo_rules: Vec<&Rule> = rules.iter().filter(|r| r.when().has_geo()).collect();
    assert!(
        geo_rules.len() >= 2,
        "the geo split needs a country rule and a continent rule"
    );
}

#[test]
fn ab_test_is_seventy_thirty_with_a_staying_control() {
    let engine = engine();
    let split = rule(&engine, "pricing-ab-test")
        .split()
        .expect("pricing-ab-test is a split");
    let weights: Vec<(u32, bool)> = split
        .variants()
        .iter()
        .map(|v| (v.weight, v.to.is_some()))
        .collect();
    assert_eq!(weights, [(70, false), (30, true)]);
    assert_eq!(split.cookie(), "ab_pricing");
}

#[test]
fn headline_rules_work_on_any_host() {
    let engine = engine();
    for id in [
        "blog-moved-to-posts",
        "api-v1-to-v2-keeps-method",
        "contact-form-post-redirect-get",
        "store-german-speaking-countries",
        "store-rest-of-europe",
        "pricing-ab-test",
        "welcome-in-german",
    ] {
        assert_eq!(
            rule(&engine, id).host(),
            None,
            "{id} must not be host-specific"
        );
    }
    assert_eq!(
        rule(&engine, "shop-cart-renamed-basket").host(),
        Some("shop.example.com")
    );
}

#[test]
fn curl_on_local_development_shows_a_308() {
    let engine = engine();
    match engine.evaluate(&Request::get("http://127.0.0.1:8787/blog/hello")) {
        Decision::Redirect(r) => {
            assert_eq!(r.status, 308);
            assert_eq!(r.location, "http://127.0.0.1:8787/posts/hello");
            assert!(r.body().is_some_and(|b| b.contains("/posts/hello")));
        }
        other => panic!("expected a 308, got {other:?}"),
    }
}

#[test]
fn api_move_keeps_method_and_body() {
    let engine = engine();
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let request = Request {
            method,
            ..Request::get("https://example.com/api/v1/orders/7")
        };
        match engine.evaluate(&request) {
            Decision::Redirect(r) => assert_eq!(
                (r.status, r.location.as_str()),
                (308, "https://example.com/api/v2/orders/7")
            ),
            other => panic!("{method}: expected a 308, got {other:?}"),
        }
    }
}

#[test]
fn contact_form_redirects_after_the_origin_accepts_it() {
    let engine = engine();
    let request = Request {
        method: "POST",
        ..Request::get("https://example.com/contact")
    };
    let Decision::Forward(forward) = engine.evaluate(&request) else {
        panic!("POST /contact must be forwarded to the origin first");
    };
    let accepted = forward
        .respond(200, None, &[])
        .expect("a 2xx becomes a 303");
    assert_eq!(accepted.status, 303);
    assert_eq!(accepted.location, "https://example.com/contact/thanks");
    assert_eq!(
        forward
            .respond(201, Some("/elsewhere"), &[])
            .map(|r| r.location),
        Some("https://example.com/contact/thanks".to_string()),
        "the rule's own target wins over the origin's Location"
    );
    for status in [302, 400, 422, 500, 503] {
        assert!(
            forward.respond(status, None, &[]).is_none(),
            "an origin {status} must pass through unchanged"
        );
    }
}
