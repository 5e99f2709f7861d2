//! `redirects lint`: mistakes a valid bundle can still contain.
//!
//! - loops and chains: each rule's target is built from a sample request that satisfies the
//!   rule (placeholders filled with marker values, `when` conditions met), then followed through
//!   the engine as the same visitor would follow it;
//! - rules that never fire: an earlier rule without conditions whose host, methods and pattern
//!   cover the later one's (found through a trie of those rules, not by comparing pairs);
//! - duplicate sources: same host, methods, pattern shape and conditions;
//! - permanent statuses on rules that vary per visitor, and 301/302 on rules that accept
//!   methods other than GET and HEAD.

use crate::bundle::{load_valid, CmdResult};
use crate::output::{plural, print_json, Paint};
use crate::request_args::OwnedRequest;
use crate::Status;
use edge_redirects::{Decision, Engine, Rule, Segment};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::path::Path;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Blocks a deploy: exit 1.
    Error,
    /// Reported; exit 1 only with `--deny-warnings`.
    Warning,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable kebab-case code: `loop`, `chain`, `never-fires`, `duplicate-source`,
    /// `permanent-conditional`, `method-change`, `ignored-cache-headers`.
    pub code: &'static str,
    /// The rules involved, `(index, id)`, the one to change first.
    pub rules: Vec<(usize, String)>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// How many findings of one code the text output shows unless asked for all: a migrated
/// bundle can have thousands of the same warning.
const SHOWN_PER_CODE: usize = 10;

/// How many redirects lint follows before calling a chain a chain without end.
const MAX_HOPS: usize = 10;

/// Runs the command.
pub fn run(path: &Path, as_json: bool, deny_warnings: bool, all: bool) -> CmdResult {
    let Some((text, engine)) = load_valid(path)? else {
        return Ok(Status::Findings);
    };
    let raw: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let findings = lint(&engine, &raw);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let file = path.display().to_string();
    if as_json {
        let list: Vec<Value> = findings.iter().map(finding_json).collect();
        print_json(&json!({
            "file": file, "errors": errors, "warnings": warnings, "findings": list
        }));
    } else {
        let shown = if all { usize::MAX } else { SHOWN_PER_CODE };
        print!("{}", render(&file, &findings, shown, &Paint::stdout()));
    }
    Ok(if errors > 0 || (deny_warnings && warnings > 0) {
        Status::Findings
    } else {
        Status::Ok
    })
}

/// Every finding for a compiled bundle and its JSON text, ordered by rule.
pub fn lint(engine: &Engine, raw: &Value) -> Vec<Finding> {
    let rules = engine.rules();
    let raw_rules = raw
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut findings = Vec::new();
    shadowing(rules, &raw_rules, &mut findings);
    for rule in rules {
        statuses(rule, &mut findings);
        ignored_cache_headers(rule, &mut findings);
    }
    chains(engine, &raw_rules, &mut findings);
    findings.sort_by(|a, b| {
        (a.rules.first().map(|r| r.0), a.severity, a.code).cmp(&(
            b.rules.first().map(|r| r.0),
            b.severity,
            b.code,
        ))
    });
    findings
}

fn named(rule: &Rule) -> (usize, String) {
    (rule.index(), rule.id().to_string())
}

/// Cache headers on a rule whose answer depends on who asks: the engine keeps such an answer
/// `private, no-store` and drops shared-cache headers, so these never take effect.
fn ignored_cache_headers(rule: &Rule, findings: &mut Vec<Finding>) {
    const CACHE_HEADERS: [&str; 4] = [
        "cache-control",
        "cdn-cache-control",
        "cloudflare-cdn-cache-control",
        "surrogate-control",
    ];
    if !rule.per_visitor() {
        return;
    }
    let named_headers: Vec<&str> = rule
        .headers()
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| CACHE_HEADERS.iter().any(|c| n.eq_ignore_ascii_case(c)))
        .collect();
    if named_headers.is_empty() {
        return;
    }
    findings.push(Finding {
        severity: Severity::Warning,
        code: "ignored-cache-headers",
        rules: vec![named(rule)],
        message: format!(
            "the rule's answer depends on who asks (a split, or geo, language, cookie or header              conditions), so it is always sent with `Cache-Control: private, no-store` and              without shared-cache headers: its {} never take effect",
            named_headers.join(", ")
        ),
        hint: "remove these headers; a shared cache must never hand one visitor's answer to                another"
            .into(),
    });
}

