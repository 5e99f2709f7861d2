//! Hostile-but-honest bundles and requests against what the engine answers: per-visitor
//! answers that no cache may share, Post-Redirect-Get answers built from what the origin says,
//! and requests built to make one evaluation expensive.
//!
//! The same shapes run through the worker in workerd in `tests/e2e/hostile.test.mjs`.

use edge_redirects_testkit::invariants;

use edge_redirects::{Decision, Engine, Geo, HeaderChange, Request};
use std::time::{Duration, Instant};

fn compile(bundle: &serde_json::Value) -> Engine {
    Engine::compile(&bundle.to_string()).expect("the bundle compiles")
}

fn bundle(rules: serde_json::Value) -> Engine {
    compile(&serde_json::json!({ "version": 1, "rules": rules }))
}

fn get<'a>(url: &'a str, headers: &'a [(&'a str, &'a str)], geo: Geo<'a>) -> Request<'a> {
    Request {
        headers,
        geo,
        ..Request::get(url)
    }
}

const NO_GEO: Geo<'static> = Geo {
    country: None,
    continent: None,
    region: None,
    city: None,
    asn: None,
};

const FR: Geo<'static> = Geo {
    country: Some("FR"),
    continent: Some("EU"),
    region: None,
    city: None,
    asn: None,
};

/// Item 1: the answer after a per-visitor rule that did not hold still depends on the visitor.
#[test]
fn an_answer_after_a_per_visitor_rule_is_private() {
    let shapes = [
        (
            serde_json::json!({ "language": ["de"] }),
            "when",
            [("accept-language", "en")],
            NO_GEO,
            "Accept-Language",
        ),
        (
            serde_json::json!({ "cookie": { "beta": "1" } }),
            "when",
            [("cookie", "beta=0")],
            NO_GEO,
            "Cookie",
        ),
        (
            serde_json::json!({ "header": { "user-agent": "*Mobile*" } }),
            "when",
            [("user-agent", "Desktop")],
            NO_GEO,
            "user-agent",
        ),
        (
            serde_json::json!({ "country": ["FR"] }),
            "unless",
            [("x-none", "")],
            FR,
            "",
        ),
    ];
    let mut shared = Vec::new();
    for (condition, key, headers, geo, vary) in shapes {
        let mut first =
            serde_json::json!({ "id": "special", "from": "/welcome", "to": "/de/welcome" });
        first[key] = condition.clone();
        let engine = bundle(serde_json::json!([
            first,
            { "id": "everyone", "from": "/welcome", "to": "/en/welcome", "status": 308 }
        ]));
        let request = get("https://example.com/welcome", &headers, geo);
        let Decision::Redirect(r) = engine.evaluate(&request) else {
            panic!("{condition}: /welcome falls through to the second rule");
        };
        assert_eq!(r.rule, "everyone", "{condition}");
        let cc = r.header("cache-control").unwrap_or("");
        if !cc.contains("private") || !cc.contains("no-store") {
            shared.push(format!("{key} {condition}: Cache-Control {cc:?}"));
        }
        if !vary.is_empty() && r.header("vary") != Some(vary) {
            shared.push(format!(
                "{key} {condition}: Vary {:?}, expected {vary}",
                r.header("vary")
            ));
        }
        invariants::check(&engine, &request).unwrap();
    }
    assert!(shared.is_empty(), "{}", shared.join("\n"));
}

/// The headers a passthrough gives an origin answer that carries `origin`.
fn passed(decision: &Decision<'_>, origin: &[(&str, &str)]) -> Vec<(String, String)> {
    let Decision::Origin(pass) = decision else {
        panic!("expected a pass to the origin, got {decision:?}");
    };
    let mut headers: Vec<(String, String)> = origin
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let cache_control = origin
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
        .map(|(_, v)| *v);
    for change in pass.header_changes(cache_control) {
        match change {
            HeaderChange::Set(n, v) => {
                let n = n.to_ascii_lowercase();
                headers.retain(|(h, _)| *h != n);
                headers.push((n, v.into_owned()));
            }
            HeaderChange::Append(n, v) => headers.push((n.to_ascii_lowercase(), v.into_owned())),
            HeaderChange::Remove(n) => headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n)),
        }
    }
    headers
}

