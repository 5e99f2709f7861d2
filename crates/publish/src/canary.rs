//! Which visitors a canary serves, and the decision while one runs.
//!
//! A visitor is in a canary's share by their address ([`in_canary`]), so the same visitor
//! stays with the same version while the canary runs. Whatever version answers, the answer is
//! compared with the version the visitor is not served: where the two answer differently, or
//! the other's answer is unknown (its parts could not be read), the answer depends on who asks
//! and is made per-visitor ([`Decision::make_per_visitor`]: `private, no-store` for a
//! redirect), so no shared cache hands one visitor's version to another.

use edge_redirects::{Decision, Engine, Request, Supply};

/// The bucket, 0 to 99, an address falls in: FNV-1a 32 of its bytes, mod 100.
pub fn bucket(address: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in address.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % 100
}

/// Whether a visitor is served a canary given `percent` % of visitors: those whose address is
/// in a bucket below `percent`. A visitor without an address is never.
pub fn in_canary(address: Option<&str>, percent: u32) -> bool {
    address.is_some_and(|a| bucket(a) < percent)
}

/// The version that answers a visitor, and while a canary runs (`canary`: the canary and its
/// share in percent) the version its answer is compared with: the canary for the visitors in
/// its share ([`in_canary`]), the stable version for the others.
pub fn pick<V>(stable: V, canary: Option<(V, u32)>, address: Option<&str>) -> (V, Option<V>) {
    match canary {
        Some((canary, percent)) if in_canary(address, percent) => (canary, Some(stable)),
        Some((canary, _)) => (stable, Some(canary)),
        None => (stable, None),
    }
}

/// The version the visitor is not served, when a canary runs: its engine and the pages and
/// parts the request needs of it, `None` when they could not be read.
pub type Other<'a> = Option<(&'a Engine, Option<Supply<'a, 'a>>)>;

/// The decision of `engine` (with what the request needs of it, `supply`) for `request`; when
/// a canary runs (`other` is given), made per-visitor unless the other version is known to
/// give the same answer.
pub fn decide<'e>(
    engine: &'e Engine,
    supply: Supply<'_, 'e>,
    other: Other<'_>,
    request: &Request<'_>,
) -> Decision<'e> {
    let mut decision = engine.evaluate_with(request, supply);
    if let Some((other, supply)) = other {
        let same = supply
            .is_some_and(|supply| other.evaluate_with(request, supply).same_answer(&decision));
        if !same {
            decision.make_per_visitor();
        }
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    const STABLE: &str = r#"{"version":1,"rules":[
        {"id":"a","from":"/a","to":"/one"},
        {"id":"b","from":"/b","to":"/same"}]}"#;
    const CANARY: &str = r#"{"version":1,"rules":[
        {"id":"a","from":"/a","to":"/two"},
        {"id":"b","from":"/b","to":"/same"}]}"#;

    fn cache_control(d: &Decision<'_>) -> String {
        d.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default()
    }

    fn address(n: u32) -> String {
        format!("203.0.{}.{}", n / 256, n % 256)
    }

    #[test]
    fn buckets_spread_evenly_over_addresses() {
        let mut counts = [0u32; 100];
        for n in 0..100_000 {
            counts[bucket(&address(n)) as usize] += 1;
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(
            *min > 850 && *max < 1150,
            "buckets from {min} to {max} of 1000 expected"
        );
        let served = (0..100_000)
            .filter(|&n| in_canary(Some(&address(n)), 10))
            .count();
        assert!(
            (9_000..11_000).contains(&served),
            "{served} of 100,000 at 10 %"
        );
    }

    #[test]
    fn the_bucket_is_the_fnv_1a_the_tests_of_the_worker_compute() {
        // FNV-1a 32 of "" is the offset basis 0x811c9dc5 = 2166136261; of "a", 0xe40c292c.
        assert_eq!(bucket(""), 2_166_136_261 % 100);
        assert_eq!(bucket("a"), 0xe40c_292c % 100);
    }

    #[test]
    fn a_visitor_stays_on_one_side() {
        for n in 0..1000 {
            let a = address(n);
            let first = in_canary(Some(&a), 37);
            assert!((0..10).all(|_| in_canary(Some(&a), 37) == first));
            // A larger share keeps everyone it had.
            assert!(!first || in_canary(Some(&a), 60));
        }
    }

    #[test]
    fn shares_at_the_edges() {
        assert!((0..1000).all(|n| !in_canary(Some(&address(n)), 0)));
        assert!((0..1000).all(|n| in_canary(Some(&address(n)), 100)));
        assert!(!in_canary(None, 100));
    }

    #[test]
    fn the_visitor_s_version_answers_and_the_other_is_compared() {
        assert_eq!(pick("stable", None, Some("203.0.113.9")), ("stable", None));
        let (inside, outside): (Vec<u32>, Vec<u32>) =
            (0..1000).partition(|&n| in_canary(Some(&address(n)), 30));
        assert!(!inside.is_empty() && !outside.is_empty());
        for n in inside {
            let got = pick("stable", Some(("canary", 30)), Some(&address(n)));
            assert_eq!(got, ("canary", Some("stable")));
        }
        for n in outside {
            let got = pick("stable", Some(("canary", 30)), Some(&address(n)));
            assert_eq!(got, ("stable", Some("canary")));
        }
        // No address: the stable version, still compared with the canary.
        assert_eq!(
            pick("stable", Some(("canary", 100)), None),
            ("stable", Some("canary"))
        );
    }

    /// The two versions: they answer `/a` differently and `/b` alike.
    fn versions() -> (Engine, Engine) {
        (
            Engine::compile(STABLE).unwrap(),
            Engine::compile(CANARY).unwrap(),
        )
    }

    /// Whether a decision is per-visitor: `private, no-store`.
    fn per_visitor(d: &Decision<'_>) -> bool {
        let cc = cache_control(d);
        cc.contains("private") && cc.contains("no-store")
    }

    #[test]
    fn answers_that_differ_are_per_visitor() {
        let (stable, canary) = versions();
        let request = Request::get("https://example.com/a");
        let alone = decide(&stable, Supply::default(), None, &request);
        assert!(
            !cache_control(&alone).contains("private"),
            "{}",
            cache_control(&alone)
        );
        for (mine, theirs) in [(&stable, &canary), (&canary, &stable)] {
            let d = decide(
                mine,
                Supply::default(),
                Some((theirs, Some(Supply::default()))),
                &request,
            );
            assert!(per_visitor(&d), "{}", cache_control(&d));
        }
    }

    #[test]
    fn answers_that_agree_stay_shared() {
        let (stable, canary) = versions();
        let request = Request::get("https://example.com/b");
        let alone = decide(&stable, Supply::default(), None, &request);
        let d = decide(
            &stable,
            Supply::default(),
            Some((&canary, Some(Supply::default()))),
            &request,
        );
        assert_eq!(cache_control(&d), cache_control(&alone));
        assert!(!cache_control(&d).contains("private"));
    }

    #[test]
    fn an_unknown_other_answer_is_per_visitor() {
        let (stable, canary) = versions();
        let request = Request::get("https://example.com/b");
        let d = decide(&stable, Supply::default(), Some((&canary, None)), &request);
        assert!(per_visitor(&d), "{}", cache_control(&d));
    }
}
