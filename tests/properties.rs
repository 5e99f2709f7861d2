//! Property tests: evaluation never panics on arbitrary method, URL, header and geo input; every
//! Location it produces is a clean absolute URL on an origin the bundle's author wrote; explain
//! agrees with evaluate; compiling arbitrary text or rule values never panics.

use edge_redirects::{Decision, Engine, Geo, Request};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Every kind of rule, including the ones that substitute request data into a target.
const BUNDLE: &str = r#"{
  "version": 1,
  "settings": { "allowed_hosts": ["*.example.net"], "debug_header": true },
  "rules": [
    { "id": "blog", "from": "/blog/:slug", "to": "/posts/:slug" },
    { "id": "old", "from": "/old/:x", "to": "/new/:x" },
    { "id": "root-capture", "from": "/r/:x", "to": "/:x" },
    { "id": "rest", "from": "/api/v1/:path*", "to": "/api/v2/:path*" },
    { "id": "splat-abs", "from": "/docs/*", "to": "https://docs.example.com/:splat" },
    { "id": "next", "from": "/login", "when": { "query": { "next": ":next" } }, "to": "/:next" },
    { "id": "tenant", "from": "/t/:tenant", "to": "https://:tenant.example.net/" },
    { "id": "whole-host", "from": "/go/:h", "to": "https://:h/" },
    { "id": "shop", "host": "*.example.com", "from": "/cart", "to": "/basket" },
    { "id": "geo", "from": "/store", "when": { "country": ["DE"], "continent": ["EU"] }, "to": "/de/store" },
    { "id": "lang", "from": "/welcome", "when": { "language": ["de"] }, "unless": { "header": { "user-agent": "*bot*" } }, "to": "/de/welcome" },
    { "id": "cookie", "from": "/dash", "when": { "cookie": { "beta": "1*" } }, "to": "/beta" },
    { "id": "ab", "from": "/pricing", "split": { "variants": [
      { "name": "a", "weight": 70, "to": null }, { "name": "b", "weight": 30, "to": "/pricing/:x" } ] }, "when": { "query": { "x": ":x" } } },
    { "id": "form", "from": "/contact", "methods": ["POST"], "forward": true, "to": "/thanks" },
    { "id": "form-origin", "from": "/signup", "forward": true },
    { "id": "self", "from": "/same", "to": "/same" },
    { "id": "p2r-rest", "from": "/meta/(.*)", "from_syntax": "path-to-regexp", "to": "/$1" },
    { "id": "p2r-opt", "from": "/pl(/.*)?", "from_syntax": "path-to-regexp", "to": "https://docs.example.com$1?x=$1#$1" },
    { "id": "p2r-groups", "from": "/g/:a(\\d+)?{-:b}?/([^/]*)/(x|y)*", "from_syntax": "path-to-regexp", "to": "/h/:a/:b/$3/$4" },
    { "id": "catch-all", "from": "/*", "when": { "header": { "x-catch": "*" } }, "to": "/caught/:splat" }
  ]
}"#;

/// Hosts an absolute target of `BUNDLE` may name besides the request's own.
fn host_is_written_by_the_author(host: &str) -> bool {
    host == "docs.example.com" || host.ends_with(".example.net")
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::compile(BUNDLE).expect("the property bundle compiles"))
}

fn evaluate<'e>(
    engine: &'e Engine,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    geo: &[Option<String>; 4],
    random: u64,
) -> Decision<'e> {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method,
        url,
        headers: &headers,
        geo: Geo {
            country: geo[0].as_deref(),
            continent: geo[1].as_deref(),
            region: geo[2].as_deref(),
            city: geo[3].as_deref(),
            asn: None,
        },
        random,
        ip: None,
        now: None,
    };
    engine.evaluate(&request)
}