fn statuses(rule: &Rule, findings: &mut Vec<Finding>) {
    let status = rule.status();
    let (when, unless) = (rule.when(), rule.unless());
    let varies = when.has_geo()
        || when.has_language()
        || when.has_cookie()
        || unless.has_geo()
        || unless.has_language()
        || unless.has_cookie()
        || rule.split().is_some();
    if matches!(status, 301 | 308) && varies {
        let what = if rule.split().is_some() {
            "an A/B split"
        } else {
            "geo, language or cookie conditions"
        };
        findings.push(Finding {
            severity: Severity::Warning,
            code: "permanent-conditional",
            rules: vec![named(rule)],
            message: format!(
                "status {status} is permanent, but the rule depends on {what}: browsers cache \
                 the redirect and never ask again, whatever the visitor's situation later"
            ),
            hint: "use 307 (or leave `status` out: the default is 307 for such rules)".into(),
        });
    }
    if matches!(status, 301 | 302) && !rule.forward() {
        let unsafe_methods: Vec<&str> = match rule.methods() {
            None => vec!["POST", "PUT", "PATCH", "DELETE"],
            Some(m) => m
                .iter()
                .map(String::as_str)
                .filter(|m| !matches!(*m, "GET" | "HEAD"))
                .collect(),
        };
        if !unsafe_methods.is_empty() {
            let which = if rule.methods().is_none() {
                "every method".to_string()
            } else {
                unsafe_methods.join(", ")
            };
            findings.push(Finding {
                severity: Severity::Warning,
                code: "method-change",
                rules: vec![named(rule)],
                message: format!(
                    "status {status} on a rule that matches {which}: clients may follow it \
                     with a GET and drop the request body"
                ),
                hint: format!(
                    "use {} to keep the method or 303 to switch to GET on purpose{}",
                    if status == 301 { 308 } else { 307 },
                    if rule.methods().is_none() {
                        ", or add \"methods\": [\"GET\", \"HEAD\"]"
                    } else {
                        ""
                    }
                ),
            });
        }
    }
}

/// A pattern segment with its placeholder name erased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Shape {
    Lit(String),
    Param,
    Splat,
}

fn shape(rule: &Rule) -> Vec<Shape> {
    rule.segments()
        .map(|s| match s {
            Segment::Literal(l) => Shape::Lit(l.to_string()),
            Segment::Param(_) => Shape::Param,
            Segment::Splat(_) => Shape::Splat,
        })
        .collect()
}

/// A node of the trie of unconditional rules.
#[derive(Default)]
struct Node {
    literal: HashMap<String, usize>,
    param: Option<usize>,
    /// Rules whose pattern ends with a splat here: they match anything below.
    splat: Vec<usize>,
    /// Rules whose pattern ends exactly here.
    end: Vec<usize>,
}

struct Trie {
    nodes: Vec<Node>,
}

impl Trie {
    fn new() -> Trie {
        Trie {
            nodes: vec![Node::default()],
        }
    }

    fn insert(&mut self, shape: &[Shape], rule: usize) {
        let mut at = 0;
        for seg in shape {
            let next = match seg {
                Shape::Splat => {
                    self.nodes[at].splat.push(rule);
                    return;
                }
                Shape::Lit(l) => self.nodes[at].literal.get(l).copied(),
                Shape::Param => self.nodes[at].param,
            };
            at = match next {
                Some(n) => n,
                None => {
                    self.nodes.push(Node::default());
                    let n = self.nodes.len() - 1;
                    match seg {
                        Shape::Lit(l) => {
                            self.nodes[at].literal.insert(l.clone(), n);
                        }
                        _ => self.nodes[at].param = Some(n),
                    }
                    n
                }
            };
        }
        self.nodes[at].end.push(rule);
    }

    /// Rules whose pattern matches every path `shape` matches.
    fn covering(&self, shape: &[Shape], out: &mut Vec<usize>) {
        self.walk(0, shape, out);
    }

    fn walk(&self, at: usize, shape: &[Shape], out: &mut Vec<usize>) {
        let node = &self.nodes[at];
        out.extend(&node.splat);
        match shape.first() {
            None => out.extend(&node.end),
            Some(Shape::Splat) => {}
            Some(Shape::Lit(l)) => {
                if let Some(&n) = node.literal.get(l) {
                    self.walk(n, &shape[1..], out);
                }
                if let Some(n) = node.param {
                    self.walk(n, &shape[1..], out);
                }
            }
            Some(Shape::Param) => {
                if let Some(n) = node.param {
                    self.walk(n, &shape[1..], out);
                }
            }
        }
    }
}

