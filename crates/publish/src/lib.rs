//! The publish protocol of edge-redirects, written once for the two sides that speak it:
//! `redirects publish` (crates/cli), which writes a version and the manifest naming it, and the
//! worker, which follows the manifest and reads what it names. Plain Rust, no wasm types: the
//! worker keeps only the translation to JavaScript and the I/O.
//!
//! - [`keys`]: the KV key names, and what a version's id looks like.
//! - [`manifest`]: the `manifest` value, read and written.
//! - [`cache`]: the cache of compiled pieces, least recently used out within a byte budget.
//! - [`canary`]: which visitors a canary serves, and the decision while one runs (where the
//!   two versions answer differently, the answer is per-visitor).
//! - [`choice`]: which version answers when a version's parts cannot be read, and which one
//!   its answer is compared with.
//! - [`refresh`]: how often a worker reads KV again, and which request claims the read.
//! - [`analytics`]: the Analytics Engine data point and the SQL `redirects stats` reads it with.
//! - [`base64`] and [`fingerprint`]: how values are stored, and recognised again.

pub mod analytics;
pub mod base64;
pub mod cache;
pub mod canary;
pub mod choice;
pub mod fingerprint;
pub mod keys;
pub mod manifest;
pub mod refresh;
