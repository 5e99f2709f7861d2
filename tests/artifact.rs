//! The artifact (`redirects build`): a bundle loaded from it decides every request exactly as
//! the bundle compiled from JSON, whatever the parts it is cut into; damaged bytes are refused
//! at load, or (embedded, checked lazily) pass the damaged part's requests to the origin.

use edge_redirects::artifact::{self, Need, Options, Page, Part};
use edge_redirects::{Decision, Engine, RequestBuf, Supply};

/// An artifact cut as Workers KV keeps it (a head, pages and parts, each a value), and the
/// engine of its head, which is handed the pages and parts each request needs.
struct Stored {
    engine: Engine,
    pages: Vec<Vec<u8>>,
    parts: Vec<Vec<u8>>,
}

impl Stored {
    fn new(bytes: &[u8]) -> Stored {
        let pieces = artifact::split(bytes).expect("a whole artifact splits");
        Stored {
            engine: Engine::load_head(pieces.head.to_vec()).expect("a head loads"),
            pages: pieces.pages.iter().map(|p| p.to_vec()).collect(),
            parts: pieces.parts.iter().map(|p| p.to_vec()).collect(),
        }
    }

    /// The pages `request` needs, decoded from their stored bytes.
    fn pages(&self, request: &RequestBuf) -> Vec<Page> {
        request
            .with(|r| self.engine.pages_needed(r))
            .iter()
            .map(|&g| {
                self.engine
                    .decode_page(g, &self.pages[g])
                    .expect("a stored page decodes")
            })
            .collect()
    }

    /// What `request` needs, from the pages it needs.
    fn needs(&self, request: &RequestBuf) -> Vec<Need> {
        let pages = self.pages(request);
        let refs: Vec<&Page> = pages.iter().collect();
        request
            .with(|r| self.engine.needs(r, &refs))
            .expect("every page needed is handed over")
            .to_vec()
    }

    /// The part `need` names, decoded from its stored bytes.
    fn part(&self, need: &Need) -> Part {
        self.engine
            .decode_part(need, &self.parts[need.part])
            .expect("a stored part decodes")
    }

    /// The decision for `request` with `parts` (and every page it needs), shown.
    fn decide_with(&self, request: &RequestBuf, parts: &[&Part]) -> String {
        let pages = self.pages(request);
        let refs: Vec<&Page> = pages.iter().collect();
        let supply = Supply {
            pages: &refs,
            parts,
        };
        format!(
            "{:?}",
            request.with(|r| self.engine.evaluate_with(r, supply))
        )
    }
}

/// Build options with parts of about `part_rules` rules.
fn parts_of(part_rules: usize) -> Options {
    Options {
        part_rules,
        ..Default::default()
    }
}

/// The decision's debug text, to compare decisions of engines whose rules live apart.
fn shown(d: &Decision<'_>) -> String {
    format!("{d:?}")
}

