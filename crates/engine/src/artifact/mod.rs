//! The artifact: a bundle compiled at build time (`redirects build`) into an immutable binary
//! form that starts in constant time. Loading one checks its header and bounds; the rules live
//! in parts of about [`PART_RULES`] rules each, and a part is compiled the first time a request
//! needs it. Which parts a request needs follows from its host and path alone: its homes
//! (`route.rs`), looked up in the filter, which is cut into pages of about [`PAGE_HOMES`]
//! homes by hash (`page.rs`); so a request reads one page per home it can have and only the
//! parts of homes its path has, whatever the bundle's size, and a path no rule is near reads
//! no part.
//!
//! The layout (integers little-endian; `crates/engine/ARTIFACT.md` has the design and figures):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `EDGERDR\x01` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | flags: [`FLAG_BOTH_CASES`], [`FLAG_HOST_HOMES`], [`FLAG_HOSTLESS_HOMES`], [`FLAG_HOST_TABLE`] |
//! | 16 | 8 | FNV-1a 64 of bytes 24 .. end of the head |
//! | 24 | 8 | content id: FNV-1a 64 of every byte from 32 to the end |
//! | 32 | 4 | rule count |
//! | 36 | 4 | parts `P` |
//! | 40 | 4 | page bits `b`: the filter has `2^b` pages |
//! | 44 | 4 | settings length `S` |
//! | 48 | 4 | homes (distinct) |
//! | 52 | 4 | hosts `H` in the table |
//! | 56 | 8 | kinds of home used (`route::Used`) |
//! | 64 | 16 | routing key: two u64, SipHash-1-3's key for homes (drawn from the bundle's text) |
//! | 80 | S | the bundle without its rules: `{"version": 1, "settings": {...}, "rules": []}`; with the `QUERY` kind of home, then each query parameter rules live by ([`QUERY_NAMES`]) after a NUL byte |
//! | 80 + S | 8 × H | the keyed hash of every exact host a rule names, ascending (with [`FLAG_HOST_TABLE`]) |
//! | ... | 8 × 2^b | page directory: per page its offset (u32) and length (u32) |
//! | ... | | pages (`page.rs`) |
//! | ... | | parts: a rule count `n` (u32), `n` rule numbers in file order (u32), their `n` homes (u64), then the part's rules as a JSON array |
//!
//! The *head* is everything before the page directory: it does not grow with the rules.
//! Storage that keeps parts apart (Workers KV, one value each) keeps the head as one value, each
//! page and each part as one more, and hands pages and parts over as requests need them
//! ([`crate::Engine::load_head`], [`split`]). A page names its artifact and carries its own
//! checksum; it gives each of its parts' length and checksum, so every value read is checked.

mod build;
#[cfg(not(target_arch = "wasm32"))]
mod file;
mod page;
mod part;
mod route;

pub use build::{build, build_with, Built, Options};
#[cfg(not(target_arch = "wasm32"))]
pub use file::{build_file, build_file_chunked, BuildError, CHUNK_BYTES};
pub use page::Page;
pub use part::Part;

use crate::limits::{MAX_ARTIFACT_PARTS, MAX_HEAD_BYTES, MAX_PAGE_BYTES};
use crate::model::settings::Settings;
use crate::request::visitor::Query;
use route::{Router, Used};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

/// The first eight bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"EDGERDR\x01";
/// The layout version this engine reads and writes (3: the filter in pages, parts by home).
pub const FORMAT_VERSION: u32 = 3;
/// About how many rules one part holds: the most a request's first touch of a part compiles
/// (a part holding the rules of one home can be larger, up to [`crate::limits::MAX_PART_BYTES`]).
pub const PART_RULES: usize = 64;
/// About how many homes one page of the filter holds (4 bytes each).
pub const PAGE_HOMES: usize = 1024;
/// Header flag: some rule compares its literals in the other case than the bundle's setting
/// (its own `case_sensitive`), so it lives where its literals in its case say, and a request
/// also needs the homes of its path in that case.
pub const FLAG_BOTH_CASES: u32 = 1;
/// Header flag: some rule's home names its host (a rule with one exact `host`), so a request
/// also needs the homes of its path with its host.
pub const FLAG_HOST_HOMES: u32 = 2;
/// Header flag: some rule's home names no host, so a request needs the homes of its path
/// without one.
pub const FLAG_HOSTLESS_HOMES: u32 = 4;
/// Header flag: the head lists every exact host a rule names, so a request for another host
/// needs no home with its host.
pub const FLAG_HOST_TABLE: u32 = 8;
/// How many leading segments a pattern rule can be routed by (its most selective literal among
/// them); a request needs the home of each of its first this many segments.
pub const ROUTE_DEPTH: usize = 8;
/// How many leading bytes of a segment's literal start a rule can be routed by: any of these
/// that the literal start is at least as long as (every length from 4 to 24 bytes, and 32), so
/// that rules whose literal starts share their first bytes (`guide-1`, `guide-2`, ...) still
/// spread over homes. The header says which lengths some rule lives at, and a request computes
/// only those.
pub const PREFIX_LENGTHS: [usize; 22] = [
    4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 32,
];
/// A rule may live at a place as many rules could live at as this and still be preferred for
/// its position and kind (deeper, a whole segment, a shorter prefix) over a place fewer share:
/// so that prefixes of a few lengths serve a bundle, and a request computes few homes.
pub const SMALL_HOME_RULES: u32 = 32;
/// Most query parameters rules live by in one artifact. Rules on a path more than
/// [`SMALL_HOME_RULES`] share, told apart by the exact value of a query parameter
/// (`/product.php` with `id=123`), live at the path with that value, by the parameters that
/// tell the most of them apart; a request's homes then include its path with each of the
/// first [`crate::limits::MAX_VALUES_TESTED`] values it sent of each: at most 32 more.
pub const QUERY_NAMES: usize = 4;
/// The fewest leading bytes of a segment's literal start a rule can be routed by.
pub const PREFIX_BYTES: usize = PREFIX_LENGTHS[0];