/// What every decision must satisfy: header values without CR, LF or NUL, and a Location (if
/// any) that is an absolute http(s) URL of visible ASCII on the request's own host or on a host
/// for which `author_wrote` holds.
fn check_decision(
    decision: &Decision<'_>,
    url: &str,
    author_wrote: impl Fn(&str) -> bool,
) -> Result<(), TestCaseError> {
    let headers = decision.headers();
    let location = match decision {
        Decision::Redirect(r) => Some(r.location.as_str()),
        Decision::Forward(f) => f.location.as_deref(),
        Decision::Origin(_) => None,
    };
    for (name, value) in headers {
        prop_assert!(
            !value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0),
            "header {name}: {value:?}"
        );
    }
    if let Some(location) = location {
        prop_assert!(
            location.bytes().all(|b| b.is_ascii_graphic()),
            "Location {location:?} has a control, space or non-ASCII byte"
        );
        let target = url::Url::parse(location)
            .map_err(|e| TestCaseError::fail(format!("Location {location:?}: {e}")))?;
        prop_assert!(matches!(target.scheme(), "http" | "https"), "{location}");
        let target_host = target.host_str().unwrap_or_default();
        if let Ok(request) = url::Url::parse(url) {
            prop_assert!(
                Some(target_host) == request.host_str() || author_wrote(target_host),
                "request {url:?} redirected off its origin to {location:?}"
            );
        }
    }
    Ok(())
}

fn geo_strategy() -> impl Strategy<Value = [Option<String>; 4]> {
    let field = || proptest::option::of(prop_oneof![any::<String>(), "[A-Za-z]{2}"]);
    (field(), field(), field(), field()).prop_map(|(a, b, c, d)| [a, b, c, d])
}

/// A path segment: plain words, percent escapes (valid or not), dot segments, slashes and
/// backslashes in every spelling, and arbitrary Unicode.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9._~-]{0,8}",
        Just("%2F%2Fevil.example".to_string()),
        Just("%5Cevil".to_string()),
        Just("%0D%0ASet-Cookie:%20x=1".to_string()),
        Just("..".to_string()),
        Just("%2e%2E".to_string()),
        Just("evil.example".to_string()),
        Just("a@evil.example".to_string()),
        Just("%".to_string()),
        Just("%zz".to_string()),
        Just("%C3%A9".to_string()),
        Just("%FF%FE".to_string()),
        Just("\\".to_string()),
        any::<String>(),
    ]
}

fn prefix() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "", "/blog", "/old", "/r", "/api/v1", "/docs", "/login", "/t", "/go", "/cart", "/store",
        "/welcome", "/dash", "/pricing", "/contact", "/signup", "/same",
    ])
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("?next=//evil.example".to_string()),
        Just("?next=%2F%5Cevil.example".to_string()),
        Just("?next=%0D%0ALocation:%20x".to_string()),
        Just("?x=%2F%2Fevil&y".to_string()),
        "\\?[a-z]{1,4}=[a-zA-Z0-9%+/:@._-]{0,12}(&[a-z]{1,4}=[^#]{0,6}){0,3}",
        any::<String>().prop_map(|s| format!("?{s}")),
    ]
}

fn url_strategy() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["https://", "http://", "HTTPS://", "ftp://", ""]);
    let host = prop_oneof![
        Just("example.com".to_string()),
        Just("shop.example.com".to_string()),
        Just("127.0.0.1:8787".to_string()),
        Just("EXAMPLE.com:443".to_string()),
        Just("[::1]:8080".to_string()),
        "[a-z.-]{0,12}",
        any::<String>(),
    ];
    let fragment = prop_oneof![Just(String::new()), Just("#frag".to_string())];
    (
        scheme,
        host,
        prefix(),
        prop::collection::vec(segment(), 0..5),
        prop::sample::select(vec!["", "/"]),
        query(),
        fragment,
    )
        .prop_map(|(scheme, host, prefix, segments, slash, query, fragment)| {
            let mut url = format!("{scheme}{host}{prefix}");
            for s in segments {
                url.push('/');
                url.push_str(&s);
            }
            format!("{url}{slash}{query}{fragment}")
        })
}

fn headers_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("accept-language".to_string()),
        Just("cookie".to_string()),
        Just("Cookie".to_string()),
        Just("user-agent".to_string()),
        Just("x-catch".to_string()),
        any::<String>(),
    ];
    let value = prop_oneof![
        Just("de-AT,de;q=0.9,en;q=0.8".to_string()),
        Just("en;q=0, de;q=abc, *".to_string()),
        Just("ab_ab=b; beta=1x".to_string()),
        Just("ab_ab=zz;beta".to_string()),
        Just(";;=;".to_string()),
        any::<String>(),
    ];
    prop::collection::vec((name, value), 0..6)
}

