//! The artifact: a bundle compiled at build time (`redirects build`) into an immutable binary
//! form that starts in constant time. Loading one checks its header, directory and bounds; the
//! rules live in parts of about [`PART_RULES`] rules each, and a part is compiled the first
//! time a request needs it. Which parts a request needs follows from its path alone
//! ([`route`]), so a request reads at most `2 + PREFIX_DEPTH` parts whatever the bundle's size.
//!
//! The layout (all integers little-endian; `docs/artifact.md` has the design and the figures):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `EDGERDR\x01` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | flags (0) |
//! | 16 | 8 | FNV-1a 64 of bytes 24 .. end of the directory |
//! | 24 | 8 | content id: FNV-1a 64 of every byte from 32 to the end |
//! | 32 | 4 | rule count |
//! | 36 | 4 | exact parts `E` (at least 1) |
//! | 40 | 4 | prefix parts `P` (at least 1) |
//! | 44 | 4 | settings length `S` |
//! | 48 | S | the bundle without its rules: `{"version": 1, "settings": {...}, "rules": []}` |
//! | 48 + S | 16 × (E + P) | directory: per part its offset (u32), length (u32), FNV-1a 64 |
//! | ... | | parts: a rule count `n` (u32), `n` rule numbers in file order (u32), then the part's rules as a JSON array |
//!
//! A rule whose `from` has no placeholder goes to exact part `fnv(key) % E` (`key` the path as
//! the index compares it); any other rule to prefix part `E + fnv(prefix) % P`, where `prefix`
//! is its leading literal segments, at most [`PREFIX_DEPTH`] of them.

mod build;
mod route;

pub use build::{build, build_with, Options};

use crate::engine::Part;
use crate::settings::Settings;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

/// The first eight bytes of every artifact.
pub const MAGIC: [u8; 8] = *b"EDGERDR\x01";
/// The layout version this engine reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// About how many rules one part holds: the most a request's first touch of a part compiles
/// (a part holding one long run of rules with the same prefix can be larger).
pub const PART_RULES: usize = 64;
/// How many leading literal segments route a pattern rule to its part.
pub const PREFIX_DEPTH: usize = 2;

const HEADER_BYTES: usize = 48;
const ENTRY_BYTES: usize = 16;

/// FNV-1a, 64 bits: the artifact's checksums, content id and routing hash (stable across
/// platforms and versions, so a build and every reader agree).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    route::fnv1a(bytes)
}

/// Why bytes are not a usable artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactError(String);

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArtifactError {}

impl ArtifactError {
    pub(crate) fn new(what: String) -> ArtifactError {
        ArtifactError(what)
    }
}

fn bad(what: impl Into<String>) -> ArtifactError {
    ArtifactError(what.into())
}

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

/// One part's place in the artifact.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u32,
    len: u32,
    checksum: u64,
}

/// Directory entry `i` of an artifact whose directory starts at `directory`.
fn entry(b: &[u8], directory: usize, i: usize) -> Entry {
    let at = directory + i * ENTRY_BYTES;
    Entry {
        offset: u32_at(b, at),
        len: u32_at(b, at + 4),
        checksum: u64_at(b, at + 8),
    }
}

/// A loaded artifact: its bytes, its directory, and each part once compiled.
#[derive(Debug)]
pub(crate) struct Artifact {
    bytes: Cow<'static, [u8]>,
    rule_count: usize,
    exact_parts: u32,
    prefix_parts: u32,
    directory: usize,
    parts: Box<[OnceLock<Option<Part>>]>,
    /// Every rule in one part, for readers that want them all (analysis, `rules()`).
    whole: OnceLock<Part>,
    id: u64,
}