/// Memory a compiled part is costed per byte of the stored part it was compiled from (see
/// [`Part::cost`]). Measured natively with a counting allocator, 20,000 rules of each kind
/// decoded, cut by home and indexed: exact paths take 441 bytes a rule (4.9 a stored byte),
/// patterns 599 (8.4), query-keyed rules 673 (7.3), rules with 8 KB targets 1.04 bytes a
/// stored byte. Two bytes a byte plus [`PART_BYTES_PER_RULE`] a rule is 1.03 to 2 times what
/// each of these takes: never less.
pub const PART_BYTES_PER_ENCODED_BYTE: usize = 2;
/// Memory a compiled part is costed per rule, beyond [`PART_BYTES_PER_ENCODED_BYTE`]: its
/// structure and its share of the part's index.
pub const PART_BYTES_PER_RULE: usize = 512;

/// How many bytes the fixed header at the start of every artifact takes: all that
/// [`Places::read`] needs to find the rest.
pub const HEADER_BYTES: usize = 80;
const KNOWN_FLAGS: u32 = FLAG_BOTH_CASES | FLAG_HOST_HOMES | FLAG_HOSTLESS_HOMES | FLAG_HOST_TABLE;
/// Most page bits (a million pages).
const MAX_PAGE_BITS: u32 = 20;

/// FNV-1a, 64 bits: the artifact's checksums and content id (stable across platforms and
/// versions, so a build and every reader agree).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    route::fnv1a(bytes)
}

/// Why bytes are not a usable artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtifactError {
    /// No `EDGERDR` header: JSON, or something else.
    NotAnArtifact,
    /// Written by another format version.
    Format(u32),
    /// Header flags or reserved bits this engine does not know.
    UnknownFlags,
    /// More parts than a reader takes ([`MAX_ARTIFACT_PARTS`]).
    TooManyParts(usize),
    /// A head longer than a reader takes ([`MAX_HEAD_BYTES`]).
    HeadTooLarge(usize),
    /// The bytes end inside this section.
    Truncated(&'static str),
    /// This section's checksum does not match.
    Corrupt(&'static str),
    /// A head's bytes go on past its filter.
    HeadWithParts,
    /// A part's entry points outside the artifact.
    PartOutOfBounds(usize),
    /// A page of the filter is damaged, of another artifact, or not the page asked for.
    PageCorrupt(usize),
    /// No page of this number.
    NoSuchPage(usize),
    /// A part's bytes do not match their checksum (in the artifact, or handed over).
    PartCorrupt(usize),
    /// A part's rules do not compile.
    PartDoesNotCompile(usize),
    /// No part of this number.
    NoSuchPart(usize),
    /// Parts were asked of an engine compiled from JSON.
    NoParts,
    /// The settings in the head are not UTF-8, or do not compile (the compiler's words).
    Settings(String),
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArtifactError::NotAnArtifact => f.write_str(
                "not an artifact (no EDGERDR header); build one with `redirects build`",
            ),
            ArtifactError::Format(v) => write!(
                f,
                "artifact format {v}; this engine reads format {FORMAT_VERSION}: rebuild it with this version's `redirects build`"
            ),
            ArtifactError::UnknownFlags => {
                f.write_str("artifact flags set that this engine does not know")
            }
            ArtifactError::TooManyParts(n) => write!(
                f,
                "artifact of {n} parts; this engine reads at most {MAX_ARTIFACT_PARTS}"
            ),
            ArtifactError::HeadTooLarge(n) => write!(
                f,
                "artifact head of {n} bytes; this engine reads at most {MAX_HEAD_BYTES}"
            ),
            ArtifactError::Truncated(what) => write!(f, "artifact truncated in its {what}"),
            ArtifactError::Corrupt(what) => {
                write!(f, "artifact {what} corrupt (checksum mismatch)")
            }
            ArtifactError::HeadWithParts => {
                f.write_str("a head holds no pages or parts: cut it with `split`")
            }
            ArtifactError::PartOutOfBounds(i) => write!(f, "artifact part {i} out of bounds"),
            ArtifactError::PageCorrupt(i) => write!(
                f,
                "page {i} of the filter is damaged or of another artifact (checksum)"
            ),
            ArtifactError::NoSuchPage(i) => write!(f, "no page {i} in this artifact"),
            ArtifactError::PartCorrupt(i) => write!(
                f,
                "part {i} does not match its page's entry (checksum)"
            ),
            ArtifactError::PartDoesNotCompile(i) => write!(f, "part {i} does not compile"),
            ArtifactError::NoSuchPart(i) => write!(f, "no part {i} in this artifact"),
            ArtifactError::NoParts => f.write_str("a bundle compiled from JSON has no parts"),
            ArtifactError::Settings(why) => write!(f, "artifact settings {why}"),
        }
    }
}