fn method_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["GET", "HEAD", "POST", "put", "DELETE", "OPTIONS", ""])
            .prop_map(String::from),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn evaluate_never_panics_on_arbitrary_strings(
        method in any::<String>(),
        url in any::<String>(),
        headers in prop::collection::vec((any::<String>(), any::<String>()), 0..4),
        geo in geo_strategy(),
        random in any::<u64>(),
    ) {
        let decision = evaluate(engine(), &method, &url, &headers, &geo, random);
        check_decision(&decision, &url, host_is_written_by_the_author)?;
    }

    #[test]
    fn url_shaped_input_never_leaves_the_origin(
        method in method_strategy(),
        url in url_strategy(),
        headers in headers_strategy(),
        geo in geo_strategy(),
        random in any::<u64>(),
    ) {
        let decision = evaluate(engine(), &method, &url, &headers, &geo, random);
        check_decision(&decision, &url, host_is_written_by_the_author)?;
    }

    #[test]
    fn explain_and_evaluate_agree(
        method in method_strategy(),
        url in url_strategy(),
        headers in headers_strategy(),
        random in any::<u64>(),
    ) {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let request = Request { method: &method, url: &url, headers: &pairs, geo: Geo::default(), random, ip: None, now: None };
        let explanation = engine().explain(&request);
        prop_assert_eq!(explanation.decision, engine().evaluate(&request));
    }

    #[test]
    fn forward_response_never_panics(
        url in url_strategy(),
        status in any::<u16>(),
        origin_location in proptest::option::of(any::<String>()),
    ) {
        let request = Request { method: "POST", ..Request::get(&url) };
        if let Decision::Forward(forward) = engine().evaluate(&request) {
            if let Some(response) = forward.respond(status, origin_location.as_deref(), &[]) {
                prop_assert_eq!(response.status, 303);
                prop_assert!(response.location.bytes().all(|b| b.is_ascii_graphic()));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn compile_never_panics_on_arbitrary_text(text in any::<String>()) {
        if let Err(errors) = Engine::compile(&text) {
            prop_assert!(!errors.errors().is_empty());
        }
    }

    /// Any source in path-to-regexp syntax compiles or is refused (never a panic), and the
    /// engine built from it answers any path.
    #[test]
    fn path_to_regexp_sources_compile_or_are_refused(
        from in prop_oneof![any::<String>(), "/[a-z:*?+()\\[\\]{}|.\\\\/^$-]{0,24}"],
        path in prop_oneof![any::<String>(), "/[a-z/%.()-]{0,24}"],
    ) {
        let rule = serde_json::json!({
            "id": "r", "from": from, "from_syntax": "path-to-regexp", "to": "/to/$1"
        });
        let bundle = serde_json::json!({ "version": 1, "rules": [rule] }).to_string();
        match Engine::compile(&bundle) {
            Ok(engine) => {
                let url = format!("https://example.com{path}");
                let decision = engine.evaluate(&Request::get(&url));
                check_decision(&decision, &url, |_| true)?;
            }
            Err(errors) => {
                for e in errors.errors() {
                    prop_assert!(e.pointer.starts_with("/rules/0"), "{e}");
                    prop_assert!(!e.hint.is_empty(), "{e}");
                }
            }
        }
    }

    #[test]
    fn compile_never_panics_on_arbitrary_rule_values(
        from in prop_oneof![any::<String>(), "/[a-z:*/%.]{0,12}"],
        to in prop_oneof![any::<String>(), "(https?://[a-z:.]{0,8})?/[a-z:*/%.@\\\\]{0,12}"],
        host in proptest::option::of(any::<String>()),
        status in any::<i64>(),
        country in any::<String>(),
    ) {
        let mut rule = serde_json::json!({
            "id": "r", "from": from, "to": to, "status": status, "when": { "country": [country] }
        });
        if let Some(host) = host {
            rule["host"] = serde_json::Value::String(host);
        }
        let bundle = serde_json::json!({ "version": 1, "rules": [rule] }).to_string();
        match Engine::compile(&bundle) {
            Ok(engine) => {
                let decision = engine.evaluate(&Request::get("https://example.com/"));
                // Whatever absolute target the rule names is the author's own choice.
                check_decision(&decision, "https://example.com/", |_| true)?;
            }
            Err(errors) => {
                for e in errors.errors() {
                    prop_assert!(e.pointer.starts_with("/rules/0"), "{e}");
                    prop_assert_eq!(e.rule_index, Some(0));
                }
            }
        }
    }
}
