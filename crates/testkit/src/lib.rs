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

/// SplitMix64: a small, well-mixed, seeded generator for generated test sets (the same seed
/// gives the same set on every machine).
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
