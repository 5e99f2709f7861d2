//! Rules that never fire: a duplicate source (same host, methods, pattern shape and
//! conditions as an earlier rule), or an earlier rule without conditions whose host, methods
//! and pattern cover this one's.
//!
//! Coverage is a question about patterns, not about requests, so it has its own small trie
//! here rather than asking the engine's rule index: the index answers "which
//! rules match this path", where a `:name` segment of the path would also follow literal
//! edges; here a placeholder may only be covered by a placeholder, and a splat only by a
//! splat. The trie holds the unconditional rules alone and borrows their literals.

use super::{host_covers, named, Finding, Severity};
use crate::model::condition::Conditions;
use crate::model::pattern::Segment;
use crate::model::rule::Rule;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// A pattern segment with its placeholder name erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape<'r> {
    /// A literal and whether it compares case-sensitively (a rule's own `case_sensitive`):
    /// covered only by the same literal in the same case (or a placeholder).
    Lit(&'r str, bool),
    Param,
    Splat,
    /// A placeholder with a shape (`:id(\d+)`, `:slug.html`): covered by a `:name`, covering
    /// nothing but the same shape (compared by its parts).
    Shaped(&'r str, &'r str, Option<&'r str>),
    /// A path-to-regexp source: covered by nothing but the same source.
    Regex(&'r str),
}

fn shape(rule: &Rule) -> Vec<Shape<'_>> {
    rule.segments()
        .map(|s| match s {
            Segment::Literal(l) => Shape::Lit(l, rule.case_sensitive),
            Segment::Param(_) => Shape::Param,
            Segment::Splat(_) => Shape::Splat,
            Segment::Shaped(_, s) => Shape::Shaped(s.prefix(), s.suffix(), s.constraint()),
            Segment::Regex(_, r) => Shape::Regex(r.source()),
        })
        .collect()
}

/// What makes two rules' sources the same.
type SourceKey<'r> = (
    Option<&'r str>,
    Option<&'r [String]>,
    Vec<Shape<'r>>,
    &'r Conditions,
    &'r Conditions,
);

/// `duplicate-source` and `never-fires`.
pub(super) fn check(rules: &[Rule], findings: &mut Vec<Finding>) {
    let shapes: Vec<Vec<Shape<'_>>> = rules.iter().map(shape).collect();
    let mut seen: HashMap<SourceKey<'_>, usize> = HashMap::new();
    let mut duplicate = vec![false; rules.len()];
    // Rules by their position in `rules` (their numbers, `index()`, only shown).
    for (at, (rule, shape)) in rules.iter().zip(&shapes).enumerate() {
        let key = (
            rule.host(),
            rule.methods(),
            shape.clone(),
            rule.when(),
            rule.unless(),
        );
        match seen.entry(key) {
            Entry::Occupied(first) => {
                let first = &rules[*first.get()];
                duplicate[at] = true;
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
            Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
    }
    let mut trie = Trie::new();
    for (at, (rule, shape)) in rules.iter().zip(&shapes).enumerate() {
        if rule.when().is_empty() && rule.unless().is_empty() {
            trie.insert(shape, at);
        }
    }
    let mut candidates = Vec::new();
    for (at, (rule, shape)) in rules.iter().zip(&shapes).enumerate() {
        if duplicate[at] {
            continue;
        }
        candidates.clear();
        trie.covering(shape, &mut candidates);
        let winner = candidates
            .iter()
            .copied()
            .filter(|&a| a < at)
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

/// Whether methods restriction `a` admits every method `b` admits (`None`: every method).
fn methods_cover(a: Option<&[String]>, b: Option<&[String]>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|m| a.contains(m)),
    }
}

/// A node of the trie of unconditional rules.
#[derive(Default)]
struct Node<'r> {
    literal: HashMap<(&'r str, bool), usize>,
    param: Option<usize>,
    /// Rules whose pattern ends with a splat here: they match anything below.
    splat: Vec<usize>,
    /// Rules whose pattern ends exactly here.
    end: Vec<usize>,
}

/// The patterns of the rules without conditions, by shape.
struct Trie<'r> {
    nodes: Vec<Node<'r>>,
}

impl<'r> Trie<'r> {
    fn new() -> Self {
        Trie {
            nodes: vec![Node::default()],
        }
    }

    fn insert(&mut self, shape: &[Shape<'r>], rule: usize) {
        let mut at = 0;
        for &seg in shape {
            let next = match seg {
                Shape::Splat => {
                    self.nodes[at].splat.push(rule);
                    return;
                }
                Shape::Lit(l, case) => self.nodes[at].literal.get(&(l, case)).copied(),
                Shape::Param => self.nodes[at].param,
                // A shaped placeholder covers only some segments: such a rule covers no other.
                Shape::Shaped(..) => return,
                // So does a path-to-regexp source.
                Shape::Regex(_) => return,
            };
            at = match next {
                Some(n) => n,
                None => {
                    self.nodes.push(Node::default());
                    let n = self.nodes.len() - 1;
                    match seg {
                        Shape::Lit(l, case) => {
                            self.nodes[at].literal.insert((l, case), n);
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
    fn covering(&self, shape: &[Shape<'_>], out: &mut Vec<usize>) {
        self.walk(0, shape, out);
    }

    fn walk(&self, at: usize, shape: &[Shape<'_>], out: &mut Vec<usize>) {
        let node = &self.nodes[at];
        out.extend(&node.splat);
        match shape.first() {
            None => out.extend(&node.end),
            // A path-to-regexp source: covered by a rest before it only.
            Some(Shape::Splat | Shape::Regex(_)) => {}
            Some(&Shape::Lit(l, case)) => {
                if let Some(&n) = node.literal.get(&(l, case)) {
                    self.walk(n, &shape[1..], out);
                }
                if let Some(n) = node.param {
                    self.walk(n, &shape[1..], out);
                }
            }
            Some(Shape::Param | Shape::Shaped(..)) => {
                if let Some(n) = node.param {
                    self.walk(n, &shape[1..], out);
                }
            }
        }
    }
}
