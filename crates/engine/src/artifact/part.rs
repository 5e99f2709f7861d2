//! Compiled rules with their own index: a part of an artifact, cut by home for a reader that
//! keeps the rules requests needed, or the whole bundle.

use super::{Need, PART_BYTES_PER_ENCODED_BYTE, PART_BYTES_PER_RULE};
use crate::index::candidates::Candidates;
use crate::index::lookup::Index;
use crate::index::prepared::Paths;
use crate::index::timed::Clock;
use crate::model::rule::Rule;
use crate::request::visitor::Query;
use smallvec::SmallVec;
use std::sync::OnceLock;

/// Compiled rules with their own index: the whole bundle, or one part of an artifact (from
/// [`Engine::decode_part`] when parts are kept apart from the head). Rules keep their number
/// in the bundle ([`Rule::index`]); the index numbers them by position here.
#[derive(Debug)]
pub struct Part {
    pub(crate) rules: Vec<Rule>,
    /// Built with the part, or (a piece cut by [`Part::narrow`]) when first read: most
    /// pieces of a part are kept for a request that may never come.
    index: OnceLock<Index>,
    /// The part's number in its artifact (`usize::MAX` for a whole bundle).
    number: usize,
    /// For a part cut to one home ([`Part::narrow`]): that home's hash.
    home: Option<u64>,
    /// For a part decoded from an artifact: each rule's home, as the build routed it.
    homes: Box<[u64]>,
    /// The bytes of the stored part these rules were compiled from (a piece cut by
    /// [`Part::narrow`] has its rules' share); 0 when not compiled from a stored part.
    encoded: u32,
}

impl Part {
    pub(crate) fn new(rules: Vec<Rule>, number: usize) -> Part {
        let index = OnceLock::from(Index::build(&rules));
        Part {
            rules,
            index,
            number,
            home: None,
            homes: Box::default(),
            encoded: 0,
        }
    }

    /// A part compiled from `encoded` bytes of a stored artifact, its rules living at `homes`.
    pub(crate) fn decoded(
        rules: Vec<Rule>,
        homes: Box<[u64]>,
        number: usize,
        encoded: u32,
    ) -> Part {
        Part {
            encoded,
            homes,
            ..Part::new(rules, number)
        }
    }

    /// An estimate of the memory this part takes, in bytes, for a cache that keeps parts
    /// within a memory budget: [`PART_BYTES_PER_ENCODED_BYTE`] for each byte of the stored
    /// part it was compiled from, plus [`PART_BYTES_PER_RULE`] for each rule, plus what its
    /// pattern takes to match ([`crate::Pattern::matcher_bytes`]: a
    /// path-to-regexp source's automaton, a shaped segment): at least what the part takes, and
    /// at most about twice, for the rules measured. A piece cut by [`Part::narrow`] is costed
    /// its rules' share of the part's bytes (by their number) and its own rules' patterns.
    pub fn cost(&self) -> usize {
        let matching: usize = self.rules.iter().map(|r| r.pattern.matcher_bytes()).sum();
        (self.encoded as usize)
            .saturating_mul(PART_BYTES_PER_ENCODED_BYTE)
            .saturating_add(self.rules.len().saturating_mul(PART_BYTES_PER_RULE))
            .saturating_add(matching)
    }

    /// This part cut by home ([`Need::home`]): the rules living at `home` as a part of their
    /// own (empty if none do), and one part for each other home it holds. The part of a home
    /// stands in for this whole part for every request with that home ([`Part::serves`]), so a
    /// reader that keeps many requests' rules (the worker, with parts read from KV) keeps
    /// these, about one rule each, instead of whole parts of about 64. Rules move, in file
    /// order; each piece builds its index when first read.
    pub fn narrow(self, home: u64) -> (Part, Vec<Part>) {
        let number = self.number;
        let (encoded, total) = (self.encoded as usize, self.rules.len().max(1));
        if self.homes.len() != self.rules.len() {
            // Not decoded from an artifact: no homes to cut by.
            return (self, Vec::new());
        }
        // Linear: each home's group found by a map, whatever the number of homes.
        let mut groups: Vec<(u64, Vec<Rule>)> = vec![(home, Vec::new())];
        let mut at: rustc_hash::FxHashMap<u64, usize> = Default::default();
        at.insert(home, 0);
        for (rule, &h) in self.rules.into_iter().zip(self.homes.iter()) {
            let g = *at.entry(h).or_insert_with(|| {
                groups.push((h, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(rule);
        }
        let mut pieces = groups.into_iter().map(|(h, rules)| Part {
            // The piece's share of the stored bytes, by its rules.
            encoded: (encoded.saturating_mul(rules.len()) / total) as u32,
            rules,
            index: OnceLock::new(),
            number,
            home: Some(h),
            homes: Box::default(),
        });
        let wanted = pieces.next().expect("the wanted home comes first");
        (wanted, pieces.collect())
    }

    /// The home this part was narrowed to, if it was.
    pub fn home(&self) -> Option<u64> {
        self.home
    }

    /// Whether this part answers for `need`: its part, whole or narrowed to its home.
    pub fn serves(&self, need: &Need) -> bool {
        self.number == need.part && self.home.is_none_or(|h| h == need.home)
    }

    /// The part's number in its artifact.
    pub fn number(&self) -> usize {
        self.number
    }

    /// How many rules it holds.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether it holds no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// This part's candidate rules for a request, ascending.
    pub(crate) fn collect<'e>(
        &'e self,
        host: &str,
        paths: &Paths<'_>,
        query: &mut Query<'_>,
        clock: &mut Clock,
        out: &mut SmallVec<[&'e Rule; 8]>,
    ) {
        let mut ids = Candidates::new();
        self.index
            .get_or_init(|| Index::build(&self.rules))
            .candidates(&self.rules, host, paths, query, clock, &mut ids);
        out.extend(ids.iter().map(|&i| &self.rules[i as usize]));
    }
}
