//! A/B assignment: 100,000 fresh visitors land within one percentage point of each weight share,
//! a cookie naming a known variant is sticky, and an unknown value is reassigned.

use edge_redirects::{random_from_fraction, Decision, Engine, Request};

const VISITORS: u64 = 100_000;

const BUNDLE: &str = r#"{
  "version": 1,
  "rules": [
    { "id": "pricing-test", "from": "/pricing", "split": { "cookie": "ab_pricing", "variants": [
      { "name": "control", "weight": 70, "to": null },
      { "name": "new", "weight": 30, "to": "/pricing-v2" } ] } },
    { "id": "three-way", "from": "/three", "split": { "variants": [
      { "name": "x", "weight": 1, "to": "/x" },
      { "name": "off", "weight": 0, "to": "/off" },
      { "name": "y", "weight": 1, "to": null },
      { "name": "z", "weight": 2, "to": "/z" } ] } }
  ]
}"#;

fn engine() -> Engine {
    Engine::compile(BUNDLE).expect("the A/B bundle compiles")
}

/// The platform's random source stands in as the shared seeded generator.
use edge_redirects_testkit::SplitMix64;

/// The variant a decision assigned, read from its `Set-Cookie` (`<cookie>=<variant>; ...`).
fn assigned(decision: &Decision<'_>, cookie: &str) -> Option<String> {
    let value = decision
        .headers()
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v)?;
    let pair = value.split(';').next()?;
    let (name, variant) = pair.split_once('=')?;
    (name == cookie).then(|| variant.to_string())
}

/// Assigns `VISITORS` fresh visitors of `url` (with the given Cookie header, if any) and returns
/// how many got each variant, in the order of `names`.
fn tally(
    engine: &Engine,
    url: &str,
    cookie_header: Option<&str>,
    cookie: &str,
    names: &[&str],
    mut random: impl FnMut(u64) -> u64,
) -> Vec<u64> {
    let mut counts = vec![0u64; names.len()];
    let headers: Vec<(&str, &str)> = cookie_header.map(|c| ("cookie", c)).into_iter().collect();
    for i in 0..VISITORS {
        let request = Request {
            headers: &headers,
            random: random(i),
            ..Request::get(url)
        };
        let decision = engine.evaluate(&request);
        let variant = assigned(&decision, cookie)
            .unwrap_or_else(|| panic!("visitor {i} got no assignment cookie: {decision:?}"));
        let slot = names
            .iter()
            .position(|n| *n == variant)
            .unwrap_or_else(|| panic!("unknown variant {variant:?} assigned"));
        counts[slot] += 1;
    }
    counts
}

fn assert_shares(counts: &[u64], weights: &[u64], names: &[&str]) {
    let total_weight: u64 = weights.iter().sum();
    for ((count, weight), name) in counts.iter().zip(weights).zip(names) {
        let share = *count as f64 / VISITORS as f64 * 100.0;
        let want = *weight as f64 / total_weight as f64 * 100.0;
        println!("{name}: {count} of {VISITORS} = {share:.2}% (weight share {want:.2}%)");
        assert!(
            (share - want).abs() < 1.0,
            "{name}: {share:.2}% is more than 1 percentage point from {want:.2}%"
        );
    }
}

#[test]
fn seventy_thirty_split_within_one_point_for_random_visitors() {
    let engine = engine();
    let mut rng = SplitMix64(0x5EED_1234);
    let names = ["control", "new"];
    let counts = tally(
        &engine,
        "https://example.com/pricing",
        None,
        "ab_pricing",
        &names,
        |_| rng.next_u64(),
    );
    assert_shares(&counts, &[70, 30], &names);
}

#[test]
fn seventy_thirty_split_is_exact_for_evenly_spread_fractions() {
    // Fractions (i + 0.5) / N cover [0, 1) evenly, so each variant must get its exact share
    // (give or take one visitor at each boundary).
    let engine = engine();
    let names = ["control", "new"];
    let counts = tally(
        &engine,
        "https://example.com/pricing",
        None,
        "ab_pricing",
        &names,
        |i| random_from_fraction((i as f64 + 0.5) / VISITORS as f64),
    );
    assert!(counts[0].abs_diff(70_000) <= 1, "control got {}", counts[0]);
    assert!(counts[1].abs_diff(30_000) <= 1, "new got {}", counts[1]);
}

#[test]
fn four_variants_with_a_zero_weight_within_one_point() {
    let engine = engine();
    let mut rng = SplitMix64(42);
    let names = ["x", "off", "y", "z"];
    let counts = tally(
        &engine,
        "https://example.com/three",
        None,
        "ab_three-way",
        &names,
        |_| rng.next_u64(),
    );
    assert_eq!(counts[1], 0, "a zero-weight variant is never assigned");
    assert_shares(&counts, &[1, 0, 1, 2], &names);
}

#[test]
fn unknown_cookie_value_is_reassigned_with_the_weights() {
    let engine = engine();
    let mut rng = SplitMix64(7);
    let names = ["control", "new"];
    let counts = tally(
        &engine,
        "https://example.com/pricing",
        Some("ab_pricing=retired-variant"),
        "ab_pricing",
        &names,
        |_| rng.next_u64(),
    );
    assert_shares(&counts, &[70, 30], &names);
}

#[test]
fn sticky_cookie_is_honoured_whatever_the_random_bits() {
    let engine = engine();
    let mut rng = SplitMix64(99);
    for (cookie, redirects) in [("ab_pricing=control", false), ("ab_pricing=new", true)] {
        let headers = [("cookie", cookie)];
        for _ in 0..10_000 {
            let request = Request {
                headers: &headers,
                random: rng.next_u64(),
                ..Request::get("https://example.com/pricing")
            };
            let decision = engine.evaluate(&request);
            match (&decision, redirects) {
                (Decision::Redirect(r), true) => {
                    assert_eq!(r.location, "https://example.com/pricing-v2");
                    assert_eq!(r.header("set-cookie"), None, "sticky cookie re-sent");
                }
                (Decision::Origin(p), false) => {
                    assert_eq!(p.rule, Some("pricing-test"));
                    assert!(
                        !decision
                            .headers()
                            .iter()
                            .any(|(n, _)| n.eq_ignore_ascii_case("set-cookie")),
                        "sticky cookie re-sent: {p:?}"
                    );
                }
                _ => panic!("{cookie}: unexpected decision {decision:?}"),
            }
        }
    }
}

#[test]
fn extreme_random_bits_assign_first_and_last_positive_variants() {
    let engine = engine();
    let at = |random: u64| {
        let request = Request {
            random,
            ..Request::get("https://example.com/three")
        };
        assigned(&engine.evaluate(&request), "ab_three-way")
    };
    assert_eq!(at(0).as_deref(), Some("x"));
    assert_eq!(at(u64::MAX).as_deref(), Some("z"));
}