impl std::error::Error for ArtifactError {}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Whether `bytes` start like an artifact (the magic number), so a reader can tell one from
/// JSON text.
pub fn is_artifact(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// A home of a request that holds a rule, and the part its rules are in, as the filter's page
/// gives it. A request needs, of that part, only the rules living at this home
/// ([`Part::narrow`]): a rule can match only a path whose key or literal material is its home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The part holding the home's rules.
    pub part: usize,
    /// The home's hash.
    pub home: u64,
    offset: u64,
    len: u32,
    checksum: u64,
}

impl Need {
    /// The whole part a page's entry gives, for a reader of every part (no home of its own).
    fn whole(e: &page::PartEntry) -> Need {
        Need {
            part: e.part as usize,
            home: 0,
            offset: e.offset,
            len: e.len,
            checksum: e.checksum,
        }
    }

    /// The length in bytes of the part's stored value, as its page gives it, so a reader can
    /// refuse a stored value of another length before reading it whole.
    pub fn part_bytes(&self) -> usize {
        self.len as usize
    }
}

/// An artifact cut for storage that keeps its pieces apart: the head, each page of the filter
/// by number and each part by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pieces<'a> {
    /// Everything before the page directory: header, settings, the table of hosts.
    pub head: &'a [u8],
    /// Page `g` of the filter.
    pub pages: Vec<&'a [u8]>,
    /// Part `n`.
    pub parts: Vec<&'a [u8]>,
}

/// An artifact cut for storage that keeps its pieces apart. Fails on bytes that are not a
/// whole, intact artifact.
pub fn split(bytes: &[u8]) -> Result<Pieces<'_>, ArtifactError> {
    let layout = Layout::read(bytes, How::Full)?;
    let pages: Vec<&[u8]> = (0..layout.pages()).map(|g| layout.page(bytes, g)).collect();
    let mut parts = vec![&bytes[..0]; layout.parts as usize];
    for page in &pages {
        for e in page::parts(page) {
            parts[e.part as usize] =
                &bytes[e.offset as usize..(e.offset + u64::from(e.len)) as usize];
        }
    }
    Ok(Pieces {
        head: &bytes[..layout.head_end],
        pages,
        parts,
    })
}

/// Where the pieces of a whole artifact lie inside it, for a reader that keeps the artifact
/// outside its own memory and copies in only what requests need (the worker's artifact, an
/// upload module of its own beside the wasm): the head once, for
/// [`crate::Engine::load_head`]; then for each page of the filter a request needs its entry in
/// the page directory and, from that, the page; and the part each [`Need`] names. The pieces
/// are what [`split`] cuts, and are checked as pieces from storage are when decoded
/// ([`crate::Engine::decode_page`], [`crate::Engine::decode_part`]); each range is checked
/// here to lie inside the artifact, so a reader never copies from past its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Places {
    head_end: usize,
    pages: usize,
    directory_end: usize,
    len: usize,
}

impl Places {
    /// The places in an artifact of `len` bytes, from its first [`HEADER_BYTES`] (or more):
    /// refused when these are not a header this engine reads, when the head is longer than
    /// [`MAX_HEAD_BYTES`], or when the head or the page directory would end past `len`.
    pub fn read(header: &[u8], len: usize) -> Result<Places, ArtifactError> {
        let (page_bits, _) = Layout::header(header)?;
        let (_, head_end) = Layout::head_ends(header, len)?;
        if head_end > MAX_HEAD_BYTES {
            return Err(ArtifactError::HeadTooLarge(head_end));
        }
        let pages = 1usize << page_bits;
        let directory_end = pages
            .checked_mul(8)
            .and_then(|n| n.checked_add(head_end))
            .filter(|&e| e <= len)
            .ok_or(ArtifactError::Truncated("page directory"))?;
        Ok(Places {
            head_end,
            pages,
            directory_end,
            len,
        })
    }