/// An origin answer any shared cache would store.
const SHAREABLE_ORIGIN: &[(&str, &str)] = &[
    ("Cache-Control", "public, max-age=600, s-maxage=3600"),
    ("CDN-Cache-Control", "max-age=3600"),
    ("Cloudflare-CDN-Cache-Control", "max-age=3600"),
    ("Surrogate-Control", "max-age=3600"),
    ("Vary", "Accept-Encoding"),
];

/// Items 1 and 3: the origin's page on a path where a per-visitor rule was tried, and the A/B
/// variant that stays, are kept out of shared caches; other pages pass untouched.
#[test]
fn the_origins_page_on_a_per_visitor_path_is_made_private() {
    let engine = bundle(serde_json::json!([
        { "id": "de", "from": "/welcome", "when": { "language": ["de"] }, "to": "/de/welcome" },
        { "id": "ab", "from": "/pricing", "split": { "variants": [
            { "name": "stay", "weight": 1, "to": null } ] } },
        { "id": "plain", "from": "/old", "to": "/new" }
    ]));
    let en = [("accept-language", "en")];
    let cases = [
        (
            "https://example.com/welcome",
            &en[..],
            Some("Accept-Language"),
        ),
        ("https://example.com/pricing", &[][..], Some("Cookie")),
        (
            "https://example.com/pricing",
            &[("cookie", "ab_ab=stay")][..],
            Some("Cookie"),
        ),
    ];
    for (url, headers, vary) in cases {
        let request = get(url, headers, NO_GEO);
        let out = passed(&engine.evaluate(&request), SHAREABLE_ORIGIN);
        let value = |name: &str| {
            out.iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        let cc = value("cache-control");
        assert_eq!(cc.len(), 1, "{url}: {out:?}");
        assert!(cc[0].starts_with("private"), "{url}: {out:?}");
        assert!(
            !cc[0].contains("public") && !cc[0].contains("s-maxage"),
            "{url}: {out:?}"
        );
        for h in [
            "cdn-cache-control",
            "cloudflare-cdn-cache-control",
            "surrogate-control",
        ] {
            assert!(value(h).is_empty(), "{url}: {h} survived: {out:?}");
        }
        assert!(value("vary").contains(&vary.unwrap()), "{url}: {out:?}");
        assert!(value("vary").contains(&"Accept-Encoding"), "{url}: {out:?}");
    }
    // A fresh assignment: nothing of the page may be stored anywhere.
    let out = passed(
        &engine.evaluate(&Request::get("https://example.com/pricing")),
        SHAREABLE_ORIGIN,
    );
    assert!(
        out.contains(&("cache-control".into(), "private, no-store".into())),
        "{out:?}"
    );
    // A path no per-visitor rule was tried on: the origin's answer is its own.
    let out = passed(
        &engine.evaluate(&Request::get("https://example.com/else")),
        SHAREABLE_ORIGIN,
    );
    let origin: Vec<(String, String)> = SHAREABLE_ORIGIN
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    assert_eq!(out, origin);
}

/// Item 2: a rule's own headers cannot make a per-visitor answer shareable.
#[test]
fn rule_headers_cannot_make_a_per_visitor_answer_shareable() {
    let engine = bundle(serde_json::json!([
        { "id": "split", "from": "/sale", "headers": { "Cache-Control": "public, max-age=600" },
          "split": { "variants": [ { "name": "a", "weight": 1, "to": "/sale-a" } ] } },
        { "id": "lang", "from": "/home", "when": { "language": ["de"] }, "to": "/de",
          "headers": { "Cache-Control": "s-maxage=600", "CDN-Cache-Control": "max-age=600",
                       "Cloudflare-CDN-Cache-Control": "max-age=60", "Surrogate-Control": "max-age=60",
                       "X-Kept": "yes" } },
        { "id": "everyone", "from": "/home", "to": "/en",
          "headers": { "Cache-Control": "public, max-age=600", "CDN-Cache-Control": "max-age=600" } },
        { "id": "temporary", "from": "/t", "to": "/u", "status": 307,
          "headers": { "Cache-Control": "public, max-age=60" } }
    ]));
    let de = [("accept-language", "de")];
    let en = [("accept-language", "en")];
    let requests = [
        get("https://example.com/sale", &[], NO_GEO),
        get("https://example.com/home", &de, NO_GEO),
        get("https://example.com/home", &en, NO_GEO),
    ];
    for request in &requests {
        let Decision::Redirect(r) = engine.evaluate(request) else {
            panic!("{} redirects", request.url);
        };
        let headers: Vec<(&str, &str)> = r.headers().collect();
        let cc: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(cc, ["private, no-store"], "{}: {headers:?}", request.url);
        for (n, _) in &headers {
            assert!(
                ![
                    "cdn-cache-control",
                    "cloudflare-cdn-cache-control",
                    "surrogate-control"
                ]
                .contains(&n.to_ascii_lowercase().as_str()),
                "{}: {n} kept: {headers:?}",
                request.url
            );
        }
        if r.rule == "lang" {
            assert_eq!(r.header("x-kept"), Some("yes"), "other headers stay");
        }
    }
    // The same for everyone: the author's caching stands.
    let Decision::Redirect(r) = engine.evaluate(&Request::get("https://example.com/t")) else {
        panic!("/t redirects");
    };
    assert_eq!(r.header("cache-control"), Some("public, max-age=60"));
}

fn forward_engine() -> Engine {
    bundle(serde_json::json!([
        { "id": "form", "from": "/form", "methods": ["GET", "POST"], "forward": true }
    ]))
}

/// Item 4: the origin's `Location` is resolved as a browser resolves it: Unicode spaces are
/// not trimmed, so they cannot turn a path into a host.
#[test]
fn prg_resolves_the_origins_location_as_a_browser_does() {
    let engine = forward_engine();
    let request = Request {
        method: "POST",
        ..Request::get("https://example.com/form")
    };
    let Decision::Forward(forward) = engine.evaluate(&request) else {
        panic!("POST /form forwards");
    };
    for space in [
        "\u{a0}", "\u{85}", "\u{2000}", "\u{2028}", "\u{3000}", "\u{feff}",
    ] {
        let location = format!("{space}//evil.example/x");
        let response = forward
            .respond(201, Some(&location), &[])
            .unwrap_or_else(|| panic!("{location:?}: a 201 with a Location becomes a 303"));
        let url = url::Url::parse(&response.location).unwrap();
        assert_eq!(
            url.host_str(),
            Some("example.com"),
            "{location:?} -> {}",
            response.location
        );
        // What the WHATWG parser gives (the `url` crate is one).
        let expected = url::Url::parse("https://example.com/form")
            .unwrap()
            .join(&location)
            .unwrap();
        assert_eq!(response.location, expected.as_str());
    }
    // C0 controls and spaces around it are stripped, as by a browser.
    let response = forward.respond(201, Some(" \t/done\n "), &[]).unwrap();
    assert_eq!(response.location, "https://example.com/done");
}

/// Item 5: the origin's cookies survive the 303, and a GET answered with its own URL is not
/// sent back to itself.
#[test]
fn prg_keeps_the_origins_cookies_and_never_loops() {
    let engine = forward_engine();
    let post = Request {
        method: "POST",
        ..Request::get("https://example.com/form")
    };
    let Decision::Forward(forward) = engine.evaluate(&post) else {
        panic!("POST /form forwards");
    };
    let cookies = ["session=abc; Path=/; HttpOnly", "theme=dark"];
    let response = forward.respond(200, Some("/done"), &cookies).unwrap();
    let set: Vec<&str> = response
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(set, cookies);
    assert_eq!(response.header("cache-control"), Some("private, no-store"));
    // A POST to its own URL is the classic Post-Redirect-Get: a 303 there is a new request.
    assert!(forward.respond(200, Some("/form"), &[]).is_some());

    let get = Request::get("https://example.com/form");
    let Decision::Forward(forward) = engine.evaluate(&get) else {
        panic!("GET /form forwards");
    };
    for own in ["/form", "https://example.com/form", "/./form", "/form?"] {
        assert!(
            forward.respond(200, Some(own), &[]).is_none(),
            "GET answered with Location {own:?} must pass the origin's answer through"
        );
    }
    assert!(forward.respond(200, Some("/elsewhere"), &[]).is_some());
}

/// One request's cost: the best of a few runs, evaluation and explanation both.
fn cost(engine: &Engine, request: &Request<'_>) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(engine.evaluate(request));
            start.elapsed()
        })
        .min()
        .unwrap()
}

