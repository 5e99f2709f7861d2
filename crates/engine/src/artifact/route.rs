//! Which part of an artifact holds a rule, and which parts a request reads: the one rule of
//! routing that the build and every reader share.
//!
//! A rule lives at a **home**: for a rule without placeholders, its path key; for any other,
//! the most selective literal segment among its first [`ROUTE_DEPTH`] segments (the one fewest
//! rules of the bundle share, at its position), or, with none, the catch-all. A rule with an
//! exact `host` has the host in its home too. A pattern matches only paths whose segment at
//! that position is that literal, so a request needs the homes of its path key, of each of its
//! first [`ROUTE_DEPTH`] segments at its position, and the catch-all, with its host and
//! without: at most `2 × (ROUTE_DEPTH + 2)` homes, each looked up in the filter, and only those
//! held are read.
//!
//! Homes are hashed with SipHash-1-3 under a key drawn from the bundle's text, so the author of
//! the paths cannot choose paths that fall together (a change of any path changes the key).

use super::ROUTE_DEPTH;
use crate::model::pattern::{Pattern, Segment};
use crate::model::rule::Rule;
use rustc_hash::FxHashMap as HashMap;
use siphasher::sip::SipHasher13;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::hash::Hasher;

/// FNV-1a, 64 bits: the artifact's checksums and content id.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(0xcbf2_9ce4_8422_2325, bytes)
}

fn fnv1a_from(mut h: u64, bytes: &[u8]) -> u64 {
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
pub(crate) enum Home {
    /// An exact part, by the hash of its path key.
    Exact(u64),
    /// A pattern part, by the hash of its literal segment and position (or the catch-all).
    Pattern(u64),
}

impl Home {
    /// The hash the filter holds.
    pub(crate) fn hash(self) -> u64 {
        match self {
            Home::Exact(h) | Home::Pattern(h) => h,
        }
    }
}

/// The keyed hash of homes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Router {
    key: [u64; 2],
}

/// What a home is made of, besides its host.
enum Place<'a> {
    Exact(&'a str),
    Literal(usize, &'a str),
    CatchAll,
}

impl Router {
    /// The router of an artifact built with `key`.
    pub(crate) fn new(key: [u64; 2]) -> Router {
        Router { key }
    }

    fn hash(&self, host: Option<&str>, place: Place<'_>) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.key[0], self.key[1]);
        // Every field length-prefixed, so no two homes write the same bytes.
        let mut text = |t: &str| {
            h.write_u64(t.len() as u64);
            h.write(t.as_bytes());
        };
        text(host.unwrap_or(""));
        match place {
            Place::Exact(key) => {
                h.write_u8(0);
                h.write_u64(key.len() as u64);
                h.write(key.as_bytes());
            }
            Place::Literal(at, literal) => {
                h.write_u8(1);
                h.write_u64(at as u64);
                h.write_u64(literal.len() as u64);
                h.write(literal.as_bytes());
            }
            Place::CatchAll => h.write_u8(2),
        }
        h.finish()
    }

    /// The homes a request's rules can live in: its path `key`, its first segments at the
    /// positions some rule is routed by (`used`), and the catch-all when some rule lives
    /// there; each without a host and, when the artifact has host homes, with the request's
    /// `host` (lower-case).
    pub(crate) fn homes(
        &self,
        host: &str,
        host_homes: bool,
        used: Used,
        key: &str,
        segments: &[Cow<'_, str>],
    ) -> SmallVec<[Home; 24]> {
        let mut out = SmallVec::new();
        let hosts = [None, Some(host).filter(|_| host_homes)];
        for host in hosts.into_iter().take(if host_homes { 2 } else { 1 }) {
            out.push(Home::Exact(self.hash(host, Place::Exact(key))));
            if used.catch_all() {
                out.push(Home::Pattern(self.hash(host, Place::CatchAll)));
            }
            for (at, seg) in segments.iter().enumerate().take(ROUTE_DEPTH) {
                if used.position(at) {
                    out.push(Home::Pattern(self.hash(host, Place::Literal(at, seg))));
                }
            }
        }
        out
    }
}

/// The host a rule's home names: its `host` when it is one exact host (a `*.` host is matched
/// by suffix, so such rules live without one).
fn home_host(rule: &Rule) -> Option<&str> {
    rule.host().filter(|h| !h.starts_with("*."))
}

/// The literal segments a pattern can be routed by: `(position, literal)` among its first
/// [`ROUTE_DEPTH`] segments.
fn literals(pattern: &Pattern) -> impl Iterator<Item = (usize, &str)> {
    pattern
        .segments()
        .take(ROUTE_DEPTH)
        // A path-to-regexp source spans any number of segments: nothing after it is at a
        // position.
        .take_while(|s| !matches!(s, Segment::Regex(..)))
        .enumerate()
        .filter_map(|(at, s)| match s {
            Segment::Literal(l) => Some((at, l)),
            _ => None,
        })
}

/// Which kinds of pattern home a bundle has: bit `i` (< [`ROUTE_DEPTH`]) when some rule lives
/// at a literal segment at position `i`, bit [`ROUTE_DEPTH`] when some rule lives at the
/// catch-all; a request computes only the homes of these (kept in the header).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Used(pub(crate) u32);

impl Used {
    /// Every bit this engine knows.
    pub(crate) const ALL: u32 = (1 << (ROUTE_DEPTH + 1)) - 1;

    fn position(self, at: usize) -> bool {
        self.0 & (1 << at) != 0
    }

    fn catch_all(self) -> bool {
        self.0 & (1 << ROUTE_DEPTH) != 0
    }
}

/// The homes of every rule of a bundle, in order, and which kinds it uses: each pattern rule
/// at its literal segment the fewest rules share (the deepest of those tied), so that no home
/// grows with a prefix every rule has (a language, a year, `/shop`).
pub(crate) fn homes_of(router: &Router, rules: &[Rule]) -> (Vec<Home>, Used) {
    let mut shared: HashMap<(Option<&str>, usize, &str), u32> = HashMap::default();
    for rule in rules.iter().filter(|r| !r.pattern.is_exact()) {
        for (at, l) in literals(&rule.pattern) {
            *shared.entry((home_host(rule), at, l)).or_default() += 1;
        }
    }
    let mut used = Used::default();
    let homes = rules
        .iter()
        .map(|rule| {
            let host = home_host(rule);
            if rule.pattern.is_exact() {
                return Home::Exact(router.hash(host, Place::Exact(rule.pattern.exact_key())));
            }
            let best = literals(&rule.pattern)
                .min_by_key(|&(at, l)| (shared[&(host, at, l)], std::cmp::Reverse(at)));
            Home::Pattern(match best {
                Some((at, l)) => {
                    used.0 |= 1 << at;
                    router.hash(host, Place::Literal(at, l))
                }
                None => {
                    used.0 |= 1 << ROUTE_DEPTH;
                    router.hash(host, Place::CatchAll)
                }
            })
        })
        .collect();
    (homes, used)
}

/// Whether any rule's home names a host.
pub(crate) fn has_host_homes(rules: &[Rule]) -> bool {
    rules.iter().any(|r| home_host(r).is_some())
}

/// The part number of `home` in an artifact of `exact` exact and `pattern` pattern parts.
pub(crate) fn part_of(home: Home, exact: u32, pattern: u32) -> usize {
    match home {
        Home::Exact(h) => (h % u64::from(exact)) as usize,
        Home::Pattern(h) => exact as usize + (h % u64::from(pattern)) as usize,
    }
}
