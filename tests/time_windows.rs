//! Many rules with time windows on one place of the index are found by instant, not tried one
//! by one. Whatever the index leaves out must be what trying every rule decides: checked here
//! against `explain` (which tries every candidate, open or not) at instants on and around
//! every bound, and the answer's freshness against the next decision.

use edge_redirects::{Decision, Engine, Request};
use serde_json::json;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
const HOUR: i64 = 3_600;

fn at(h: i64) -> String {
    edge_redirects::format_instant(T0 + HOUR * h)
}

/// Windows of every kind on `from`: consecutive, nested, overlapping, open at one end, empty,
/// combined with a country, and rules without a window (some with an `unless` window) among
/// them.
fn rules_on(from: &str, tag: &str, out: &mut Vec<serde_json::Value>) {
    for i in 0..24i64 {
        let id = format!("{tag}{i}");
        let to = format!("/{tag}/{i}");
        let mut rule = match i % 8 {
            0 => {
                json!({ "id": id, "from": from, "to": to, "when": { "after": at(i), "before": at(i + 1) } })
            }
            1 => {
                json!({ "id": id, "from": from, "to": to, "when": { "after": at(i - 5), "before": at(i + 7) } })
            }
            2 => json!({ "id": id, "from": from, "to": to, "when": { "before": at(i) } }),
            3 => json!({ "id": id, "from": from, "to": to, "when": { "after": at(i + 3) } }),
            4 => {
                json!({ "id": id, "from": from, "to": to, "when": { "after": at(i), "before": at(i) } })
            }
            5 => {
                json!({ "id": id, "from": from, "to": to, "when": { "after": at(i), "before": at(i + 2), "country": ["FR"] } })
            }
            6 => {
                json!({ "id": id, "from": from, "to": to, "unless": { "after": at(i - 30), "before": at(i + 4) } })
            }
            _ => {
                json!({ "id": id, "from": from, "to": to, "when": { "after": at(i - 1), "before": at(i + 1) } })
            }
        };
        // Permanent, so that an answer no visitor condition read may be stored.
        rule["status"] = json!(308);
        out.push(rule);
    }
    out.push(json!({ "id": format!("{tag}-geo"), "from": from, "to": format!("/{tag}/geo"), "when": { "country": ["IT"] } }));
    out.push(json!({ "id": format!("{tag}-rest"), "from": from, "to": format!("/{tag}/rest") }));
}

fn engine() -> Engine {
    let mut rules = Vec::new();
    rules_on("/sale", "exact", &mut rules);
    rules_on("/shop/:item", "pattern", &mut rules);
    rules_on("/promo/*", "splat", &mut rules);
    Engine::from_value(&json!({ "version": 1, "rules": rules })).expect("the bundle compiles")
}

fn same(a: &Decision<'_>, b: &Decision<'_>) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Seconds the answer says it may be stored, if it says so.
fn max_age(d: &Decision<'_>) -> Option<i64> {
    let Decision::Redirect(r) = d else {
        return None;
    };
    let cc = r
        .headers()
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("cache-control"))?
        .1
        .to_string();
    cc.split(',')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .and_then(|s| s.parse().ok())
}

#[test]
fn windows_found_by_instant_decide_as_every_rule_tried() {
    let engine = engine();
    let urls = [
        "https://example.com/sale",
        "https://example.com/shop/x",
        "https://example.com/promo/a/b",
    ];
    let countries = [None, Some("FR"), Some("DE"), Some("IT")];
    let mut instants: Vec<Option<i64>> = vec![None];
    for h in -8..36 {
        for s in [-1, 0, 1, HOUR / 2] {
            instants.push(Some(T0 + HOUR * h + s));
        }
    }
    let mut redirects = 0;
    for url in urls {
        for country in countries {
            for &now in &instants {
                let mut request = Request::get(url);
                request.now = now;
                request.geo.country = country;
                let decided = engine.evaluate(&request);
                let explained = engine.explain(&request).decision;
                assert!(
                    same(&decided, &explained),
                    "{url} {country:?} at {now:?}:\n{decided:?}\n{explained:?}"
                );
                if let (Some(now), Some(age)) = (now, max_age(&decided)) {
                    // Stored for `age` seconds: the last of them must still decide the same.
                    redirects += 1;
                    let mut later = request;
                    later.now = Some(now + age.max(1) - 1);
                    let Decision::Redirect(first) = &decided else {
                        unreachable!()
                    };
                    let Decision::Redirect(last) = engine.evaluate(&later) else {
                        panic!("{url} {country:?}: redirect at {now} kept {age} s, gone after");
                    };
                    assert_eq!(
                        (first.location.as_str(), first.rule),
                        (last.location.as_str(), last.rule),
                        "{url} {country:?} at {now}, kept {age} s"
                    );
                }
            }
        }
    }
    assert!(redirects > 100, "only {redirects} stored redirects checked");
}
