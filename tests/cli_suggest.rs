//! `redirects suggest`: golden outputs for each input format, and a generated site where pages
//! moved the ways pages move (renamed folders, extensions, letter case, slashes, one-letter
//! typos): at least 90 % of them must get the right target, and unrelated paths nothing.

#[path = "cli/support.rs"]
mod support;

use edge_redirects_testkit::SplitMix64;
use serde_json::Value;
use std::collections::HashMap;
use support::{golden, run, scratch};

/// `redirects suggest [options] LIST` against the golden sitemap: (exit code, stdout, stderr).
fn suggest(list: &str, options: &[&str]) -> (i32, String, String) {
    let mut args = vec!["suggest"];
    args.extend_from_slice(options);
    args.extend([list, "tests/cli/suggest/sitemap.xml"]);
    run(&args)
}

#[test]
fn a_text_list_against_a_sitemap() {
    let (code, out, err) = suggest("tests/cli/suggest/not-found.txt", &[]);
    assert_eq!(code, 0, "{err}");
    golden("suggest-text.json", &out);
    golden("suggest-text.stderr", &err);
}

#[test]
fn a_csv_with_hits_and_the_output_of_stats() {
    let (code, out, err) = suggest("tests/cli/suggest/not-found.csv", &[]);
    assert_eq!(code, 0, "{err}");
    golden("suggest-csv.json", &out);
    let stats = r#"{"not_found": [{"path": "/blog/hello-world", "hits": 120}, {"path": "/nothing-like-it", "hits": 4}]}"#;
    let stats = scratch("stats.json", stats);
    let (code, out, _) = suggest(stats.to_str().unwrap(), &[]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rules"][0]["to"], "/posts/hello-world");
    assert_eq!(v["suggestions"][0]["hits"], 120);
    assert_eq!(v["rules"].as_array().unwrap().len(), 1);
}

#[test]
fn the_fragment_is_a_valid_bundle_and_nothing_is_applied() {
    let (_, out, _) = suggest("tests/cli/suggest/not-found.txt", &[]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let bundle = serde_json::json!({ "version": 1, "rules": v["rules"] });
    let path = scratch("suggested.json", &bundle.to_string());
    let (code, _, err) = run(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = suggest(
        "tests/cli/suggest/not-found.txt",
        &["--min-confidence", "0.9"],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["confidence"].as_f64().unwrap() >= 0.9));
}

/// A seeded generator and the one helper the site needs.
struct Rng(SplitMix64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SECTIONS: [&str; 8] = [
    "blog",
    "docs/guide",
    "products",
    "news/2024",
    "help",
    "shop/garden",
    "shop/kitchen",
    "recipes",
];
const ADJECTIVES: [&str; 16] = [
    "red", "quick", "silent", "golden", "northern", "tiny", "bright", "wooden", "frozen", "gentle",
    "hidden", "ancient", "modern", "rusty", "lucky", "summer",
];
const NOUNS: [&str; 16] = [
    "garden", "kettle", "river", "lantern", "harbor", "meadow", "engine", "ladder", "orchard",
    "compass", "basket", "window", "canyon", "pillow", "violin", "bridge",
];
const TOPICS: [&str; 12] = [
    "guide",
    "review",
    "tips",
    "setup",
    "story",
    "recipe",
    "checklist",
    "faq",
    "notes",
    "deals",
    "tour",
    "basics",
];
/// Where moved pages used to live (renamed folders).
const OLD_FOLDERS: [&str; 6] = ["archive", "old", "v1", "legacy", "en", "content"];

/// A generated site of `n` live pages: `/section/adjective-noun-topic[-k]`.
fn site(rng: &mut Rng, n: usize) -> Vec<String> {
    let mut pages = std::collections::BTreeSet::new();
    while pages.len() < n {
        let slug = format!(
            "{}-{}-{}",
            rng.pick(&ADJECTIVES),
            rng.pick(&NOUNS),
            rng.pick(&TOPICS)
        );
        let slug = if rng.below(3) == 0 {
            format!("{slug}-{}", rng.below(50))
        } else {
            slug
        };
        pages.insert(format!("/{}/{slug}", rng.pick(&SECTIONS)));
    }
    pages.into_iter().collect()
}

/// How a page moved: the old path for the live `page`.
fn moved(rng: &mut Rng, page: &str, kind: usize) -> String {
    let (folder, slug) = page.rsplit_once('/').unwrap();
    match kind {
        // renamed folder, sometimes also losing an extension on the way
        0 => {
            let old = format!("/{}{folder}/{slug}", rng.pick(&OLD_FOLDERS));
            if rng.below(2) == 0 {
                format!("{old}.html")
            } else {
                old
            }
        }
        1 => format!("/{}/{slug}", rng.pick(&OLD_FOLDERS)),
        2 => format!("{page}{}", rng.pick(&[".html", ".htm", ".php", ".aspx"])),
        3 => page
            .split('/')
            .map(|s| {
                let mut c = s.chars();
                c.next()
                    .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
            })
            .collect::<Vec<_>>()
            .join("/"),
        4 => format!("{page}/"),
        _ => {
            // one-letter typo in the page name: substitution, deletion, insertion or swap
            let mut chars: Vec<char> = slug.chars().collect();
            let at = 1 + rng.below(chars.len() - 2);
            match rng.below(4) {
                0 => chars[at] = if chars[at] == 'x' { 'q' } else { 'x' },
                1 => {
                    chars.remove(at);
                }
                2 => chars.insert(at, 'z'),
                _ => chars.swap(at, at + 1),
            }
            format!("{folder}/{}", chars.into_iter().collect::<String>())
        }
    }
}

#[test]
fn moved_pages_get_the_right_target_and_unrelated_paths_nothing() {
    let mut rng = Rng(SplitMix64(14));
    let live = site(&mut rng, 3000);
    let live_set: std::collections::HashSet<&str> = live.iter().map(String::as_str).collect();
    let mut expected: HashMap<String, String> = HashMap::new();
    let mut per_kind = [0usize; 6];
    while expected.len() < 1200 {
        let page = &live[rng.below(live.len())];
        let kind = rng.below(6);
        let old = moved(&mut rng, page, kind);
        if old != *page && !live_set.contains(old.as_str()) && !expected.contains_key(&old) {
            per_kind[kind] += 1;
            expected.insert(old, page.clone());
        }
    }
    let unrelated: Vec<String> = (0..300)
        .map(|i| {
            let words = [
                "wp-login",
                "xmlrpc",
                "cgi-bin",
                "phpmyadmin",
                "zebra",
                "quartz",
                "plover",
            ];
            format!("/{}/{}-{i}.php", rng.pick(&words), rng.pick(&words))
        })
        .collect();
    let sitemap: String = std::iter::once("<urlset>".to_string())
        .chain(
            live.iter()
                .map(|p| format!("<url><loc>https://example.com{p}</loc></url>")),
        )
        .chain(std::iter::once("</urlset>".to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    let list: String = expected
        .keys()
        .chain(&unrelated)
        .map(|p| format!("{p}\n"))
        .collect();
    let sitemap = scratch("generated-sitemap.xml", &sitemap);
    let list = scratch("generated-404.txt", &list);
    let (code, out, err) = run(&["suggest", list.to_str().unwrap(), sitemap.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let proposed: HashMap<&str, &str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["from"].as_str().unwrap(), r["to"].as_str().unwrap()))
        .collect();
    let right = expected
        .iter()
        .filter(|(old, page)| proposed.get(old.as_str()) == Some(&page.as_str()))
        .count();
    let wrong = expected
        .iter()
        .filter(|(old, page)| proposed.get(old.as_str()).is_some_and(|t| t != page))
        .count();
    let for_unrelated = unrelated
        .iter()
        .filter(|p| proposed.contains_key(p.as_str()))
        .count();
    let share = 100.0 * right as f64 / expected.len() as f64;
    println!(
        "suggest: {right}/{} moved pages ({share:.1} %) got the right target, {wrong} a wrong one \
         (per kind: renamed folder + extension {}, moved folder {}, extension {}, case {}, slash {}, typo {}); \
         {for_unrelated}/{} unrelated paths got a suggestion; {} live pages",
        expected.len(),
        per_kind[0], per_kind[1], per_kind[2], per_kind[3], per_kind[4], per_kind[5],
        unrelated.len(),
        live.len()
    );
    assert!(
        share >= 90.0,
        "only {share:.1} % of the moved pages got the right target"
    );
    assert_eq!(for_unrelated, 0, "unrelated paths got suggestions");
}

/// `redirects explain --json BUNDLE URL`: the outcome and the location.
fn explain(bundle: &str, url: &str) -> (String, String) {
    let (code, out, err) = run(&["explain", "--json", bundle, url]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    (
        v["outcome"].as_str().unwrap().to_string(),
        v["location"].as_str().unwrap_or_default().to_string(),
    )
}

/// The worker records 404 paths as visitors send them: a path with pattern syntax in it
/// (`/:ricing`, `/:x/pricing`, `/about-u*`) must become a rule for that path alone, never one
/// that redirects every one-segment path (`/login`) or every `/…/pricing`.
#[test]
fn a_404_path_with_pattern_syntax_gets_a_rule_for_that_path_alone() {
    let live = scratch("syntax-live.txt", "/pricing\n/about-us\n/docs/setup\n");
    let list = scratch(
        "syntax-404.txt",
        "/:ricing\n/:x/pricing\n/docs/:etup\n/about-u*\n/pricin(\n",
    );
    let (code, out, err) = run(&["suggest", list.to_str().unwrap(), live.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let bundle = serde_json::json!({ "version": 1, "rules": v["rules"] });
    let bundle = scratch("syntax-suggested.json", &bundle.to_string());
    let bundle = bundle.to_str().unwrap();
    for (seen, target) in [
        ("/:ricing", "/pricing"),
        ("/:x/pricing", "/pricing"),
        ("/docs/:etup", "/docs/setup"),
        ("/about-u*", "/about-us"),
        ("/pricin(", "/pricing"),
    ] {
        let (outcome, location) = explain(bundle, &format!("https://example.com{seen}"));
        assert_eq!(outcome, "redirect", "{seen} gets no rule: {err}");
        assert_eq!(location, format!("https://example.com{target}"), "{seen}");
    }
    for other in [
        "/login",
        "/admin",
        "/y/pricing",
        "/docs/login",
        "/about-uz",
        "/about-u",
    ] {
        let (outcome, location) = explain(bundle, &format!("https://example.com{other}"));
        assert_eq!(outcome, "origin", "{other} is redirected to {location}");
    }
}

/// A 404 path or live URL longer than a rule can hold (8 KiB) is skipped, and said so; paths
/// up to that length are matched in time linear in their length (a 40 KB path took 9–21 s).
#[test]
fn very_long_paths_are_skipped_and_long_ones_still_matched() {
    let long = |c: char, n: usize| format!("/{}", c.to_string().repeat(n));
    let typo = format!("/docs/{}", "a".repeat(8_000));
    let mut live_path = typo.clone().into_bytes();
    live_path[4000] = b'b';
    let live_path = String::from_utf8(live_path).unwrap();
    let live = format!("/pricing\n{}\n{live_path}\n", long('x', 40_000));
    let list = format!(
        "{}\n{}\n/pricnig\n{typo}\n",
        long('x', 40_001),
        long('y', 40_000)
    );
    let live = scratch("long-live.txt", &live);
    let list = scratch("long-404.txt", &list);
    let started = std::time::Instant::now();
    let (code, out, err) = run(&["suggest", list.to_str().unwrap(), live.to_str().unwrap()]);
    println!("suggest with 40 KB and 8 KB paths: {:?}", started.elapsed());
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.matches("skipped").count(),
        3,
        "two 404 paths and one live URL are over the limit: {err}"
    );
    assert!(err.contains("40001 bytes"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "{err}");
    assert_eq!(rules[0]["to"], "/pricing");
    assert_eq!(rules[1]["from"], typo.as_str());
    assert_eq!(rules[1]["to"], live_path.as_str());
}
