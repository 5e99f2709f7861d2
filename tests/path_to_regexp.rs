//! `"from_syntax": "path-to-regexp"`: Vercel and Next.js sources in rules.json, with their
//! meaning, their captures in `to`, their compile errors (rule, pointer, hint), and their
//! place in the rule index (a request meets only the sources its path's literal start allows).

use edge_redirects::{Decision, Engine, ErrorKind, Request, Verdict};
use serde_json::json;

fn engine(mut rules: serde_json::Value, settings: serde_json::Value) -> Engine {
    for (i, r) in rules.as_array_mut().unwrap().iter_mut().enumerate() {
        r["id"] = json!(format!("r{i}"));
    }
    let bundle = json!({ "version": 1, "settings": settings, "rules": rules });
    Engine::compile(&bundle.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn rule(from: &str, to: &str) -> serde_json::Value {
    json!({ "from": from, "from_syntax": "path-to-regexp", "to": to, "status": 308 })
}

fn location(engine: &Engine, path: &str) -> Option<String> {
    match engine.evaluate(&Request::get(&format!("https://example.com{path}"))) {
        Decision::Redirect(r) => Some(r.location),
        _ => None,
    }
}

#[test]
fn vercel_sources_answer_as_vercel_does() {
    let e = engine(
        json!([
            rule("/guides(/?)", "/learn"),
            rule("/api/([^/]*)/v1", "/v1/api/$1"),
            rule("/meta/(.*)", "/product/$1"),
            rule("/platforms(/.*)?", "/p$1"),
            rule("/docs/:path*(/?)", "/d/:path"),
            rule("/:lang(en|de)/about", "/about?lang=:lang"),
            rule("/file{.:ext}?", "/f/:ext"),
            rule("/assets/:name([a-z]+)(\\.js)?", "/static/$1$2"),
        ]),
        json!({ "trailing_slash": "strict" }),
    );
    let at = |p: &str| location(&e, p);
    assert_eq!(at("/guides").as_deref(), Some("https://example.com/learn"));
    assert_eq!(at("/guides/").as_deref(), Some("https://example.com/learn"));
    assert_eq!(at("/guidesx"), None);
    assert_eq!(
        at("/api/users/v1").as_deref(),
        Some("https://example.com/v1/api/users")
    );
    assert_eq!(
        at("/meta/a/b%20c").as_deref(),
        Some("https://example.com/product/a/b%20c"),
        "a rest keeps its slashes and its escapes"
    );
    assert_eq!(at("/meta"), None, "`/(.*)` needs its slash");
    assert_eq!(at("/platforms").as_deref(), Some("https://example.com/p"));
    assert_eq!(
        at("/platforms/x/y").as_deref(),
        Some("https://example.com/p/x/y")
    );
    assert_eq!(at("/docs").as_deref(), Some("https://example.com/d/"));
    assert_eq!(
        at("/docs/a/b/").as_deref(),
        Some("https://example.com/d/a/b")
    );
    assert_eq!(
        at("/de/about").as_deref(),
        Some("https://example.com/about?lang=de")
    );
    assert_eq!(at("/fr/about"), None);
    assert_eq!(
        at("/file.txt").as_deref(),
        Some("https://example.com/f/txt")
    );
    assert_eq!(at("/file").as_deref(), Some("https://example.com/f/"));
    assert_eq!(
        at("/assets/app.js").as_deref(),
        Some("https://example.com/static/app.js")
    );
    assert_eq!(
        at("/assets/app").as_deref(),
        Some("https://example.com/static/app")
    );
    assert_eq!(at("/assets/App1"), None);
}

#[test]
fn a_trailing_slash_is_tried_as_sent_then_without() {
    let loose = engine(
        json!([rule("/a/(.*)", "/b/$1"), rule("/c(/?)", "/d$1")]),
        json!({}),
    );
    assert_eq!(
        location(&loose, "/a/x/").as_deref(),
        Some("https://example.com/b/x/"),
        "as sent first: the group keeps the slash"
    );
    assert_eq!(
        location(&loose, "/a/").as_deref(),
        Some("https://example.com/b/")
    );
    assert_eq!(location(&loose, "/a"), None);
    let exact = engine(
        json!([rule("/docs/:p", "/x/:p")]),
        json!({ "trailing_slash": "exact" }),
    );
    assert_eq!(location(&exact, "/docs/a/"), None, "exact: as sent only");
    let loose = engine(json!([rule("/docs/:p", "/x/:p")]), json!({}));
    assert_eq!(
        location(&loose, "/docs/a/").as_deref(),
        Some("https://example.com/x/a"),
        "then without the slash"
    );
    let removed = engine(
        json!([rule("/a/(.*)", "/b/$1")]),
        json!({ "trailing_slash": "remove" }),
    );
    assert_eq!(
        location(&removed, "/a/x/").as_deref(),
        Some("https://example.com/b/x"),
        "remove: without the slash only"
    );
}

#[test]
fn case_follows_the_bundle() {
    let folded = engine(
        json!([rule("/Docs/:p", "/x/:p")]),
        json!({ "case_sensitive": false }),
    );
    assert_eq!(
        location(&folded, "/dOCS/Y").as_deref(),
        Some("https://example.com/x/Y")
    );
    let exact = engine(json!([rule("/Docs/:p", "/x/:p")]), json!({}));
    assert_eq!(location(&exact, "/docs/y"), None);
    assert!(location(&exact, "/Docs/y").is_some());
}

#[test]
fn errors_name_the_rule_the_pointer_and_a_fix() {
    for (from, syntax, pointer, says) in [
        (
            "/a/((?=b)c)",
            "path-to-regexp",
            "/rules/0/from",
            "look-around",
        ),
        (
            r"/a/((?:x)\1)",
            "path-to-regexp",
            "/rules/0/from",
            "backreference",
        ),
        (
            "/a/(b(c))",
            "path-to-regexp",
            "/rules/0/from",
            "inside another group",
        ),
        ("/a/*", "path-to-regexp", "/rules/0/from", "follows nothing"),
        ("/a", "regex", "/rules/0/from_syntax", "not a syntax"),
    ] {
        let bundle = json!({ "version": 1, "rules": [
            { "id": "r", "from": from, "from_syntax": syntax, "to": "/x" }
        ] });
        let errors = Engine::compile(&bundle.to_string()).unwrap_err();
        let e = &errors.errors()[0];
        assert_eq!(e.kind, ErrorKind::Pattern, "{from}");
        assert_eq!(e.pointer, pointer, "{from}");
        assert_eq!(e.rule_id.as_deref(), Some("r"));
        assert!(e.message.contains(says), "{from}: {}", e.message);
        assert!(!e.hint.is_empty());
    }
    let bundle = json!({ "version": 1, "rules": [
        { "id": "r", "from": "/a/(.*)", "from_syntax": "path-to-regexp", "to": "/x/$2" }
    ] });
    let errors = Engine::compile(&bundle.to_string()).unwrap_err();
    let e = &errors.errors()[0];
    assert_eq!(e.pointer, "/rules/0/to");
    assert!(e.message.contains("$2"), "{}", e.message);
}

#[test]
fn a_dollar_is_text_in_rules_without_groups() {
    let e = engine(
        json!([{ "from": "/a", "to": "/price/$5", "status": 308 }]),
        json!({}),
    );
    assert_eq!(
        location(&e, "/a").as_deref(),
        Some("https://example.com/price/$5")
    );
}

#[test]
fn sources_are_indexed_by_their_literal_start() {
    let mut rules: Vec<_> = (0..1000)
        .map(|i| rule(&format!("/section{i}(/.*)?"), "/s$1"))
        .collect();
    rules.extend((0..1000).map(|i| rule(&format!("/docs/v{i}/:path*(/?)"), "/d/:path")));
    let e = engine(json!(rules), json!({}));
    for (path, expect) in [
        ("/section512/a", 2usize),
        ("/section5", 1),
        ("/docs/v7/x", 1),
        ("/elsewhere", 0),
    ] {
        let x = e.explain(&Request::get(&format!("https://example.com{path}")));
        // `/section5` is also the start of `/section5x`: those sources are candidates too,
        // at most the few whose literal start the segment begins with.
        assert!(
            x.trace.len() <= expect.max(3),
            "{path}: {} candidates",
            x.trace.len()
        );
        assert_eq!(
            x.trace.iter().any(|s| s.verdict == Verdict::Applied),
            expect > 0,
            "{path}"
        );
    }
}
