//! The hostile requests by category: placeholder tricks, long URLs, many segments, broken
//! encoding, raw bytes, odd hosts, crowds, Accept-Language, header values, methods, visitors.

use super::case::Case;

pub const HOST: &str = "https://example.com";

/// Values that try to leave the host, end the path early or smuggle bytes.
const ESCAPES: &[&str] = &[
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "%2f%5cevil.example",
    "@evil.example",
    "%40evil.example",
    ":evil.example",
    "https:%2F%2Fevil.example",
    "evil.example%23",
    "..%2F..%2F..%2Fevil.example",
    "%0d%0aLocation:%20https://evil.example",
];

/// Each rule with a placeholder, as a URL with `{}` where a captured value goes.
const PLACEHOLDER_POSITIONS: &[&str] = &[
    "/blog/{}",
    "/docs/{}",
    "/docs/a/{}/b",
    "/api/v1/{}",
    "/ext/{}",
    "/go/{}",
    "/lang/{}/x",
    "/lang/de/{}",
    "/search?q={}",
    "/site?sub={}",
    "/p/{}",
    "/abtest/{}",
    "/m/{}",
    "/same/{}",
    "/frag/{}",
    "/q/{}",
    "/join/{}",
    "/swap/{}/b/c",
    "/swap/a/b/{}",
    "/r/{}",
    "/s/{}",
    "/find?path={}",
    "/out?u={}",
    "/old/{}",
];

/// `//` and `/\` tricks (and friends) in every placeholder position.
pub fn placeholder_tricks() -> Vec<Case> {
    let mut cases = Vec::new();
    for position in PLACEHOLDER_POSITIONS {
        for value in ESCAPES {
            let url = format!("{HOST}{}", position.replace("{}", value));
            let mut case = Case::get("placeholder trick", url)
                .header("user-agent", "Mobile Safari")
                .header("cookie", "ab_v=b");
            if position.starts_with("/form") {
                case = case.method("POST");
            }
            cases.push(case);
        }
        // The sub-domain capture is also tried on a sub-domain request.
        cases.push(Case::get(
            "placeholder trick",
            format!(
                "https://www.example.com{}",
                position.replace("{}", "evil.example%2F")
            ),
        ));
    }
    cases
}

pub fn long_urls() -> Vec<Case> {
    let mut cases = Vec::new();
    for size in [16 * 1024, 64 * 1024, 1024 * 1024] {
        let long = "a".repeat(size);
        cases.push(Case::get("long url", format!("{HOST}/blog/{long}")));
        cases.push(Case::get("long url", format!("{HOST}/docs/{long}")));
        cases.push(Case::get("long url", format!("{HOST}/lang/{long}/x")));
        cases.push(Case::get("long url", format!("{HOST}/search?q={long}")));
        cases.push(Case::get("long url", format!("{HOST}/site?sub={long}")));
        cases.push(Case::get("long url", format!("{HOST}/{long}")));
        cases.push(Case::get(
            "long url",
            format!("{HOST}/blog/x?{}", "%41".repeat(size / 3)),
        ));
        cases.push(Case::get(
            "long url",
            format!("https://{}.example.com/sub/x", "b".repeat(size)),
        ));
    }
    cases
}

pub fn many_segments() -> Vec<Case> {
    let mut cases = Vec::new();
    for n in [1_000, 10_000] {
        let segs = "/a".repeat(n);
        cases.push(Case::get("many segments", format!("{HOST}/docs{segs}")));
        cases.push(Case::get("many segments", format!("{HOST}/api/v1{segs}")));
        cases.push(Case::get("many segments", format!("{HOST}/same{segs}")));
        cases.push(Case::get("many segments", format!("{HOST}{segs}")));
        cases.push(Case::get(
            "many segments",
            format!("{HOST}{}", "/".repeat(n)),
        ));
        cases.push(Case::get(
            "many segments",
            format!("{HOST}/old{}", "/..".repeat(n)),
        ));
        cases.push(Case::get(
            "many segments",
            format!("{HOST}/s{}", "/%2F".repeat(n)),
        ));
        cases.push(Case::get("many segments", format!("{HOST}/lang/de{segs}")));
    }
    cases
}

