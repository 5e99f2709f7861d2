//! What recognises a KV value read again without keeping its text.

use std::hash::Hasher;

/// The FxHash of `text`'s bytes: with its length, enough to tell a value unchanged (not a
/// defence against a chosen collision: the values come from whoever may write the namespace).
pub fn hash(text: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
}

/// A text's length in bytes and [`hash`].
pub fn print(text: &str) -> (usize, u64) {
    (text.len(), hash(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_same_print_and_a_change_shows() {
        assert_eq!(print("{\"a\":1}"), print("{\"a\":1}"));
        assert_ne!(print("{\"a\":1}"), print("{\"a\":2}"));
        assert_ne!(hash("ab"), hash("ba"));
    }
}
