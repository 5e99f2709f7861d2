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

/// `(url, header, status, location)`; `header` is `("", "")` for none; a URL or location
/// starting with `/` is on `https://example.com`.
type Case = (
    &'static str,
    (&'static str, &'static str),
    u16,
    &'static str,
);

const NONE: (&str, &str) = ("", "");

fn check(engine: &Engine, cases: &[Case]) {
    let on_site = |u: &str| {
        if u.starts_with('/') {
            format!("https://example.com{u}")
        } else {
            u.to_string()
        }
    };
    for &(url, (name, value), status, location) in cases {
        let url = on_site(url);
        let url = url.as_str();
        let location = if status == 0 {
            location.to_string()
        } else {
            on_site(location)
        };
        let header = [(name, value)];
        let request = Request {
            headers: if name.is_empty() { &[] } else { &header },
            ..Request::get(url)
        };
        assert_eq!(
            decide(engine, &request),
            (status, location.clone()),
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
            ("/news/a/b/", NONE, 302, "/posts/a/b/"),
            // 2. A 200 rewrite holds its place: the later redirect never sees /app/old.
            ("/app/old", NONE, 0, "origin"),
            // 2. A Role rewrite keeps members (Netlify Identity's cookie) on the origin, and
            // only the others go to the login.
            ("/members/a", ("cookie", "nf_jwt=t"), 0, "origin"),
            ("/members/a", NONE, 302, "/login"),
            // 3. A target with its own query gets only its own; a query match passes it on.
            ("/legal/terms?utm=1", NONE, 301, "/terms?from=legal"),
            ("/store?id=abc", NONE, 301, "/products/abc?id=abc"),
            // 4. The valueless Country= was refused, not imported as "everyone".
            ("/geo", NONE, 0, "origin"),
            // 6. A host placeholder can fire: its pattern is in allowed_hosts.
            ("/go/shop", NONE, 302, "https://shop.example.com/"),
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
        ("nextjs", "vercel-patterns.json"),
        ("vercel", "vercel-patterns.json"),
        ("vercel", "vercel-groups.json"),
        ("vercel", "vercel-rests.json"),
        ("netlify", "netlify-defects.toml"),
        ("netlify", "netlify-defects.redirects"),
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
            ("/beta?flag=1", NONE, 308, "/beta-on?flag=1"),
            ("/beta?flag=10", NONE, 0, "origin"),
            ("/lang", ("x-lang", "de"), 308, "/lang-eu"),
            ("/lang", ("x-lang", "fr"), 308, "/lang-eu"),
            ("/lang", ("x-lang", "it"), 0, "origin"),
            ("/pre", ("cookie", "plan=professional"), 308, "/pre-ok"),
            ("/suf", ("host-tag", "eu-test"), 0, "origin"),
            ("/suf", NONE, 308, "/suf-ok"),
            ("/re?v=abc", NONE, 308, "/re-ok?v=abc"),
            ("/neq?mode=off", NONE, 0, "origin"),
            ("/neq", NONE, 0, "origin"),
            ("/neq?mode=on", NONE, 308, "/neq-ok?mode=on"),
            // Refused: gt, a real regular expression, missing with a list.
            ("/num?n=5", NONE, 0, "origin"),
            ("/rx", ("ua", "a"), 0, "origin"),
            // 6. The host placeholder's pattern is allowed.
            ("/go/eu", NONE, 307, "https://eu.example.com/"),
            // 8. vercel.json paths are case-sensitive.
            ("/docs", NONE, 0, "origin"),
        ],
    );
}

#[test]
fn nextjs_paths_match_case_insensitively() {
    let e = import("nextjs", "next-case.json", "import-next-case", 0);
    check(
        &e,
        &[
            ("/docs", NONE, 308, "/docs-new"),
            ("/BLOG/Hello", NONE, 307, "/news/Hello"),
            // No `permanent`: Next.js answers 307.
            ("/hello", NONE, 307, "/hi"),
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
            ("/about", NONE, 301, "/company"),
            (
                "/blog/2024/post/",
                NONE,
                302,
                "https://blog.example.com/2024/post/",
            ),
        ],
    );
}

