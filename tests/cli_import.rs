//! `redirects import`: realistic inputs of each format converted (golden stdout and stderr),
//! then compiled by the engine and asked for decisions the source platform would give.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/import_support.rs"]
mod import_support;

use edge_redirects::{Geo, Request};
use import_support::{decide, get, import, pair};
use serde_json::Value;
use support::{run, scratch};

#[test]
fn netlify_redirects_file() {
    let e = import("netlify", "_redirects", "import-netlify", 1);
    assert_eq!(
        get(&e, "https://example.com/home"),
        pair(301, "https://example.com/")
    );
    assert_eq!(
        get(&e, "https://example.com/blog/2024/05/hello"),
        pair(301, "https://example.com/posts/hello")
    );
    assert_eq!(
        get(&e, "https://example.com/news/a/b?x=1"),
        pair(301, "https://example.com/blog/a/b?x=1")
    );
    assert_eq!(
        get(&e, "https://example.com/store?id=42"),
        pair(301, "https://example.com/products/42?id=42")
    );
    assert_eq!(get(&e, "https://example.com/store"), pair(0, "origin"));
    assert_eq!(
        get(&e, "https://example.com/docs/latest/install"),
        pair(302, "https://docs.example.com/install")
    );
    let at = Request {
        geo: Geo {
            country: Some("AT"),
            ..Geo::default()
        },
        ..Request::get("https://example.com/")
    };
    assert_eq!(decide(&e, &at), pair(302, "https://example.com/de/"));
    let headers = [("accept-language", "fr-CA,en;q=0.5")];
    let fr = Request {
        headers: &headers,
        ..Request::get("https://example.com/")
    };
    assert_eq!(decide(&e, &fr), pair(302, "https://example.com/fr/"));
    assert_eq!(get(&e, "https://example.com/"), pair(0, "origin"));
    for cookie in ["beta=1", "preview=yes"] {
        let headers = [("cookie", cookie)];
        let r = Request {
            headers: &headers,
            ..Request::get("https://example.com/beta/x")
        };
        assert_eq!(decide(&e, &r), pair(302, "https://example.com/preview/x"));
    }
    assert_eq!(
        get(&e, "http://old.example.com/a/b"),
        pair(301, "https://example.com/a/b")
    );
    assert_eq!(get(&e, "https://example.com/app/x"), pair(0, "origin"));
}

#[test]
fn netlify_toml() {
    let e = import("netlify", "netlify.toml", "import-netlify-toml", 0);
    assert_eq!(
        get(&e, "https://example.com/old-pricing"),
        pair(301, "https://example.com/pricing")
    );
    assert_eq!(
        get(&e, "https://example.com/search?q=shoes"),
        pair(302, "https://example.com/find/shoes?q=shoes")
    );
    let headers = [("accept-language", "he")];
    let r = Request {
        headers: &headers,
        geo: Geo {
            country: Some("IL"),
            ..Geo::default()
        },
        ..Request::get("https://example.com/israel/about")
    };
    assert_eq!(
        decide(&e, &r),
        pair(302, "https://example.com/israel/he/about")
    );
}

#[test]
fn cloudflare_bulk_redirects_csv() {
    let e = import("cloudflare-csv", "bulk.csv", "import-cloudflare", 1);
    // preserve_query_string FALSE drops the query.
    assert_eq!(
        get(&e, "https://example.com/about?x=1"),
        pair(301, "https://example.com/company")
    );
    // Exact source only: no subpath matching, other hosts untouched.
    assert_eq!(get(&e, "https://example.com/about/team"), pair(0, "origin"));
    assert_eq!(get(&e, "https://www.example.com/about"), pair(0, "origin"));
    // Subpath matching with the path suffix and the query string preserved.
    assert_eq!(
        get(&e, "https://example.com/blog"),
        pair(302, "https://blog.example.com/")
    );
    assert_eq!(
        get(&e, "https://example.com/blog/2024/post?utm=x"),
        pair(302, "https://blog.example.com/2024/post?utm=x")
    );
    // Include subdomains: apex and any subdomain.
    assert_eq!(
        get(&e, "https://shop.example.com/sale?c=1"),
        pair(307, "https://shop.example.com/offers?c=1")
    );
    assert_eq!(
        get(&e, "https://eu.shop.example.com/sale"),
        pair(307, "https://shop.example.com/offers")
    );
    // Subpath matching without the suffix.
    assert_eq!(
        get(&e, "https://example.com/docs/a/b"),
        pair(301, "https://docs.example.com/start")
    );
    assert_eq!(
        get(&e, "http://example.com/secure-only"),
        pair(308, "https://example.com/secure")
    );
    assert_eq!(
        get(&e, "https://example.com/a,b"),
        pair(301, "https://example.com/ab")
    );
}

