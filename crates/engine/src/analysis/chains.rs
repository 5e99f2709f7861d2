//! Loops and chains: every rule's own target, reached from a sample request, followed through
//! the engine hop by hop while it stays on hosts the bundle serves.

use super::sample::{sample_request, unmark};
use super::{host_covers, named, Finding, Severity};
use crate::answer::Decision;
use crate::engine::Engine;
use crate::model::rule::Rule;
use std::collections::{HashMap, HashSet};

/// How many redirects are followed before a chain is called a chain without end.
const MAX_HOPS: usize = 10;

/// The hosts a bundle's rules name: a redirect to another host leaves this bundle.
struct Hosts<'e> {
    exact: HashSet<&'e str>,
    wildcard: Vec<&'e str>,
}

impl<'e> Hosts<'e> {
    fn of(engine: &'e Engine) -> Self {
        let mut hosts = Hosts {
            exact: HashSet::new(),
            wildcard: Vec::new(),
        };
        for h in engine.rules().iter().filter_map(Rule::host) {
            if h.starts_with("*.") {
                if !hosts.wildcard.contains(&h) {
                    hosts.wildcard.push(h);
                }
            } else {
                hosts.exact.insert(h);
            }
        }
        hosts
    }

    /// Whether a redirect from `origin_host` to `location` stays on hosts this bundle serves.
    fn serves(&self, origin_host: &str, location: &str) -> bool {
        let Some(host) = url::Url::parse(location)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        else {
            return false;
        };
        host == origin_host
            || self.exact.contains(host.as_str())
            || self
                .wildcard
                .iter()
                .any(|w| host_covers(Some(w), Some(&host)))
    }
}

/// `loop` and `chain`, followed from every rule's own target (each variant's, for a split).
pub(super) fn check(engine: &Engine, findings: &mut Vec<Finding>) {
    let hosts = Hosts::of(engine);
    let by_id: HashMap<&str, usize> = engine.rules().iter().map(|r| (r.id(), r.index())).collect();
    let mut loops_seen: HashSet<Vec<usize>> = HashSet::new();
    for rule in engine.rules() {
        if rule.forward() {
            continue;
        }
        let variants: Vec<Option<&str>> = match rule.split() {
            Some(split) => split
                .variants()
                .iter()
                .filter(|v| v.to.is_some())
                .map(|v| Some(v.name.as_str()))
                .collect(),
            None => vec![None],
        };
        for variant in variants {
            let Some((mut req, names)) = sample_request(rule, variant) else {
                continue;
            };
            let first = req.with(|r| engine.evaluate(r));
            let Decision::Redirect(first) = first else {
                continue;
            };
            if first.rule != rule.id() {
                continue;
            }
            let origin_host = url::Url::parse(&req.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            let mut urls = vec![req.url.clone(), first.location.clone()];
            let mut hop_rules = vec![rule.index()];
            let mut status = first.status;
            let mut location = first.location.clone();
            let mut looped = None;
            while hop_rules.len() <= MAX_HOPS {
                if !hosts.serves(&origin_host, &location) {
                    break;
                }
                if matches!(status, 301..=303) {
                    req.method = "GET".to_string();
                }
                req.url = location.clone();
                let next = req.with(|r| engine.evaluate(r));
                let Decision::Redirect(next) = next else {
                    break;
                };
                let index = by_id.get(next.rule).copied().unwrap_or(usize::MAX);
                hop_rules.push(index);
                if let Some(at) = urls.iter().position(|u| *u == next.location) {
                    looped = Some(at);
                    urls.push(next.location.clone());
                    break;
                }
                urls.push(next.location.clone());
                status = next.status;
                location = next.location.clone();
            }
            for url in &mut urls {
                *url = unmark(url, &names);
            }
            let rules_named = |indexes: &[usize]| -> Vec<(usize, String)> {
                indexes
                    .iter()
                    .filter_map(|&i| engine.rules().get(i).map(named))
                    .collect()
            };
            if let Some(at) = looped {
                let cycle: Vec<usize> = hop_rules[at.min(hop_rules.len() - 1)..].to_vec();
                let mut key = cycle.clone();
                key.sort_unstable();
                key.dedup();
                if !loops_seen.insert(key) {
                    continue;
                }
                let ids: Vec<String> = cycle
                    .iter()
                    .chain(cycle.first())
                    .filter_map(|&i| engine.rules().get(i))
                    .map(|r| format!("{:?}", r.id()))
                    .collect();
                findings.push(Finding {
                    severity: Severity::Error,
                    code: "loop",
                    rules: rules_named(&cycle),
                    message: format!(
                        "redirect loop {}: {}",
                        ids.join(" → "),
                        urls[at..].join(" → ")
                    ),
                    hint: "point one of these rules at a page no rule redirects".into(),
                });
            } else if hop_rules.len() > 1 {
                let last = urls.last().cloned().unwrap_or_default();
                let suggestion = suggest(&last, &urls[0], &names, rule.to());
                let ids: Vec<String> = hop_rules[1..]
                    .iter()
                    .filter_map(|&i| engine.rules().get(i))
                    .map(|r| format!("{:?}", r.id()))
                    .collect();
                let endless = if hop_rules.len() > MAX_HOPS {
                    format!(" (stopped after {MAX_HOPS} redirects)")
                } else {
                    String::new()
                };
                findings.push(Finding {
                    severity: Severity::Warning,
                    code: "chain",
                    rules: rules_named(&hop_rules),
                    message: format!(
                        "redirect chain{endless}: {} (then {})",
                        urls.join(" → "),
                        ids.join(", ")
                    ),
                    hint: format!(
                        "send visitors there in one hop: write \"to\": {suggestion:?} in rule {:?}",
                        rule.id()
                    ),
                });
            }
        }
    }
}

/// The final URL of a chain, written back as a `to` for the first rule: markers become
/// placeholders again, query parameters that came from the sample request are dropped, and the
/// origin is dropped when the rule's own target is relative.
fn suggest(last: &str, start: &str, names: &[String], own_to: Option<&str>) -> String {
    let Ok(mut url) = url::Url::parse(last) else {
        return last.to_string();
    };
    let start = url::Url::parse(start).ok();
    let sample_pairs: HashSet<(String, String)> = start
        .as_ref()
        .map(|s| s.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|p| !sample_pairs.contains(p))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let same_origin = start.as_ref().is_some_and(|s| s.origin() == url.origin());
    let text = if same_origin && own_to.is_some_and(|t| t.starts_with('/')) {
        url[url::Position::BeforePath..].to_string()
    } else {
        url.to_string()
    };
    unmark(&text, names)
}