/// Item 6: requests built to make one evaluation expensive cost at most a bounded amount over
/// a request of the same size that matches nothing. The bound is generous (this runs in a
/// debug build): it catches a request whose cost multiplies its size by the number of rules,
/// which the old engine did by seconds. Figures are printed; BENCHMARKS-style figures for the
/// release build come from `make fuzz` (target `cost`) and the workerd suite.
#[test]
fn no_request_costs_more_than_a_bound_over_a_same_size_control() {
    const BOUND: Duration = Duration::from_millis(25);
    let mut report = Vec::new();
    let mut over = Vec::new();
    let mut measure =
        |name: &str, engine: &Engine, url: &str, control: &str, headers: &[(&str, &str)]| {
            let hostile = get(url, headers, FR);
            let same_size = get(control, headers, FR);
            let (h, c) = (cost(engine, &hostile), cost(engine, &same_size));
            let extra = h.saturating_sub(c);
            report.push(format!(
                "{name}: {h:?} against {c:?} for the control (+{extra:?})"
            ));
            if extra > BOUND {
                over.push(format!(
                    "{name}: +{extra:?} over the control (bound {BOUND:?})"
                ));
            }
        };

    let langs: Vec<String> = (0..41u8)
        .map(|i| format!("{}{}", (b'a' + i / 26) as char, (b'a' + i % 26) as char))
        .collect();
    let rules: Vec<_> = langs
        .iter()
        .map(|l| serde_json::json!({ "id": l, "from": "/", "when": { "language": [l] }, "to": format!("/{l}/") }))
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let commas = ",".repeat(32 * 1024);
    measure(
        "41 language rules, 32 KB Accept-Language of commas",
        &engine,
        "https://example.com/",
        "https://example.com/x",
        &[("accept-language", &commas)],
    );

    // Shaped placeholders: each constraint is a DFA reading at most 1 KiB of a value, and the
    // shapes at one place of the index are told apart in one pass over the segment.
    for (count, bytes) in [(100, 12 * 1024), (100, 1024), (10_000, 1024)] {
        let rules: Vec<_> = (0..count)
            .map(|i| {
                serde_json::json!({ "id": format!("d{i}"), "from": format!("/docs/:page([a-z0-9-]+-v{i})"),
                "to": format!("/v{i}/:page") })
            })
            .collect();
        let engine = bundle(serde_json::Value::Array(rules));
        let value = format!("{}-v", "a-".repeat(bytes / 2 - 2));
        measure(
            &format!("{count} rules /docs/:page([a-z0-9-]+-vN), a {bytes} B segment"),
            &engine,
            &format!("https://example.com/docs/{value}"),
            &format!("https://example.com/docx/{value}"),
            &[],
        );
    }
    let engine = bundle(serde_json::json!([
        { "id": "s", "from": "/s/:v(((.*){8}){7}z)", "to": "/t/:v" }
    ]));
    let long = "y".repeat(12 * 1024);
    measure(
        "one rule /s/:v(((.*){8}){7}z), a 12 KB segment",
        &engine,
        &format!("https://example.com/s/{long}"),
        &format!("https://example.com/x/{long}"),
        &[],
    );
    let deep: String = (0..32).map(|i| format!("/:p{i}((a|b|ab)*c)")).collect();
    let engine = bundle(serde_json::json!([{ "id": "deep", "from": deep, "to": "/deep" }]));
    let segment = format!("/{}", "ab".repeat(6 * 1024));
    measure(
        "32 shaped segments, 12 KB each",
        &engine,
        &format!("https://example.com{}", segment.repeat(32)),
        &format!("https://example.com/x{}", segment.repeat(31)),
        &[],
    );
    let rules: Vec<_> = (0..1_000)
        .map(|i| serde_json::json!({ "id": format!("b{i}"), "from": format!("/b/:v((a|a)*(aa?)*{i}b)"), "to": format!("/c/{i}") }))
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let a = "a".repeat(1023);
    measure(
        "1,000 rules (a|a)*-shaped at one position, a 1 KB segment",
        &engine,
        &format!("https://example.com/b/{a}"),
        &format!("https://example.com/x/{a}"),
        &[],
    );

    let rules: Vec<_> = (0..10_000)
        .map(|i| {
            serde_json::json!({ "id": format!("g{i}"), "from": "/landing",
            "when": { "query": { "campaign": format!("spring-{i}-*") } }, "to": format!("/c/{i}") })
        })
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let query = "campaign=x&".repeat(1_300);
    measure(
        "10,000 query-glob rules, campaign=x repeated 1,300 times",
        &engine,
        &format!("https://example.com/landing?{query}"),
        &format!("https://example.com/landinx?{query}"),
        &[],
    );

    let rules: Vec<_> = (0..1_000)
        .map(|i| {
            serde_json::json!({ "id": format!("c{i}"), "from": "/account",
            "when": { "cookie": { format!("flag{i}"): "on" } }, "to": format!("/a/{i}") })
        })
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let cookie: String = (0..4_000).map(|i| format!("k{i}=v; ")).collect();
    measure(
        "1,000 cookie rules, a 4,000-pair Cookie",
        &engine,
        "https://example.com/account",
        "https://example.com/accounx",
        &[("cookie", &cookie)],
    );

    let names: Vec<String> = (0..1_000).map(|i| format!("n{i}=1")).collect();
    let engine = bundle(serde_json::json!([
        { "id": "wide", "from": "/t", "to": format!("/u?{}", names.join("&")) }
    ]));
    let query = "%61=1&".repeat(2_300);
    measure(
        "a target naming 1,000 query names, 2,300 %61=1 pairs",
        &engine,
        &format!("https://example.com/t?{query}"),
        &format!("https://example.com/x?{query}"),
        &[],
    );

    let rules: Vec<_> = (0..1_000)
        .map(|i| serde_json::json!({ "id": format!("h{i}"), "from": "/m",
            "when": { "header": { "user-agent": format!("*Mobile-{i}*") } }, "to": format!("/m/{i}") }))
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    // Just under the bytes a glob tests, and far over it.
    for agent in ["Mozilla ".repeat(127), "Mozilla ".repeat(4_000)] {
        measure(
            &format!("1,000 header-glob rules, a {} B User-Agent", agent.len()),
            &engine,
            "https://example.com/m",
            "https://example.com/x",
            &[("user-agent", &agent)],
        );
    }

    // Found by the cost fuzz target: long geo lists on many rules of one path.
    let cities: Vec<String> = (0..255).map(|k| format!("City {k}")).collect();
    let rules: Vec<_> = (0..1_281)
        .map(|i| {
            serde_json::json!({ "id": format!("geo{i}"), "from": "/c/:x",
            "when": { "city": cities, "header": { "x-never": "*a*" } }, "to": format!("/g/{i}") })
        })
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let in_paris = Geo {
        city: Some("City 254"),
        ..FR
    };
    let (hostile, control) = (
        Request {
            geo: in_paris,
            ..get("https://example.com/c/x", &[], FR)
        },
        Request {
            geo: in_paris,
            ..get("https://example.com/x/x", &[], FR)
        },
    );
    let (h, c) = (cost(&engine, &hostile), cost(&engine, &control));
    report.push(format!(
        "1,281 rules with 255-city lists: {h:?} against {c:?} (+{:?})",
        h.saturating_sub(c)
    ));
    if h.saturating_sub(c) > BOUND {
        over.push(format!(
            "1,281 rules with 255-city lists: +{:?}",
            h.saturating_sub(c)
        ));
    }

    // Found by the cost fuzz target: many POST rules of one path, each testing city lists, then
    // a query glob and a header glob on a name of its own, against a long query holding many
    // of those names.
    let regions: Vec<String> = (0..255u8)
        .map(|k| format!("{}{}", (b'A' + k / 10) as char, k % 10))
        .collect();
    let rules: Vec<_> = (0..1_167)
        .map(|i| {
            serde_json::json!({ "id": format!("post{i}"), "from": "/f", "methods": ["POST"],
            "when": { "city": cities, "region": regions,
                      "query": { format!("q{}", i % 220): "*a*b*c*d*" },
                      "header": { format!("x-h{}", i % 7): "*a*b*c*" } },
            "to": format!("/g/{i}") })
        })
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let query: String = (0..220)
        .map(|k| format!("q{k}={}&", "ab".repeat(34)))
        .collect();
    let there = Geo {
        city: Some("City 254"),
        region: Some("Z4"),
        ..FR
    };
    let agent = "ab".repeat(500);
    let headers: Vec<(String, String)> =
        (0..7).map(|k| (format!("x-h{k}"), agent.clone())).collect();
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let (url, control_url) = (
        format!("https://example.com/f?{query}"),
        format!("https://example.com/x?{query}"),
    );
    let (hostile, control) = (
        Request {
            method: "POST",
            ..get(&url, &header_refs, there)
        },
        Request {
            method: "POST",
            ..get(&control_url, &header_refs, there)
        },
    );
    let (h, c) = (cost(&engine, &hostile), cost(&engine, &control));
    report.push(format!(
        "1,167 POST rules with city and region lists, query and header globs, 220 pairs: {h:?} against {c:?} (+{:?})",
        h.saturating_sub(c)
    ));
    if h.saturating_sub(c) > BOUND {
        over.push(format!(
            "1,167 POST rules with city lists and globs: +{:?}",
            h.saturating_sub(c)
        ));
    }

    println!("{}", report.join("\n"));
    assert!(
        over.is_empty(),
        "{}\n(all: {})",
        over.join("\n"),
        report.join("; ")
    );
}

