//! The bundle of one input: its rule groups as JSON text, with a description of their shape.

use super::input::{
    letters, pick, Cond, Group, CONTINENTS, MAX_BUNDLE_TEXT, MAX_GROUP, MAX_LIST, MAX_RULES, NAMES,
    PRIMARY,
};
use edge_redirects::limits;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// One `when` or `unless` object for rule `i`; the flag says whether it captures `:c`
/// (only `when` may: `allow_capture`).
fn conditions(list: &[Cond], i: usize, allow_capture: bool) -> (Map<String, Value>, bool) {
    let mut out = Map::new();
    let (mut query, mut cookie, mut header) = (Map::new(), Map::new(), Map::new());
    // The parameter captured as `:c`; no later entry may replace that test.
    let mut captured: Option<String> = None;
    // Lists of codes: `n` entries, starting at the rule's index when `vary`.
    let codes = |n: u8, f: &dyn Fn(usize) -> String| -> Value {
        (0..1 + usize::from(n) % MAX_LIST)
            .map(f)
            .collect::<Vec<_>>()
            .into()
    };
    for c in list.iter().take(8) {
        match *c {
            Cond::Query(n, g) if captured.as_ref() != Some(&n.for_rule(i)) => {
                query.insert(n.for_rule(i), g.for_rule(i).into());
            }
            Cond::Capture(n) if allow_capture && captured.is_none() => {
                query.insert(n.for_rule(i), ":c".into());
                captured = Some(n.for_rule(i));
            }
            Cond::Query(..) => {}
            Cond::Capture(n) if captured.as_ref() != Some(&n.for_rule(i)) => {
                query.insert(n.for_rule(i), "*".into());
            }
            Cond::Capture(_) => {}
            Cond::Cookie(n, g) => {
                cookie.insert(n.for_rule(i), g.for_rule(i).into());
            }
            Cond::Header(n, g) => {
                header.insert(format!("x-{}", n.for_rule(i)), g.for_rule(i).into());
            }
            Cond::Language(n, vary) => {
                let start = if vary { i } else { 0 };
                let list = codes(n, &|k| match PRIMARY.get(start + k) {
                    Some(tag) => tag.to_string(),
                    // Three letters: never one of the request's tags.
                    None => format!("q{}", letters(start + k).to_lowercase()),
                });
                out.insert("language".into(), list);
            }
            Cond::Country(n, vary) => {
                let start = if vary { i } else { 0 };
                out.insert("country".into(), codes(n, &|k| letters(start + k)));
            }
            Cond::Continent(n) => {
                let list: Vec<&str> = CONTINENTS
                    .iter()
                    .copied()
                    .take(1 + usize::from(n) % 7)
                    .collect();
                out.insert("continent".into(), json!(list));
            }
            Cond::Region(n) => {
                out.insert("region".into(), codes(n, &|k| format!("R{}", k % 100)));
            }
            Cond::City(n) => {
                out.insert("city".into(), codes(n, &|k| format!("City {k}")));
            }
        }
    }
    for (key, map) in [("query", query), ("cookie", cookie), ("header", header)] {
        if !map.is_empty() {
            out.insert(key.into(), map.into());
        }
    }
    (out, captured.is_some())
}

/// The bundle text, a one-line description of its shape, and for each group a request path
/// and its number of shaped segments.
pub fn bundle(groups: &[Group]) -> (String, String, Vec<(&'static str, usize)>) {
    let mut rules: Vec<String> = Vec::new();
    let mut bytes = 0;
    let mut shape = String::new();
    let mut paths = Vec::new();
    let mut full = false;
    for (g, group) in groups.iter().take(4).enumerate() {
        let count = 1 + usize::from(group.count) % MAX_GROUP;
        let (pattern, path, shaped) = group.path.pattern(0);
        paths.push((path, shaped));
        let t = group.target;
        // Up to 1,020 names, as many as the engine's 8 KB limit on a target's text leaves room for.
        let names = usize::from(t.query_names) % MAX_LIST * 4;
        let mut made = 0;
        for i in 0..count {
            if rules.len() == MAX_RULES {
                full = true;
                break;
            }
            let mut rule = Map::new();
            rule.insert("id".into(), format!("g{g}r{i}").into());
            rule.insert("from".into(), group.path.pattern(i).0.into());
            let (when, captured) = conditions(&group.when, i, true);
            let (unless, _) = conditions(&group.unless, i, false);
            if !when.is_empty() {
                rule.insert("when".into(), when.into());
            }
            if !unless.is_empty() {
                rule.insert("unless".into(), unless.into());
            }
            if group.methods_post {
                rule.insert("methods".into(), json!(["POST"]));
            }
            let mut to = format!("/t{g}/{i}");
            if t.use_capture && captured {
                to.push_str("/:c");
            }
            let base = pick(NAMES, t.base);
            for k in 0..names {
                let item = format!("{base}{k}=1");
                // Room left for a split variant's `&v31`.
                if to.len() + 1 + item.len() > limits::MAX_TEXT_BYTES - 8 {
                    break;
                }
                to.push(if k == 0 { '?' } else { '&' });
                to.push_str(&item);
            }
            if let Some(p) = t.preserve_query {
                rule.insert("preserve_query".into(), p.into());
            }
            match group.split {
                Some(s) => {
                    let variants: Vec<Value> = (0..1 + usize::from(s.variants) % 32)
                        .map(|k| {
                            let to = if k == 0 && s.stay_first {
                                Value::Null
                            } else {
                                let sep = if to.contains('?') { '&' } else { '?' };
                                format!("{to}{sep}v{k}").into()
                            };
                            json!({ "name": format!("v{k}"), "weight": 1, "to": to })
                        })
                        .collect();
                    let cookie = format!("ab_{}", s.cookie.for_rule(i));
                    rule.insert(
                        "split".into(),
                        json!({ "cookie": cookie, "variants": variants }),
                    );
                }
                None => {
                    rule.insert("to".into(), to.into());
                }
            }
            let text = Value::Object(rule).to_string();
            if bytes + text.len() > MAX_BUNDLE_TEXT {
                full = true;
                break;
            }
            bytes += text.len() + 1;
            rules.push(text);
            made += 1;
        }
        let _ = write!(
            shape,
            "{}[{made} rules on {pattern}: when {:?}, unless {:?}, target {names} query names{}{}] ",
            if g == 0 { "" } else { "+ " },
            group.when.iter().take(8).collect::<Vec<_>>(),
            group.unless.iter().take(8).collect::<Vec<_>>(),
            if group.split.is_some() { ", split" } else { "" },
            if group.methods_post { ", POST only" } else { "" },
        );
        if full {
            break;
        }
    }
    let text = format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","));
    (text, shape, paths)
}