/// A bundle with every kind of routing: exact paths (some shared, some keyed by a query
/// value), patterns under one and two literal segments, patterns starting with a placeholder,
/// splats, host restrictions and conditions, and rules comparing in their own case.
fn mixed_bundle(n: usize) -> String {
    let mut rules = Vec::new();
    for i in 0..n {
        let rule = match i % 10 {
            3 if i % 20 == 3 => format!(
                r#"{{"id":"c{i}","from":"/Shop/Item-{i}.html","to":"/case/{i}","case_sensitive":true}}"#
            ),
            5 if i % 20 == 15 => format!(
                r#"{{"id":"cb{i}","from":"/Blog/{i}/:slug","to":"/case-posts/{i}/:slug","case_sensitive":true}}"#
            ),
            0..=4 => format!(r#"{{"id":"e{i}","from":"/shop/item-{i}.html","to":"/p/{i}"}}"#),
            5 => format!(r#"{{"id":"b{i}","from":"/blog/{i}/:slug","to":"/posts/{i}/:slug"}}"#),
            6 => format!(r#"{{"id":"d{i}","from":"/docs/v{i}/*","to":"/docs/latest/:splat"}}"#),
            7 => format!(
                r#"{{"id":"q{i}","from":"/product.php","when":{{"query":{{"id":"{i}"}}}},"to":"/items/{i}"}}"#
            ),
            8 => format!(
                r#"{{"id":"h{i}","host":"h{}.example.com","from":"/:page","to":"/x/:page"}}"#,
                i % 7
            ),
            _ => format!(
                r#"{{"id":"l{i}","from":"/shop/item-{}.html","when":{{"language":["de"]}},"to":"/de/{i}"}}"#,
                i - 9
            ),
        };
        rules.push(rule);
    }
    rules.push(r#"{"id":"root-param","from":"/:lang/old/*","to":"/:lang/new/:splat"}"#.into());
    rules.push(
        r#"{"id":"everything","from":"/*","when":{"header":{"x-legacy":"1"}},"to":"/"}"#.into(),
    );
    format!(
        r#"{{"version":1,"settings":{{"case_sensitive":false}},"rules":[{}]}}"#,
        rules.join(",")
    )
}

/// Requests that hit every kind of rule, and miss.
fn requests(n: usize) -> Vec<RequestBuf> {
    let mut out = Vec::new();
    for i in (0..n)
        .step_by(3)
        .chain((0..n).filter(|i| i % 20 == 3 || i % 20 == 15))
    {
        let host = format!("h{}.example.com", i % 7);
        for path in [
            format!("/shop/item-{i}.html"),
            format!("/SHOP/Item-{i}.HTML/"),
            format!("/Shop/Item-{i}.html"),
            format!("/blog/{i}/hello"),
            format!("/Blog/{i}/hello"),
            format!("/docs/v{i}/a/b"),
            format!("/docs/v{i}"),
            format!("/product.php?id={i}"),
            format!("/page-{i}"),
            format!("/en/old/{i}"),
            format!("/legacy{i}"),
            format!("/nothing/{i}/here"),
        ] {
            let url = format!("https://{host}{path}");
            out.push(RequestBuf::get(&url).header("accept-language", "de"));
            out.push(RequestBuf::get(&url));
            out.push(RequestBuf::get(&url).header("x-legacy", "1"));
        }
    }
    out
}

#[test]
fn an_artifact_decides_as_the_json_bundle_does_whatever_its_parts() {
    let n = 600;
    let text = mixed_bundle(n);
    let json = Engine::compile(&text).expect("the bundle compiles");
    let requests = requests(n);
    for part_rules in [1, 7, 64, 100_000] {
        let bytes = artifact::build_with(&text, parts_of(part_rules)).expect("builds");
        let loaded = Engine::load(bytes).expect("loads");
        let (_, parts) = loaded.artifact().expect("an artifact");
        println!("{part_rules} rules a part: {parts} parts");
        let mut redirects = 0;
        for request in &requests {
            let expected = request.with(|r| json.explain(r));
            let got = request.with(|r| loaded.explain(r));
            assert_eq!(
                got.decision, expected.decision,
                "{} with {part_rules}-rule parts",
                request.url
            );
            // The same last step (the rule applied, or the last tried); the steps before it
            // differ where rules on a path crowded with query values live apart, and a small
            // part tests candidates the whole bundle's query-keyed table skips.
            assert_eq!(
                got.trace.last(),
                expected.trace.last(),
                "{} with {part_rules}-rule parts",
                request.url
            );
            redirects += usize::from(matches!(expected.decision, Decision::Redirect(_)));
        }
        // The requests above are meant to hit: a routing mistake that lost every rule would
        // agree with an empty JSON bundle too, never with this one.
        assert!(redirects > requests.len() / 2, "{redirects} redirects");
        assert_eq!(loaded.rule_count(), json.rules().len());
        let ids = |e: &Engine| {
            e.rules()
                .iter()
                .map(|r| r.id().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&loaded), ids(&json), "rules() in file order");
    }
}

#[test]
fn the_same_text_builds_the_same_bytes_and_id() {
    let text = mixed_bundle(200);
    let a = artifact::build(&text).unwrap();
    let b = artifact::build(&text).unwrap();
    assert_eq!(a, b);
    let other = artifact::build(&mixed_bundle(201)).unwrap();
    let id = |bytes: Vec<u8>| Engine::load(bytes).unwrap().artifact().unwrap().0;
    assert_ne!(id(a), id(other));
}

#[test]
fn build_reports_what_compile_reports() {
    let text = r#"{"version":1,"rules":[{"id":"a","from":"blog","to":"/x"}]}"#;
    let built = artifact::build(text).unwrap_err();
    let compiled = Engine::compile(text).unwrap_err();
    assert_eq!(built.errors(), compiled.errors());
    assert_eq!(built.errors()[0].pointer, "/rules/0/from");
}

#[test]
fn damaged_bytes_are_refused_at_load() {
    let text = mixed_bundle(300);
    let good = artifact::build(&text).unwrap();
    assert!(Engine::load(good.clone()).is_ok());
    assert!(Engine::load(Vec::new()).is_err());
    assert!(
        Engine::load(text.as_bytes().to_vec()).is_err(),
        "JSON is not an artifact"
    );
    // Every byte of the head and page directory, and bytes spread over the pages and parts.
    let directory_end = 48 + 60 * 16;
    let mut refused = 0;
    for at in (8..good.len())
        .step_by(7)
        .chain(8..directory_end.min(good.len()))
    {
        let mut bad = good.clone();
        bad[at] ^= 0x20;
        match Engine::load(bad) {
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
            }
            Ok(_) => panic!("a flipped byte at {at} was not noticed"),
        }
    }
    assert!(refused > 100, "{refused}");
    for len in [47, 100, good.len() / 2, good.len() - 1] {
        assert!(
            Engine::load(good[..len].to_vec()).is_err(),
            "truncated to {len}"
        );
    }
    let mut version = good.clone();
    version[8] = 1;
    let e = Engine::load(version).unwrap_err().to_string();
    assert!(e.contains("format 1"), "{e}");
}

#[test]
fn an_embedded_artifact_with_a_damaged_part_passes_that_part_to_the_origin() {
    let text = mixed_bundle(300);
    let mut bytes = artifact::build(&text).unwrap();
    // The last part's last bytes: its JSON. Found again when the part is first needed.
    let last = bytes.len() - 2;
    bytes[last] ^= 0x20;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let engine = Engine::load_embedded(bytes).expect("the header and directory are intact");
    let json = Engine::compile(&text).unwrap();
    let mut differ = 0;
    for request in requests(300) {
        let got = request.with(|r| engine.evaluate(r));
        if got != request.with(|r| json.evaluate(r)) {
            differ += 1;
            assert!(
                matches!(got, Decision::Origin(_)),
                "{}: {got:?}",
                request.url
            );
        }
    }
    assert!(differ > 0, "the damaged part was never needed");
}

#[test]
fn a_head_with_parts_handed_over_decides_as_the_whole_artifact() {
    let n = 600;
    let text = mixed_bundle(n);
    let json = Engine::compile(&text).unwrap();
    let bytes = artifact::build_with(&text, parts_of(16)).unwrap();
    let stored = Stored::new(&bytes);
    assert!(stored.engine.rules().is_empty(), "a head lists no rules");
    let origin = shown(&Decision::Origin(Default::default()));
    let (mut read, mut requests_reading) = (0, 0);
    for request in requests(n) {
        let needs = stored.needs(&request);
        let decoded: Vec<_> = needs.iter().map(|n| stored.part(n)).collect();
        let refs: Vec<_> = decoded.iter().collect();
        let got = stored.decide_with(&request, &refs);
        let expected = request.with(|r| json.evaluate(r));
        assert_eq!(got, shown(&expected), "{}", request.url);
        read += needs.len();
        requests_reading += usize::from(!needs.is_empty());
        if !needs.is_empty() && !matches!(expected, Decision::Origin(_)) {
            // Without the parts it needs, the same request goes to the origin untouched; and
            // without the pages, whatever parts it is handed.
            assert_eq!(stored.decide_with(&request, &[]), origin, "{}", request.url);
            let no_pages = request.with(|r| {
                let supply = Supply {
                    pages: &[],
                    parts: &refs,
                };
                shown(&stored.engine.evaluate_with(r, supply))
            });
            assert_eq!(no_pages, origin, "{}", request.url);
        }
    }
    println!("{requests_reading} requests read {read} parts");
    // A path no rule is near reads no part at all (here every request reads the part of the
    // rules starting with a placeholder, which are near every path; a bundle without them:)
    let near: Vec<String> = (0..300)
        .map(|i| format!(r#"{{"id":"e{i}","from":"/shop/item-{i}.html","to":"/p/{i}"}},{{"id":"b{i}","from":"/blog/{i}/:slug","to":"/a/{i}/:slug"}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, near.join(","));
    let bytes = artifact::build_with(&text, parts_of(16)).unwrap();
    let near = Stored::new(&bytes);
    let needs = |url: &str| near.needs(&RequestBuf::get(url)).len();
    for url in [
        "https://example.com/nothing/at/all",
        "https://example.com/shop/item-9.htm",
        "https://example.com/blog/301/x",
        "https://example.com/",
    ] {
        assert_eq!(needs(url), 0, "{url}");
    }
    assert_eq!(needs("https://example.com/shop/item-9.html"), 1);
    assert_eq!(needs("https://example.com/blog/9/x"), 1);
    // A page or part of another bundle, damaged, or of another number, is refused.
    let need = stored.needs(&RequestBuf::get("https://example.com/blog/5/x"))[0];
    assert!(stored.engine.decode_part(&need, &near.parts[0]).is_err());
    let mut damaged = stored.parts[need.part].clone();
    damaged[10] ^= 1;
    assert!(stored.engine.decode_part(&need, &damaged).is_err());
    assert!(stored.engine.decode_page(0, &near.pages[0]).is_err());
    let mut damaged = stored.pages[0].clone();
    *damaged.last_mut().unwrap() ^= 1;
    assert!(stored.engine.decode_page(0, &damaged).is_err());
    if stored.pages.len() > 1 {
        assert!(stored.engine.decode_page(1, &stored.pages[0]).is_err());
    }
    let pages = stored.engine.page_count();
    assert!(stored.engine.decode_page(pages, &stored.pages[0]).is_err());
}

#[test]
fn parts_narrowed_to_the_homes_a_request_needs_decide_as_the_whole_bundle() {
    let n = 600;
    let text = mixed_bundle(n);
    let json = Engine::compile(&text).unwrap();
    for part_rules in [16, 64] {
        let bytes = artifact::build_with(&text, parts_of(part_rules)).unwrap();
        let stored = Stored::new(&bytes);
        let (mut whole_rules, mut narrowed_rules) = (0, 0);
        for request in requests(n) {
            let needs = stored.needs(&request);
            let narrowed: Vec<_> = needs
                .iter()
                .map(|need| {
                    let whole = stored.part(need);
                    whole_rules += whole.len();
                    let total = whole.len();
                    let (part, others) = whole.narrow(need.home);
                    assert_eq!(part.home(), Some(need.home));
                    assert!(part.serves(need));
                    // Cut, not copied: every rule in exactly one piece, each piece one home.
                    let mut pieces: Vec<_> = others.iter().map(|o| o.home()).collect();
                    assert_eq!(
                        part.len() + others.iter().map(|o| o.len()).sum::<usize>(),
                        total
                    );
                    pieces.push(part.home());
                    pieces.sort();
                    pieces.dedup();
                    assert_eq!(pieces.len(), others.len() + 1);
                    narrowed_rules += part.len();
                    part
                })
                .collect();
            let refs: Vec<_> = narrowed.iter().collect();
            assert_eq!(
                stored.decide_with(&request, &refs),
                shown(&request.with(|r| json.evaluate(r))),
                "{} ({part_rules}-rule parts)",
                request.url
            );
            // Without the piece of one home needed (the others there), the request goes to
            // the origin as if that part were missing: another home's piece never stands in.
            if let Some(first) = needs.first() {
                let without: Vec<_> = refs
                    .iter()
                    .copied()
                    .filter(|p| p.home() != Some(first.home))
                    .collect();
                assert_eq!(
                    stored.decide_with(&request, &without),
                    shown(&Decision::Origin(Default::default())),
                    "{}",
                    request.url
                );
            }
        }
        println!(
            "{part_rules}-rule parts: {whole_rules} rules read whole, {narrowed_rules} needed"
        );
        // Here many rules share a home (host rules on `/:page`, query rules on one path).
        assert!(narrowed_rules < whole_rules);
    }
    // A migration's rules each have a home of their own: a request needs one rule of a part.
    let own: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"id":"e{i}","from":"/shop/item-{i}.html","to":"/p/{i}"}},{{"id":"b{i}","from":"/blog/{i}/:slug","to":"/a/{i}/:slug"}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, own.join(","));
    let stored = Stored::new(&artifact::build(&text).unwrap());
    for url in [
        "https://example.com/shop/item-7.html",
        "https://example.com/blog/7/x",
    ] {
        let request = RequestBuf::get(url);
        let needs = stored.needs(&request);
        assert_eq!(needs.len(), 1, "{url}");
        let whole = stored.part(&needs[0]);
        assert!(whole.len() > 16, "{url}: {} rules whole", whole.len());
        let (part, others) = whole.narrow(needs[0].home);
        assert_eq!(part.len(), 1, "{url}");
        assert!(others.iter().all(|o| o.len() == 1), "{url}");
        let got = stored.decide_with(&request, &[&part]);
        assert!(got.starts_with("Redirect"), "{url}: {got}");
        // A neighbour's piece answers for its own home, not for this one.
        let got = stored.decide_with(&request, &[&others[0]]);
        assert_eq!(got, shown(&Decision::Origin(Default::default())), "{url}");
    }
}

#[test]
fn decisions_of_two_versions_compare_by_what_the_visitor_gets() {
    let a = Engine::compile(r#"{"version":1,"rules":[{"id":"a1","from":"/x","to":"/y"},{"id":"a2","from":"/p","to":"/q"}]}"#).unwrap();
    let b = Engine::compile(r#"{"version":1,"rules":[{"id":"b1","from":"/x","to":"/y"},{"id":"b2","from":"/p","to":"/other"}]}"#).unwrap();
    fn decide<'e>(e: &'e Engine, url: &str) -> Decision<'e> {
        RequestBuf::get(url).with(|r| e.evaluate(r))
    }
    let (x_a, x_b) = (decide(&a, "https://e.com/x"), decide(&b, "https://e.com/x"));
    assert_ne!(x_a, x_b, "other rule ids");
    assert!(x_a.same_answer(&x_b), "the same answer all the same");
    assert!(!decide(&a, "https://e.com/p").same_answer(&decide(&b, "https://e.com/p")));
    assert!(decide(&a, "https://e.com/n").same_answer(&decide(&b, "https://e.com/n")));
    assert!(!decide(&a, "https://e.com/x").same_answer(&decide(&b, "https://e.com/n")));
    // Where they differ, the answer is made private: no cache may share it.
    let mut p = decide(&a, "https://e.com/p");
    assert!(p
        .headers()
        .iter()
        .any(|(n, v)| *n == "Cache-Control" && v.contains("public")));
    p.make_per_visitor();
    let cc: Vec<_> = p
        .headers()
        .into_iter()
        .filter(|(n, _)| *n == "Cache-Control")
        .collect();
    assert_eq!(cc, [("Cache-Control", "private, no-store")]);
    let mut origin = decide(&a, "https://e.com/n");
    origin.make_per_visitor();
    let Decision::Origin(pass) = &origin else {
        panic!()
    };
    assert!(pass
        .header_changes(Some("public, max-age=60"))
        .iter()
        .any(|c| matches!(c, edge_redirects::HeaderChange::Set("Cache-Control", v) if v.contains("private"))));
}

/// FNV-1a 64, as the artifact's checksums use it.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A head of `parts` parts and `hosts` listed hosts, its checksum valid: what a hostile KV
/// value can hold.
fn crafted_head(parts: u32, hosts: u32) -> Vec<u8> {
    let settings = br#"{"version":1,"settings":{},"rules":[]}"#;
    let end = 80 + settings.len() + 8 * hosts as usize;
    let mut b = vec![0u8; end];
    b[..8].copy_from_slice(b"EDGERDR\x01");
    b[8..12].copy_from_slice(&artifact::FORMAT_VERSION.to_le_bytes());
    let flags = artifact::FLAG_HOST_HOMES | artifact::FLAG_HOST_TABLE;
    b[12..16].copy_from_slice(&flags.to_le_bytes());
    b[32..36].copy_from_slice(&parts.to_le_bytes());
    b[36..40].copy_from_slice(&parts.to_le_bytes());
    b[44..48].copy_from_slice(&(settings.len() as u32).to_le_bytes());
    b[52..56].copy_from_slice(&hosts.to_le_bytes());
    b[80..80 + settings.len()].copy_from_slice(settings);
    for k in 0..hosts as usize {
        let at = 80 + settings.len() + 8 * k;
        b[at..at + 8].copy_from_slice(&(k as u64).to_le_bytes());
    }
    let sum = fnv1a(&b[24..end]);
    b[16..24].copy_from_slice(&sum.to_le_bytes());
    b
}

#[test]
fn a_head_claiming_more_parts_than_the_cap_is_refused() {
    use edge_redirects::limits::MAX_ARTIFACT_PARTS;
    let at_cap = crafted_head(MAX_ARTIFACT_PARTS as u32, 0);
    let engine = Engine::load_head(at_cap).expect("a head at the cap loads");
    assert_eq!(
        engine.artifact().map(|(_, parts)| parts),
        Some(MAX_ARTIFACT_PARTS)
    );
    let over = crafted_head(MAX_ARTIFACT_PARTS as u32 + 2, 0);
    let error = Engine::load_head(over).unwrap_err().to_string();
    assert!(error.contains("parts"), "{error}");
}

#[test]
fn a_head_over_the_size_cap_is_refused() {
    use edge_redirects::limits::MAX_HEAD_BYTES;
    let hosts = (MAX_HEAD_BYTES / 8) as u32;
    let error = Engine::load_head(crafted_head(2, hosts))
        .unwrap_err()
        .to_string();
    assert!(error.contains("head of"), "{error}");
    assert!(Engine::load_head(crafted_head(2, hosts - 1024)).is_ok());
}

#[test]
fn the_head_stays_the_same_size_whatever_the_rule_count() {
    // The filter is in pages of about PAGE_HOMES homes: the head holds the header and the
    // settings, and a page stays near its size from 1,000 rules to 100,000.
    let sizes = |n: usize| {
        let rules: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"id":"e{i}","from":"/e/{i}","to":"/t/{i}"}}"#))
            .collect();
        let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
        let bytes = artifact::build(&text).unwrap();
        let pieces = artifact::split(&bytes).unwrap();
        let page = pieces.pages.iter().map(|p| p.len()).max().unwrap();
        (pieces.head.len(), page, pieces.pages.len())
    };
    let (small_head, small_page, _) = sizes(1_000);
    let (large_head, large_page, pages) = sizes(100_000);
    assert_eq!(small_head, large_head);
    assert!(pages >= 64, "{pages} pages");
    let most = 2 * 4 * artifact::PAGE_HOMES + 1024;
    assert!(large_page <= most, "a page of {large_page} bytes");
    println!(
        "head {large_head} bytes; largest page {small_page} bytes at 1,000 rules, {large_page} at 100,000"
    );
}

#[test]
fn a_part_costs_by_the_bytes_it_was_compiled_from() {
    // The cost of the piece for /p/3, cut from the part of a bundle of 80 rules whose `to`
    // has `extra` more bytes.
    let cost = |extra: usize| {
        let long = "x".repeat(extra);
        let rules: Vec<String> = (0..80)
            .map(|i| format!(r#"{{"id":"r{i}","from":"/p/{i}","to":"/t{long}/{i}"}}"#))
            .collect();
        let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
        let options = parts_of(1000);
        let stored = Stored::new(&artifact::build_with(&text, options).unwrap());
        let need = stored.needs(&RequestBuf::get("https://example.com/p/3"))[0];
        let part = stored.part(&need);
        let whole = part.cost();
        let (piece, others) = part.narrow(need.home);
        let sum: usize = others.iter().map(|p| p.cost()).sum::<usize>() + piece.cost();
        assert!(sum <= whole && sum + 80 * 4 >= whole, "{sum} of {whole}");
        (whole, piece.cost())
    };
    let (small_whole, small) = cost(0);
    let (large_whole, large) = cost(6000);
    // 80 rules of 6 KB stored: the part costs at least what it was compiled from.
    assert!(large_whole > 80 * 6000, "{large_whole}");
    assert!(
        large > 6000 && large < large_whole / 40,
        "{large} of {large_whole}"
    );
    assert!(
        small * 4 < large && small_whole * 4 < large_whole,
        "{small} vs {large}"
    );
}

#[test]
fn a_part_of_path_to_regexp_sources_costs_what_their_automata_take() {
    // Natively, a rule with such a source takes 1.8 KB once it has matched (its automaton and
    // the rest): a cache that costed it by its 90 bytes of JSON alone (0.7 KB) kept more than
    // twice the memory it was given.
    let rules: Vec<String> = (0..80)
        .map(|i| {
            format!(
                r#"{{"id":"g{i}","from":"/guide-{i}(/?)","from_syntax":"path-to-regexp","to":"/g/{i}"}}"#
            )
        })
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let stored = Stored::new(&artifact::build_with(&text, parts_of(1000)).unwrap());
    let need = stored.needs(&RequestBuf::get("https://example.com/guide-3"))[0];
    let part = stored.part(&need);
    assert!(part.cost() > 80 * 1800, "{}", part.cost());
}

#[test]
fn a_page_gives_the_length_of_each_part_so_a_longer_value_is_refused_unread() {
    let stored = Stored::new(&artifact::build(&mixed_bundle(300)).unwrap());
    let mut seen = 0;
    for request in requests(300) {
        for need in stored.needs(&request) {
            assert_eq!(need.part_bytes(), stored.parts[need.part].len());
            let mut longer = stored.parts[need.part].clone();
            longer.push(b' ');
            assert!(stored.engine.decode_part(&need, &longer).is_err());
            seen += 1;
        }
    }
    assert!(seen > 100, "{seen} needs");
}

/// Evaluates `request` through `stored`'s head with the pages and parts it says it needs, and
/// checks the decision is `expected`; returns how many homes it needed.
fn check_through_head(
    stored: &Stored,
    request: &RequestBuf,
    expected: &Decision<'_>,
    what: &str,
) -> usize {
    let needs = stored.needs(request);
    let decoded: Vec<_> = needs.iter().map(|need| stored.part(need)).collect();
    let refs: Vec<_> = decoded.iter().collect();
    let got = stored.decide_with(request, &refs);
    assert_eq!(got, shown(expected), "{what}: {}", request.url);
    needs.len()
}

/// Bundles shaped like real migrations, with `n` rules each: where the leading segments are
/// the same for every rule (a language, a date, one hot prefix), rules sharing their paths
/// over many hosts, and exact paths.
fn shaped_bundles(n: usize) -> Vec<(&'static str, String, Vec<String>)> {
    let langs = ["en", "de", "fr", "es", "it", "nl", "pt", "ja"];
    let mut out = Vec::new();
    let mut shape = |name, rule: &dyn Fn(usize) -> String, url: &dyn Fn(usize) -> String| {
        let rules: Vec<String> = (0..n).map(rule).collect();
        let urls = (0..n)
            .step_by(n / 200)
            .flat_map(|i| [url(i), url(i) + "x", url(i + n)])
            .collect();
        out.push((
            name,
            format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(",")),
            urls,
        ));
    };
    shape(
        "language prefix",
        &|i| {
            format!(r#"{{"id":"l{i}","from":"/:lang/products/item-{i}.html","to":"/:lang/p/{i}"}}"#)
        },
        &|i| {
            format!(
                "https://example.com/{}/products/item-{i}.html",
                langs[i % 8]
            )
        },
    );
    shape(
        "date prefix",
        &|i| format!(r#"{{"id":"d{i}","from":"/:year/:month/post-{i}","to":"/blog/post-{i}"}}"#),
        &|i| {
            format!(
                "https://example.com/20{}/0{}/post-{i}",
                10 + i % 15,
                1 + i % 9
            )
        },
    );
    shape(
        "hot prefix",
        &|i| {
            format!(r#"{{"id":"h{i}","from":"/shop/products/:id/review-{i}","to":"/reviews/{i}"}}"#)
        },
        &|i| format!("https://example.com/shop/products/{i}/review-{i}"),
    );
    shape(
        "multi-host",
        &|i| {
            format!(
                r#"{{"id":"m{i}","host":"site{}.example.com","from":"/page-{}","to":"/moved/{i}"}}"#,
                i % 50,
                i / 50
            )
        },
        &|i| format!("https://site{}.example.com/page-{}", i % 50, i / 50),
    );
    // Path-to-regexp sources as vercel.json writes them, one segment each and every literal
    // start the same for its first 6 bytes: routed by 4 bytes only, all of them share a home.
    // A slash or the end follows each start, so each is routed as a whole segment.
    shape(
        "shared literal start",
        &|i| {
            format!(
                r#"{{"id":"g{i}","from":"/guide-{i}(/?)","from_syntax":"path-to-regexp","to":"/guides/{i}"}}"#
            )
        },
        &|i| format!("https://example.com/guide-{i}"),
    );
    // The same with more of the segment after the start: routed by its first bytes.
    shape(
        "shared literal start, more after it",
        &|i| {
            format!(
                r#"{{"id":"s{i}","from":"/guide-{i}(-.*)?","from_syntax":"path-to-regexp","to":"/guides/{i}"}}"#
            )
        },
        &|i| format!("https://example.com/guide-{i}"),
    );
    out
}

#[test]
fn every_shape_keeps_its_parts_small_and_decides_as_the_json_bundle() {
    let n = 20_000;
    for (name, text, urls) in shaped_bundles(n) {
        let json = Engine::compile(&text).unwrap();
        let bytes = artifact::build(&text).unwrap();
        let stored = Stored::new(&bytes);
        // Each part near 64 rules: no home holds a shape's rules together.
        let largest = stored
            .parts
            .iter()
            .map(|p| u32::from_le_bytes(p[..4].try_into().unwrap()))
            .max()
            .unwrap();
        assert!(largest <= 3 * 64, "{name}: a part of {largest} rules");
        let mut read = 0;
        let mut hits = 0;
        for url in &urls {
            let request = RequestBuf::get(url);
            let expected = request.with(|r| json.evaluate(r));
            hits += usize::from(matches!(expected, Decision::Redirect(_)));
            let needed = check_through_head(&stored, &request, &expected, name);
            read = read.max(needed);
        }
        assert!(hits >= urls.len() / 3, "{name}: {hits} hits");
        // A literal start that more of the segment follows can be matched by rules whose starts
        // are shorter (`guide-1`, `guide-12`, `guide-123`): a request reads one home for each.
        let most = if name.ends_with("more after it") {
            6
        } else {
            3
        };
        assert!(read <= most, "{name}: a request needed {read} homes");
        println!("{name}: largest part {largest} rules, at most {read} homes a request");
    }
}

#[test]
fn paths_chosen_to_share_a_hash_do_not_share_a_part() {
    // 2,000 exact paths whose unkeyed FNV-1a (the routing hash of format 1) falls in part 0 of
    // the 32 exact parts a 2,000-rule build has: found by trying paths, as an author choosing
    // slugs can. Format 1 put all of them in one part; the keyed hash spreads them.
    let exact_parts = 2_000u64.div_ceil(64);
    let paths: Vec<String> = (0u64..)
        .map(|i| format!("/go/{i:x}"))
        .filter(|p| fnv1a(p.as_bytes()) % exact_parts == 0)
        .take(2_000)
        .collect();
    let rules: Vec<String> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| format!(r#"{{"id":"s{i}","from":"{p}","to":"/t/{i}"}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let bytes = artifact::build(&text).unwrap();
    let counts: Vec<u32> = artifact::split(&bytes)
        .unwrap()
        .parts
        .iter()
        .map(|p| u32::from_le_bytes(p[..4].try_into().unwrap()))
        .collect();
    assert_eq!(counts.iter().sum::<u32>(), 2_000);
    assert!(counts.iter().all(|&c| c <= 3 * 64), "{counts:?}");
}

#[test]
fn a_home_too_crowded_for_one_part_is_refused_at_build_naming_its_rules() {
    // 60,000 rules with no literal segment: all at the catch-all home, 5 MB of rules, about
    // 40 MB compiled: more than the worker's cache could keep.
    let rules: Vec<String> = (0..60_000)
        .map(|i| {
            format!(
                r#"{{"id":"c{i}","from":"/:a/:b","when":{{"query":{{"k":"{i}"}}}},"to":"/t/{i}"}}"#
            )
        })
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let error = artifact::build(&text).unwrap_err().to_string();
    assert!(error.contains("the limit is 6291456"), "{error}");
    assert!(error.contains("#0 ") && error.contains("\"c0\""), "{error}");
    assert!(error.contains("literal segment of their own"), "{error}");
}

/// A legacy site's crowded paths: `/product.php` told apart by `id` (and a few by `p`, one by
/// both), with rules on the same path that test no value, a glob, a capture, a host and the
/// path in its own case, in an order where each can shadow the others.
fn query_bundle(n: usize) -> String {
    let mut rules = Vec::new();
    for i in 0..n {
        rules.push(match i % 50 {
            7 => format!(r#"{{"id":"glob{i}","from":"/product.php","when":{{"query":{{"id":"{i}*"}}}},"to":"/glob/{i}"}}"#),
            13 => format!(r#"{{"id":"both{i}","from":"/product.php","when":{{"query":{{"id":"{i}","p":"x"}}}},"to":"/both/{i}"}}"#),
            21 => format!(r#"{{"id":"p{i}","from":"/product.php","when":{{"query":{{"p":"{i}"}}}},"to":"/page/{i}"}}"#),
            29 => format!(r#"{{"id":"host{i}","host":"shop.example.com","from":"/product.php","when":{{"query":{{"id":"{i}"}}}},"to":"/host/{i}"}}"#),
            33 => format!(r#"{{"id":"space{i}","from":"/product.php","when":{{"query":{{"id":"a b/{i}"}}}},"to":"/space/{i}"}}"#),
            41 => format!(r#"{{"id":"case{i}","from":"/Product.php","case_sensitive":true,"when":{{"query":{{"id":"{i}"}}}},"to":"/case/{i}"}}"#),
            _ => format!(r#"{{"id":"q{i}","from":"/product.php","when":{{"query":{{"id":"{i}"}}}},"to":"/p/{i}"}}"#),
        });
        if i == n / 2 {
            // Every later rule on the path with `lang=de` is shadowed by this one.
            rules.push(
                r#"{"id":"lang","from":"/product.php","when":{"query":{"lang":"de"}},"to":"/de"}"#
                    .into(),
            );
            rules.push(r#"{"id":"cap","from":"/product.php","when":{"query":{"ref":":r"}},"to":"/ref/:r"}"#.into());
        }
    }
    rules.push(r#"{"id":"rest","from":"/product.php","to":"/products"}"#.into());
    format!(
        r#"{{"version":1,"settings":{{"case_sensitive":false}},"rules":[{}]}}"#,
        rules.join(",")
    )
}

#[test]
fn rules_on_one_path_told_apart_by_a_query_value_live_apart_and_decide_as_from_json() {
    let n = 1_200;
    let text = query_bundle(n);
    let json = Engine::compile(&text).expect("the bundle compiles");
    let mut urls = Vec::new();
    for i in (0..n)
        .step_by(3)
        .chain((0..n).filter(|i| [7, 13, 21, 29, 33, 41].contains(&(i % 50))))
    {
        let e = "https://example.com";
        urls.push(format!("{e}/product.php?id={i}"));
        urls.push(format!("{e}/product.php?x=1&id={i}&p={i}"));
        urls.push(format!("{e}/product.php?id={i}&p=x"));
        urls.push(format!("https://shop.example.com/product.php?id={i}"));
        urls.push(format!("{e}/product.php?id=a+b%2F{i}"));
        urls.push(format!("{e}/product.php?id=a%20b/{i}"));
        urls.push(format!("{e}/Product.php?id={i}"));
        urls.push(format!("{e}/PRODUCT.PHP?id={i}&lang=de"));
        urls.push(format!("{e}/product.php?id={i}5"));
        // The value tested is among the first eight sent of `id`, or is the ninth.
        let before: String = (0..7).map(|k| format!("id=none{k}&")).collect();
        urls.push(format!("{e}/product.php?{before}id={i}"));
        urls.push(format!("{e}/product.php?{before}id=none7&id={i}"));
    }
    urls.push("https://example.com/product.php".into());
    urls.push("https://example.com/product.php?ref=abc".into());
    urls.push("https://example.com/product.php?ID=5".into());
    let requests: Vec<RequestBuf> = urls.iter().map(RequestBuf::get).collect();
    for part_rules in [1, 64] {
        let bytes = artifact::build_with(&text, parts_of(part_rules)).expect("builds");
        let stored = Stored::new(&bytes);
        let loaded = Engine::load(bytes).expect("loads");
        let mut redirects = 0;
        let mut most = 0;
        for request in &requests {
            // Decisions, not traces: rules a request cannot match are not read here.
            let expected = request.with(|r| json.evaluate(r));
            let got = request.with(|r| loaded.evaluate(r));
            assert_eq!(got, expected, "{}", request.url);
            let needs = stored.needs(request);
            let parts: Vec<Part> = needs.iter().map(|n| stored.part(n)).collect();
            let refs: Vec<&Part> = parts.iter().collect();
            let decision = request.with(|r| json.evaluate(r));
            assert_eq!(
                stored.decide_with(request, &refs),
                shown(&decision),
                "{}",
                request.url
            );
            let homes = needs.iter().map(|n| stored.part(n).narrow(n.home).0.len());
            most = most.max(homes.max().unwrap_or(0));
            redirects += usize::from(matches!(decision, Decision::Redirect(_)));
        }
        assert!(
            redirects > requests.len() / 2,
            "{redirects} of {}",
            requests.len()
        );
        // A request sending a thousand values of `id` needs the homes of the first eight
        // (the values conditions test) and of the path: not a thousand.
        let many: Vec<String> = (0..1000).map(|i| format!("id={}", 999 - i)).collect();
        let request = RequestBuf::get(format!(
            "https://example.com/product.php?{}",
            many.join("&")
        ));
        assert!(
            stored.needs(&request).len() <= 9,
            "{:?}",
            stored.needs(&request)
        );
        let expected = request.with(|r| json.evaluate(r));
        assert_eq!(request.with(|r| loaded.evaluate(r)), expected);
        // The path's rules that test no exact value (glob, lang, cap, rest: 27), not 1,200.
        assert!(
            most <= 32,
            "a request needed a home of {most} rules ({part_rules} a part)"
        );
    }
    // A reader that does not know a kind of home refuses the artifact rather than miss rules.
    let mut newer = artifact::build(&text).expect("builds");
    newer[63] |= 0x80;
    let error = Engine::load(newer).unwrap_err().to_string();
    assert!(
        error.contains("flags set that this engine does not know"),
        "{error}"
    );
}

#[test]
fn path_to_regexp_sources_decide_through_the_artifact_as_from_json() {
    // Sources as real vercel.json files write them, with and without a literal segment first.
    let sources = [
        ("/docs/:path*(/?)", "/manual/:path*"),
        ("/guides(/?)", "/learn"),
        ("/api/([^/]*)/v1", "/v1/$1"),
        ("/meta/(.*)", "/product/$1"),
        ("/platforms(/.*)?", "/deploy$1"),
        ("/blog/:id(\\d+)", "/posts/:id"),
        ("/:lang(en)?/about", "/company"),
        ("/(a|b)/x", "/x/$1"),
        ("/:lang(en|de)/shop/:item", "/:lang/store/:item"),
        ("/(.*)/legacy", "/old/$1"),
    ];
    let mut rules: Vec<String> = sources
        .iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let from = from.replace('\\', "\\\\");
            format!(r#"{{"id":"p{i}","from":"{from}","from_syntax":"path-to-regexp","to":"{to}"}}"#)
        })
        .collect();
    rules.extend(
        (0..40).map(|i| format!(r#"{{"id":"e{i}","from":"/guides/page-{i}","to":"/e/{i}"}}"#)),
    );
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let json = Engine::compile(&text).unwrap();
    let paths = [
        "/docs",
        "/docs/",
        "/docs/a/b",
        "/docs/a/b/",
        "/guides",
        "/guides/",
        "/guides/page-3",
        "/guidesx",
        "/api/users/v1",
        "/api//v1",
        "/meta/a/b",
        "/meta",
        "/platforms",
        "/platforms/x/y",
        "/platformsx",
        "/blog/12",
        "/blog/x",
        "/about",
        "/en/about",
        "/a/x",
        "/c/x",
        "/en/shop/hat",
        "/fr/shop/hat",
        "/x/y/legacy",
        "/legacy",
        "/nothing",
    ];
    for part_rules in [1, 4, 64] {
        let bytes = artifact::build_with(&text, parts_of(part_rules)).unwrap();
        let loaded = Engine::load(bytes.clone()).unwrap();
        let stored = Stored::new(&bytes);
        for path in paths {
            let url = format!("https://example.com{path}");
            let request = RequestBuf::get(&url);
            let expected = request.with(|r| json.evaluate(r));
            assert_eq!(
                request.with(|r| loaded.evaluate(r)),
                expected,
                "{path} ({part_rules})"
            );
            let what = format!("{path} through a head ({part_rules})");
            check_through_head(&stored, &request, &expected, &what);
        }
    }
}

#[test]
fn literal_starts_and_named_hosts_keep_a_request_from_reading_what_cannot_match() {
    // A path-to-regexp source and a shaped segment are routed by their literal start, not to
    // the catch-all every request reads: the source's whole (a slash or the end follows it),
    // the shaped segment's first bytes.
    let mut rules: Vec<String> = (0..300)
        .map(|i| {
            format!(
                r#"{{"id":"g{i}","from":"/p{i:03}-guide(/?)","from_syntax":"path-to-regexp","to":"/guide/{i}"}},{{"id":"s{i}","from":"/s{i:03}-{{:id}}","to":"/s/{i}/:id"}}"#
            )
        })
        .collect();
    rules.push(r#"{"id":"x","from":"/docs/:page","to":"/manual/:page"}"#.into());
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let json = Engine::compile(&text).unwrap();
    let stored = Stored::new(&artifact::build(&text).unwrap());
    for (path, needed) in [
        ("/zzzz", 0),
        ("/p0", 0),
        ("/p005-guide", 1),
        ("/p005-guide/", 1),
        ("/p005-guidex", 0),
        ("/s007-12", 1),
        ("/s007-", 1),
        ("/docs/a", 1),
    ] {
        let request = RequestBuf::get(format!("https://example.com{path}"));
        let expected = request.with(|r| json.evaluate(r));
        assert_eq!(
            check_through_head(&stored, &request, &expected, path),
            needed,
            "{path}"
        );
    }
    // Every rule names its host: a request for a host none names needs no page at all.
    let hosts: Vec<String> = (0..500)
        .map(|i| {
            format!(
                r#"{{"id":"h{i}","host":"site{}.example.com","from":"/page-{i}","to":"/moved/{i}"}}"#,
                i % 50
            )
        })
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, hosts.join(","));
    let json = Engine::compile(&text).unwrap();
    let stored = Stored::new(&artifact::build(&text).unwrap());
    for url in [
        "https://other.example.com/page-3",
        "https://example.com/page-3",
    ] {
        let request = RequestBuf::get(url);
        assert!(
            request.with(|r| stored.engine.pages_needed(r)).is_empty(),
            "{url}"
        );
        let expected = request.with(|r| json.evaluate(r));
        assert_eq!(check_through_head(&stored, &request, &expected, url), 0);
    }
    let request = RequestBuf::get("https://site3.example.com/page-3");
    let expected = request.with(|r| json.evaluate(r));
    assert!(matches!(expected, Decision::Redirect(_)));
    assert_eq!(check_through_head(&stored, &request, &expected, "site3"), 1);
}

#[test]
fn a_home_within_the_cache_budget_builds_and_decides_as_json() {
    // 4,000 rules on one path told apart by a glob of a query value: one home (an exact value
    // would route each apart), about 3 MB compiled, under MAX_HOME_COST; the catch-all test
    // above is over it.
    let rules: Vec<String> = (0..4_000)
        .map(|i| {
            format!(
                r#"{{"id":"q{i}","from":"/product.php","when":{{"query":{{"id":"{i}x*"}}}},"to":"/items/{i}"}}"#
            )
        })
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let json = Engine::compile(&text).unwrap();
    let stored = Stored::new(&artifact::build(&text).unwrap());
    for i in [0, 1999, 3999, 4000] {
        let request = RequestBuf::get(format!("https://example.com/product.php?id={i}xy"));
        let expected = request.with(|r| json.evaluate(r));
        assert_eq!(matches!(expected, Decision::Redirect(_)), i < 4000);
        check_through_head(&stored, &request, &expected, "query-keyed");
    }
}

#[test]
fn the_rule_limit_of_a_build_is_an_option() {
    let rules: Vec<String> = (0..101)
        .map(|i| format!(r#"{{"id":"e{i}","from":"/e/{i}","to":"/t/{i}"}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let options = |max_rules| Options {
        max_rules,
        ..Default::default()
    };
    let error = artifact::build_with(&text, options(100))
        .unwrap_err()
        .to_string();
    assert!(error.contains("101 rules; the limit is 100"), "{error}");
    assert!(error.contains("--max-rules"), "{error}");
    let bytes = artifact::build_with(&text, options(101)).expect("within the limit");
    assert_eq!(Engine::load(bytes).unwrap().rule_count(), 101);
}

#[test]
fn more_hosts_than_the_head_lists_still_route_every_request() {
    use edge_redirects::limits::MAX_HEAD_HOSTS;
    let n = MAX_HEAD_HOSTS + 10;
    let rules: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id":"h{i}","host":"s{i}.example.com","from":"/a","to":"/b/{i}"}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let bytes = artifact::build(&text).unwrap();
    let stored = Stored::new(&bytes);
    // No table of hosts in the head: a host no rule names reads the page of its homes.
    assert_eq!(
        stored.engine.artifact().map(|(_, parts)| parts > 0),
        Some(true)
    );
    let unnamed = RequestBuf::get("https://nobody.example.com/a");
    assert!(!unnamed.with(|r| stored.engine.pages_needed(r)).is_empty());
    let json = Engine::compile(&text).unwrap();
    for url in [
        "https://nobody.example.com/a",
        "https://s7.example.com/a",
        "https://s65540.example.com/a",
        "https://s7.example.com/b",
    ] {
        let request = RequestBuf::get(url);
        let expected = request.with(|r| json.evaluate(r));
        check_through_head(&stored, &request, &expected, url);
    }
}
