//! The artifact: a bundle compiled at build time (`redirects build`) into an immutable binary
//! form that starts in constant time. Loading one checks its header, directory and bounds; the
//! rules live in parts of about [`PART_RULES`] rules each, and a part is compiled the first
//! time a request needs it. Which parts a request needs follows from its host and path alone
//! (`route.rs`), and a filter of every rule's home says which of those hold any rule at all, so
//! a request reads only the parts of homes its path has, whatever the bundle's size, and a
//! path no rule is near reads none.
//!
//! The layout (integers little-endian; `crates/engine/ARTIFACT.md` has the design and figures):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `EDGERDR\x01` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | flags: bit 0 ([`FLAG_BOTH_CASES`]) when some rule sets its own `case_sensitive` against the bundle's; bit 1 ([`FLAG_HOST_HOMES`]) when some rule's home names its host |
//! | 16 | 8 | FNV-1a 64 of bytes 24 .. end of the directory |
//! | 24 | 8 | content id: FNV-1a 64 of every byte from 32 to the end |
//! | 32 | 4 | rule count |
//! | 36 | 4 | exact parts `E` (at least 1) |
//! | 40 | 4 | pattern parts `P` (at least 1) |
//! | 44 | 4 | settings length `S` |
//! | 48 | 4 | filter entries `F` |
//! | 52 | 4 | homes used: bit `i` < 8 when a rule lives at a literal at position `i`, bit 8 when one lives at the catch-all |
//! | 56 | 8 | FNV-1a 64 of the filter |
//! | 64 | 16 | routing key: two u64, SipHash-1-3's key for homes (drawn from the bundle's text) |
//! | 80 | S | the bundle without its rules: `{"version": 1, "settings": {...}, "rules": []}` |
//! | 80 + S | 16 × (E + P) | directory: per part its offset (u32), length (u32), FNV-1a 64 |
//! | ... | 8 × F | filter: the hash of every rule's home, ascending, once each |
//! | ... | | parts: a rule count `n` (u32), `n` rule numbers in file order (u32), their `n` homes (u64), then the part's rules as a JSON array |
//!
//! Everything before the parts is the *head*: storage that keeps parts apart (Workers KV, one
//! value a part) keeps the head as one value and hands parts over as requests need them
//! ([`crate::Engine::load_head`], [`split`]).
//!
//! A rule whose `from` has no placeholder lives in exact part `home % E` (its home the hash of
//! its path as the index compares it); any other rule in pattern part `E + home % P`, its home
//! the hash of its most selective literal segment and position (`route.rs`).

mod build;
mod route;

pub use crate::engine::Part;
pub use build::{build, build_with, Options};

use crate::limits::{MAX_ARTIFACT_PARTS, MAX_HEAD_BYTES};
use crate::model::settings::Settings;
use route::{part_of, Router, Used};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

/// The first eight bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"EDGERDR\x01";
/// The layout version this engine reads and writes (2: homes at any literal segment, keyed).
pub const FORMAT_VERSION: u32 = 2;
/// About how many rules one part holds: the most a request's first touch of a part compiles
/// (a part holding one long run of rules with the same home can be larger).
pub const PART_RULES: usize = 64;
/// Header flag: some rule compares its literals in the other case than the bundle's setting
/// (its own `case_sensitive`), so it lives where its literals in its case say, and a request
/// also needs the homes of its path in that case.
pub const FLAG_BOTH_CASES: u32 = 1;
/// Header flag: some rule's home names its host (a rule with one exact `host`), so a request
/// also needs the homes of its path with its host.
pub const FLAG_HOST_HOMES: u32 = 2;
/// How many leading segments a pattern rule can be routed by (its most selective literal among
/// them); a request needs the home of each of its first this many segments.
pub const ROUTE_DEPTH: usize = 8;

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

const HEADER_BYTES: usize = 80;
const ENTRY_BYTES: usize = 16;

