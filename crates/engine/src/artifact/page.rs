//! The filter of an artifact, in pages: which homes hold a rule, and in which part.
//!
//! Homes are spread over `2^bits` pages by the top `bits` of their (keyed) hash, so a page
//! holds about [`super::PAGE_HOMES`] homes whatever the bundle's size, and a request reads
//! only the pages its homes fall in. A page holds the low 32 bits of each of its homes, in
//! order, and the parts its homes are in: a part is a run of homes in that order (never across
//! pages), so the entry of the last part starting at or before a home's place is its part.
//! Two homes of one page with the same low bits are one entry, and always in the same part;
//! a request's home absent from the bundle but sharing those bits with one present reads that
//! part and finds no rule there (about `homes / 2^64` of requests).
//!
//! A page stands alone: it starts with a checksum of the rest and names its artifact (the
//! routing key) and its number, so one read from storage is checked without the head
//! listing it.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | FNV-1a 64 of bytes 8 .. end |
//! | 8 | 8 | the artifact's routing key, first half |
//! | 16 | 4 | the page's number |
//! | 20 | 4 | homes `m` |
//! | 24 | 4 | parts `k` |
//! | 28 | 4 | 0 |
//! | 32 | 4 × m | the low 32 bits of each home, ascending, once each |
//! | ... | 32 × k | per part: first home's place (u32), part number (u32), offset in the artifact (u64), length (u32), 0 (u32), FNV-1a 64 of its bytes |

use super::{u32_at, u64_at, ArtifactError, Need};
use crate::limits::MAX_PAGE_BYTES;

const PAGE_HEADER: usize = 32;
const PART_ENTRY: usize = 32;

/// The page a home's hash falls in, of `2^bits` pages.
pub(crate) fn page_of(home: u64, bits: u32) -> usize {
    if bits == 0 {
        0
    } else {
        (home >> (64 - bits)) as usize
    }
}

/// The order of homes in pages: by page, then by the low bits a page holds.
pub(crate) fn order(home: u64, bits: u32) -> (usize, u32, u64) {
    (page_of(home, bits), home as u32, home)
}

/// One part's place, as a page gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartEntry {
    pub(crate) part: u32,
    pub(crate) offset: u64,
    pub(crate) len: u32,
    pub(crate) checksum: u64,
}

/// Writes page `number`: `homes` (low bits, ascending, once each) and its parts, each with the
/// place of its first home.
pub(crate) fn write(key: u64, number: u32, homes: &[u32], parts: &[(u32, PartEntry)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAGE_HEADER + 4 * homes.len() + PART_ENTRY * parts.len());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&key.to_le_bytes());
    out.extend_from_slice(&number.to_le_bytes());
    out.extend_from_slice(&(homes.len() as u32).to_le_bytes());
    out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    for h in homes {
        out.extend_from_slice(&h.to_le_bytes());
    }
    for (first, e) in parts {
        out.extend_from_slice(&first.to_le_bytes());
        out.extend_from_slice(&e.part.to_le_bytes());
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&e.len.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&e.checksum.to_le_bytes());
    }
    let sum = super::fnv1a(&out[8..]);
    out[..8].copy_from_slice(&sum.to_le_bytes());
    out
}

/// Checks page `number` of the artifact with routing key `key`: its checksum (when `sum`),
/// its name and that its sections fit; its homes and parts are read in place after.
pub(crate) fn check(bytes: &[u8], key: u64, number: usize, sum: bool) -> Result<(), ArtifactError> {
    let bad = || ArtifactError::PageCorrupt(number);
    if bytes.len() < PAGE_HEADER || bytes.len() > MAX_PAGE_BYTES {
        return Err(bad());
    }
    if sum && super::fnv1a(&bytes[8..]) != u64_at(bytes, 0) {
        return Err(bad());
    }
    if u64_at(bytes, 8) != key || u32_at(bytes, 16) as usize != number {
        return Err(bad());
    }
    let (m, k) = (u32_at(bytes, 20) as usize, u32_at(bytes, 24) as usize);
    if PAGE_HEADER + 4 * m + PART_ENTRY * k != bytes.len() || (m > 0) != (k > 0) {
        return Err(bad());
    }
    // Parts in order of their first home, the first at the first home.
    let firsts = (0..k).map(|i| u32_at(bytes, PAGE_HEADER + 4 * m + PART_ENTRY * i));
    let mut last = None;
    for first in firsts {
        let ok = match last {
            None => first == 0,
            Some(l) => first > l && (first as usize) < m,
        };
        if !ok {
            return Err(bad());
        }
        last = Some(first);
    }
    Ok(())
}

/// The part holding `home` according to a checked page, as a [`Need`]; `None` if no rule
/// lives there.
pub(crate) fn find(bytes: &[u8], home: u64) -> Option<Need> {
    let (m, k) = (u32_at(bytes, 20) as usize, u32_at(bytes, 24) as usize);
    let low = home as u32;
    let (mut lo, mut hi) = (0, m);
    let mut at = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match u32_at(bytes, PAGE_HEADER + 4 * mid).cmp(&low) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                at = Some(mid as u32);
                break;
            }
        }
    }
    let at = at?;
    let entries = PAGE_HEADER + 4 * m;
    // The last part whose first home is at or before `at`.
    let (mut lo, mut hi) = (0, k);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if u32_at(bytes, entries + PART_ENTRY * mid) <= at {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let e = entries + PART_ENTRY * lo;
    Some(Need {
        part: u32_at(bytes, e + 4) as usize,
        home,
        offset: u64_at(bytes, e + 8),
        len: u32_at(bytes, e + 16),
        checksum: u64_at(bytes, e + 24),
    })
}

/// Every part a checked page names.
pub(crate) fn parts(bytes: &[u8]) -> impl Iterator<Item = PartEntry> + '_ {
    let (m, k) = (u32_at(bytes, 20) as usize, u32_at(bytes, 24) as usize);
    let entries = PAGE_HEADER + 4 * m;
    (0..k).map(move |i| {
        let e = entries + PART_ENTRY * i;
        PartEntry {
            part: u32_at(bytes, e + 4),
            offset: u64_at(bytes, e + 8),
            len: u32_at(bytes, e + 16),
            checksum: u64_at(bytes, e + 24),
        }
    })
}

/// A page of an artifact's filter read from storage that keeps pages apart
/// ([`crate::Engine::decode_page`]), checked: which homes of its share hold a rule, and in
/// which part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    number: usize,
    bytes: Box<[u8]>,
}

impl Page {
    pub(crate) fn new(number: usize, bytes: Box<[u8]>) -> Page {
        Page { number, bytes }
    }

    /// The page's number.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The memory it takes, in bytes (for a cache that keeps pages within a budget).
    pub fn cost(&self) -> usize {
        self.bytes.len() + std::mem::size_of::<Page>()
    }

    pub(crate) fn find(&self, home: u64) -> Option<Need> {
        find(&self.bytes, home)
    }
}