/// Found by the cost fuzz target: hundreds of rules on one path, each testing a long header
/// name of its own, made the `Vary` of the origin's answer list every name (130 KB) and cost
/// its sorting. Past 2 KiB of names the answer says `Vary: *` (it is private anyway).
#[test]
fn hundreds_of_header_names_give_vary_star_not_a_huge_header() {
    // The Vary an answer to /p/x gets when rule i tests header `name(i)`.
    let vary_of = |count: usize, name: &dyn Fn(usize) -> String| -> Vec<String> {
        let rules: Vec<_> = (0..count)
            .map(|i| {
                serde_json::json!({ "id": format!("v{i}"), "from": "/p/*",
                "when": { "header": { name(i): "*a*" } }, "to": format!("/q/{i}") })
            })
            .collect();
        let engine = bundle(serde_json::Value::Array(rules));
        let d = engine.evaluate(&get("https://example.com/p/x", &[], NO_GEO));
        d.headers()
            .into_iter()
            .filter(|(n, _)| *n == "Vary")
            .map(|(_, v)| v.to_owned())
            .collect()
    };
    let long = "n".repeat(197);
    assert_eq!(vary_of(651, &|i| format!("x-{long}-{i}")), ["*"]);
    // A few names are still listed by name.
    assert_eq!(
        vary_of(300, &|i| format!("x-h{}", i % 3)),
        ["x-h0, x-h1, x-h2"]
    );
}

