//! First match wins, whatever the index does: random bundles of literal, `:param`, `:rest*` and
//! `*` rules with optional hosts and methods are evaluated by the engine and by a naive
//! file-order scan written here from the format document; both must pick the same rule.

use edge_redirects::{Decision, Engine, Request};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Seg {
    Lit(&'static str),
    Param,
    Rest,
}

#[derive(Debug, Clone)]
struct ModelRule {
    host: Option<&'static str>,
    methods: Option<&'static [&'static str]>,
    segments: Vec<Seg>,
}

impl ModelRule {
    fn from(&self) -> String {
        if self.segments.is_empty() {
            return "/".into();
        }
        let mut s = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            s.push('/');
            match seg {
                Seg::Lit(l) => s.push_str(l),
                Seg::Param => s.push_str(&format!(":p{i}")),
                Seg::Rest => s.push('*'),
            }
        }
        s
    }

    fn matches(&self, host: &str, method: &str, path: &[&str]) -> bool {
        let host_ok = match self.host {
            None => true,
            Some(h) => match h.strip_prefix("*.") {
                Some(apex) => host.ends_with(&format!(".{apex}")),
                None => host == h,
            },
        };
        let method_ok = self.methods.is_none_or(|m| m.contains(&method));
        host_ok && method_ok && path_matches(&self.segments, path)
    }
}

fn path_matches(pattern: &[Seg], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((Seg::Rest, _)) => true,
        Some((Seg::Lit(l), rest)) => path.first() == Some(l) && path_matches(rest, &path[1..]),
        Some((Seg::Param, rest)) => {
            path.first().is_some_and(|s| !s.is_empty()) && path_matches(rest, &path[1..])
        }
    }
}

const WORDS: [&str; 3] = ["a", "b", "c"];
const HOSTS: [&str; 4] = [
    "x.example.com",
    "y.example.com",
    "example.com",
    "deep.x.example.com",
];
const METHODS: [&str; 3] = ["GET", "POST", "HEAD"];

fn seg() -> impl Strategy<Value = Seg> {
    prop_oneof![
        4 => prop::sample::select(WORDS.to_vec()).prop_map(Seg::Lit),
        2 => Just(Seg::Param),
    ]
}

fn rule() -> impl Strategy<Value = ModelRule> {
    let host = prop_oneof![
        3 => Just(None),
        1 => Just(Some("x.example.com")),
        1 => Just(Some("*.example.com")),
        1 => Just(Some("*.x.example.com")),
    ];
    let methods: BoxedStrategy<Option<&'static [&'static str]>> = prop_oneof![
        3 => Just(None),
        1 => Just(Some(&["POST"][..])),
        1 => Just(Some(&["GET", "HEAD"][..])),
    ]
    .boxed();
    (
        host,
        methods,
        prop::collection::vec(seg(), 0..4),
        any::<bool>(),
    )
        .prop_map(|(host, methods, mut segments, rest)| {
            if rest {
                segments.push(Seg::Rest);
            }
            ModelRule {
                host,
                methods,
                segments,
            }
        })
}

fn request() -> impl Strategy<Value = (&'static str, &'static str, Vec<&'static str>)> {
    (
        prop::sample::select(HOSTS.to_vec()),
        prop::sample::select(METHODS.to_vec()),
        prop::collection::vec(prop::sample::select(WORDS.to_vec()), 0..5),
    )
}

fn bundle(rules: &[ModelRule]) -> String {
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v = serde_json::json!({
                "id": format!("r{i}"), "from": r.from(), "to": format!("/t{i}"), "status": 308
            });
            if let Some(h) = r.host {
                v["host"] = h.into();
            }
            if let Some(m) = r.methods {
                v["methods"] = m.iter().map(|s| serde_json::Value::from(*s)).collect();
            }
            v
        })
        .collect();
    serde_json::json!({ "version": 1, "rules": rules }).to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn engine_picks_the_first_matching_rule_in_file_order(
        rules in prop::collection::vec(rule(), 1..40),
        requests in prop::collection::vec(request(), 1..20),
    ) {
        let engine = Engine::compile(&bundle(&rules))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (host, method, path) in requests {
            let url = format!("https://{host}/{}", path.join("/"));
            let expected = rules.iter().position(|r| r.matches(host, method, &path));
            let request = Request { method, ..Request::get(&url) };
            let decision = engine.evaluate(&request);
            match (expected, &decision) {
                (None, Decision::Origin(p)) if p.rule.is_none() => {}
                (Some(i), Decision::Redirect(r)) => {
                    prop_assert_eq!(r.rule, format!("r{i}"), "{} {}", method, url);
                    prop_assert_eq!(&r.location, &format!("https://{host}/t{i}"));
                }
                _ => prop_assert!(
                    false,
                    "{} {}: expected rule {:?}, got {:?}\nrules: {:#?}",
                    method, url, expected.map(|i| format!("r{i}")), decision, rules
                ),
            }
        }
    }
}
