//! Which part of an artifact holds a rule, and which parts a request reads: the one rule of
//! routing that the build and every reader share.

use super::PREFIX_DEPTH;
use crate::pattern::{Pattern, Segment};
use smallvec::SmallVec;
use std::borrow::Cow;

/// FNV-1a over a run of byte strings, as if they were one.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn add(mut self, bytes: &[u8]) -> Fnv {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }
    /// The hash of a prefix starts apart from any path's, so the two never meet in the filter.
    fn prefix() -> Fnv {
        Fnv::new().add(b"\x01")
    }
}

/// FNV-1a, 64 bits, of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv::new().add(bytes).0
}

/// Where a rule lives: the hash of its home, which also stands for it in the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Home {
    /// An exact part, by the hash of its path key.
    Exact(u64),
    /// A prefix part, by the hash of its leading literal segments.
    Prefix(u64),
}

impl Home {
    /// The hash the filter holds.
    pub(crate) fn hash(self) -> u64 {
        match self {
            Home::Exact(h) | Home::Prefix(h) => h,
        }
    }
}

/// The home of a rule with `pattern`.
pub(crate) fn home(pattern: &Pattern) -> Home {
    if pattern.is_exact() {
        return Home::Exact(fnv1a(pattern.exact_key().as_bytes()));
    }
    let mut h = Fnv::prefix();
    for seg in pattern.segments().take(PREFIX_DEPTH) {
        match seg {
            Segment::Literal(l) => h = h.add(b"/").add(l.as_bytes()),
            Segment::Param(_) | Segment::Shaped(..) | Segment::Splat(_) | Segment::Regex(..) => {
                break
            }
        }
    }
    Home::Prefix(h.0)
}

/// The hash of the home of a rule with `pattern` ([`home`]).
pub(crate) fn home_hash(pattern: &Pattern) -> u64 {
    home(pattern).hash()
}

/// The part number of `home` in an artifact of `exact` exact and `prefix` prefix parts.
pub(crate) fn part_of(home: Home, exact: u32, prefix: u32) -> usize {
    match home {
        Home::Exact(h) => (h % u64::from(exact)) as usize,
        Home::Prefix(h) => exact as usize + (h % u64::from(prefix)) as usize,
    }
}

/// The homes a request's rules can live in: the exact home of its path `key`, and the prefix
/// home of each of its first `0..=PREFIX_DEPTH` segments (comparable form), since a pattern
/// rule can only match a path that starts with its leading literals.
pub(crate) fn homes(key: &str, segments: &[Cow<'_, str>]) -> SmallVec<[Home; 4]> {
    let mut out = SmallVec::new();
    out.push(Home::Exact(fnv1a(key.as_bytes())));
    let mut h = Fnv::prefix();
    out.push(Home::Prefix(h.0));
    for seg in segments.iter().take(PREFIX_DEPTH) {
        h = h.add(b"/").add(seg.as_bytes());
        out.push(Home::Prefix(h.0));
    }
    out
}