#[test]
fn path_to_regexp_sources_carry_constraints_optional_and_in_segment_placeholders() {
    for (format, golden, slash, old) in [
        ("nextjs", "import-next-patterns", "/l", (0, "origin")),
        ("vercel", "import-vercel-patterns", "/l/", (308, "/new/a")),
    ] {
        let e = import(format, "vercel-patterns.json", golden, 1);
        check(
            &e,
            &[
                ("/post/42", NONE, 308, "/p/42"),
                ("/post/42a", NONE, 0, "origin"),
                ("/de/about", NONE, 307, "/about?lang=de"),
                ("/it/about", NONE, 0, "origin"),
                ("/lang/fr", NONE, 308, "/l/fr"),
                // 9. The optional segment left out: Next.js drops the `/`, Vercel keeps it.
                ("/lang", NONE, 308, slash),
                ("/page/intro.html", NONE, 308, "/pages/intro"),
                ("/page/intro", NONE, 0, "origin"),
                ("/dash-7f", NONE, 307, "/dashboard/7f"),
                // Kept in path-to-regexp syntax: `(.*)` groups, three optional segments; `$1`
                // for Vercel only (Next.js redirects to the text `$1`: refused).
                ("/old/a", NONE, old.0, old.1),
                ("/files/a/b", NONE, 308, "/f/a/b"),
                ("/x", NONE, 308, "/y"),
                ("/a/b/x", NONE, 308, "/y"),
                // Refused: look-ahead.
                ("/v/1x", NONE, 0, "origin"),
                // `{/}?`: an optional trailing slash.
                ("/discord", NONE, 308, "https://discord.gg/x"),
                ("/discord/", NONE, 308, "https://discord.gg/x"),
            ],
        );
    }
}

/// Vercel's unnamed groups (`([^/]*)`, `(a|b)`, `(/?)`, `(.*)`) are kept in path-to-regexp
/// syntax, `$1` and all; a `$2` naming no group is refused with its line (the `"source"` keys
/// of `headers` before the redirects are not counted).
#[test]
fn vercel_unnamed_groups_become_placeholders() {
    const DEV: &str = "https://develop.example.dev/config/";
    let e = import("vercel", "vercel-groups.json", "import-vercel-groups", 1);
    check(
        &e,
        &[
            (
                "/platforms/js/guides/r/config/",
                NONE,
                308,
                "/platforms/js/guides/r/configuration/",
            ),
            ("/platforms/js/guides/r/config", NONE, 0, "origin"),
            // An empty segment is an empty `$1`, as on Vercel.
            (
                "/platforms//guides/r/config/",
                NONE,
                308,
                "/platforms//guides/r/configuration/",
            ),
            ("/api/users/v1", NONE, 308, "/v1/users"),
            ("/development/server/faq", NONE, 308, "/dev/server"),
            ("/development/other/faq", NONE, 0, "origin"),
            ("/server/config", NONE, 308, DEV),
            ("/server/config/", NONE, 308, DEV),
            // `(.*)` keeps the trailing slash, and needs the `/` before it.
            ("/meta/a/", NONE, 308, "/product/a/"),
            ("/meta", NONE, 0, "origin"),
            ("/maps/generating/", NONE, 308, "/maps/"),
            ("/maps//", NONE, 308, "/maps/"),
            ("/x/b.r/y/z", NONE, 308, "/z"),
            // `:slug(/?)` holds nothing or `/`: the entry matches `/manual/` only.
            ("/manual/", NONE, 308, "/guide/"),
            ("/manual/a", NONE, 0, "origin"),
        ],
    );
}