pub fn broken_encoding() -> Vec<Case> {
    let values = [
        "%",
        "%%",
        "%G1",
        "%2",
        "a%",
        "%zz",
        "%%41",
        "%252F",
        "%25252F",
        "%2525",
        "%00",
        "a%00b",
        "%0A",
        "%0D%0A",
        "%C0%AF",
        "%E0%80%AF",
        "%C0%AE%C0%AE",
        "%F0%80%80%AF",
        "%FF%FE",
        "%ED%A0%80",
        "%C3%A9",
        "%E2%80%AE",
        "%2e%2e",
        "%2E",
        ".",
        "..",
    ];
    let positions = [
        "/blog/{}",
        "/docs/{}",
        "/search?q={}",
        "/site?sub={}",
        "/find?path={}",
    ];
    let mut cases = Vec::new();
    for v in values {
        for p in positions {
            cases.push(Case::get(
                "broken encoding",
                format!("{HOST}{}", p.replace("{}", v)),
            ));
        }
    }
    cases
}

/// Raw bytes no platform would pass on, fed straight to the engine.
pub fn raw_bytes() -> Vec<Case> {
    let values = [
        "\r\nSet-Cookie: evil=1",
        "\n",
        "\0",
        "caf\u{e9}",
        "\u{202e}gpj.exe",
        "\u{1F600}",
        "a b",
        "\\evil.example",
        "\t",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
    ];
    let mut cases = Vec::new();
    for v in values {
        for p in [
            "/blog/{}",
            "/docs/{}",
            "/search?q={}",
            "/out?u={}",
            "/go/{}",
        ] {
            cases.push(Case::get(
                "raw bytes",
                format!("{HOST}{}", p.replace("{}", v)),
            ));
        }
        cases.push(Case::get(
            "raw bytes",
            format!("https://exa{v}mple.com/blog/x"),
        ));
    }
    cases
}

pub fn odd_hosts() -> Vec<Case> {
    let hosts = [
        "EXAMPLE.COM",
        "example.com.",
        "example.com:8443",
        "user:pass@example.com",
        "evil.example%40example.com",
        "example.com@evil.example",
        "[::1]",
        "[::1]:8787",
        "127.0.0.1",
        "0x7f.1",
        "xn--bcher-kva.example",
        "b\u{fc}cher.example",
        "",
        ":443",
        ".example.com",
        "a..example.com",
        "*.example.com",
    ];
    let mut cases = Vec::new();
    for h in hosts {
        for p in ["/blog/x", "/sub/x", "/exact", "/lang/de/x", "/site?sub=www"] {
            cases.push(Case::get("odd host", format!("https://{h}{p}")));
        }
    }
    cases.push(Case::get("odd host", "ftp://example.com/blog/x"));
    cases.push(Case::get(
        "odd host",
        "javascript:alert(1)//example.com/blog/x",
    ));
    cases.push(Case::get("odd host", "/blog/x"));
    cases.push(Case::get("odd host", ""));
    cases
}

pub fn crowds() -> Vec<Case> {
    let mut cases = Vec::new();
    let cookies: Vec<String> = (0..5_000).map(|i| format!("c{i}=v{i}")).collect();
    let big_cookie = cookies.join("; ");
    for path in ["/beta", "/pricing", "/abtest/x"] {
        cases
            .push(Case::get("crowd", format!("{HOST}{path}")).header("cookie", big_cookie.clone()));
        let mut many = Case::get("crowd", format!("{HOST}{path}"));
        for c in cookies.iter().take(1_000) {
            many = many.header("cookie", c.clone());
        }
        cases.push(many.header("cookie", "beta=1; ab_pricing=new; ab_v=a"));
        cases.push(Case::get("crowd", format!("{HOST}{path}")).header(
            "cookie",
            format!("{big_cookie}; beta=1; ab_pricing=new; ab_v=b"),
        ));
        cases.push(Case::get("crowd", format!("{HOST}{path}")).header(
            "cookie",
            ";;;;=;=;==;beta;beta=;beta==1;ab_pricing=new\r\nx: y;ab_v=\u{e9}",
        ));
    }
    let params: Vec<String> = (0..10_000).map(|i| format!("p{i}={i}")).collect();
    let big_query = params.join("&");
    for path in [
        "/blog/x", "/search", "/site", "/find", "/out", "/q/x", "/old/x",
    ] {
        cases.push(Case::get("crowd", format!("{HOST}{path}?{big_query}")));
        cases.push(Case::get(
            "crowd",
            format!("{HOST}{path}?{}", "q=1&sub=www&path=a&u=b&".repeat(2_000)),
        ));
        cases.push(Case::get(
            "crowd",
            format!("{HOST}{path}?{}", "&".repeat(10_000)),
        ));
    }
    let mut headers = Case::get("crowd", format!("{HOST}/m/x"));
    for i in 0..2_000 {
        headers = headers.header(&format!("x-h{i}"), "v");
    }
    cases.push(headers.header("user-agent", "Mobile"));
    cases
}