#[test]
fn ten_thousand_ranges_hold_exactly_their_addresses_and_not_one_beside() {
    use std::net::{Ipv4Addr, Ipv6Addr};
    // 10,000 IPv4 ranges of random sizes (/16 to /32) and 10,000 IPv6 ranges (/32 to /128),
    // some overlapping, some adjacent: each address just outside one must be judged by the
    // others alone, as a scan of every range would.
    let mut rng = edge_redirects_testkit::SplitMix64(0x1a2b_3c4d);
    let mut v4: Vec<(u32, u32)> = Vec::new();
    let mut v6: Vec<(u128, u128)> = Vec::new();
    let mut written = Vec::new();
    for _ in 0..10_000 {
        let len = 16 + (rng.next_u64() % 17) as u32;
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        let first = (rng.next_u64() as u32) & mask;
        v4.push((first, first | !mask));
        written.push(format!("{}/{len}", Ipv4Addr::from(first)));
        let len = 32 + (rng.next_u64() % 97) as u32;
        let mask = u128::MAX << (128 - len);
        let first = (u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64()))
            & (0x2001_0db8u128 << 96 | (u128::MAX >> 32))
            & mask;
        v6.push((first, first | !mask));
        written.push(format!("{}/{len}", Ipv6Addr::from(first)));
    }
    let engine = bundle(serde_json::json!([
        { "id": "office", "from": "/net", "when": { "ip": written }, "to": "/inside" }
    ]));
    let held = |ip: &str| {
        let request = Request {
            ip: Some(ip),
            ..Request::get("https://example.com/net")
        };
        matches!(engine.evaluate(&request), Decision::Redirect(_))
    };
    let mut checked = 0;
    for &(first, last) in &v4 {
        for a in [first.wrapping_sub(1), first, last, last.wrapping_add(1)] {
            let expected = v4.iter().any(|&(f, l)| f <= a && a <= l);
            let text = Ipv4Addr::from(a).to_string();
            assert_eq!(held(&text), expected, "{text}");
            // The same address as IPv4-mapped IPv6.
            let mapped = format!("::ffff:{text}");
            assert_eq!(held(&mapped), expected, "{mapped}");
            checked += 2;
        }
    }
    for &(first, last) in &v6 {
        for a in [first.wrapping_sub(1), first, last, last.wrapping_add(1)] {
            let expected = v6.iter().any(|&(f, l)| f <= a && a <= l);
            let text = Ipv6Addr::from(a).to_string();
            assert_eq!(held(&text), expected, "{text}");
            checked += 1;
        }
    }
    assert_eq!(checked, 120_000);
}

