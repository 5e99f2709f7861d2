//! What the engine's test suites (`tests/`) and fuzz targets (`fuzz/`) share, so a checker is
//! written once and a fuzz target finds exactly what a test would.
//!
//! Owned requests and the shared case format live in the engine itself
//! ([`edge_redirects::RequestBuf`], [`edge_redirects::cases`]), because the `redirects` CLI
//! reads them too.

pub mod invariants;

/// A request URL as sent and, when it parses, as the platform normalises it (the WHATWG URL
/// parser) before a worker sees it: suites check both forms.
pub fn as_sent_and_normalised(url: &str) -> Vec<String> {
    let normalised = url::Url::parse(url).ok().map(|u| u.to_string());
    std::iter::once(url.to_string()).chain(normalised).collect()
}