fn host_covers(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => a.strip_prefix("*.").is_some_and(|suffix| {
            let b = b.strip_prefix("*.").unwrap_or(b);
            b.len() > suffix.len()
                && b.ends_with(suffix)
                && b.as_bytes()[b.len() - suffix.len() - 1] == b'.'
        }),
    }
}

fn methods_cover(a: Option<&[String]>, b: Option<&[String]>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|m| a.contains(m)),
    }
}

/// Duplicate sources and rules an earlier unconditional rule always beats.
fn shadowing(rules: &[Rule], raw: &[Value], findings: &mut Vec<Finding>) {
    let key_of = |rule: &Rule| {
        let r = raw.get(rule.index());
        let text = |k: &str| r.and_then(|r| r.get(k)).map(Value::to_string);
        (
            rule.host().map(str::to_string),
            rule.methods().map(<[String]>::to_vec),
            shape(rule),
            text("when"),
            text("unless"),
        )
    };
    let mut seen = HashMap::new();
    let mut duplicates = HashSet::new();
    for rule in rules {
        match seen.entry(key_of(rule)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let first: &usize = first.get();
                let first = &rules[*first];
                duplicates.insert(rule.index());
                findings.push(Finding {
                    severity: Severity::Error,
                    code: "duplicate-source",
                    rules: vec![named(rule), named(first)],
                    message: format!(
                        "same source as rule {:?} (#{}): host, methods, pattern and conditions \
                         are identical, so this rule never fires",
                        first.id(),
                        first.index()
                    ),
                    hint: "delete one of them, or give this one the conditions that tell them \
                           apart"
                        .into(),
                });
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(rule.index());
            }
        }
    }
    let mut trie = Trie::new();
    for rule in rules {
        if rule.when().is_empty() && rule.unless().is_empty() {
            trie.insert(&shape(rule), rule.index());
        }
    }
    let mut candidates = Vec::new();
    for rule in rules {
        if duplicates.contains(&rule.index()) {
            continue;
        }
        candidates.clear();
        trie.covering(&shape(rule), &mut candidates);
        let winner = candidates
            .iter()
            .copied()
            .filter(|&a| a < rule.index())
            .filter(|&a| host_covers(rules[a].host(), rule.host()))
            .filter(|&a| methods_cover(rules[a].methods(), rule.methods()))
            .min();
        if let Some(a) = winner {
            let a = &rules[a];
            findings.push(Finding {
                severity: Severity::Warning,
                code: "never-fires",
                rules: vec![named(rule), named(a)],
                message: format!(
                    "never fires: rule {:?} (#{}, `{}`) comes first, has no conditions and \
                     matches every request this rule matches",
                    a.id(),
                    a.index(),
                    a.from()
                ),
                hint: format!(
                    "move this rule above {:?}, or delete it if it is obsolete",
                    a.id()
                ),
            });
        }
    }
}

/// Marker put in a sample URL for placeholder `name`, recognised again in targets.
fn marker(name: &str) -> String {
    format!("zz{name}zz")
}