    /// The head: everything before the page directory ([`Pieces::head`]).
    pub fn head(&self) -> Range<usize> {
        0..self.head_end
    }

    /// How many pages the filter has.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Page `g`'s entry in the page directory: 8 bytes, which [`Places::page`] reads.
    pub fn page_entry(&self, g: usize) -> Result<Range<usize>, ArtifactError> {
        if g >= self.pages {
            return Err(ArtifactError::NoSuchPage(g));
        }
        let at = self.head_end + 8 * g;
        Ok(at..at + 8)
    }

    /// Page `g` ([`Pieces::pages`]), from its `entry` ([`Places::page_entry`]): refused when
    /// the entry is not 8 bytes, or puts the page inside the head or the directory, past the
    /// artifact's end, or over [`MAX_PAGE_BYTES`].
    pub fn page(&self, g: usize, entry: &[u8]) -> Result<Range<usize>, ArtifactError> {
        if g >= self.pages {
            return Err(ArtifactError::NoSuchPage(g));
        }
        let corrupt = || ArtifactError::PageCorrupt(g);
        if entry.len() != 8 {
            return Err(corrupt());
        }
        let (at, len) = (u32_at(entry, 0) as usize, u32_at(entry, 4) as usize);
        let end = at.checked_add(len).ok_or_else(corrupt)?;
        if at < self.directory_end || end > self.len || len > MAX_PAGE_BYTES {
            return Err(corrupt());
        }
        Ok(at..end)
    }

    /// The part `need` names ([`Pieces::parts`]), where its page puts it: refused when that
    /// is past the artifact's end.
    pub fn part(&self, need: &Need) -> Result<Range<usize>, ArtifactError> {
        let end = need.offset.checked_add(u64::from(need.len));
        match end {
            Some(end) if end <= self.len as u64 => Ok(need.offset as usize..end as usize),
            _ => Err(ArtifactError::PartOutOfBounds(need.part)),
        }
    }
}

/// What compiling every part of an artifact found ([`crate::Engine::check_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsCheck {
    /// Why each part that does not compile does not.
    pub errors: Vec<ArtifactError>,
    /// How many rules the parts that compile hold.
    pub rules: usize,
    /// Whether every rule number below the header's count is held exactly once.
    pub numbered: bool,
}

/// How much of an artifact [`Layout::read`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// Every checksum: bytes from storage.
    Full,
    /// The header; each page and part when first used (an artifact the program carries,
    /// checked when it was built).
    Lazy,
    /// A head alone: pages and parts are handed over by the caller, each checked then.
    Head,
}

/// Where the sections of an artifact are.
#[derive(Debug, Clone, Copy)]
struct Layout {
    parts: u32,
    page_bits: u32,
    settings_end: usize,
    hosts: usize,
    head_end: usize,
}

impl Layout {
    /// The checks that need no more than the first [`HEADER_BYTES`]: an artifact of this
    /// format and flags, with at most [`MAX_PAGE_BITS`] page bits and
    /// [`MAX_ARTIFACT_PARTS`] parts; its page bits and parts.
    fn header(b: &[u8]) -> Result<(u32, u32), ArtifactError> {
        if b.len() < HEADER_BYTES || !is_artifact(b) {
            return Err(ArtifactError::NotAnArtifact);
        }
        let version = u32_at(b, 8);
        if version != FORMAT_VERSION {
            return Err(ArtifactError::Format(version));
        }
        let page_bits = u32_at(b, 40);
        if u32_at(b, 12) & !KNOWN_FLAGS != 0 || u64_at(b, 56) & !Used::ALL != 0 {
            return Err(ArtifactError::UnknownFlags);
        }
        if page_bits > MAX_PAGE_BITS {
            return Err(ArtifactError::Truncated("page directory"));
        }
        let parts = u32_at(b, 36);
        // Before anything is read or allocated per part.
        if parts as usize > MAX_ARTIFACT_PARTS {
            return Err(ArtifactError::TooManyParts(parts as usize));
        }
        Ok((page_bits, parts))
    }

    /// Where the settings and the head end, as the header `b` says, when both end within
    /// `len` bytes.
    fn head_ends(b: &[u8], len: usize) -> Result<(usize, usize), ArtifactError> {
        let settings_end = HEADER_BYTES
            .checked_add(u32_at(b, 44) as usize)
            .filter(|&d| d <= len)
            .ok_or(ArtifactError::Truncated("settings"))?;
        let head_end = (u32_at(b, 52) as usize)
            .checked_mul(8)
            .and_then(|n| n.checked_add(settings_end))
            .filter(|&e| e <= len)
            .ok_or(ArtifactError::Truncated("hosts"))?;
        Ok((settings_end, head_end))
    }

