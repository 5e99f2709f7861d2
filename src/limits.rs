//! Limits the compiler enforces, so that no bundle can make compiling or evaluating
//! unreasonably slow or large. Each is reported as an [`crate::ErrorKind::Limit`] error.

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