#[test]
fn vercel_json() {
    let e = import("vercel", "vercel.json", "import-vercel", 1);
    assert_eq!(
        get(&e, "https://example.com/me"),
        pair(307, "https://example.com/profile")
    );
    assert_eq!(
        get(&e, "https://example.com/blog/hi?a=1"),
        pair(308, "https://example.com/news/hi?a=1")
    );
    assert_eq!(
        get(&e, "https://example.com/docs/a/b"),
        pair(301, "https://docs.example.com/a/b")
    );
    assert_eq!(
        get(&e, "https://example.com/dashboard"),
        pair(307, "https://example.com/login")
    );
    let headers = [("cookie", "session=abc")];
    let logged_in = Request {
        headers: &headers,
        ..Request::get("https://example.com/dashboard")
    };
    assert_eq!(decide(&e, &logged_in), pair(0, "origin"));
    let headers = [("x-beta", "yes")];
    let shop = Request {
        headers: &headers,
        ..Request::get("https://example.com/shop?region=eu")
    };
    assert_eq!(decide(&e, &shop).0, 307);
    assert!(decide(&e, &shop)
        .1
        .starts_with("https://example.com/shop/eu"));
    assert_eq!(
        get(&e, "https://example.com/shop?region=eu"),
        pair(0, "origin")
    );
    assert_eq!(
        get(&e, "https://legacy.example.com/old"),
        pair(308, "https://legacy.example.com/new")
    );
    assert_eq!(get(&e, "https://example.com/old"), pair(0, "origin"));
    assert_eq!(
        get(&e, "https://example.com/files/a/b"),
        pair(308, "https://example.com/storage/a/b")
    );
}

#[test]
fn nextjs_redirects_array() {
    let e = import("nextjs", "next-redirects.json", "import-next", 0);
    assert_eq!(
        get(&e, "https://example.com/about-us"),
        pair(308, "https://example.com/about")
    );
    assert_eq!(
        get(&e, "https://example.com/news/2024/x"),
        pair(308, "https://example.com/blog/2024/x")
    );
    let (status, location) = get(&e, "https://example.com/campaign?utm_campaign=spring");
    assert_eq!(status, 307);
    assert!(
        location.starts_with("https://example.com/landing/spring"),
        "{location}"
    );
}

