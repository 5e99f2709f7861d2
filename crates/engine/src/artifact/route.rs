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
}

/// FNV-1a, 64 bits, of `bytes`.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv::new().add(bytes).0
}

/// Where a rule lives.
pub(crate) enum Home {
    /// An exact part, by the hash of its path key.
    Exact(u64),
    /// A prefix part, by the hash of its leading literal segments.
    Prefix(u64),
}

/// The part a rule with `pattern` belongs to.
pub(crate) fn home(pattern: &Pattern) -> Home {
    if pattern.is_exact() {
        return Home::Exact(Fnv::new().add(pattern.exact_key().as_bytes()).0);
    }
    let mut h = Fnv::new();
    for seg in pattern.segments().take(PREFIX_DEPTH) {
        match seg {
            Segment::Literal(l) => h = h.add(b"/").add(l.as_bytes()),
            Segment::Param(_) | Segment::Splat(_) => break,
        }
    }
    Home::Prefix(h.0)
}

/// The part number of `home` in an artifact of `exact` exact and `prefix` prefix parts.
pub(crate) fn part_of(home: &Home, exact: u32, prefix: u32) -> usize {
    match *home {
        Home::Exact(h) => (h % u64::from(exact)) as usize,
        Home::Prefix(h) => exact as usize + (h % u64::from(prefix)) as usize,
    }
}

/// The parts a request reads, ascending without repeats: the exact part of its path `key`,
/// and the prefix part of each of its first `0..=PREFIX_DEPTH` segments (comparable form),
/// since a pattern rule can only match a path that starts with its leading literals.
pub(crate) fn route(
    exact: u32,
    prefix: u32,
    key: &str,
    segments: &[Cow<'_, str>],
    out: &mut SmallVec<[usize; 4]>,
) {
    out.push(part_of(
        &Home::Exact(Fnv::new().add(key.as_bytes()).0),
        exact,
        prefix,
    ));
    let mut h = Fnv::new();
    out.push(part_of(&Home::Prefix(h.0), exact, prefix));
    for seg in segments.iter().take(PREFIX_DEPTH) {
        h = h.add(b"/").add(seg.as_bytes());
        out.push(part_of(&Home::Prefix(h.0), exact, prefix));
    }
    out.sort_unstable();
    out.dedup();
}