/// FNV-1a, 64 bits: the artifact's checksums, content id and routing hash (stable across
/// platforms and versions, so a build and every reader agree).
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
    /// A part's directory entry points outside the artifact.
    PartOutOfBounds(usize),
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
                f.write_str("a head holds no parts: cut it with `split`")
            }
            ArtifactError::PartOutOfBounds(i) => write!(f, "artifact part {i} out of bounds"),
            ArtifactError::PartCorrupt(i) => write!(
                f,
                "part {i} does not match the artifact's directory (checksum)"
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

/// A home a request's rules can live in and the filter holds: the hash that names it, and
/// the part its rules are in. A request needs, of that part, only the rules living at this
/// home ([`Part::narrow`]): a rule can match only a path whose key or leading literal
/// segments are its home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    /// The part holding the home's rules.
    pub part: usize,
    /// The home's hash (its path key, or its leading literal segments).
    pub home: u64,
}

/// An artifact cut for storage that keeps parts apart: the head (everything before the parts)
/// and each part's bytes, by part number. Fails on bytes that are not a whole artifact.
pub fn split(bytes: &[u8]) -> Result<(&[u8], Vec<&[u8]>), ArtifactError> {
    let layout = Layout::read(bytes, How::Full)?;
    let parts = (0..layout.parts())
        .map(|i| {
            let e = layout.entry(bytes, i);
            &bytes[e.offset as usize..e.offset as usize + e.len as usize]
        })
        .collect();
    Ok((&bytes[..layout.parts_start], parts))
}

/// How much of an artifact [`Layout::read`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum How {
    /// Every checksum: bytes from storage.
    Full,
    /// The header and directory; the filter and each part when first used (an artifact the
    /// program carries, checked when it was built).
    Lazy,
    /// A head alone (no parts): header, directory and filter.
    Head,
}

/// One part's place in the artifact.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u32,
    len: u32,
    checksum: u64,
}

/// Where the sections of an artifact are.
#[derive(Debug, Clone, Copy)]
struct Layout {
    exact_parts: u32,
    prefix_parts: u32,
    directory: usize,
    filter: usize,
    filter_len: usize,
    parts_start: usize,
}

impl Layout {
    fn read(b: &[u8], how: How) -> Result<Layout, ArtifactError> {
        if b.len() < HEADER_BYTES || !is_artifact(b) {
            return Err(ArtifactError::NotAnArtifact);
        }
        let version = u32_at(b, 8);
        if version != FORMAT_VERSION {
            return Err(ArtifactError::Format(version));
        }
        let flags = !(FLAG_BOTH_CASES | FLAG_HOST_HOMES);
        if u32_at(b, 12) & flags != 0 || u32_at(b, 52) & !Used::ALL != 0 {
            return Err(ArtifactError::UnknownFlags);
        }
        let exact_parts = u32_at(b, 36);
        let prefix_parts = u32_at(b, 40);
        let parts = exact_parts as usize + prefix_parts as usize;
        // Before anything is read or allocated per part.
        if parts > MAX_ARTIFACT_PARTS {
            return Err(ArtifactError::TooManyParts(parts));
        }
        if how == How::Head && b.len() > MAX_HEAD_BYTES {
            return Err(ArtifactError::HeadTooLarge(b.len()));
        }
        let directory = HEADER_BYTES
            .checked_add(u32_at(b, 44) as usize)
            .filter(|&d| d <= b.len())
            .ok_or(ArtifactError::Truncated("settings"))?;
        let filter = parts
            .checked_mul(ENTRY_BYTES)
            .and_then(|n| n.checked_add(directory))
            .filter(|&e| e <= b.len() && exact_parts > 0 && prefix_parts > 0)
            .ok_or(ArtifactError::Truncated("directory"))?;
        if fnv1a(&b[24..filter]) != u64_at(b, 16) {
            return Err(ArtifactError::Corrupt("header or directory"));
        }
        let filter_len = u32_at(b, 48) as usize;
        let parts_start = filter_len
            .checked_mul(8)
            .and_then(|n| n.checked_add(filter))
            .filter(|&e| e <= b.len())
            .ok_or(ArtifactError::Truncated("filter"))?;
        if how != How::Lazy && fnv1a(&b[filter..parts_start]) != u64_at(b, 56) {
            return Err(ArtifactError::Corrupt("filter"));
        }
        let layout = Layout {
            exact_parts,
            prefix_parts,
            directory,
            filter,
            filter_len,
            parts_start,
        };
        if how == How::Head && b.len() != parts_start {
            return Err(ArtifactError::HeadWithParts);
        }
        for i in 0..parts {
            let e = layout.entry(b, i);
            let end = e.offset as usize + e.len as usize;
            let inside = how == How::Head || end <= b.len();
            if (e.offset as usize) < parts_start || !inside || e.len < 4 {
                return Err(ArtifactError::PartOutOfBounds(i));
            }
            if how == How::Full && fnv1a(&b[e.offset as usize..end]) != e.checksum {
                return Err(ArtifactError::PartCorrupt(i));
            }
        }
        Ok(layout)
    }

