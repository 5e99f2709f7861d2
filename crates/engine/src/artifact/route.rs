//! Which part of an artifact holds a rule, and which parts a request reads: the one rule of
//! routing that the build and every reader share.
//!
//! A rule lives at a **home**: for a rule without placeholders, its path key (or, on a path
//! more than [`SMALL_HOME_RULES`] rules share, its path key with the exact value it requires
//! of a query parameter, among the [`QUERY_NAMES`] that tell most of them apart); for any other,
//! its most selective literal material among its first [`ROUTE_DEPTH`] segments (the one the
//! fewest rules of the bundle share, at its position): a literal segment, or the first 4 to 24
//! or 32 bytes ([`PREFIX_LENGTHS`]) of the literal text a segment starts with (`item-{:id}`,
//! `:slug.html` has none, a path-to-regexp source's literal start `/guides(/?)`); with none,
//! the catch-all. A rule with an exact `host` has the host in its home too. A pattern matches
//! only paths whose segment at that position is that literal (or starts with those bytes), so
//! a request needs the homes of its path key (and of its path key with each of the first
//! values it sent of those query parameters), of each of its first [`ROUTE_DEPTH`] segments
//! and of their first bytes at their position, and the catch-all, with its host and without:
//! at most `2 × (ROUTE_DEPTH × (1 + PREFIX_LENGTHS.len()) + 2)` homes, and only the kinds
//! some rule uses (the header says which: positions, and the lengths of prefixes). Each is
//! looked up in the filter's page it falls in, and only those held are read.
//!
//! Among the places a rule could live at, it lives at the one the fewest rules could share;
//! places no more than [`SMALL_HOME_RULES`] rules share count as equal, and of those the
//! deepest wins, a whole segment before a prefix, a shorter prefix before a longer one: so a
//! bundle uses few lengths of prefix, and a request computes few homes.
//!
//! Homes are hashed with SipHash-1-3 under a key drawn from the bundle's text, so the author of
//! the paths cannot choose paths that fall together (a change of any path changes the key).

use super::{PREFIX_LENGTHS, QUERY_NAMES, ROUTE_DEPTH, SMALL_HOME_RULES};
use crate::compile::Sink;
use crate::limits::MAX_VALUE_BYTES_TESTED;
use crate::model::pattern::{Pattern, Segment};
use crate::model::rule::Rule;
use crate::request::visitor::Query;
use rustc_hash::FxHashMap as HashMap;
use siphasher::sip::SipHasher13;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::hash::Hasher;

/// FNV-1a, 64 bits: the artifact's checksums and content id.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(0xcbf2_9ce4_8422_2325, bytes)
}

pub(crate) fn fnv1a_from(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The routing key of a bundle: two FNV-1a 64 of its text from different starts.
pub(crate) fn key_of_text(text: &[u8]) -> [u64; 2] {
    [fnv1a(text), fnv1a_from(0x6c62_272e_07bb_0142, text)]
}

/// Where a rule lives: the hash of its home, which also stands for it in the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Home(pub(crate) u64);

impl Home {
    /// The hash the filter holds.
    pub(crate) fn hash(self) -> u64 {
        self.0
    }
}

/// The keyed hash of homes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Router {
    key: [u64; 2],
}

