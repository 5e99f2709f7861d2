//! Limits the compiler enforces, so that no bundle can make compiling or evaluating
//! unreasonably slow or large. Each is reported as an [`crate::ErrorKind::Limit`] error.
//!
//! The last few bound the work and memory of reporting errors instead: whatever a rejected
//! bundle holds, its [`crate::CompileErrors`] stay small.

/// Largest bundle text accepted, in bytes (32 MiB; a Workers KV value holds at most 25 MiB).
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024 * 1024;
/// Most rules in one bundle.
pub const MAX_RULES: usize = 1_000_000;
/// Most segments in one `from` pattern.
pub const MAX_PATTERN_SEGMENTS: usize = 64;
/// Most placeholders captured by one rule (pattern plus `when.query` captures).
pub const MAX_CAPTURES: usize = 32;
/// Longest `from`, `to`, host or header value, in bytes.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Most entries in one condition list or map, and most split variants.
pub const MAX_LIST_ENTRIES: usize = 1024;

/// Most errors one compile keeps. The rest are only counted
/// ([`crate::CompileErrors::omitted`]) and reported as "and N more errors": a bundle with an
/// error in each of 600,000 rules otherwise held 1.2 million errors, over a gigabyte.
pub const MAX_ERRORS: usize = 100;
/// Longest pointer or message one kept error holds, in bytes; a longer one (only a key longer
/// than [`MAX_TEXT_BYTES`] makes one) is cut at a character boundary and ends in `…`.
pub const MAX_ERROR_TEXT_BYTES: usize = 2 * MAX_TEXT_BYTES;
/// Longest unknown key, in characters, for which a "did you mean" key is looked for. The
/// longest key of the format has 23 characters and a suggestion is at most 7 edits away, so a
/// longer key never has one; the edit distance is never computed over a long key.
pub const MAX_SUGGESTED_KEY_CHARS: usize = 32;

/// Largest bundle text the worker reads from KV, in bytes (8 MiB, about 110,000 typical rules);
/// a longer value is refused without being compiled (the last good bundle keeps serving), and
/// `redirects validate` warns about a bundle over it. A Workers isolate has 128 MB, and while
/// a refresh compiles a new bundle the old one still serves: measured in workerd, a 12 MB
/// bundle of mixed rules added 81 MB to a fresh isolate and 177 MB once replaced by another
/// (about 15 bytes per byte of JSON, Miniflare's own copies of the KV value included).
pub const WORKER_MAX_BUNDLE_BYTES: usize = 8 * 1024 * 1024;
