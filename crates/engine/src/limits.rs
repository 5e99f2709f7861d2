//! Limits the compiler enforces, so that no bundle can make compiling or evaluating
//! unreasonably slow or large. Each is reported as an [`crate::ErrorKind::Limit`] error.
//!
//! Then the caps on what one request is read for (never an error: what lies past them is not
//! seen by conditions), the bounds on the work and memory of reporting errors (whatever a
//! rejected bundle holds, its [`crate::CompileErrors`] stay small), and the largest bundle the
//! worker compiles from KV.

/// Largest bundle text accepted, in bytes (32 MiB; a Workers KV value holds at most 25 MiB).
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024 * 1024;
/// Largest bundle text `redirects build` reads into an artifact, in bytes (4 GiB, or what the
/// platform addresses): the artifact is never compiled whole at run time, so only the build
/// machine's memory bounds it (about the text's size again, plus 100 bytes a rule).
pub const MAX_BUILD_BUNDLE_BYTES: usize = if usize::BITS > 32 {
    (4u64 << 30) as usize
} else {
    usize::MAX
};
/// Most rules `redirects build --max-rules` takes (16,777,216: a part each at most).
pub const MAX_BUILD_RULES: usize = 1 << 24;
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
/// Most addresses and ranges in one `ip` condition (a range table: a request costs one binary
/// search however many there are).
pub const MAX_IP_ENTRIES: usize = 100_000;

// What one request's conditions read: each part of a request is parsed once per request, and
// these caps bound what a candidate rule's test can look at, so a request of any size costs at
// most its size times a small constant, plus a bounded amount per candidate rule.

/// Query pairs read from a request (the rest are not seen by `when.query` or the query-keyed
/// index; they are still carried to a target by `preserve_query`).
pub const MAX_QUERY_PAIRS: usize = 1024;
/// Values of one query parameter or header tested by a condition: the first ones sent.
pub const MAX_VALUES_TESTED: usize = 8;
/// Longest query, header or cookie value a glob tests (bytes): a longer value matches only
/// `"*"` (present with any value), so no candidate rule scans more than this of one value.
pub const MAX_VALUE_BYTES_TESTED: usize = 1024;
/// Longest text of one placeholder constraint (`:id(\d+)`), in bytes.
pub const MAX_CONSTRAINT_TEXT: usize = 256;
/// Longest placeholder value (the part of a segment a constraint reads, decoded) a constraint
/// tests, in bytes: a longer value never matches a constraint, so no candidate rule reads more
/// than this of one segment.
pub const MAX_CONSTRAINT_VALUE_BYTES: usize = MAX_VALUE_BYTES_TESTED;
/// Most bytes a bundle's distinct compiled constraints take together (16 MiB): each is a DFA
/// of at most 256 KiB, and a text written by many rules is compiled once.
pub const MAX_CONSTRAINT_BYTES: usize = 16 * 1024 * 1024;
/// Cookie pairs read from the `Cookie` header(s), in the order sent.
pub const MAX_COOKIE_PAIRS: usize = 512;
/// Language ranges of `Accept-Language` considered (empty items between commas skipped).
pub const MAX_LANGUAGE_RANGES: usize = 64;
/// Request headers read by header conditions, in the order sent.
pub const MAX_REQUEST_HEADERS: usize = 256;

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

/// Largest part of an artifact, in bytes (3 MiB, 4 MiB as the base64 text KV stores): a value
/// a request may have to read and compile whole. Rules are routed by their most selective
/// literal material, so parts stay near [`crate::artifact::PART_RULES`] rules whatever the
/// shape; `redirects build` refuses a bundle whose rules crowd one home past this, naming two
/// of them.
pub const MAX_PART_BYTES: usize = 3 * 1024 * 1024;

/// Most memory the rules of one home may take compiled, as [`crate::artifact::Part::cost`]
/// estimates it (6 MiB): half of what the worker keeps of the homes requests needed
/// ([`WORKER_CACHED_HOME_BYTES`]), so that no single home can push the others out of the
/// cache at once or be read again on every request. `redirects build` refuses a bundle with a
/// heavier home (many rules on one path told apart by a glob of a query value, say; rules told
/// apart by an exact value live apart, [`crate::artifact::QUERY_NAMES`]), naming two of its
/// rules.
pub const MAX_HOME_COST: usize = WORKER_CACHED_HOME_BYTES / 2;

/// Memory, in bytes, a worker keeps per published version in compiled rules of the homes
/// requests needed (12 MiB). An isolate has 128 MB and holds up to three versions (current,
/// canary, the one before): with [`WORKER_CACHED_PAGE_BYTES`] and the neighbours of each,
/// their caches together take at most 72 MiB.
pub const WORKER_CACHED_HOME_BYTES: usize = 12 * 1024 * 1024;

/// Memory, in bytes, a worker keeps per published version in pages of the filter (8 MiB: every
/// page of a million-rule bundle, about 4.5 bytes a home).
pub const WORKER_CACHED_PAGE_BYTES: usize = 8 * 1024 * 1024;

/// Largest artifact head (header, settings, the table of hosts) read from storage that keeps
/// parts and pages apart, in bytes (1 MiB). The head does not grow with the rules: the filter
/// is in pages. A head over this is refused before it is read further (the worker refuses its
/// KV value by its length, before copying it into wasm memory), and `redirects build` refuses
/// to write one.
pub const MAX_HEAD_BYTES: usize = 1024 * 1024;

/// Largest page of an artifact's filter, in bytes (256 KiB; a page holds about
/// [`crate::artifact::PAGE_HOMES`] homes at 4 bytes each, about 4 KiB). A longer page is refused
/// by its length; the build makes as many pages as keep every page near its size.
pub const MAX_PAGE_BYTES: usize = 256 * 1024;

/// Most exact hosts the head lists (65,536: 512 KiB), so that a request for a host no rule
/// names reads nothing. A bundle naming more hosts is still built, without the list: such a
/// request then reads the pages of its homes, as any miss does, once.
pub const MAX_HEAD_HOSTS: usize = 65_536;

/// Most parts one artifact has (16,777,216: ten million rules at one a part). Checked from
/// the header before anything is allocated per part; `redirects build` refuses to write more
/// (a larger `--part-rules` makes fewer).
pub const MAX_ARTIFACT_PARTS: usize = 1 << 24;
/// Largest `manifest` value the worker follows, in bytes (64 KiB; the manifest
/// `redirects publish` writes is under 200 bytes). A longer value is refused by its length,
/// before it is copied into wasm memory, and the rules in use keep serving.
pub const WORKER_MAX_MANIFEST_BYTES: usize = 64 * 1024;