/// `signed = "ENV"` is a signed proxy (a `"to": null` rule holding its place before the
/// catch-all), a source ending in `//` matches as the single-slash path (as on Netlify), and a
/// target with another scheme is refused for its scheme, with or without `//`.
#[test]
fn netlify_signed_proxies_double_slashes_and_other_schemes() {
    let toml: &[Case] = &[
        ("/api/users", NONE, 0, "origin"),
        ("/old", NONE, 301, "/new"),
        ("/old/", NONE, 301, "/new"),
        ("/other", NONE, 301, "/index.html"),
    ];
    let redirects: &[Case] = &[
        ("/docs", NONE, 301, "/manual"),
        ("/docs/", NONE, 301, "/manual"),
        ("/ios", NONE, 0, "origin"),
    ];
    for (input, golden, code, cases) in [
        (
            "netlify-defects.toml",
            "import-netlify-defects-toml",
            0,
            toml,
        ),
        (
            "netlify-defects.redirects",
            "import-netlify-defects",
            1,
            redirects,
        ),
    ] {
        check(&import("netlify", input, golden, code), cases);
    }
}

/// `(.*)` groups keep Vercel's meaning: `/x/(.*)` holds the trailing slash and does not match
/// `/x` itself (a later `/x` entry answers it), and `/x(/.*)?` matches `/x` and below.
#[test]
fn vercel_dot_star_groups_keep_their_meaning() {
    let e = import("vercel", "vercel-rests.json", "import-vercel-rests", 0);
    check(
        &e,
        &[
            ("/meta/", NONE, 308, "/product/security/"),
            ("/meta/a/b/", NONE, 308, "/product/security/a/b/"),
            ("/meta", NONE, 0, "origin"),
            ("/platforms", NONE, 308, "/sdk"),
            ("/platforms/", NONE, 308, "/sdk/"),
            ("/platforms/js/", NONE, 308, "/sdk/js/"),
            ("/docs/x/old/a", NONE, 308, "/docs/x/new/"),
            ("/docs/x/old", NONE, 0, "origin"),
            ("/docs/intro", NONE, 308, "/manual/intro"),
            ("/guides/a", NONE, 308, "/g/a"),
            ("/guides", NONE, 308, "/all-guides"),
        ],
    );
}

/// Netlify's `*` beside text (`/inbox*`) and before the last segment (`/docs/*/index`) keeps the
/// meaning Netlify's engine gives it (the answers here are that engine's, and
/// `tests/differential/` asks it again); the segment forms its engine reads as quirks (`/a*b`,
/// `/p-:id`, `/q/:id.html`) are refused with the reason.
#[test]
fn netlify_segment_syntax_keeps_netlifys_meaning() {
    let e = import(
        "netlify",
        "netlify-segments.redirects",
        "import-netlify-segments",
        1,
    );
    check(
        &e,
        &[
            ("/inbox", NONE, 301, "/mail/"),
            ("/inboxes", NONE, 301, "/mail/es"),
            ("/inbox/a", NONE, 301, "/mail/a"),
            ("/inbox//x", NONE, 301, "/mail//x"),
            ("/inboxes/a/", NONE, 301, "/mail/es/a/"),
            ("/INBOXes", NONE, 0, "origin"),
            ("/kubectl/kubectl_get", NONE, 301, "/k/get"),
            ("/kubectl/kubectl_ABC/", NONE, 301, "/k/ABC/"),
            ("/kubectl/kubectl", NONE, 0, "origin"),
            ("/docs/x/y/index", NONE, 301, "/d/x/y"),
            ("/docs/index", NONE, 301, "/d/"),
            ("/docs//index", NONE, 301, "/d/"),
            ("/docs/x/index/", NONE, 301, "/d/x"),
            ("/docsX/index", NONE, 0, "origin"),
            ("/docs/x/indexes", NONE, 0, "origin"),
            ("/en/beginners", NONE, 301, "/b/en"),
            ("/a/b/beginners", NONE, 301, "/b/a/b"),
            ("/beginners", NONE, 301, "/b/"),
            ("/xbeginners", NONE, 0, "origin"),
            ("/m/a/n/b", NONE, 301, "/mn/a"),
            ("/m/a/n/", NONE, 301, "/mn/a"),
            ("/m/n", NONE, 301, "/mn/"),
            // Refused: Netlify's engine never matches these, or leaves `:id` unfilled.
            ("/aXb", NONE, 0, "origin"),
            ("/p-7", NONE, 0, "origin"),
            ("/q/7.html", NONE, 0, "origin"),
        ],
    );
}
