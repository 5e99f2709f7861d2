//! Arbitrary requests against a fixed bundle that has every kind of rule and a placeholder in
//! every position (`tests/hostile/bundle.json`). Each decision must keep the invariants of
//! `edge_redirects_testkit::invariants`: no panic, every Location absolute on an allowed origin, no
//! CR/LF or raw non-ASCII in any header, the loop guard holding.
#![no_main]

use arbitrary::Arbitrary;
use edge_redirects::{Engine, Geo};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

use edge_redirects_testkit::invariants;

const BUNDLE: &str = include_str!("../../tests/hostile/bundle.json");

/// Path prefixes that reach the bundle's rules, so the fuzzer spends its time behind a match.
const PREFIXES: &[&str] = &[
    "", "/blog/", "/docs/", "/api/v1/", "/ext/", "/go/", "/lang/", "/search", "/site", "/p/",
    "/pricing", "/abtest/", "/contact", "/form/", "/store", "/home", "/promo", "/beta", "/m/",
    "/upload", "/loop", "/same/", "/self", "/sub/", "/exact", "/h", "/Case", "/frag/", "/q/",
    "/join/", "/swap/", "/r/", "/s/", "/find", "/out", "/old/",
];
const HOSTS: &[&str] = &[
    "example.com",
    "www.example.com",
    "a.b.example.com",
    "EXAMPLE.COM",
    "example.com:8443",
    "evil.example",
    "127.0.0.1",
    "[::1]:8787",
    "xn--bcher-kva.example",
];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get",
];
const QUERY_NAMES: &[&str] = &["q", "sub", "path", "u", "ref", "to", "again", "term"];

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    /// Send `raw` as the whole URL instead of building one.
    raw_url: bool,
    raw: &'a str,
    https: bool,
    host: u8,
    prefix: u8,
    path: &'a str,
    query: Vec<(u8, &'a str)>,
    extra_query: Option<&'a str>,
    method: u8,
    headers: Vec<(&'a str, &'a str)>,
    cookie: Option<&'a str>,
    accept_language: Option<&'a str>,
    user_agent: Option<&'a str>,
    country: Option<&'a str>,
    continent: Option<&'a str>,
    random: u64,
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::compile(BUNDLE).expect("the fixed bundle compiles"))
}

fuzz_target!(|input: Input<'_>| {
    let url = if input.raw_url {
        input.raw.to_string()
    } else {
        let mut url = String::from(if input.https { "https://" } else { "http://" });
        url.push_str(HOSTS[usize::from(input.host) % HOSTS.len()]);
        url.push_str(PREFIXES[usize::from(input.prefix) % PREFIXES.len()]);
        url.push_str(input.path);
        let mut sep = '?';
        for (name, value) in &input.query {
            url.push(sep);
            sep = '&';
            url.push_str(QUERY_NAMES[usize::from(*name) % QUERY_NAMES.len()]);
            url.push('=');
            url.push_str(value);
        }
        if let Some(extra) = input.extra_query {
            url.push(sep);
            url.push_str(extra);
        }
        url
    };
    let mut headers: Vec<(&str, &str)> = input.headers.clone();
    if let Some(c) = input.cookie {
        headers.push(("cookie", c));
    }
    if let Some(l) = input.accept_language {
        headers.push(("accept-language", l));
    }
    if let Some(ua) = input.user_agent {
        headers.push(("user-agent", ua));
    }
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    let geo = Geo {
        country: input.country,
        continent: input.continent,
        region: None,
        city: None,
        asn: None,
    };
    let engine = engine();
    // The URL as sent, and as the platform would normalise it before the worker sees it.
    invariants::assert_holds(engine, method, &url, &headers, geo, input.random);
});