    fn read(b: &[u8], how: How) -> Result<Layout, ArtifactError> {
        let (page_bits, parts) = Layout::header(b)?;
        if how == How::Head && b.len() > MAX_HEAD_BYTES {
            return Err(ArtifactError::HeadTooLarge(b.len()));
        }
        let (settings_end, head_end) = Layout::head_ends(b, b.len())?;
        if fnv1a(&b[24..head_end]) != u64_at(b, 16) {
            return Err(ArtifactError::Corrupt("header"));
        }
        let layout = Layout {
            parts,
            page_bits,
            settings_end,
            hosts: u32_at(b, 52) as usize,
            head_end,
        };
        if how == How::Head {
            if b.len() != head_end {
                return Err(ArtifactError::HeadWithParts);
            }
            return Ok(layout);
        }
        // A whole artifact keeps a slot per part: each part takes at least 4 bytes.
        if parts as usize > b.len() / 4 {
            return Err(ArtifactError::TooManyParts(parts as usize));
        }
        let pages_end = layout
            .pages()
            .checked_mul(8)
            .and_then(|n| n.checked_add(head_end))
            .filter(|&e| e <= b.len())
            .ok_or(ArtifactError::Truncated("page directory"))?;
        for g in 0..layout.pages() {
            let (at, len) = layout.page_entry(b, g);
            if at < pages_end || at + len > b.len() || len > MAX_PAGE_BYTES {
                return Err(ArtifactError::PageCorrupt(g));
            }
            if how == How::Full {
                let bytes = layout.page(b, g);
                page::check(bytes, layout.key(b), g, true)?;
                for e in page::parts(bytes) {
                    layout.check_part(b, &e, true)?;
                }
            }
        }
        Ok(layout)
    }

    fn pages(&self) -> usize {
        1 << self.page_bits
    }

    fn key(&self, b: &[u8]) -> u64 {
        u64_at(b, 64)
    }

    /// Page `g`'s place: its offset and length.
    fn page_entry(&self, b: &[u8], g: usize) -> (usize, usize) {
        let at = self.head_end + 8 * g;
        (u32_at(b, at) as usize, u32_at(b, at + 4) as usize)
    }

    /// Page `g`'s bytes (of a whole artifact whose directory was checked).
    fn page<'b>(&self, b: &'b [u8], g: usize) -> &'b [u8] {
        let (at, len) = self.page_entry(b, g);
        &b[at..at + len]
    }

    /// That a part's entry lies inside the artifact, and (`sum`) that its bytes match.
    fn check_part(&self, b: &[u8], e: &page::PartEntry, sum: bool) -> Result<(), ArtifactError> {
        let i = e.part as usize;
        let end = e.offset.checked_add(u64::from(e.len));
        let inside = end.is_some_and(|end| end <= b.len() as u64) && e.len >= 4;
        if e.part >= self.parts || !inside {
            return Err(ArtifactError::PartOutOfBounds(i));
        }
        let body = &b[e.offset as usize..e.offset as usize + e.len as usize];
        if sum && fnv1a(body) != e.checksum {
            return Err(ArtifactError::PartCorrupt(i));
        }
        Ok(())
    }

    /// Whether the head's table lists this host hash.
    fn lists_host(&self, b: &[u8], hash: u64) -> bool {
        let (mut lo, mut hi) = (0, self.hosts);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match u64_at(b, self.settings_end + 8 * mid).cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }
}

/// A loaded artifact: its bytes, its layout, and each part once compiled.
#[derive(Debug)]
pub(crate) struct Artifact {
    bytes: Cow<'static, [u8]>,
    layout: Layout,
    /// A head only: pages and parts are handed over by the caller.
    head_only: bool,
    /// For a whole artifact, whether each page is intact, checked on first use when it was not
    /// at load.
    pages_ok: Box<[OnceLock<bool>]>,
    /// Each part once compiled, for a whole artifact; none for a head, whose parts the caller
    /// keeps.
    parts: Box<[OnceLock<Option<Part>>]>,
    /// Every rule in one part, for readers that want them all (analysis, `rules()`).
    whole: OnceLock<Part>,
    /// The query parameters some rules live by ([`QUERY_NAMES`]), from the head.
    query_names: Box<[String]>,
}

