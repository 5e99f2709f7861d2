//! The rule index: exact paths in a hash map, patterns in a segment trie, one pair per host
//! restriction. A lookup returns candidate rule indexes; file order among them is restored by
//! sorting, so the cost of a request does not grow with the number of rules.

use crate::pattern::{Pattern, Segment};
use crate::request_url::PathSegments;
use crate::rule::Rule;
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};
use smallvec::SmallVec;
use std::hash::BuildHasher;

/// The exact-path key of rule `r` (a rule with an exact pattern).
fn key_of(rules: &[Rule], r: u32) -> &str {
    rules[r as usize].pattern.exact_key()
}

fn hash(key: &str) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// The candidate rules of one request (rarely more than a few).
pub(crate) type Candidates = SmallVec<[u32; 8]>;

/// Rule indexes (positions in `rules`), ascending.
type Ids = Vec<u32>;

#[derive(Debug, Default)]
struct Node {
    literal: HashMap<Box<str>, u32>,
    param: Option<u32>,
    /// Rules whose pattern ends here.
    end: Ids,
    /// Rules whose pattern ends here with a splat (zero or more further segments).
    splat: Ids,
}

/// Exact map plus segment trie for one host restriction.
///
/// The exact map holds rule numbers only, 4 bytes each: a path's key is read from the pattern
/// of its first rule, so no key is stored twice.
#[derive(Debug)]
struct PathIndex {
    /// The first rule of each exact path.
    exact: HashTable<u32>,
    /// Later rules with the same exact path as a first one, by the first.
    more: HashMap<u32, Vec<u32>>,
    nodes: Vec<Node>,
}

impl Default for PathIndex {
    fn default() -> Self {
        PathIndex {
            exact: HashTable::new(),
            more: HashMap::default(),
            nodes: vec![Node::default()],
        }
    }
}

impl PathIndex {
    fn insert(&mut self, rules: &[Rule], pattern: &Pattern, rule: u32) {
        if pattern.is_exact() {
            let key = pattern.exact_key();
            let h = hash(key);
            match self.exact.find(h, |&r| key_of(rules, r) == key) {
                Some(&first) => self.more.entry(first).or_default().push(rule),
                None => {
                    self.exact
                        .insert_unique(h, rule, |&r| hash(key_of(rules, r)));
                }
            }
            return;
        }
        let mut node = 0usize;
        for seg in pattern.segments() {
            match seg {
                Segment::Literal(l) => {
                    let next = self.nodes.len() as u32;
                    let child = *self.nodes[node].literal.entry(l.into()).or_insert(next);
                    if child == next {
                        self.nodes.push(Node::default());
                    }
                    node = child as usize;
                }
                Segment::Param(_) => {
                    let child = match self.nodes[node].param {
                        Some(c) => c,
                        None => {
                            let c = self.nodes.len() as u32;
                            self.nodes.push(Node::default());
                            self.nodes[node].param = Some(c);
                            c
                        }
                    };
                    node = child as usize;
                }
                Segment::Splat(_) => {
                    self.nodes[node].splat.push(rule);
                    return;
                }
            }
        }
        self.nodes[node].end.push(rule);
    }

    fn collect(&self, rules: &[Rule], path: &PathSegments<'_>, key: &str, out: &mut Candidates) {
        if let Some(&first) = self.exact.find(hash(key), |&r| key_of(rules, r) == key) {
            out.push(first);
            if let Some(more) = self.more.get(&first) {
                out.extend_from_slice(more);
            }
        }
        if self.nodes.len() > 1 || !self.nodes[0].splat.is_empty() {
            self.walk(0, path, 0, out);
        }
    }

    fn walk(&self, node: usize, path: &PathSegments<'_>, i: usize, out: &mut Candidates) {
        let n = &self.nodes[node];
        out.extend_from_slice(&n.splat);
        let Some(seg) = path.decoded.get(i) else {
            out.extend_from_slice(&n.end);
            return;
        };
        if let Some(&child) = n.literal.get(seg.as_ref()) {
            self.walk(child as usize, path, i + 1, out);
        }
        if let Some(child) = n.param {
            if !seg.is_empty() {
                self.walk(child as usize, path, i + 1, out);
            }
        }
    }
}

/// All rules, indexed by host restriction and path.
#[derive(Debug, Default)]
pub(crate) struct Index {
    any_host: PathIndex,
    exact_host: HashMap<Box<str>, PathIndex>,
    wildcard_host: HashMap<Box<str>, PathIndex>,
}

impl Index {
    /// Indexes `rules` (their patterns and host restrictions).
    pub(crate) fn build(rules: &[Rule]) -> Index {
        let mut index = Index::default();
        let exact_any_host = rules
            .iter()
            .filter(|r| r.host().is_none() && r.pattern.is_exact())
            .count();
        index
            .any_host
            .exact
            .reserve(exact_any_host, |&r| hash(key_of(rules, r)));
        for (i, rule) in rules.iter().enumerate() {
            index.insert(rules, rule.host(), &rule.pattern, i as u32);
        }
        index
    }

    /// Adds rule `rule` with its pattern and host restriction (normalised, `*.` for wildcards).
    fn insert(&mut self, rules: &[Rule], host: Option<&str>, pattern: &Pattern, rule: u32) {
        let index = match host {
            None => &mut self.any_host,
            Some(h) => match h.strip_prefix("*.") {
                Some(suffix) => self.wildcard_host.entry(suffix.into()).or_default(),
                None => self.exact_host.entry(h.into()).or_default(),
            },
        };
        index.insert(rules, pattern, rule);
    }

    /// Candidate rules for a host (lower-case) and path, ascending by file order.
    pub(crate) fn candidates(
        &self,
        rules: &[Rule],
        host: &str,
        path: &PathSegments<'_>,
        out: &mut Candidates,
    ) {
        let key = path.key();
        self.any_host.collect(rules, path, &key, out);
        if !self.exact_host.is_empty() {
            if let Some(idx) = self.exact_host.get(host) {
                idx.collect(rules, path, &key, out);
            }
        }
        if !self.wildcard_host.is_empty() {
            let mut rest = host;
            while let Some(dot) = rest.find('.') {
                rest = &rest[dot + 1..];
                if let Some(idx) = self.wildcard_host.get(rest) {
                    idx.collect(rules, path, &key, out);
                }
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }
}
