//! The rule index: exact paths in a hash map, patterns in a segment trie, one pair per host
//! restriction. A lookup returns candidate rule indexes; file order among them is restored by
//! sorting, so the cost of a request does not grow with the number of rules.

use crate::index::candidates::Candidates;
use crate::index::prepared::Paths;
use crate::index::shapes::ShapeFinder;
use crate::index::timed::{Clock, Timed, TIMED_FROM};
use crate::limits::MAX_VALUE_BYTES_TESTED;
use crate::model::condition::{Condition, Glob, QueryTest};
use crate::model::pattern::{Pattern, Segment, ShapedPlaceholder};
use crate::model::rule::Rule;
use crate::request::url::PathSegments;
use crate::request::visitor::Query;
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

/// Rule indexes (positions in `rules`), ascending.
type Ids = Vec<u32>;

#[derive(Debug, Default)]
struct Node {
    literal: HashMap<Box<str>, u32>,
    param: Option<u32>,
    /// Children by the shape of a shaped placeholder (`:id(\d+)`, `{:slug}.html`).
    shaped: Option<Box<ShapedEdges>>,
    /// Rules whose pattern ends here.
    end: Listed,
    /// Rules whose pattern ends here with a splat (zero or more further segments).
    splat: Listed,
    /// Rules with a path-to-regexp source whose leading literal segments end here.
    regex: Option<Box<RegexEdges>>,
}

/// The rules of one place in the trie, ascending; once every rule is in, those with a time
/// window are also held by instant when there are many ([`Timed`]).
#[derive(Debug, Default)]
struct Listed {
    ids: Ids,
    timed: Option<Box<Timed>>,
}

impl Listed {
    fn push(&mut self, rule: u32) {
        self.ids.push(rule);
    }

    fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn finish(&mut self, rules: &[Rule]) {
        self.timed = Timed::build(rules, &self.ids).map(Box::new);
    }

    fn collect(&self, clock: &mut Clock, out: &mut Candidates) {
        match &self.timed {
            Some(timed) => timed.collect(clock, out),
            None => out.extend_from_slice(&self.ids),
        }
    }
}

/// The path-to-regexp sources filed at one node, by the literal text the next segment starts
/// with: a segment finds those its start allows in one walk over it, however many there are.
#[derive(Debug, Default)]
struct RegexEdges {
    /// Sources with no literal start there: candidates for any path reaching the node.
    any: Ids,
    /// Sources by the literal start of the next segment.
    starts: Prefixes,
}

/// The shaped placeholders leaving one node: one child per distinct shape, and the sets that
/// find every shape a segment has in one pass over it (so a request's cost does not grow
/// with the number of shapes at one place).
#[derive(Debug, Default)]
struct ShapedEdges {
    /// Each distinct shape (a rule that has it, and its segment's position) and its child.
    shapes: Vec<((u32, u32), u32)>,
    /// While rules are added: the shapes by hash, so that finding a shape's child is not a
    /// search through every shape (emptied once every rule is in).
    by_hash: HashMap<u64, SmallVec<[u32; 1]>>,
    /// Built once every rule is in (a node with one shape has none: its rules check it).
    finder: Option<ShapeFinder>,
}

/// The shape of segment `at` of rule `rule`'s pattern.
fn shape_of(rules: &[Rule], (rule, at): (u32, u32)) -> &ShapedPlaceholder {
    match rules[rule as usize].pattern.segments().nth(at as usize) {
        Some(Segment::Shaped(_, shape)) => shape,
        _ => unreachable!("a shaped edge names a shaped segment"),
    }
}

/// The rules sharing one exact path beyond the first.
#[derive(Debug)]
enum Shared {
    /// Every one is a candidate.
    List(Vec<u32>),
    /// Many rules told apart by the value of one query parameter (a lookup table such as
    /// `/product.php?id=123 → /items/123`): all of them, keyed by that value.
    Keyed(Keyed),
    /// Many rules open in time windows (a launch calendar): all of them, by instant.
    Timed(Box<Timed>),
}

impl Default for Shared {
    fn default() -> Self {
        Shared::List(Vec::new())
    }
}

