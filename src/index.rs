//! The rule index: exact paths in a hash map, patterns in a segment trie, one pair per host
//! restriction. A lookup returns candidate rule indexes; file order among them is restored by
//! sorting, so the cost of a request does not grow with the number of rules.

use crate::pattern::{Pattern, Segment};
use crate::request_url::PathSegments;
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

/// The candidate rules of one request (rarely more than a few).
pub(crate) type Candidates = SmallVec<[u32; 8]>;

/// Rule indexes (positions in `rules`), ascending.
type Ids = Vec<u32>;

/// The rules of one exact path: almost always one, so it is stored inline.
#[derive(Debug)]
enum ExactIds {
    One(u32),
    Many(Box<[u32]>),
}

impl ExactIds {
    fn push(&mut self, rule: u32) {
        match self {
            ExactIds::One(first) => *self = ExactIds::Many(Box::new([*first, rule])),
            ExactIds::Many(v) => {
                let mut all = std::mem::take(v).into_vec();
                all.push(rule);
                *v = all.into_boxed_slice();
            }
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            ExactIds::One(r) => std::slice::from_ref(r),
            ExactIds::Many(v) => v,
        }
    }
}

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
#[derive(Debug)]
struct PathIndex {
    exact: HashMap<Box<str>, ExactIds>,
    nodes: Vec<Node>,
}

impl Default for PathIndex {
    fn default() -> Self {
        PathIndex {
            exact: HashMap::default(),
            nodes: vec![Node::default()],
        }
    }
}

impl PathIndex {
    fn insert(&mut self, pattern: &Pattern, rule: u32) {
        if pattern.is_exact() {
            self.exact
                .entry(pattern.exact_key().into())
                .and_modify(|ids| ids.push(rule))
                .or_insert(ExactIds::One(rule));
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

    fn collect(&self, path: &PathSegments<'_>, key: &str, out: &mut Candidates) {
        if let Some(ids) = self.exact.get(key) {
            out.extend_from_slice(ids.as_slice());
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
    /// Adds rule `rule` with its pattern and host restriction (normalised, `*.` for wildcards).
    pub(crate) fn insert(&mut self, host: Option<&str>, pattern: &Pattern, rule: u32) {
        let index = match host {
            None => &mut self.any_host,
            Some(h) => match h.strip_prefix("*.") {
                Some(suffix) => self.wildcard_host.entry(suffix.into()).or_default(),
                None => self.exact_host.entry(h.into()).or_default(),
            },
        };
        index.insert(pattern, rule);
    }

    /// Candidate rules for a host (lower-case) and path, ascending by file order.
    pub(crate) fn candidates(&self, host: &str, path: &PathSegments<'_>, out: &mut Candidates) {
        let key = path.key();
        self.any_host.collect(path, &key, out);
        if !self.exact_host.is_empty() {
            if let Some(idx) = self.exact_host.get(host) {
                idx.collect(path, &key, out);
            }
        }
        if !self.wildcard_host.is_empty() {
            let mut rest = host;
            while let Some(dot) = rest.find('.') {
                rest = &rest[dot + 1..];
                if let Some(idx) = self.wildcard_host.get(rest) {
                    idx.collect(path, &key, out);
                }
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }
}
