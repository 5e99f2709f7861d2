//! The JSON engine's answers for the large benchmarks (benches/peers/large-shapes.mjs): the
//! bundle compiled from its JSON text by the engine crate, natively, and asked for the status
//! and `Location` of each sampled request. The worker's answers (from the artifact, through
//! KV or embedded) are compared with these.
//!
//!   bench-oracle RULES.json REQUESTS.json OUT.json
//!
//! `redirects test` and `explain` read at most 32 MiB of JSON (the limit of JSON compiled in an
//! isolate); a bundle of a million rules is over 100 MB, so this reads the text into a parsed
//! tree and compiles that (`Engine::from_value`), which only the rule count limits. A bundle
//! over that count (`MAX_RULES`) is compiled as consecutive slices of it in file order, each
//! with the bundle's settings, and a request is answered by the first slice with a rule that
//! redirects it: the first rule in file order, as the whole bundle's (exact for bundles whose
//! rules only redirect, as the generated shapes). Writes
//! `[{"status": 308, "location": "https://..."} | {"status": null}, ...]` in request order
//! (`null`: no redirect, the request goes to the origin) and prints the time taken.

use std::time::Instant;

use edge_redirects::limits::MAX_RULES;
use edge_redirects::{Decision, Engine, Geo, Request};

#[derive(serde::Deserialize)]
struct Sample {
    url: String,
    #[serde(default)]
    method: Option<String>,
}

#[derive(serde::Serialize)]
struct Answer {
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rules, requests, out] = args.as_slice() else {
        eprintln!("usage: bench-oracle RULES.json REQUESTS.json OUT.json");
        std::process::exit(2);
    };
    let start = Instant::now();
    let text = std::fs::read_to_string(rules).unwrap_or_else(|e| fail(&format!("{rules}: {e}")));
    let mut value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| fail(&format!("{rules}: {e}")));
    drop(text);
    let all = match value.get_mut("rules").map(serde_json::Value::take) {
        Some(serde_json::Value::Array(all)) => all,
        _ => fail(&format!("{rules}: no rules array")),
    };
    let engines: Vec<Engine> = all
        .chunks(MAX_RULES)
        .map(|slice| {
            value["rules"] = serde_json::Value::Array(slice.to_vec());
            Engine::from_value(&value).unwrap_or_else(|e| fail(&format!("{rules}: {e}")))
        })
        .collect();
    drop((value, all));
    let compiled = start.elapsed();
    let samples: Vec<Sample> = serde_json::from_str(
        &std::fs::read_to_string(requests).unwrap_or_else(|e| fail(&format!("{requests}: {e}"))),
    )
    .unwrap_or_else(|e| fail(&format!("{requests}: {e}")));
    let answers: Vec<Answer> = samples
        .iter()
        .map(|s| {
            let request = Request {
                method: s.method.as_deref().unwrap_or("GET"),
                url: &s.url,
                headers: &[],
                geo: Geo::default(),
                random: 0,
                now: None,
                ip: None,
            };
            let redirect = engines.iter().find_map(|engine| match engine.evaluate(&request) {
                Decision::Redirect(r) => Some(r),
                _ => None,
            });
            match redirect {
                Some(r) => Answer {
                    status: Some(r.status),
                    location: Some(r.location),
                    rule: Some(r.rule.to_string()),
                },
                None => Answer { status: None, location: None, rule: None },
            }
        })
        .collect();
    std::fs::write(out, serde_json::to_vec(&answers).expect("answers serialise"))
        .unwrap_or_else(|e| fail(&format!("{out}: {e}")));
    println!(
        "{} rules compiled from JSON in {:.1} s; {} requests answered",
        engines.iter().map(Engine::rule_count).sum::<usize>(),
        compiled.as_secs_f64(),
        answers.len()
    );
}

fn fail(message: &str) -> ! {
    eprintln!("bench-oracle: {message}");
    std::process::exit(1);
}