impl Artifact {
    /// Checks the header, the directory's checksum and every part's bounds; with `full`, also
    /// every part's checksum (for bytes from storage; the embedded artifact was checked when
    /// it was built). Returns the bundle's settings text beside the artifact.
    pub(crate) fn open(
        bytes: Cow<'static, [u8]>,
        full: bool,
    ) -> Result<(Artifact, String), ArtifactError> {
        let b = &bytes[..];
        if b.len() < HEADER_BYTES || !is_artifact(b) {
            return Err(bad(
                "not an artifact (no EDGERDR header); build one with `redirects build`",
            ));
        }
        let version = u32_at(b, 8);
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "artifact format {version}; this engine reads format {FORMAT_VERSION}: rebuild it with this version's `redirects build`"
            )));
        }
        if u32_at(b, 12) != 0 {
            return Err(bad("artifact flags set that this engine does not know"));
        }
        let exact_parts = u32_at(b, 36);
        let prefix_parts = u32_at(b, 40);
        let settings_len = u32_at(b, 44) as usize;
        let parts = exact_parts as usize + prefix_parts as usize;
        let directory = HEADER_BYTES
            .checked_add(settings_len)
            .filter(|&d| d <= b.len())
            .ok_or_else(|| bad("artifact truncated in its settings"))?;
        let end = parts
            .checked_mul(ENTRY_BYTES)
            .and_then(|n| n.checked_add(directory))
            .filter(|&e| e <= b.len() && exact_parts > 0 && prefix_parts > 0)
            .ok_or_else(|| bad("artifact truncated in its directory"))?;
        if fnv1a(&b[24..end]) != u64_at(b, 16) {
            return Err(bad(
                "artifact header or directory corrupt (checksum mismatch)",
            ));
        }
        for i in 0..parts {
            let e = entry(b, directory, i);
            let range = e.offset as usize..e.offset as usize + e.len as usize;
            if range.start < end || range.end > b.len() || e.len < 4 {
                return Err(bad(format!("artifact part {i} out of bounds")));
            }
            if full && fnv1a(&b[range]) != e.checksum {
                return Err(bad(format!(
                    "artifact part {i} corrupt (checksum mismatch)"
                )));
            }
        }
        let settings = std::str::from_utf8(&b[HEADER_BYTES..directory])
            .map_err(|_| bad("artifact settings are not UTF-8"))?
            .to_owned();
        let artifact = Artifact {
            rule_count: u32_at(b, 32) as usize,
            exact_parts,
            prefix_parts,
            directory,
            parts: (0..parts).map(|_| OnceLock::new()).collect(),
            whole: OnceLock::new(),
            id: u64_at(b, 24),
            bytes,
        };
        Ok((artifact, settings))
    }

    /// The number of parts.
    pub(crate) fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// How many rules the artifact holds.
    pub(crate) fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// The content id: the same bundle built by the same format gives the same id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Part `i`, compiled on first use; `None` if its bytes are corrupt.
    pub(crate) fn part(&self, i: usize, settings: &Settings) -> Option<&Part> {
        self.parts
            .get(i)?
            .get_or_init(|| self.compile_part(i, settings))
            .as_ref()
    }

    fn compile_part(&self, i: usize, settings: &Settings) -> Option<Part> {
        let b = &self.bytes[..];
        let e = entry(b, self.directory, i);
        let body = &b[e.offset as usize..e.offset as usize + e.len as usize];
        if fnv1a(body) != e.checksum {
            return None;
        }
        let n = u32_at(body, 0) as usize;
        let numbers_end = n
            .checked_mul(4)?
            .checked_add(4)
            .filter(|&x| x <= body.len())?;
        let text = std::str::from_utf8(&body[numbers_end..]).ok()?;
        let mut rules = crate::compile::compile_part(text, settings, n)?;
        if rules.len() != n {
            return None;
        }
        for (k, rule) in rules.iter_mut().enumerate() {
            rule.index = u32_at(body, 4 + 4 * k);
        }
        Some(Part::new(rules))
    }

    /// Every rule, compiled into one part (all parts read once).
    pub(crate) fn whole(&self, settings: &Settings) -> &Part {
        self.whole.get_or_init(|| {
            let mut rules = Vec::with_capacity(self.rule_count);
            for i in 0..self.parts.len() {
                if let Some(part) = self.compile_part(i, settings) {
                    rules.extend(part.rules);
                }
            }
            rules.sort_by_key(|r| r.index);
            Part::new(rules)
        })
    }

    /// The parts a request with this path reads: its exact part and the prefix parts of its
    /// first segments (see [`route`]).
    pub(crate) fn parts_for(
        &self,
        key: &str,
        segments: &[Cow<'_, str>],
        out: &mut SmallVec<[usize; 4]>,
    ) {
        route::route(self.exact_parts, self.prefix_parts, key, segments, out);
    }
}
