//! The rule index: exact paths in a hash map, patterns in a segment trie, one pair per host
//! restriction. A lookup returns candidate rule indexes; file order among them is restored by
//! sorting, so the cost of a request does not grow with the number of rules.

use crate::condition::{Condition, Glob, QueryTest};
use crate::evaluate::request_url::PathSegments;
use crate::evaluate::visitor::Query;
use crate::pattern::{Pattern, Segment};
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

/// The rules sharing one exact path beyond the first.
#[derive(Debug)]
enum Shared {
    /// Every one is a candidate.
    List(Vec<u32>),
    /// Many rules told apart by the value of one query parameter (a lookup table such as
    /// `/product.php?id=123 → /items/123`): all of them, keyed by that value.
    Keyed(Keyed),
}

impl Default for Shared {
    fn default() -> Self {
        Shared::List(Vec::new())
    }
}

/// Rules of one path keyed by the exact value their `when.query` requires for one parameter.
#[derive(Debug)]
struct Keyed {
    /// The parameter, as the rules write it.
    name: Box<str>,
    /// Rules requiring `name` to equal the key, ascending.
    by_value: HashMap<Box<str>, Vec<u32>>,
    /// The other rules of the path, ascending: always candidates.
    rest: Vec<u32>,
}

/// How many rules one exact path needs before they are keyed by a query parameter.
const KEYED_FROM: usize = 16;

impl Keyed {
    /// Keys `ids` (ascending) by the query parameter most of them test for an exact value,
    /// if most do.
    fn build(rules: &[Rule], ids: &[u32]) -> Option<Keyed> {
        let exact_tests = |r: u32| {
            rules[r as usize]
                .when()
                .list
                .iter()
                .filter_map(|c| match c {
                    Condition::Query(name, QueryTest::Glob(Glob::Exact(value))) => {
                        Some((name.as_str(), value.as_str()))
                    }
                    _ => None,
                })
        };
        let mut counts: HashMap<&str, usize> = HashMap::default();
        for &r in ids {
            for (name, _) in exact_tests(r) {
                *counts.entry(name).or_default() += 1;
            }
        }
        let (name, count) = counts
            .into_iter()
            .max_by_key(|&(n, c)| (c, std::cmp::Reverse(n)))?;
        if count * 2 < ids.len() {
            return None;
        }
        let mut keyed = Keyed {
            name: name.into(),
            by_value: HashMap::default(),
            rest: Vec::new(),
        };
        for &r in ids {
            match exact_tests(r).find(|(n, _)| *n == name) {
                Some((_, value)) => keyed.by_value.entry(value.into()).or_default().push(r),
                None => keyed.rest.push(r),
            }
        }
        Some(keyed)
    }

    /// The rules that can apply to a request with this query: the rest, and those keyed by a
    /// value the request sends for the parameter (in any order: [`Index::candidates`] sorts).
    fn collect(&self, query: &mut Query<'_>, out: &mut Candidates) {
        out.extend_from_slice(&self.rest);
        for value in query.values(&self.name) {
            if let Some(ids) = self.by_value.get(value.as_ref()) {
                out.extend_from_slice(ids);
            }
        }
    }
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
    more: HashMap<u32, Shared>,
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
                Some(&first) => match self.more.entry(first).or_default() {
                    Shared::List(list) => list.push(rule),
                    Shared::Keyed(_) => unreachable!("keyed only once every rule is in"),
                },
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
                Segment::Param(_) | Segment::Shaped(..) => {
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

    fn collect(
        &self,
        rules: &[Rule],
        path: &PathSegments<'_>,
        key: &str,
        query: &mut Query<'_>,
        out: &mut Candidates,
    ) {
        if let Some(&first) = self.exact.find(hash(key), |&r| key_of(rules, r) == key) {
            match self.more.get(&first) {
                None => out.push(first),
                Some(Shared::List(more)) => {
                    out.push(first);
                    out.extend_from_slice(more);
                }
                Some(Shared::Keyed(keyed)) => keyed.collect(query, out),
            }
        }
        if self.nodes.len() > 1 || !self.nodes[0].splat.is_empty() {
            self.walk(0, path, 0, out);
        }
    }

    /// Keys the rules of crowded exact paths by query parameter, once every rule is in.
    fn finish(&mut self, rules: &[Rule]) {
        for (&first, shared) in self.more.iter_mut() {
            if let Shared::List(list) = shared {
                if list.len() + 1 >= KEYED_FROM {
                    let mut ids = Vec::with_capacity(list.len() + 1);
                    ids.push(first);
                    ids.extend_from_slice(list);
                    if let Some(keyed) = Keyed::build(rules, &ids) {
                        *shared = Shared::Keyed(keyed);
                    }
                }
            }
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
        index.any_host.finish(rules);
        for path_index in index
            .exact_host
            .values_mut()
            .chain(index.wildcard_host.values_mut())
        {
            path_index.finish(rules);
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

    /// Candidate rules for a host (lower-case) and path (`key`: [`PathSegments::key`]),
    /// ascending by position in `rules`.
    pub(crate) fn candidates(
        &self,
        rules: &[Rule],
        host: &str,
        path: &PathSegments<'_>,
        key: &str,
        query: &mut Query<'_>,
        out: &mut Candidates,
    ) {
        self.any_host.collect(rules, path, key, query, out);
        if !self.exact_host.is_empty() {
            if let Some(idx) = self.exact_host.get(host) {
                idx.collect(rules, path, key, query, out);
            }
        }
        if !self.wildcard_host.is_empty() {
            let mut rest = host;
            while let Some(dot) = rest.find('.') {
                rest = &rest[dot + 1..];
                if let Some(idx) = self.wildcard_host.get(rest) {
                    idx.collect(rules, path, key, query, out);
                }
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }
}