impl Artifact {
    /// Checks the artifact as `how` says; returns the bundle's settings text beside it.
    pub(crate) fn open(
        bytes: Cow<'static, [u8]>,
        how: How,
    ) -> Result<(Artifact, String), ArtifactError> {
        let layout = Layout::read(&bytes, how)?;
        let section = std::str::from_utf8(&bytes[HEADER_BYTES..layout.settings_end])
            .map_err(|_| ArtifactError::Settings("are not UTF-8".into()))?;
        // The settings' JSON, then (with Used::QUERY) each routed query parameter after a NUL,
        // which JSON text never holds.
        let mut pieces = section.split_terminator('\0');
        let settings = pieces.next().unwrap_or_default().to_owned();
        let mut query_names = Vec::new();
        if u64_at(&bytes, 56) & Used::QUERY != 0 {
            query_names.extend(pieces.take(QUERY_NAMES + 1).map(str::to_owned));
        }
        if query_names.len() > QUERY_NAMES {
            return Err(ArtifactError::Settings(
                "name too many query parameters".into(),
            ));
        }
        let query_names = query_names.into_boxed_slice();
        let whole = how != How::Head;
        let slots = |n: usize| if whole { n } else { 0 };
        let artifact = Artifact {
            layout,
            head_only: !whole,
            pages_ok: (0..slots(layout.pages()))
                .map(|_| match how {
                    How::Full => OnceLock::from(true),
                    _ => OnceLock::new(),
                })
                .collect(),
            parts: (0..slots(layout.parts as usize))
                .map(|_| OnceLock::new())
                .collect(),
            whole: OnceLock::new(),
            query_names,
            bytes,
        };
        Ok((artifact, settings))
    }

    /// The number of parts.
    pub(crate) fn part_count(&self) -> usize {
        self.layout.parts as usize
    }

    /// The number of pages of the filter.
    pub(crate) fn page_count(&self) -> usize {
        self.layout.pages()
    }

    /// How many rules the artifact holds.
    pub(crate) fn rule_count(&self) -> usize {
        u32_at(&self.bytes, 32) as usize
    }

    /// The content id: the same bundle built by the same format gives the same id.
    pub(crate) fn id(&self) -> u64 {
        u64_at(&self.bytes, 24)
    }

    fn flag(&self, flag: u32) -> bool {
        u32_at(&self.bytes, 12) & flag != 0
    }

    /// The keyed hash of this artifact's homes.
    fn router(&self) -> Router {
        Router::new([u64_at(&self.bytes, 64), u64_at(&self.bytes, 72)])
    }

    /// Whether some rule compares in the other case than the bundle ([`FLAG_BOTH_CASES`]).
    pub(crate) fn both_cases(&self) -> bool {
        self.flag(FLAG_BOTH_CASES)
    }

    /// Whether pages and parts are handed over by the caller ([`crate::Engine::load_head`]).
    pub(crate) fn head_only(&self) -> bool {
        self.head_only
    }