/// A request that `rule` matches (when it can be built), with the markers it used.
/// `variant` names the A/B variant to ask for by cookie, for a split rule.
fn sample_request(
    rule: &Rule,
    raw: Option<&Value>,
    variant: Option<&str>,
) -> Option<(OwnedRequest, Vec<String>)> {
    let host = match rule.host() {
        None => "example.com".to_string(),
        Some(h) => match h.strip_prefix("*.") {
            Some(rest) => format!("www.{rest}"),
            None => h.to_string(),
        },
    };
    let mut url = url::Url::parse(&format!("https://{host}/")).ok()?;
    let mut names = Vec::new();
    {
        let mut path = url.path_segments_mut().ok()?;
        path.clear();
        for seg in rule.segments() {
            match seg {
                Segment::Literal(l) => {
                    path.push(l);
                }
                Segment::Param(n) | Segment::Splat(n) => {
                    path.push(&marker(n));
                    names.push(n.to_string());
                }
            }
        }
    }
    let mut req = OwnedRequest::get("");
    if let Some(m) = rule.methods() {
        if !m.iter().any(|m| m == "GET") {
            req.method = m.first()?.clone();
        }
    }
    let when = raw.and_then(|r| r.get("when"));
    let sample = |v: &str| -> String {
        if v == "*" {
            "1".to_string()
        } else {
            v.replace('*', "x")
        }
    };
    let entries = |k: &str| -> Vec<(String, String)> {
        when.and_then(|w| w.get(k))
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = |k: &str| -> Option<String> {
        when.and_then(|w| w.get(k))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in entries("query") {
            match v.strip_prefix(':') {
                Some(name) => {
                    query.append_pair(&k, &marker(name));
                    names.push(name.to_string());
                }
                None => {
                    query.append_pair(&k, &sample(&v));
                }
            }
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    for (k, v) in entries("header") {
        req.headers.push((k, sample(&v)));
    }
    let mut cookies: Vec<String> = entries("cookie")
        .into_iter()
        .map(|(k, v)| format!("{k}={}", sample(&v)))
        .collect();
    if let (Some(split), Some(variant)) = (rule.split(), variant) {
        cookies.push(format!("{}={variant}", split.cookie()));
    }
    if !cookies.is_empty() {
        req.headers.push(("cookie".into(), cookies.join("; ")));
    }
    if let Some(lang) = first("language") {
        req.headers.push(("accept-language".into(), lang));
    }
    req.country = first("country");
    req.continent = first("continent");
    req.region = first("region");
    req.city = first("city");
    req.url = url.to_string();
    Some((req, names))
}

/// The hosts a bundle's rules name: a redirect to another host leaves this bundle.
struct Hosts {
    exact: HashSet<String>,
    wildcard: Vec<String>,
}

impl Hosts {
    fn of(engine: &Engine) -> Hosts {
        let mut hosts = Hosts {
            exact: HashSet::new(),
            wildcard: Vec::new(),
        };
        for h in engine.rules().iter().filter_map(Rule::host) {
            if h.starts_with("*.") {
                if !hosts.wildcard.iter().any(|w| w == h) {
                    hosts.wildcard.push(h.to_string());
                }
            } else {
                hosts.exact.insert(h.to_string());
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
            || self.exact.contains(&host)
            || self
                .wildcard
                .iter()
                .any(|w| host_covers(Some(w), Some(&host)))
    }
}

/// Loops and chains, followed from every rule's own target.
fn chains(engine: &Engine, raw: &[Value], findings: &mut Vec<Finding>) {
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
            let Some((mut req, names)) = sample_request(rule, raw.get(rule.index()), variant)
            else {
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

/// Marker values written back as the placeholders they stand for.
fn unmark(text: &str, names: &[String]) -> String {
    let mut text = text.to_string();
    for name in names {
        text = text.replace(&marker(name), &format!(":{name}"));
    }
    text
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "severity": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "code": f.code,
        "rules": f.rules.iter().map(|(i, id)| json!({ "index": i, "id": id })).collect::<Vec<_>>(),
        "message": f.message,
        "hint": f.hint,
    })
}

fn render(file: &str, findings: &[Finding], shown: usize, paint: &Paint) -> String {
    let mut out = String::new();
    let mut per_code: Vec<(&str, usize)> = Vec::new();
    for f in findings {
        let seen = match per_code.iter_mut().find(|(c, _)| *c == f.code) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                per_code.push((f.code, 1));
                1
            }
        };
        if seen > shown {
            continue;
        }
        let head = match f.severity {
            Severity::Error => paint.red(&format!("error[{}]", f.code)),
            Severity::Warning => paint.yellow(&format!("warning[{}]", f.code)),
        };
        let who = f
            .rules
            .first()
            .map(|(i, id)| format!("rule #{i} {}", paint.cyan(&format!("{id:?}"))))
            .unwrap_or_default();
        let _ = writeln!(out, "{head} {who}");
        let _ = writeln!(out, "  {}", f.message);
        let _ = writeln!(out, "  {}", paint.dim(&format!("hint: {}", f.hint)));
    }
    for (code, n) in per_code.iter().filter(|(_, n)| *n > shown) {
        let _ = writeln!(
            out,
            "{}",
            paint.dim(&format!(
                "... and {} more [{code}] (`redirects lint --all` lists every one)",
                n - shown
            ))
        );
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let summary = format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    let summary = if errors > 0 {
        paint.red(&summary)
    } else if warnings > 0 {
        paint.yellow(&summary)
    } else {
        paint.green(&summary)
    };
    let _ = writeln!(out, "{file}: {summary}");
    out
}