/// What a home is made of, besides its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place<'a> {
    Exact(&'a str),
    Literal(usize, &'a str),
    Prefix(usize, &'a [u8]),
    /// A path key with one query parameter's exact value: (key, name, value).
    Query(&'a str, &'a str, &'a str),
    CatchAll,
    /// Not a home: a host some rule names, for the head's table of hosts.
    Host,
}

impl Router {
    /// The router of an artifact built with `key`.
    pub(crate) fn new(key: [u64; 2]) -> Router {
        Router { key }
    }

    fn hash(&self, host: Option<&str>, place: Place<'_>) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.key[0], self.key[1]);
        // Every field length-prefixed, so no two homes write the same bytes.
        let mut bytes = |t: &[u8]| {
            h.write_u64(t.len() as u64);
            h.write(t);
        };
        bytes(host.unwrap_or("").as_bytes());
        let (kind, at, text): (u8, usize, &[u8]) = match place {
            Place::Query(key, name, value) => {
                h.write_u8(5);
                for t in [key, name, value] {
                    h.write_u64(t.len() as u64);
                    h.write(t.as_bytes());
                }
                return h.finish();
            }
            Place::Exact(key) => (0, 0, key.as_bytes()),
            Place::Literal(at, literal) => (1, at, literal.as_bytes()),
            Place::CatchAll => (2, 0, b""),
            Place::Host => (3, 0, b""),
            Place::Prefix(at, start) => (4, at, start),
        };
        h.write_u8(kind);
        h.write_u64(at as u64);
        h.write_u64(text.len() as u64);
        h.write(text);
        h.finish()
    }

    /// The catch-all home of rules without a host.
    pub(crate) fn catch_all(&self) -> u64 {
        self.hash(None, Place::CatchAll)
    }

    /// The hash the head's table of hosts holds for `host` (lower-case).
    pub(crate) fn host(&self, host: &str) -> u64 {
        self.hash(Some(host), Place::Host)
    }

    /// The homes a request's rules can live in: its path `key`, its first segments (and their
    /// first bytes, [`PREFIX_LENGTHS`]) at the positions some rule is routed by (`used`), the
    /// catch-all when some rule lives there, and its path key with each value `query` holds
    /// of the parameters `names` rules are routed by (the first ones sent, as conditions test
    /// them); without a host when `hostless`, and with the request's `host` (lower-case) when
    /// given.
    pub(crate) fn homes(
        &self,
        host: Option<&str>,
        hostless: bool,
        used: Used,
        (key, names, query): (&str, &[String], &mut Query<'_>),
        segments: &[Cow<'_, str>],
    ) -> SmallVec<[Home; 32]> {
        let mut out = SmallVec::new();
        let hosts = [hostless.then_some(None), host.map(Some)];
        for host in hosts.into_iter().flatten() {
            if used.has(Used::EXACT) {
                out.push(Home(self.hash(host, Place::Exact(key))));
            }
            if used.has(Used::QUERY) {
                for name in names {
                    for value in query.values(name) {
                        out.push(Home(self.hash(host, Place::Query(key, name, value))));
                    }
                }
            }
            if used.has(Used::CATCH_ALL) {
                out.push(Home(self.hash(host, Place::CatchAll)));
            }
            for (at, seg) in segments.iter().enumerate().take(ROUTE_DEPTH) {
                if used.has(Used::LITERAL << at) {
                    out.push(Home(self.hash(host, Place::Literal(at, seg))));
                }
                if !used.has(Used::PREFIX << at) {
                    continue;
                }
                for (class, &length) in PREFIX_LENGTHS.iter().enumerate() {
                    if used.has_length(class) && seg.len() >= length {
                        let start = &seg.as_bytes()[..length];
                        out.push(Home(self.hash(host, Place::Prefix(at, start))));
                    }
                }
            }
        }
        out
    }
}

/// The host a rule's home names: its `host` when it is one exact host (a `*.` host is matched
/// by suffix, so such rules live without one).
pub(crate) fn home_host(rule: &Rule) -> Option<&str> {
    rule.host().filter(|h| !h.starts_with("*."))
}

/// The literal material a pattern can be routed by, among its first [`ROUTE_DEPTH`]
/// segments: each literal segment at its position (and a path-to-regexp source's literal start
/// when `/` or the end follows it: [`crate::PathRegex::ends_segment`]), and the first 4 to 24
/// and 32 bytes ([`PREFIX_LENGTHS`]) of the literal text a shaped segment or another
/// path-to-regexp source starts with, as many of these as it is long.
fn places(pattern: &Pattern) -> impl Iterator<Item = Place<'_>> {
    let mut after_regex = false;
    pattern
        .segments()
        .take(ROUTE_DEPTH)
        // A path-to-regexp source spans any number of segments: nothing after it is at a
        // position.
        .take_while(move |s| !std::mem::replace(&mut after_regex, matches!(s, Segment::Regex(..))))
        .enumerate()
        .flat_map(|(at, s)| {
            let mut out: SmallVec<[Place<'_>; 8]> = SmallVec::new();
            let start = match s {
                Segment::Literal(l) => {
                    out.push(Place::Literal(at, l));
                    return out;
                }
                Segment::Shaped(_, shape) => shape.prefix(),
                // A source whose literal start is followed by `/` or the end (`/guide-1(/?)`,
                // `/docs/:path*`): the path's segment there is that start, whole.
                Segment::Regex(start, regex) if regex.ends_segment() && !start.is_empty() => {
                    out.push(Place::Literal(at, start));
                    return out;
                }
                Segment::Regex(start, _) => start,
                Segment::Param(_) | Segment::Splat(_) => return out,
            };
            for &length in PREFIX_LENGTHS.iter().filter(|&&l| start.len() >= l) {
                out.push(Place::Prefix(at, &start.as_bytes()[..length]));
            }
            out
        })
}

/// Which kinds of home a bundle has, so a request computes only those (kept in the header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Used(pub(crate) u64);

impl Used {
    /// Bit `LITERAL << i` (`i` < [`ROUTE_DEPTH`]): some rule lives at a literal segment at
    /// position `i`.
    pub(crate) const LITERAL: u64 = 1;
    /// Some rule lives at the catch-all.
    pub(crate) const CATCH_ALL: u64 = 1 << ROUTE_DEPTH;
    /// Bit `PREFIX << i`: some rule lives at the first bytes of a segment at position `i`.
    pub(crate) const PREFIX: u64 = 1 << (ROUTE_DEPTH + 1);
    /// Some rule lives at its path key (a rule without placeholders).
    pub(crate) const EXACT: u64 = 1 << (2 * ROUTE_DEPTH + 1);
    /// Bit `LENGTH << c`: some rule lives at the first `PREFIX_LENGTHS[c]` bytes of a segment.
    /// Without any of these bits (the first artifacts of format 3), prefixes are 4 bytes long.
    const LENGTH: u64 = 1 << (2 * ROUTE_DEPTH + 2);
    /// Some rule lives at its path key with one query parameter's exact value (the head names
    /// the parameters: [`QUERY_NAMES`]).
    pub(crate) const QUERY: u64 = Used::LENGTH << PREFIX_LENGTHS.len();
    /// Every bit this engine knows.
    pub(crate) const ALL: u64 = (Used::QUERY << 1) - 1;

    fn has(self, bit: u64) -> bool {
        self.0 & bit != 0
    }

    /// Whether some rule lives at the first `PREFIX_LENGTHS[class]` bytes of a segment.
    fn has_length(self, class: usize) -> bool {
        let lengths = Used::QUERY - Used::LENGTH;
        if self.0 & lengths == 0 {
            class == 0
        } else {
            self.has(Used::LENGTH << class)
        }
    }
}

/// The rank of a place among a rule's places, the higher preferred (among places shared alike):
/// deeper first, and at one position a whole segment, then a shorter prefix, then a longer.
fn rank(place: Place<'_>) -> u16 {
    match place {
        Place::Literal(at, _) => 64 * at as u16 + 63,
        Place::Prefix(at, start) => 64 * at as u16 + 63 - start.len() as u16,
        _ => unreachable!("places are literals and prefixes"),
    }
}

/// A candidate fixed at the rule's path key (a rule without placeholders).
const FIXED_EXACT: u16 = u16::MAX;
/// A candidate at the rule's path key with the exact value of query parameter `n` (by the
/// order the bundle first names them) has rank `QUERY_RANK + n`.
const QUERY_RANK: u16 = 1024;
/// Most query parameter names a bundle's rules are told apart by ([`QUERY_NAMES`] are routed).
const QUERY_NAMES_SEEN: usize = 60_000;

/// A candidate fixed at the catch-all (a pattern with no literal material to route by).
const FIXED_CATCH_ALL: u16 = u16::MAX - 1;

/// Where each rule of a bundle lives, worked out as the compiler hands the rules over one by
/// one ([`Sink`]): of each rule only the hashes of the places it could live at are kept, so a
/// bundle of millions of rules never exists compiled. Each pattern rule then lives at the
/// literal material the fewest rules share (the deepest of those tied, a whole segment before
/// a prefix), so that no home grows with a prefix every rule has (a language, a year,
/// `/shop`).
pub(crate) struct Routing {
    router: Router,
    /// Each rule's first candidate in `candidates`.
    start: Vec<u32>,
    /// Candidates: the hash of a place with its [`rank`], or one fixed home.
    candidates: Vec<(u64, u16)>,
    /// How many rules could live at each place.
    shared: HashMap<u64, u32>,
    /// Each rule's [`Pattern::matcher_bytes`].
    matching: Vec<u32>,
    /// Query parameter names exact values are tested of, by the order first seen.
    query_names: HashMap<String, u16>,
    hosts: rustc_hash::FxHashSet<u64>,
    /// Whether some rule compares case-sensitively, and whether some does not.
    cases: [bool; 2],
    host_homes: bool,
    hostless: bool,
}

/// Where the rules of a bundle live ([`Routing::finish`]).
pub(crate) struct Routed {
    /// Each rule's home, in file order.
    pub(crate) homes: Vec<Home>,
    /// The heap each rule's pattern takes to match, beyond its text
    /// ([`Pattern::matcher_bytes`]), in file order.
    pub(crate) matching: Vec<u32>,
    /// Which kinds of home the bundle uses.
    pub(crate) used: Used,
    /// The query parameters some rule lives by ([`Used::QUERY`]), at most [`QUERY_NAMES`].
    pub(crate) query_names: Vec<String>,
    /// The hashes of the exact hosts rules name, ascending.
    pub(crate) hosts: Vec<u64>,
    /// Some rule's home names a host.
    pub(crate) host_homes: bool,
    /// Some rule's home names none.
    pub(crate) hostless: bool,
    /// Some rule compares in the other case than the bundle.
    pub(crate) both_cases: bool,
}

impl Routing {
    pub(crate) fn new(router: Router) -> Routing {
        Routing {
            router,
            start: Vec::new(),
            candidates: Vec::new(),
            shared: HashMap::default(),
            matching: Vec::new(),
            query_names: HashMap::default(),
            hosts: Default::default(),
            cases: [false; 2],
            host_homes: false,
            hostless: false,
        }
    }

    /// The candidates of rule `r`.
    fn choices(&self, r: usize) -> &[(u64, u16)] {
        let from = self.start[r] as usize;
        let to = self
            .start
            .get(r + 1)
            .map_or(self.candidates.len(), |&e| e as usize);
        &self.candidates[from..to]
    }

    /// Whether more rules than [`SMALL_HOME_RULES`] live at this path key.
    fn crowded(&self, home: u64) -> bool {
        self.shared.get(&home).copied().unwrap_or(0) > SMALL_HOME_RULES
    }

    /// The query parameters to route by: of the rules on crowded path keys, the names whose
    /// exact values tell apart the most of them (at most [`QUERY_NAMES`]), as ranks
    /// ([`QUERY_RANK`] + the name's number), and their names in that order.
    fn routed_names(&self) -> (Vec<u16>, Vec<String>) {
        let mut counts: HashMap<u16, u32> = HashMap::default();
        for r in 0..self.start.len() {
            let choices = self.choices(r);
            if choices.len() > 1 && choices[0].1 == FIXED_EXACT && self.crowded(choices[0].0) {
                for &(_, rank) in &choices[1..] {
                    *counts.entry(rank).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(u16, u32)> = counts.into_iter().collect();
        ranked.sort_unstable_by_key(|&(rank, count)| (std::cmp::Reverse(count), rank));
        ranked.truncate(QUERY_NAMES);
        let ranks: Vec<u16> = ranked.iter().map(|&(rank, _)| rank).collect();
        let mut names = vec![String::new(); ranks.len()];
        for (name, &n) in &self.query_names {
            if let Some(at) = ranks.iter().position(|&r| r == QUERY_RANK + n) {
                names[at] = name.clone();
            }
        }
        (ranks, names)
    }

    /// Each rule at its home.
    pub(crate) fn finish(self, case_sensitive: bool) -> Routed {
        let mut used = Used::default();
        let n = self.start.len();
        let (routed_ranks, query_names) = self.routed_names();
        let homes = (0..n)
            .map(|r| {
                let choices = self.choices(r);
                if choices[0].1 == FIXED_EXACT {
                    // On a crowded path, the rule lives by the value of a routed parameter
                    // it tests (the least shared), else at the path key.
                    let crowded = self.crowded(choices[0].0);
                    let by_query = choices[1..]
                        .iter()
                        .filter(|_| crowded)
                        .filter_map(|&(h, rank)| {
                            let order = routed_ranks.iter().position(|&q| q == rank)?;
                            Some((self.shared.get(&h).copied().unwrap_or(0), order, h))
                        })
                        .min();
                    return match by_query {
                        Some((_, _, h)) => {
                            used.0 |= Used::QUERY;
                            Home(h)
                        }
                        None => {
                            used.0 |= Used::EXACT;
                            Home(choices[0].0)
                        }
                    };
                }
                let &(hash, rank) = choices
                    .iter()
                    .min_by_key(|(h, rank)| {
                        let shared = self.shared.get(h).copied().unwrap_or(0);
                        (shared.max(SMALL_HOME_RULES), std::cmp::Reverse(*rank))
                    })
                    .expect("every rule has a candidate");
                used.0 |= match rank {
                    FIXED_CATCH_ALL => Used::CATCH_ALL,
                    r if r % 64 == 63 => Used::LITERAL << (r / 64),
                    r => {
                        let length = usize::from(63 - r % 64);
                        let class = PREFIX_LENGTHS
                            .iter()
                            .position(|&l| l == length)
                            .expect("a prefix is one of PREFIX_LENGTHS long");
                        (Used::PREFIX << (r / 64)) | (Used::LENGTH << class)
                    }
                };
                Home(hash)
            })
            .collect();
        let mut hosts: Vec<u64> = self.hosts.into_iter().collect();
        hosts.sort_unstable();
        Routed {
            homes,
            matching: self.matching,
            used,
            query_names,
            hosts,
            host_homes: self.host_homes,
            hostless: self.hostless,
            both_cases: self.cases[usize::from(!case_sensitive)],
        }
    }
}

impl Sink for Routing {
    fn take(&mut self, rule: Rule) {
        let host = home_host(&rule);
        match host {
            Some(h) => {
                self.host_homes = true;
                self.hosts.insert(self.router.host(h));
            }
            None => self.hostless = true,
        }
        self.cases[usize::from(rule.case_sensitive)] = true;
        self.start.push(self.candidates.len() as u32);
        let matching = rule.pattern.matcher_bytes();
        self.matching
            .push(u32::try_from(matching).unwrap_or(u32::MAX));
        if rule.pattern.is_exact() {
            let key = rule.pattern.exact_key();
            let home = self.router.hash(host, Place::Exact(key));
            *self.shared.entry(home).or_default() += 1;
            self.candidates.push((home, FIXED_EXACT));
            // The exact values of query parameters it tests: where it may live instead when
            // its path is crowded.
            for (name, value) in rule.when().exact_query_values() {
                if name.contains('\0') || value.len() > MAX_VALUE_BYTES_TESTED {
                    continue;
                }
                let seen = self.query_names.len();
                let number = match self.query_names.get(name) {
                    Some(&n) => n,
                    None if seen < QUERY_NAMES_SEEN => {
                        self.query_names.insert(name.to_owned(), seen as u16);
                        seen as u16
                    }
                    None => continue,
                };
                let at = self.router.hash(host, Place::Query(key, name, value));
                *self.shared.entry(at).or_default() += 1;
                self.candidates.push((at, QUERY_RANK + number));
            }
            return;
        }
        let before = self.candidates.len();
        for place in places(&rule.pattern) {
            let rank = rank(place);
            let hash = self.router.hash(host, place);
            *self.shared.entry(hash).or_default() += 1;
            self.candidates.push((hash, rank));
        }
        if self.candidates.len() == before {
            let home = self.router.hash(host, Place::CatchAll);
            self.candidates.push((home, FIXED_CATCH_ALL));
        }
    }

    fn clear(&mut self) {
        *self = Routing::new(self.router);
    }

    fn reserve(&mut self, rules: usize) {
        self.start.reserve(rules);
        self.matching.reserve(rules);
        self.candidates.reserve(rules);
    }
}
