//! What the engine's test suites (`tests/`) and fuzz targets (`fuzz/`) share, so a checker is
//! written once and a fuzz target finds exactly what a test would.
//!
//! Owned requests and the shared case format live in the engine itself
//! ([`edge_redirects::RequestBuf`], [`edge_redirects::cases`]), because the `redirects` CLI
//! reads them too.

pub mod invariants;