pub fn accept_language() -> Vec<Case> {
    let values = vec![
        "de;q=1,".repeat(10_000),
        "x".repeat(100_000),
        (0..10_000)
            .map(|i| format!("l{i};q=0.{i}"))
            .collect::<Vec<_>>()
            .join(","),
        "de;q=NaN, fr;q=inf".into(),
        "de;q=1e999".into(),
        "de;q=-1, en".into(),
        "*;q=1, de;q=0".into(),
        ",,,,,;;;;==".into(),
        "d\u{e9};q=1".into(),
        "de\r\n;q=1".into(),
        "de;q=0.5;q=1;q=0".into(),
        "de-AT-x-private-".repeat(1_000),
        ";q=1".into(),
        "de;q=".into(),
        "q=1".into(),
    ];
    values
        .into_iter()
        .map(|v| Case::get("accept-language", format!("{HOST}/home")).header("accept-language", v))
        .collect()
}

pub fn non_ascii_headers() -> Vec<Case> {
    let values = [
        "Mobile \u{e9}",
        "\u{202e}Mobile",
        "Mobile\r\nSet-Cookie: evil=1",
        "Mobile\0",
        "\u{1F600}",
        "",
    ];
    let mut cases = Vec::new();
    for v in values {
        cases.push(Case::get("header value", format!("{HOST}/m/x")).header("user-agent", v));
        cases.push(
            Case::get("header value", format!("{HOST}/beta")).header("cookie", format!("beta={v}")),
        );
        cases.push(
            Case::get("header value", format!("{HOST}/abtest/x"))
                .header("cookie", format!("ab_v={v}")),
        );
        cases.push(Case::get("header value", format!("{HOST}/store")).geo(v, v));
        cases.push(Case::get("header value", format!("{HOST}/promo")).geo(v, "EU"));
    }
    cases
}

pub fn methods() -> Vec<Case> {
    let methods = [
        "post",
        "PoSt",
        "",
        "GET\r\n",
        "P\u{d3}ST",
        "OPTIONS",
        "CONNECT",
        "TRACE",
        "HEAD",
        "delete",
    ];
    let mut cases = Vec::new();
    for m in methods {
        for p in ["/contact", "/form/a", "/self", "/upload", "/blog/x"] {
            cases.push(Case::get("method", format!("{HOST}{p}")).method(m));
        }
    }
    cases.push(Case::get("method", format!("{HOST}/contact")).method(&"POST".repeat(10_000)));
    cases
}

/// Paths where the answer depends on who asks, with every kind of visitor: the answer, and
/// the origin's page passed through, must be storable by no shared cache.
fn per_visitor() -> Vec<Case> {
    let mut cases = Vec::new();
    let paths = [
        "/welcome",
        "/sale",
        "/lang-cached",
        "/home",
        "/promo",
        "/beta",
        "/m/x",
        "/pricing",
        "/store",
        "/abtest/x",
    ];
    for p in paths {
        for (lang, cookie, agent) in [
            ("de", "", "Mobile"),
            ("en", "member=1", "Desktop"),
            (
                "fr-CA, de;q=0.5",
                "ab_sale=stay; ab_pricing=control; beta=1",
                "",
            ),
            ("", "ab_sale=go; ab_pricing=new; ab_v=b", "Mobile Safari"),
        ] {
            for (country, continent) in [("", ""), ("FR", "EU"), ("US", "NA")] {
                let mut case = Case::get("per visitor", format!("{HOST}{p}"));
                if !lang.is_empty() {
                    case = case.header("accept-language", lang);
                }
                if !cookie.is_empty() {
                    case = case.header("cookie", cookie);
                }
                if !agent.is_empty() {
                    case = case.header("user-agent", agent);
                }
                if !country.is_empty() {
                    case = case.geo(country, continent);
                }
                cases.push(case);
            }
        }
    }
    for m in ["GET", "POST", "HEAD"] {
        cases.push(Case::get("per visitor", format!("{HOST}/prg")).method(m));
    }
    cases
}

pub fn all_cases() -> Vec<Case> {
    [
        per_visitor(),
        placeholder_tricks(),
        long_urls(),
        many_segments(),
        broken_encoding(),
        raw_bytes(),
        odd_hosts(),
        crowds(),
        accept_language(),
        non_ascii_headers(),
        methods(),
    ]
    .concat()
}
