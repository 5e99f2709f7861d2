//! `redirects import` keeps what the platform did: each test is one way a migration used to
//! differ from the platform's own engine (the answers here are those engines' answers, checked
//! at scale by `tests/differential/`). Cases are tables: a request (URL and at most one header)
//! and the answer, `(0, "origin")` when the request goes to the origin.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/import_support.rs"]
mod import_support;

use edge_redirects::{Engine, Request};
use import_support::{decide, import};
use support::run;

/// `(url, header, status, location)`; `header` is `("", "")` for none.
type Case = (
    &'static str,
    (&'static str, &'static str),
    u16,
    &'static str,
);

const NONE: (&str, &str) = ("", "");

fn check(engine: &Engine, cases: &[Case]) {
    for &(url, (name, value), status, location) in cases {
        let header = [(name, value)];
        let request = Request {
            headers: if name.is_empty() { &[] } else { &header },
            ..Request::get(url)
        };
        assert_eq!(
            decide(engine, &request),
            (status, location.to_string()),
            "{url} {name}: {value}"
        );
    }
}

#[test]
fn netlify_migration_keeps_the_platform_answers() {
    let e = import("netlify", "migration_redirects", "import-migration", 1);
    check(
        &e,
        &[
            // 1. A splat keeps the visitor's trailing slash.
            (
                "https://example.com/news/a/b/",
                NONE,
                302,
                "https://example.com/posts/a/b/",
            ),
            // 2. A 200 rewrite holds its place: the later redirect never sees /app/old.
            ("https://example.com/app/old", NONE, 0, "origin"),
            // 2. A Role rewrite keeps members (Netlify Identity's cookie) on the origin, and
            // only the others go to the login.
            (
                "https://example.com/members/a",
                ("cookie", "nf_jwt=t"),
                0,
                "origin",
            ),
            (
                "https://example.com/members/a",
                NONE,
                302,
                "https://example.com/login",
            ),
            // 3. A target with its own query gets only its own; a query match passes it on.
            (
                "https://example.com/legal/terms?utm=1",
                NONE,
                301,
                "https://example.com/terms?from=legal",
            ),
            (
                "https://example.com/store?id=abc",
                NONE,
                301,
                "https://example.com/products/abc?id=abc",
            ),
            // 4. The valueless Country= was refused, not imported as "everyone".
            ("https://example.com/geo", NONE, 0, "origin"),
            // 6. A host placeholder can fire: its pattern is in allowed_hosts.
            (
                "https://example.com/go/shop",
                NONE,
                302,
                "https://shop.example.com/",
            ),
        ],
    );
}

#[test]
fn every_import_output_validates() {
    for (format, input) in [
        ("netlify", "migration_redirects"),
        ("netlify", "_redirects"),
        ("netlify", "netlify.toml"),
        ("vercel", "vercel-matchers.json"),
        ("vercel", "vercel.json"),
        ("nextjs", "next-case.json"),
        ("cloudflare-csv", "bulk.csv"),
        ("cloudflare-csv", "bulk-reordered.csv"),
    ] {
        let path = format!("tests/cli/import/{input}");
        let (code, out, err) = run(&["import", format, &path]);
        assert!(code == 0 || code == 1, "{input}: exit {code}: {err}");
        let file = std::env::temp_dir().join(format!("import-validates-{input}.json"));
        std::fs::write(&file, &out).unwrap();
        let (vcode, vout, verr) = run(&["validate", file.to_str().unwrap()]);
        assert_eq!(vcode, 0, "{input}: {vout}{verr}");
        // Everything refused is named with its line.
        let numbered = |l: &str| {
            l.strip_prefix(&format!("{path}:"))
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        };
        let refused: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("not imported:"))
            .collect();
        assert!(refused.iter().all(|l| numbered(l)), "{err}");
        assert_eq!(code == 1, !refused.is_empty(), "{err}");
    }
}

#[test]
fn vercel_matcher_objects_carry_over_or_are_refused() {
    let e = import(
        "vercel",
        "vercel-matchers.json",
        "import-vercel-matchers",
        1,
    );
    check(
        &e,
        &[
            (
                "https://example.com/beta?flag=1",
                NONE,
                308,
                "https://example.com/beta-on?flag=1",
            ),
            ("https://example.com/beta?flag=10", NONE, 0, "origin"),
            (
                "https://example.com/lang",
                ("x-lang", "de"),
                308,
                "https://example.com/lang-eu",
            ),
            (
                "https://example.com/lang",
                ("x-lang", "fr"),
                308,
                "https://example.com/lang-eu",
            ),
            ("https://example.com/lang", ("x-lang", "it"), 0, "origin"),
            (
                "https://example.com/pre",
                ("cookie", "plan=professional"),
                308,
                "https://example.com/pre-ok",
            ),
            (
                "https://example.com/suf",
                ("host-tag", "eu-test"),
                0,
                "origin",
            ),
            (
                "https://example.com/suf",
                NONE,
                308,
                "https://example.com/suf-ok",
            ),
            (
                "https://example.com/re?v=abc",
                NONE,
                308,
                "https://example.com/re-ok?v=abc",
            ),
            ("https://example.com/neq?mode=off", NONE, 0, "origin"),
            ("https://example.com/neq", NONE, 0, "origin"),
            (
                "https://example.com/neq?mode=on",
                NONE,
                308,
                "https://example.com/neq-ok?mode=on",
            ),
            // Refused: gt, a real regular expression, missing with a list.
            ("https://example.com/num?n=5", NONE, 0, "origin"),
            ("https://example.com/rx", ("ua", "a"), 0, "origin"),
            // 6. The host placeholder's pattern is allowed.
            (
                "https://example.com/go/eu",
                NONE,
                307,
                "https://eu.example.com/",
            ),
            // 8. vercel.json paths are case-sensitive.
            ("https://example.com/docs", NONE, 0, "origin"),
        ],
    );
}

#[test]
fn nextjs_paths_match_case_insensitively() {
    let e = import("nextjs", "next-case.json", "import-next-case", 0);
    check(
        &e,
        &[
            (
                "https://example.com/docs",
                NONE,
                308,
                "https://example.com/docs-new",
            ),
            (
                "https://example.com/BLOG/Hello",
                NONE,
                307,
                "https://example.com/news/Hello",
            ),
        ],
    );
}

#[test]
fn cloudflare_header_row_may_reorder_columns() {
    let e = import(
        "cloudflare-csv",
        "bulk-reordered.csv",
        "import-cloudflare-reordered",
        0,
    );
    check(
        &e,
        &[
            (
                "https://example.com/about",
                NONE,
                301,
                "https://example.com/company",
            ),
            (
                "https://example.com/blog/2024/post/",
                NONE,
                302,
                "https://blog.example.com/2024/post/",
            ),
        ],
    );
}