    /// The homes a request with this host (lower-case) and path can have, each with its page:
    /// with its host only when some rule's home names that host. `query`: the request's, for
    /// the values it sent of the query parameters some rules live by.
    pub(crate) fn homes(
        &self,
        host: &str,
        (key, query): (&str, &mut Query<'_>),
        segments: &[Cow<'_, str>],
    ) -> SmallVec<[(usize, u64); 24]> {
        let router = self.router();
        let b = &self.bytes[..];
        let named = self.flag(FLAG_HOST_HOMES)
            && (!self.flag(FLAG_HOST_TABLE) || self.layout.lists_host(b, router.host(host)));
        router
            .homes(
                named.then_some(host),
                self.flag(FLAG_HOSTLESS_HOMES),
                Used(u64_at(b, 56)),
                (key, &self.query_names, query),
                segments,
            )
            .into_iter()
            .map(|h| (page::page_of(h.hash(), self.layout.page_bits), h.hash()))
            .collect()
    }

    /// The part holding `home` of page `g` of a whole artifact; `Err` when the page is
    /// damaged.
    fn find_in_place(&self, g: usize, home: u64) -> Result<Option<Need>, ()> {
        let b = &self.bytes[..];
        let bytes = self.layout.page(b, g);
        let ok = *self.pages_ok[g].get_or_init(|| {
            page::check(bytes, self.layout.key(b), g, true).is_ok()
                && page::parts(bytes).all(|e| self.layout.check_part(b, &e, false).is_ok())
        });
        if !ok {
            return Err(());
        }
        Ok(page::find(bytes, home))
    }

    /// The homes among `homes` that hold a rule, each with its part: from `pages` (a head's,
    /// handed over), or from the artifact's own. `None` when a page needed is missing or
    /// damaged (the request must go to the origin).
    pub(crate) fn needs(
        &self,
        homes: &[(usize, u64)],
        pages: &[&Page],
    ) -> Option<SmallVec<[Need; 4]>> {
        let mut out: SmallVec<[Need; 4]> = SmallVec::new();
        for &(g, home) in homes {
            let found = if self.head_only {
                pages.iter().find(|p| p.number() == g)?.find(home)
            } else {
                self.find_in_place(g, home).ok()?
            };
            if let Some(need) = found.filter(|n| !out.contains(n)) {
                if need.part >= self.part_count() {
                    return None;
                }
                out.push(need);
            }
        }
        Some(out)
    }

    /// Page `g` of a head's artifact from its stored bytes, checked.
    pub(crate) fn decode_page(&self, g: usize, bytes: &[u8]) -> Result<Page, ArtifactError> {
        if g >= self.layout.pages() {
            return Err(ArtifactError::NoSuchPage(g));
        }
        page::check(bytes, self.layout.key(&self.bytes), g, true)?;
        Ok(Page::new(g, bytes.into()))
    }

    /// The part `need` names, of a whole artifact, compiled on first use; `None` if its bytes
    /// are corrupt, or if this is a head (the caller hands parts over).
    pub(crate) fn part(&self, need: &Need, settings: &Settings) -> Option<&Part> {
        if self.head_only {
            return None;
        }
        self.parts
            .get(need.part)?
            .get_or_init(|| {
                let b = &self.bytes[..];
                let body = b.get(need.offset as usize..)?.get(..need.len as usize)?;
                self.decode(need, body, settings).ok()
            })
            .as_ref()
    }

    /// The part `need` names from its bytes, checked against its page's entry.
    pub(crate) fn decode(
        &self,
        need: &Need,
        body: &[u8],
        settings: &Settings,
    ) -> Result<Part, ArtifactError> {
        let i = need.part;
        if i >= self.part_count() {
            return Err(ArtifactError::NoSuchPart(i));
        }
        if body.len() != need.len as usize || fnv1a(body) != need.checksum || body.len() < 4 {
            return Err(ArtifactError::PartCorrupt(i));
        }
        let broken = || ArtifactError::PartDoesNotCompile(i);
        let n = u32_at(body, 0) as usize;
        // `n` rule numbers (4 bytes each), then `n` homes (8 bytes each), then the rules.
        let homes_at = 4 + 4 * n;
        let text_at = n
            .checked_mul(12)
            .and_then(|x| x.checked_add(4))
            .filter(|&x| x <= body.len())
            .ok_or_else(broken)?;
        let text = std::str::from_utf8(&body[text_at..]).map_err(|_| broken())?;
        let mut rules = crate::compile::compile_part(text, settings, n).ok_or_else(broken)?;
        if rules.len() != n {
            return Err(broken());
        }
        for (k, rule) in rules.iter_mut().enumerate() {
            rule.index = u32_at(body, 4 + 4 * k);
        }
        let homes = (0..n).map(|k| u64_at(body, homes_at + 8 * k)).collect();
        Ok(Part::decoded(rules, homes, i, need.len))
    }

    /// Each part of a whole artifact with the [`Need`] that names it, by page (none for a
    /// head, nor for a damaged page).
    fn every_part(&self) -> Vec<(Need, &[u8])> {
        let b = &self.bytes[..];
        let mut out = Vec::new();
        for g in 0..self.pages_ok.len() {
            if self.find_in_place(g, 0).is_err() {
                continue;
            }
            for e in page::parts(self.layout.page(b, g)) {
                let need = Need::whole(&e);
                out.push((
                    need,
                    &b[e.offset as usize..(e.offset + u64::from(e.len)) as usize],
                ));
            }
        }
        out
    }

    /// How many rules without a host live at the catch-all (no literal material to be
    /// routed by), which every request reads; `None` for a head.
    pub(crate) fn catch_all_rules(&self) -> Option<usize> {
        if self.head_only {
            return None;
        }
        let home = self.router().catch_all();
        let g = page::page_of(home, self.layout.page_bits);
        let Ok(Some(need)) = self.find_in_place(g, home) else {
            return Some(0);
        };
        let body = &self.bytes[need.offset as usize..][..need.len as usize];
        let n = u32_at(body, 0) as usize;
        let homes = 4 + 4 * n;
        Some(
            (0..n)
                .filter(|k| u64_at(body, homes + 8 * k) == home)
                .count(),
        )
    }

    /// Every part compiled once, one at a time (memory: one part): why each that does not
    /// compile does not, how many rules the others hold, and whether every rule number of the
    /// header's count is held exactly once.
    pub(crate) fn check_parts(&self, settings: &Settings) -> PartsCheck {
        let claimed = self.rule_count();
        let mut seen = vec![0u64; claimed.div_ceil(64)];
        let mut check = PartsCheck {
            errors: Vec::new(),
            rules: 0,
            numbered: true,
        };
        for (need, body) in self.every_part() {
            match self.decode(&need, body, settings) {
                Ok(part) => {
                    check.rules += part.rules.len();
                    for rule in &part.rules {
                        let i = rule.index as usize;
                        let (word, bit) = (i / 64, 1u64 << (i % 64));
                        match seen.get_mut(word) {
                            Some(w) if *w & bit == 0 && i < claimed => *w |= bit,
                            _ => check.numbered = false,
                        }
                    }
                }
                Err(e) => check.errors.push(e),
            }
        }
        check.numbered &= check.rules == claimed;
        check
    }

    /// Every rule, compiled into one part (all parts read once; none for a head).
    pub(crate) fn whole(&self, settings: &Settings) -> &Part {
        self.whole.get_or_init(|| {
            let mut rules = Vec::new();
            for (need, body) in self.every_part() {
                if let Ok(part) = self.decode(&need, body, settings) {
                    rules.extend(part.rules);
                }
            }
            rules.sort_by_key(|r| r.index);
            Part::new(rules, usize::MAX)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, RequestBuf, Supply};

    /// An artifact of `n` rules, in several pages at 3,000.
    fn artifact_of(n: usize) -> Vec<u8> {
        let rules: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"id":"r{i}","from":"/old/{i}/:rest*","to":"/new/{i}/:rest*"}}"#))
            .collect();
        build(&format!(r#"{{"version":1,"rules":[{}]}}"#, rules.join(","))).unwrap()
    }

    #[test]
    fn places_find_every_piece_split_cuts() {
        let bytes = artifact_of(3_000);
        let pieces = split(&bytes).unwrap();
        let places = Places::read(&bytes[..HEADER_BYTES], bytes.len()).unwrap();
        assert_eq!(&bytes[places.head()], pieces.head);
        assert_eq!(places.pages(), pieces.pages.len());
        assert!(places.pages() > 1, "{} pages", places.pages());
        let mut parts = 0;
        for (g, page) in pieces.pages.iter().enumerate() {
            let entry = &bytes[places.page_entry(g).unwrap()];
            assert_eq!(&bytes[places.page(g, entry).unwrap()], *page);
            for e in page::parts(page) {
                let need = Need::whole(&e);
                assert_eq!(&bytes[places.part(&need).unwrap()], pieces.parts[need.part]);
                parts += 1;
            }
        }
        assert_eq!(parts, pieces.parts.len());
    }

    #[test]
    fn a_head_fed_from_places_answers_as_the_whole_artifact() {
        let bytes = artifact_of(3_000);
        let whole = Engine::load(bytes.clone()).unwrap();
        let places = Places::read(&bytes, bytes.len()).unwrap();
        let head = Engine::load_head(bytes[places.head()].to_vec()).unwrap();
        for url in ["/old/7/a/b", "/old/2999/x", "/old/3000/x", "/elsewhere"] {
            let request = RequestBuf::get(format!("https://example.com{url}"));
            let pages: Vec<Page> = request
                .with(|r| head.pages_needed(r))
                .into_iter()
                .map(|g| {
                    let entry = &bytes[places.page_entry(g).unwrap()];
                    head.decode_page(g, &bytes[places.page(g, entry).unwrap()])
                        .unwrap()
                })
                .collect();
            let page_refs: Vec<&Page> = pages.iter().collect();
            let parts: Vec<Part> = request
                .with(|r| head.needs(r, &page_refs))
                .unwrap()
                .iter()
                .map(|need| {
                    head.decode_part(need, &bytes[places.part(need).unwrap()])
                        .unwrap()
                })
                .collect();
            let part_refs: Vec<&Part> = parts.iter().collect();
            let supply = Supply {
                pages: &page_refs,
                parts: &part_refs,
            };
            assert_eq!(
                format!("{:?}", request.with(|r| head.evaluate_with(r, supply))),
                format!("{:?}", request.with(|r| whole.evaluate(r))),
                "{url}"
            );
        }
    }

    #[test]
    fn places_past_the_end_are_refused() {
        let bytes = artifact_of(3_000);
        let places = Places::read(&bytes, bytes.len()).unwrap();
        // The directory past the end, then the head.
        let short = places.head().end + 8;
        assert_eq!(
            Places::read(&bytes, short),
            Err(ArtifactError::Truncated("page directory"))
        );
        // (No rule names a host: the head ends with the settings.)
        assert_eq!(
            Places::read(&bytes, places.head().end - 1),
            Err(ArtifactError::Truncated("settings"))
        );
        assert_eq!(
            Places::read(&bytes[..HEADER_BYTES - 1], bytes.len()),
            Err(ArtifactError::NotAnArtifact)
        );
        // A page whose entry reaches past the end, or into the directory; no such page.
        let last = places.pages() - 1;
        let mut entry = bytes[places.page_entry(last).unwrap()].to_vec();
        let fits = places.page(last, &entry).unwrap();
        entry[4..8].copy_from_slice(&((bytes.len() - fits.start + 1) as u32).to_le_bytes());
        assert_eq!(
            places.page(last, &entry),
            Err(ArtifactError::PageCorrupt(last))
        );
        entry[..4].copy_from_slice(&(places.head().end as u32).to_le_bytes());
        entry[4..8].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(
            places.page(last, &entry),
            Err(ArtifactError::PageCorrupt(last))
        );
        assert_eq!(
            places.page_entry(places.pages()),
            Err(ArtifactError::NoSuchPage(places.pages()))
        );
        // A part past the end.
        let need = Need {
            part: 3,
            home: 0,
            offset: bytes.len() as u64 - 4,
            len: 5,
            checksum: 0,
        };
        assert_eq!(places.part(&need), Err(ArtifactError::PartOutOfBounds(3)));
    }
}
