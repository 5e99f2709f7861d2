//! `artifact::build_file`: a bundle read from its file a rule at a time builds the very bytes
//! `artifact::build_with` builds from its text held whole, and fails with the same errors.

use edge_redirects::artifact::{self, BuildError, Options};
use edge_redirects::{CompileErrors, Engine, RequestBuf};
use edge_redirects_testkit::SplitMix64;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of its own for `text`, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(text: &str) -> Scratch {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("artifact-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.json", NEXT.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&path, text).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Both builds of `text` (the file's in buckets of `chunk` bytes): the bytes or the errors.
fn both(
    text: &str,
    options: Options,
    chunk: usize,
) -> (
    Result<Vec<u8>, CompileErrors>,
    Result<Vec<u8>, CompileErrors>,
) {
    let whole = artifact::build_with(text, options);
    let file = Scratch::new(text);
    let mut out = Vec::new();
    let streamed = match artifact::build_file_chunked(&file.0, options, chunk, &mut out) {
        Ok(built) => {
            assert_eq!(built.bytes, out.len());
            let engine = Engine::load(out.clone()).unwrap();
            assert_eq!(engine.artifact(), Some((built.id, built.parts)));
            assert_eq!(engine.rule_count(), built.rules);
            assert_eq!(engine.catch_all_rules(), Some(built.catch_all_rules));
            Ok(out)
        }
        Err(BuildError::Invalid(errors)) => {
            assert!(
                out.is_empty(),
                "an invalid bundle wrote {} bytes",
                out.len()
            );
            Err(errors)
        }
        Err(BuildError::Io(e)) => panic!("{e}"),
    };
    (whole, streamed)
}

/// Asserts both builds of `text` agree, byte for byte or error for error.
fn same(text: &str, options: Options, chunk: usize) -> Result<Vec<u8>, CompileErrors> {
    let (whole, streamed) = both(text, options, chunk);
    match (&whole, &streamed) {
        (Ok(a), Ok(b)) => assert!(
            a == b,
            "the builds differ ({} and {} bytes)",
            a.len(),
            b.len()
        ),
        _ => assert_eq!(whole, streamed),
    }
    whole
}

fn parts_of(part_rules: usize) -> Options {
    Options {
        part_rules,
        ..Default::default()
    }
}

/// Every bundle of the fixtures (`bundle` values and `bundle_text` texts).
fn fixture_bundles() -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("bundle", v) => {
                            out.push(serde_json::to_string(v).unwrap());
                            out.push(serde_json::to_string_pretty(v).unwrap());
                        }
                        ("bundle_text", Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = vec![std::fs::read_to_string(root().join("rules.json")).unwrap()];
    for dir in ["tests/fixtures/decisions", "tests/fixtures/errors"] {
        let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let value: Value =
                serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            walk(&value, &mut out);
        }
    }
    out
}

#[test]
fn every_fixture_builds_the_same_bytes_or_errors_from_its_file() {
    let bundles = fixture_bundles();
    assert!(bundles.len() > 100, "{}", bundles.len());
    let (mut built, mut refused) = (0, 0);
    for text in &bundles {
        match same(text, Options::default(), 1) {
            Ok(_) => built += 1,
            Err(_) => refused += 1,
        }
        let _ = same(text, parts_of(1), 64);
    }
    assert!(
        built > 30 && refused > 30,
        "{built} built, {refused} refused"
    );
}

/// A seeded bundle of `n` rules of every kind of home: exact paths, literal segments, prefixes,
/// the catch-all, hosts, rules of the other case, path-to-regexp sources; `settings` before or
/// after the rules (or none).
fn mixed(n: usize, seed: u64, settings: &str) -> String {
    let mut rng = SplitMix64(seed);
    let words = ["shop", "blog", "docs", "api", "Help", "news", "item", "x"];
    let rules: Vec<String> = (0..n)
        .map(|i| {
            let w = words[rng.below(words.len())];
            let v = words[rng.below(words.len())];
            let from = match rng.below(8) {
                0 => format!("/{w}/{v}-{i}"),
                1 => format!("/{w}/:slug/{i}"),
                2 => format!("/:lang/{w}/item-{{:id}}-{}", i % 7),
                3 => format!("/:a/:b/{i}-x"),
                4 => "/:a/:b".to_string(),
                5 => format!("/{w}/:rest*"),
                6 => format!("/{w}{}(/?)", i % 13),
                _ => format!("/{w}/{v}/{}", i % 5),
            };
            let syntax = if from.contains("(/?)") {
                r#","from_syntax":"path-to-regexp""#
            } else {
                ""
            };
            let host = match rng.below(4) {
                0 => format!(r#","host":"site-{}.example""#, i % 5),
                1 => r#","host":"*.example""#.to_string(),
                _ => String::new(),
            };
            let case = match rng.below(6) {
                0 => r#","case_sensitive":false"#,
                1 => r#","case_sensitive":true"#,
                _ => "",
            };
            let when = if from == "/:a/:b" {
                format!(r#","when":{{"query":{{"q":"{i}"}}}}"#)
            } else {
                String::new()
            };
            format!(r#"{{"id":"r{i}","from":"{from}"{syntax}{host}{case}{when},"to":"/t/{i}"}}"#)
        })
        .collect();
    let rules = rules.join(",\n  ");
    match settings {
        "" => format!("{{\"version\": 1, \"rules\": [\n  {rules}\n]}}\n"),
        s if s.starts_with("after:") => {
            format!(
                "{{\"version\": 1, \"rules\": [\n  {rules}\n], \"settings\": {}}}",
                &s[6..]
            )
        }
        s => format!(
            "{{\"$schema\": \"x\", \"settings\": {s}, \"version\": 1, \"rules\": [{rules}]}}"
        ),
    }
}

#[test]
fn generated_bundles_build_the_same_bytes_in_any_number_of_buckets() {
    for (n, seed, settings) in [
        (3_000, 1, ""),
        (
            3_000,
            2,
            r#"{"case_sensitive": false, "trailing_slash": "strict"}"#,
        ),
        (2_500, 3, r#"after:{"case_sensitive": false}"#),
        (
            4_000,
            4,
            r#"after:{"case_sensitive": true, "preserve_query": false}"#,
        ),
    ] {
        let text = mixed(n, seed, settings);
        let bytes = same(&text, Options::default(), 1 << 30).unwrap();
        let engine = Engine::load(bytes).unwrap();
        assert!(engine.page_count() > 1, "{} pages", engine.page_count());
        // One bucket a page, a few pages a bucket, and other part sizes.
        for chunk in [1, 4096, 64 << 10] {
            same(&text, Options::default(), chunk).unwrap();
        }
        same(&text, parts_of(5), 2048).unwrap();
    }
}

#[test]
fn settings_after_the_rules_route_them_as_settings_before_do() {
    // `/Docs/i` and `/docs/i` share a home when the bundle compares paths in any case: the
    // settings decide the homes even when written after the rules.
    let rules: Vec<String> = (0..500)
        .flat_map(|i| {
            [
                format!(r#"{{"id":"a{i}","from":"/Docs/{i}","to":"/a/{i}"}}"#),
                format!(r#"{{"id":"b{i}","from":"/docs/{i}","to":"/b/{i}"}}"#),
            ]
        })
        .collect();
    let rules = rules.join(",");
    let homes = |settings: &str| {
        let text = match settings {
            "" => format!(r#"{{"version":1,"rules":[{rules}]}}"#),
            s => format!(r#"{{"version":1,"rules":[{rules}],"settings":{s}}}"#),
        };
        let bytes = same(&text, Options::default(), 1).unwrap();
        u32::from_le_bytes(bytes[48..52].try_into().unwrap())
    };
    assert_eq!(homes(""), 1_000);
    assert_eq!(homes(r#"{"case_sensitive":true}"#), 1_000);
    assert_eq!(homes(r#"{"case_sensitive":false}"#), 500);
}

#[test]
fn a_bad_rule_mid_file_is_reported_with_its_pointer_and_nothing_is_written() {
    let good = mixed(2_000, 5, "");
    let text = good.replacen(r#""id":"r1234","from":"/"#, r#""id":"r1234","from":""#, 1);
    assert_ne!(good, text);
    let errors = same(&text, Options::default(), 1).unwrap_err();
    let shown = errors.to_string();
    assert!(shown.contains("/rules/1234/from"), "{shown}");
    let first = &errors.errors()[0];
    assert_eq!(first.rule_index, Some(1234));
    assert_eq!(first.rule_id.as_deref(), Some("r1234"));
    // Two rules of one id: the second is pointed at.
    let text = good.replacen(r#""id":"r1500""#, r#""id":"r7""#, 1);
    let shown = same(&text, Options::default(), 1).unwrap_err().to_string();
    assert!(shown.contains("/rules/1500/id"), "{shown}");
    // And with another error before it: both, in rule order.
    let text = text.replacen(r#""id":"r1234","from":"/"#, r#""id":"r1234","from":""#, 1);
    let errors = same(&text, Options::default(), 1).unwrap_err();
    let pointers: Vec<&str> = errors.errors().iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/rules/1234/from", "/rules/1500/id"]);
}

#[test]
fn text_that_is_not_a_usual_bundle_fails_as_the_text_held_whole_does() {
    let rules = mixed(50, 6, "");
    let body = &rules[rules.find('[').unwrap()..rules.rfind(']').unwrap() + 1];
    for text in [
        // A syntax error far into the file: the line and column of the text.
        rules.replacen(r#""to":"/t/40"}"#, r#""to":"/t/40"#, 1),
        // A second `rules`, a second `settings`.
        format!(r#"{{"version":1,"rules":[],"rules":{body}}}"#),
        format!(r#"{{"version":1,"settings":{{}},"rules":{body},"settings":{{}}}}"#),
        // Not an object, `rules` not an array, none at all, and the empty text.
        body.to_string(),
        r#"{"version":1,"rules":{"a":1}}"#.to_string(),
        r#"{"version":1}"#.to_string(),
        String::new(),
        // Not UTF-8 inside a string is refused by the file read before anything.
    ] {
        same(&text, Options::default(), 1).unwrap_err();
    }
    // More rules than allowed: counted, as the text held whole counts them.
    let options = Options {
        max_rules: 40,
        ..Default::default()
    };
    let error = same(&rules, options, 1).unwrap_err().to_string();
    assert!(error.contains("50 rules; the limit is 40"), "{error}");
}

#[test]
fn a_crowded_home_is_refused_from_the_file_naming_its_rules() {
    // 10,000 rules routed by one literal segment, `/one`: more than one home may cost. The
    // rules it names are read back from the bucket of that home's page.
    let rules: Vec<String> = (0..10_000)
        .map(|i| format!(r#"{{"id":"h{i}","from":"/one/:a/:b","when":{{"query":{{"k":"{i}"}}}},"to":"/t/{i}"}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    let error = same(&text, Options::default(), 4096)
        .unwrap_err()
        .to_string();
    assert!(error.contains("10000 rules share one home"), "{error}");
    assert!(error.contains("#0 ") && error.contains("\"h1\""), "{error}");
}

#[test]
fn parts_and_pages_over_their_byte_bounds_are_refused_naming_rules_and_a_fix() {
    // One path told apart by a glob of a query value (an exact value would route each apart).
    let crowded: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r#"{{"id":"q{i}","from":"/same","when":{{"query":{{"k":"{i}x*"}}}},"to":"/t/{i}"}}"#
            )
        })
        .collect();
    let crowded = format!(r#"{{"version":1,"rules":[{}]}}"#, crowded.join(","));
    let parts = |max_part_bytes| Options {
        max_part_bytes,
        ..Default::default()
    };
    let error = same(&crowded, parts(2_000), 512).unwrap_err().to_string();
    assert!(error.contains("the limit is 2000"), "{error}");
    assert!(error.contains("#0 ") && error.contains("\"q0\""), "{error}");
    // Under a bound the home fits (and at the default), the same bundle builds and decides.
    for options in [parts(8_000), Options::default()] {
        let bytes = same(&crowded, options, 512).expect("the home fits");
        let engine = Engine::load(bytes).expect("the artifact opens");
        let decision =
            RequestBuf::get("https://example.com/same?k=39xyz").with(|r| engine.evaluate(r));
        assert!(format!("{decision:?}").contains("/t/39"), "{decision:?}");
    }
    // With exact values, each lives apart by its value, the same from the file.
    let exact = crowded.replace("x*\"", "\"");
    let bytes = same(&exact, parts(2_000), 512).expect("each rule at its value");
    let engine = Engine::load(bytes).expect("the artifact opens");
    let decision = RequestBuf::get("https://example.com/same?k=39").with(|r| engine.evaluate(r));
    assert!(format!("{decision:?}").contains("/t/39?"), "{decision:?}");
    let spread: Vec<String> = (0..300)
        .map(|i| format!(r#"{{"id":"s{i}","from":"/s/{i}","to":"/t/{i}"}}"#))
        .collect();
    let spread = format!(r#"{{"version":1,"rules":[{}]}}"#, spread.join(","));
    // Rules of many homes are cut into parts that each keep under the bound: about 40 bytes a
    // rule stored, so at least 300 * 40 / 600 parts, where 64 rules a part make 5.
    let bytes = same(&spread, parts(600), 512).expect("small homes are cut under the bound");
    let (_, count) = Engine::load(bytes)
        .expect("opens")
        .artifact()
        .expect("an artifact");
    assert!(count > 300 * 40 / 600, "{count} parts");
    let pages = Options {
        max_page_bytes: 64,
        ..Default::default()
    };
    let error = same(&spread, pages, 512).unwrap_err().to_string();
    assert!(
        error.contains("of the filter would take") && error.contains("--part-rules"),
        "{error}"
    );
}

#[test]
fn a_missing_file_is_an_io_error() {
    let mut out = Vec::new();
    let missing = std::env::temp_dir().join("artifact-file-missing/none.json");
    match artifact::build_file(&missing, Options::default(), &mut out) {
        Err(BuildError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
}