/// A path-to-regexp source's rule: `from` in that syntax.
fn regex_rule(id: &str, from: &str, to: &str) -> serde_json::Value {
    serde_json::json!({ "id": id, "from": from, "from_syntax": "path-to-regexp", "to": to })
}

/// The location a GET of `url` is sent to, if it is redirected.
fn location(engine: &Engine, url: &str) -> Option<String> {
    match engine.evaluate(&get(url, &[], NO_GEO)) {
        Decision::Redirect(r) => Some(r.location),
        _ => None,
    }
}

/// Path-to-regexp sources built to make a backtracking engine explode (`(a|a)*`, nested
/// optional and repeated groups, ten optional placeholders) against 10,000-byte segments that
/// almost match: each compiles (the PikeVM's automaton is small) and answers correctly, in one
/// pass over the path. The cost of each, beside a request of the same size that no source's
/// literal start allows, is printed; speed belongs to `benches/engine.rs` (group
/// `path_to_regexp`), not to a timed assert.
#[test]
fn path_to_regexp_sources_built_to_backtrack_answer_in_one_pass() {
    let tens = "a".repeat(10_000);
    let optional: String = (0..10).map(|i| format!("{{/:o{i}}}?")).collect();
    let cases: Vec<(&str, String, String, Option<String>)> = vec![
        // (source, hostile path, control path, expected location)
        (
            "/x-(a|a)*",
            format!("/x-{tens}b"),
            format!("/y-{tens}b"),
            None,
        ),
        (
            "/x-(a|a)*",
            format!("/x-{tens}"),
            format!("/y-{tens}"),
            Some("https://example.com/to/a".to_string()),
        ),
        (
            "/n/((?:(?:a?b?)*)*)z",
            format!("/n/{}", "ab".repeat(5_000)),
            format!("/m/{}", "ab".repeat(5_000)),
            None,
        ),
        (
            "/n/((?:(?:a?b?)*)*)z",
            format!("/n/{}z", "ab".repeat(5_000)),
            format!("/m/{}z", "ab".repeat(5_000)),
            Some(format!("https://example.com/to/{}", "ab".repeat(5_000))),
        ),
        (
            Box::leak(format!("/p{optional}/end").into_boxed_str()),
            format!("/p/{tens}/a/b/c/d/e/f/g/h/i/j/k"),
            format!("/q/{tens}/a/b/c/d/e/f/g/h/i/j/k"),
            None,
        ),
        (
            "/docs/:path*(/?)",
            format!("/docs/{}", format!("{tens}/").repeat(3)),
            format!("/dics/{}", format!("{tens}/").repeat(3)),
            Some(format!("https://example.com/to/{tens}/{tens}/{tens}")),
        ),
    ];
    let mut report = Vec::new();
    for (source, hostile, control, expected) in cases {
        // `$1` for a source's first group; `(a|a)*` captures its last repetition, as in JS.
        let engine = bundle(serde_json::json!([regex_rule("h", source, "/to/$1")]));
        let url = format!("https://example.com{hostile}");
        assert_eq!(
            location(&engine, &url),
            expected,
            "{source} {}",
            &hostile[..20]
        );
        let control_url = format!("https://example.com{control}");
        assert_eq!(location(&engine, &control_url), None);
        let h = cost(&engine, &get(&url, &[], NO_GEO));
        let c = cost(&engine, &get(&control_url, &[], NO_GEO));
        report.push(format!(
            "{source}: {} B path, {h:?} against {c:?} for the control",
            hostile.len()
        ));
    }
    println!("{}", report.join("\n"));
}