/// Rules of one path keyed by what their `when.query` requires of one parameter: an exact
/// value, or a value starting with a literal text (a glob such as `spring-*`).
#[derive(Debug)]
struct Keyed {
    /// The parameter, as the rules write it.
    name: Box<str>,
    /// Rules requiring `name` to equal the key, ascending.
    by_value: HashMap<Box<str>, Vec<u32>>,
    /// Rules requiring `name` to start with a text, by that text.
    by_prefix: Prefixes,
    /// The other rules of the path, ascending: always candidates.
    rest: Vec<u32>,
}

/// What a keyed test requires of the parameter's value.
enum Key<'r> {
    Exact(&'r str),
    Prefix(&'r str),
}

/// A byte trie of literal prefixes: a value finds every rule whose prefix starts it in one
/// walk over the value, however many rules there are.
#[derive(Debug, Default)]
struct Prefixes {
    /// Node 0 is the root (the empty prefix, never used: such globs are not keyed).
    nodes: Vec<PrefixNode>,
}

#[derive(Debug, Default)]
struct PrefixNode {
    /// Children by byte, sorted.
    next: Vec<(u8, u32)>,
    /// Rules whose prefix ends here.
    rules: Vec<u32>,
}

impl Prefixes {
    fn insert(&mut self, prefix: &str, rule: u32) {
        if self.nodes.is_empty() {
            self.nodes.push(PrefixNode::default());
        }
        let mut at = 0usize;
        for &b in prefix.as_bytes() {
            at = match self.nodes[at].next.binary_search_by_key(&b, |&(k, _)| k) {
                Ok(i) => self.nodes[at].next[i].1 as usize,
                Err(i) => {
                    let child = self.nodes.len();
                    self.nodes[at].next.insert(i, (b, child as u32));
                    self.nodes.push(PrefixNode::default());
                    child
                }
            };
        }
        self.nodes[at].rules.push(rule);
    }

    /// Adds the rules of every prefix that `value` starts with.
    fn collect(&self, value: &str, out: &mut Candidates) {
        // A glob never matches a value over the cap (only `*` does, and it is not keyed).
        if value.len() > MAX_VALUE_BYTES_TESTED {
            return;
        }
        self.collect_starts(value, out);
    }

    /// Adds the rules of every prefix that `value` starts with, however long it is.
    fn collect_starts(&self, value: &str, out: &mut Candidates) {
        let Some(mut node) = self.nodes.first() else {
            return;
        };
        for &b in value.as_bytes() {
            match node.next.binary_search_by_key(&b, |&(k, _)| k) {
                Ok(i) => node = &self.nodes[node.next[i].1 as usize],
                Err(_) => return,
            }
            out.extend_from_slice(&node.rules);
        }
    }
}

/// How many rules one exact path needs before they are keyed by a query parameter.
const KEYED_FROM: usize = 16;

impl Keyed {
    /// Keys `ids` (ascending) by the query parameter most of them test for an exact value or a
    /// literal start of a value, if most do.
    fn build(rules: &[Rule], ids: &[u32]) -> Option<Keyed> {
        let exact_tests = |r: u32| {
            rules[r as usize]
                .when()
                .list
                .iter()
                .filter_map(|c| match c {
                    Condition::Query(name, QueryTest::Glob(Glob::Exact(value))) => {
                        Some((name.as_str(), Key::Exact(value)))
                    }
                    Condition::Query(name, QueryTest::Glob(Glob::Pieces(pieces)))
                        if !pieces[0].is_empty() =>
                    {
                        Some((name.as_str(), Key::Prefix(&pieces[0])))
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
            by_prefix: Prefixes::default(),
            rest: Vec::new(),
        };
        for &r in ids {
            match exact_tests(r).find(|(n, _)| *n == name) {
                Some((_, Key::Exact(value))) => {
                    keyed.by_value.entry(value.into()).or_default().push(r)
                }
                Some((_, Key::Prefix(prefix))) => keyed.by_prefix.insert(prefix, r),
                None => keyed.rest.push(r),
            }
        }
        Some(keyed)
    }

    /// The rules that can apply to a request with this query: the rest, and those keyed by a
    /// value (or a start of a value) the request sends for the parameter (in any order:
    /// [`Index::candidates`] sorts and removes repeats).
    fn collect(&self, query: &mut Query<'_>, out: &mut Candidates) {
        out.extend_from_slice(&self.rest);
        for value in query.values(&self.name) {
            if let Some(ids) = self.by_value.get(value.as_ref()) {
                out.extend_from_slice(ids);
            }
            self.by_prefix.collect(value, out);
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
                    Shared::Keyed(_) | Shared::Timed(_) => {
                        unreachable!("keyed or timed only once every rule is in")
                    }
                },
                None => {
                    self.exact
                        .insert_unique(h, rule, |&r| hash(key_of(rules, r)));
                }
            }
            return;
        }
        let mut node = 0usize;
        for (at, seg) in pattern.segments().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    let next = self.nodes.len() as u32;
                    let child = *self.nodes[node].literal.entry(l.into()).or_insert(next);
                    if child == next {
                        self.nodes.push(Node::default());
                    }
                    node = child as usize;
                }
                Segment::Shaped(_, shape) => {
                    let next = self.nodes.len() as u32;
                    let edges = self.nodes[node].shaped.get_or_insert_with(Default::default);
                    let same = edges
                        .by_hash
                        .entry(FxBuildHasher.hash_one(shape))
                        .or_default();
                    let child = match same
                        .iter()
                        .map(|&k| edges.shapes[k as usize])
                        .find(|&(of, _)| shape_of(rules, of) == shape)
                    {
                        Some((_, child)) => child,
                        None => {
                            same.push(edges.shapes.len() as u32);
                            edges.shapes.push(((rule, at as u32), next));
                            self.nodes.push(Node::default());
                            next
                        }
                    };
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
                Segment::Regex(start, _) => {
                    let edges = self.nodes[node].regex.get_or_insert_with(Default::default);
                    if start.is_empty() {
                        edges.any.push(rule);
                    } else {
                        edges.starts.insert(start, rule);
                    }
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
        clock: &mut Clock,
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
                Some(Shared::Timed(timed)) => timed.collect(clock, out),
            }
        }
        let root = &self.nodes[0];
        if self.nodes.len() > 1 || !root.splat.is_empty() || root.regex.is_some() {
            self.walk(0, path, 0, clock, out);
        }
    }

    /// Keys the rules of crowded exact paths by query parameter, and builds the sets of
    /// shapes, once every rule is in.
    fn finish(&mut self, rules: &[Rule]) {
        for node in &mut self.nodes {
            // Even one shape has its set: a rule whose shape a segment does not have is then no
            // candidate, whichever rules share its part of an artifact (`explain` traces the
            // same candidates for a bundle and for its artifact cut any way).
            if let Some(edges) = node.shaped.as_mut().filter(|e| !e.shapes.is_empty()) {
                let parts: Vec<_> = edges
                    .shapes
                    .iter()
                    .map(|&(of, _)| shape_of(rules, of).parts())
                    .collect();
                edges.finder = Some(ShapeFinder::build(&parts));
            }
            if let Some(edges) = &mut node.shaped {
                edges.by_hash = HashMap::default();
            }
            node.end.finish(rules);
            node.splat.finish(rules);
        }
        for (&first, shared) in self.more.iter_mut() {
            if let Shared::List(list) = shared {
                if list.len() + 1 >= KEYED_FROM.min(TIMED_FROM) {
                    let mut ids = Vec::with_capacity(list.len() + 1);
                    ids.push(first);
                    ids.extend_from_slice(list);
                    if let Some(keyed) = Keyed::build(rules, &ids) {
                        *shared = Shared::Keyed(keyed);
                    } else if let Some(timed) = Timed::build(rules, &ids) {
                        *shared = Shared::Timed(Box::new(timed));
                    }
                }
            }
        }
    }

    fn walk(
        &self,
        node: usize,
        path: &PathSegments<'_>,
        i: usize,
        clock: &mut Clock,
        out: &mut Candidates,
    ) {
        let n = &self.nodes[node];
        n.splat.collect(clock, out);
        if let Some(regex) = &n.regex {
            out.extend_from_slice(&regex.any);
            if let Some(seg) = path.decoded.get(i) {
                regex.starts.collect_starts(seg, out);
            }
        }
        let Some(seg) = path.decoded.get(i) else {
            n.end.collect(clock, out);
            return;
        };
        if let Some(&child) = n.literal.get(seg.as_ref()) {
            self.walk(child as usize, path, i + 1, clock, out);
        }
        if let Some(child) = n.param {
            if !seg.is_empty() {
                self.walk(child as usize, path, i + 1, clock, out);
            }
        }
        if let Some(edges) = &n.shaped {
            if seg.is_empty() {
                return;
            }
            let Some(finder) = &edges.finder else {
                for &(_, child) in &edges.shapes {
                    self.walk(child as usize, path, i + 1, clock, out);
                }
                return;
            };
            let mut hits: SmallVec<[u32; 8]> = SmallVec::new();
            finder.collect(seg, &mut hits);
            for k in hits {
                self.walk(edges.shapes[k as usize].1 as usize, path, i + 1, clock, out);
            }
        }
    }
}

/// All rules, indexed by host restriction and path: those whose literals compare in the case
/// of the part's first rule, and apart (when there are any) those with the other case, looked
/// up with the path in that case.
#[derive(Debug, Default)]
pub(crate) struct Index {
    main: Tables,
    /// Whether `main`'s rules compare case-sensitively.
    sensitive: bool,
    other: Option<Box<Tables>>,
}

/// The rules of one case, by host restriction and path.
#[derive(Debug, Default)]
struct Tables {
    any_host: PathIndex,
    exact_host: HashMap<Box<str>, PathIndex>,
    wildcard_host: HashMap<Box<str>, PathIndex>,
}

impl Index {
    /// Indexes `rules` (their patterns and host restrictions).
    pub(crate) fn build(rules: &[Rule]) -> Index {
        let sensitive = rules.first().is_none_or(|r| r.case_sensitive);
        let (main, other): (Vec<u32>, Vec<u32>) =
            (0..rules.len() as u32).partition(|&i| rules[i as usize].case_sensitive == sensitive);
        Index {
            main: Tables::build(rules, &main),
            sensitive,
            other: (!other.is_empty()).then(|| Box::new(Tables::build(rules, &other))),
        }
    }

    /// Candidate rules for a host (lower-case) and the request's path in each case it is
    /// compared in, ascending by position in `rules`; `clock` says which windowed rules are
    /// open.
    pub(crate) fn candidates(
        &self,
        rules: &[Rule],
        host: &str,
        paths: &Paths<'_>,
        query: &mut Query<'_>,
        clock: &mut Clock,
        out: &mut Candidates,
    ) {
        let (path, key) = paths.with_key(self.sensitive);
        self.main
            .candidates(rules, host, path, key, query, clock, out);
        if let Some(other) = &self.other {
            let (path, key) = paths.with_key(!self.sensitive);
            other.candidates(rules, host, path, key, query, clock, out);
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }
}

impl Tables {
    /// Indexes rules `ids` of `rules`.
    fn build(rules: &[Rule], ids: &[u32]) -> Tables {
        let mut index = Tables::default();
        let exact_any_host = ids
            .iter()
            .map(|&i| &rules[i as usize])
            .filter(|r| r.host().is_none() && r.pattern.is_exact())
            .count();
        index
            .any_host
            .exact
            .reserve(exact_any_host, |&r| hash(key_of(rules, r)));
        for &i in ids {
            let rule = &rules[i as usize];
            index.insert(rules, rule.host(), &rule.pattern, i);
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

    /// Candidate rules for a host (lower-case) and path (`key`: [`PathSegments::key`]), in
    /// any order; `clock` says which windowed rules are open.
    #[allow(clippy::too_many_arguments)] // each is one thing the request offers the index
    fn candidates(
        &self,
        rules: &[Rule],
        host: &str,
        path: &PathSegments<'_>,
        key: &str,
        query: &mut Query<'_>,
        clock: &mut Clock,
        out: &mut Candidates,
    ) {
        self.any_host.collect(rules, path, key, query, clock, out);
        if !self.exact_host.is_empty() {
            if let Some(idx) = self.exact_host.get(host) {
                idx.collect(rules, path, key, query, clock, out);
            }
        }
        if !self.wildcard_host.is_empty() {
            let mut rest = host;
            while let Some(dot) = rest.find('.') {
                rest = &rest[dot + 1..];
                if let Some(idx) = self.wildcard_host.get(rest) {
                    idx.collect(rules, path, key, query, clock, out);
                }
            }
        }
    }
}