#[test]
fn unreadable_input_is_exit_2() {
    let (code, out, _) = run(&["import", "netlify", "tests/cli/import/missing"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
}

#[test]
fn unknown_format_is_a_usage_error() {
    let (code, _, err) = run(&["import", "apache", "tests/cli/import/_redirects"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("netlify") && err.contains("cloudflare-csv"),
        "{err}"
    );
}

/// A UTF-8 BOM (spreadsheets write one) hid the header row, so a reordered header
/// (`target_url,source_url`) was read as data and the rules came out reversed (`/new → /old`).
#[test]
fn a_csv_with_a_bom_before_a_reordered_header_keeps_its_columns() {
    let csv = "\u{feff}target_url,source_url,status_code\r\n\
               https://example.com/new,example.com/old,302\r\n";
    let path = scratch("bom-reordered.csv", csv);
    let (code, out, err) = run(&["import", "cloudflare-csv", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{out}");
    assert_eq!(rules[0]["from"], "/old");
    assert_eq!(rules[0]["to"], "https://example.com/new");
    assert_eq!(rules[0]["status"], 302);
    assert!(err.contains("imported 1 rule"), "{err}");
}

/// An unterminated quote read the rest of the file into one field: 5 lines became "imported 1,
/// 1 not imported" and 3 vanished. It is now an error naming the line the quote opened on,
/// and nothing is written; so is a quoted field running over lines (URLs hold no line break).
#[test]
fn an_unterminated_quote_in_a_csv_is_an_error_naming_its_line() {
    let csv = "example.com/a,https://example.com/1\n\
               example.com/b,\"https://example.com/2\n\
               example.com/c,https://example.com/3\n\
               example.com/d,https://example.com/4\n\
               example.com/e,https://example.com/5\n";
    let path = scratch("unterminated.csv", csv);
    let (code, out, err) = run(&["import", "cloudflare-csv", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("quote"), "{err}");

    let csv = "example.com/a,https://example.com/1\n\
               example.com/b,\"https://example.com/2\n\
               example.com/c,https://example.com/3\"\n\
               example.com/d,https://example.com/4\n";
    let path = scratch("multiline.csv", csv);
    let (code, out, err) = run(&["import", "cloudflare-csv", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("line 2") && err.contains("line 3"), "{err}");

    // Quoted fields on one line still hold commas and doubled quotes.
    let csv = "\"example.com/a,b\",\"https://example.com/\"\"x\"\"\"\n";
    let path = scratch("quoted.csv", csv);
    let (code, out, err) = run(&["import", "cloudflare-csv", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rules"][0]["from"], "/a,b");
    assert_eq!(v["rules"][0]["to"], "https://example.com/\"x\"");
}

/// A migration of 50,000 lines in each format: every rule imported, and a line repeating an
/// earlier one noted and imported once. Each rule used to be compared with every earlier one
/// (10,000 lines took 13–21 s); the time is printed (`-- --nocapture`), not asserted.
#[test]
fn fifty_thousand_lines_import_with_duplicates_found() {
    const LINES: usize = 50_000;
    let repeated = |i: usize| i % 1000 == 999;
    let source = |i: usize| if repeated(i) { i - 1 } else { i };
    let netlify: String = (0..LINES)
        .map(|i| format!("/old/{} /new/{} 301\n", source(i), source(i)))
        .collect();
    let csv: String = std::iter::once("source_url,target_url\n".to_string())
        .chain((0..LINES).map(|i| {
            format!(
                "example.com/old/{},https://example.com/new/{}\n",
                source(i),
                source(i)
            )
        }))
        .collect();
    let vercel = serde_json::json!({
        "redirects": (0..LINES).map(|i| serde_json::json!({
            "source": format!("/old/{}", source(i)),
            "destination": format!("/new/{}", source(i)),
        })).collect::<Vec<_>>()
    })
    .to_string();
    let repeats = (0..LINES).filter(|&i| repeated(i)).count();
    for (format, name, text) in [
        ("netlify", "large_redirects", netlify),
        ("cloudflare-csv", "large.csv", csv),
        ("vercel", "large-vercel.json", vercel),
    ] {
        let path = scratch(name, &text);
        let started = std::time::Instant::now();
        let (code, out, err) = run(&["import", format, path.to_str().unwrap()]);
        println!(
            "import {format}: {LINES} lines in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        assert_eq!(
            code,
            0,
            "{format}: {}",
            err.lines().last().unwrap_or_default()
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        let rules = v["rules"].as_array().unwrap();
        assert_eq!(rules.len(), LINES - repeats, "{format}");
        assert_eq!(err.matches("imported once").count(), repeats, "{format}");
        assert_eq!(
            rules[LINES - repeats - 1]["from"],
            format!("/old/{}", source(LINES - 1))
        );
    }
}