/// A thousand hostile sources in one bundle: a request meets only those its path's literal
/// start allows, so it reads its path once per such source, not once per rule.
#[test]
fn many_hostile_sources_are_not_scanned() {
    let rules: Vec<_> = (0..1000)
        .map(|i| regex_rule(&format!("h{i}"), &format!("/h{i}/x-(a|a)*"), "/to/$1"))
        .collect();
    let engine = bundle(serde_json::Value::Array(rules));
    let url = format!("https://example.com/h999/x-{}b", "a".repeat(10_000));
    let x = engine.explain(&get(&url, &[], NO_GEO));
    assert!(matches!(x.decision, Decision::Origin(_)));
    let ids: Vec<&str> = x.trace.iter().map(|s| s.rule_id).collect();
    assert_eq!(
        ids,
        ["h999"],
        "only the source whose literal start the path has"
    );
    let url = format!("https://example.com/h999/x-{}", "a".repeat(10_000));
    assert_eq!(
        location(&engine, &url).as_deref(),
        Some("https://example.com/to/a")
    );
}

/// Sources built to make compiling expensive are refused at once, with the reason, the rule
/// and the pointer: an automaton past its limit (nested counted repeats), a source past 1 KiB,
/// a group's expression past 256 characters.
#[test]
fn path_to_regexp_sources_too_large_to_compile_are_refused() {
    let long_group = format!("/x/({})", "a".repeat(300));
    let long_source = format!("/{}", "a".repeat(1100));
    for (from, says) in [
        ("/x/((?:(?:a{100}){100}){100})", "too large an automaton"),
        ("/x/((?:.{0,255}){255})", "too large an automaton"),
        (long_group.as_str(), "at most 256 characters"),
        (long_source.as_str(), "at most 1024 bytes"),
    ] {
        let bundle = serde_json::json!({ "version": 1, "rules": [regex_rule("big", from, "/y")] });
        let start = Instant::now();
        let errors = Engine::compile(&bundle.to_string()).expect_err("refused");
        let e = &errors.errors()[0];
        println!(
            "{}: refused in {:?}",
            &from[..from.len().min(40)],
            start.elapsed()
        );
        assert_eq!(e.pointer, "/rules/0/from");
        assert_eq!(e.rule_id.as_deref(), Some("big"));
        assert!(e.message.contains(says), "{from}: {}", e.message);
        assert!(!e.hint.is_empty());
    }
}