    fn parts(&self) -> usize {
        self.exact_parts as usize + self.prefix_parts as usize
    }

    /// Directory entry `i`.
    fn entry(&self, b: &[u8], i: usize) -> Entry {
        let at = self.directory + i * ENTRY_BYTES;
        Entry {
            offset: u32_at(b, at),
            len: u32_at(b, at + 4),
            checksum: u64_at(b, at + 8),
        }
    }

    /// Whether some rule lives at the home with this hash.
    fn holds(&self, b: &[u8], hash: u64) -> bool {
        let (mut lo, mut hi) = (0, self.filter_len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match u64_at(b, self.filter + 8 * mid).cmp(&hash) {
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
    /// A head only: parts are handed over by the caller.
    head_only: bool,
    /// The filter, checked on first use when it was not at load.
    filter_ok: OnceLock<bool>,
    /// Each part once compiled, for a whole artifact; none for a head, whose parts the
    /// caller keeps (a head's directory costs no memory beyond its bytes).
    parts: Box<[OnceLock<Option<Part>>]>,
    /// Every rule in one part, for readers that want them all (analysis, `rules()`).
    whole: OnceLock<Part>,
}

impl Artifact {
    /// Checks the artifact as `how` says; returns the bundle's settings text beside it.
    pub(crate) fn open(
        bytes: Cow<'static, [u8]>,
        how: How,
    ) -> Result<(Artifact, String), ArtifactError> {
        let layout = Layout::read(&bytes, how)?;
        let settings = std::str::from_utf8(&bytes[HEADER_BYTES..layout.directory])
            .map_err(|_| ArtifactError::Settings("are not UTF-8".into()))?
            .to_owned();
        let artifact = Artifact {
            layout,
            head_only: how == How::Head,
            filter_ok: OnceLock::new(),
            parts: match how {
                How::Head => Box::default(),
                How::Full | How::Lazy => (0..layout.parts()).map(|_| OnceLock::new()).collect(),
            },
            whole: OnceLock::new(),
            bytes,
        };
        if how != How::Lazy {
            let _ = artifact.filter_ok.set(true);
        }
        Ok((artifact, settings))
    }

    /// The number of parts.
    pub(crate) fn part_count(&self) -> usize {
        self.layout.parts()
    }

    /// How many rules the artifact holds.
    pub(crate) fn rule_count(&self) -> usize {
        u32_at(&self.bytes, 32) as usize
    }

    /// The content id: the same bundle built by the same format gives the same id.
    pub(crate) fn id(&self) -> u64 {
        u64_at(&self.bytes, 24)
    }

    /// The length of part `i` as the directory gives it; `None` if there is no such part.
    pub(crate) fn part_len(&self, i: usize) -> Option<usize> {
        (i < self.layout.parts()).then(|| self.layout.entry(&self.bytes, i).len as usize)
    }

    /// Whether some rule's home names its host ([`FLAG_HOST_HOMES`]).
    fn host_homes(&self) -> bool {
        u32_at(&self.bytes, 12) & FLAG_HOST_HOMES != 0
    }

    /// Which kinds of pattern home the artifact has.
    fn used(&self) -> Used {
        Used(u32_at(&self.bytes, 52))
    }

    /// The keyed hash of this artifact's homes.
    fn router(&self) -> Router {
        Router::new([u64_at(&self.bytes, 64), u64_at(&self.bytes, 72)])
    }

    /// Whether some rule compares in the other case than the bundle ([`FLAG_BOTH_CASES`]).
    pub(crate) fn both_cases(&self) -> bool {
        u32_at(&self.bytes, 12) & FLAG_BOTH_CASES != 0
    }

    /// Whether parts are handed over by the caller ([`crate::Engine::load_head`]).
    pub(crate) fn head_only(&self) -> bool {
        self.head_only
    }

    /// The homes of a request with this host (lower-case) and path that hold a rule, each
    /// with its part. `None` when the filter is damaged (the request must go to the origin).
    pub(crate) fn needs(
        &self,
        host: &str,
        key: &str,
        segments: &[Cow<'_, str>],
    ) -> Option<SmallVec<[Need; 4]>> {
        let b = &self.bytes[..];
        let l = &self.layout;
        let intact = *self
            .filter_ok
            .get_or_init(|| fnv1a(&b[l.filter..l.parts_start]) == u64_at(b, 56));
        if !intact {
            return None;
        }
        Some(
            self.router()
                .homes(host, self.host_homes(), self.used(), key, segments)
                .into_iter()
                .filter(|home| l.holds(b, home.hash()))
                .map(|home| Need {
                    part: part_of(home, l.exact_parts, l.prefix_parts),
                    home: home.hash(),
                })
                .collect(),
        )
    }

    /// Part `i` of a whole artifact, compiled on first use; `None` if its bytes are corrupt,
    /// or if this is a head (the caller hands parts over).
    pub(crate) fn part(&self, i: usize, settings: &Settings) -> Option<&Part> {
        if self.head_only {
            return None;
        }
        self.parts
            .get(i)?
            .get_or_init(|| {
                let e = self.layout.entry(&self.bytes, i);
                let body = &self.bytes[e.offset as usize..e.offset as usize + e.len as usize];
                self.decode(i, body, settings).ok()
            })
            .as_ref()
    }

    /// Part `i` from its bytes, checked against the directory.
    pub(crate) fn decode(
        &self,
        i: usize,
        body: &[u8],
        settings: &Settings,
    ) -> Result<Part, ArtifactError> {
        if i >= self.layout.parts() {
            return Err(ArtifactError::NoSuchPart(i));
        }
        let e = self.layout.entry(&self.bytes, i);
        if body.len() != e.len as usize || fnv1a(body) != e.checksum {
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
        Ok(Part::decoded(rules, homes, i, e.len))
    }

    /// Every rule, compiled into one part (all parts read once; none for a head).
    pub(crate) fn whole(&self, settings: &Settings) -> &Part {
        self.whole.get_or_init(|| {
            let mut rules = Vec::with_capacity(self.rule_count());
            if !self.head_only {
                for i in 0..self.layout.parts() {
                    let e = self.layout.entry(&self.bytes, i);
                    let body = &self.bytes[e.offset as usize..e.offset as usize + e.len as usize];
                    if let Ok(part) = self.decode(i, body, settings) {
                        rules.extend(part.rules);
                    }
                }
            }
            rules.sort_by_key(|r| r.index);
            Part::new(rules, usize::MAX)
        })
    }
}
