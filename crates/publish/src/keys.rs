//! The KV key names of the publish protocol. A version is an artifact cut into its head (one
//! value), the pages of its filter and its parts (one value each), all immutable and named by the artifact's content id;
//! the small [`MANIFEST`] value names the version in use.

/// The KV key naming the versions in use (see [`crate::manifest`]).
pub const MANIFEST: &str = "manifest";

/// The key of version `id`'s head: `artifact/<id>/head`.
pub fn head(id: &str) -> String {
    format!("artifact/{id}/head")
}

/// The key of version `id`'s page `g` of the filter: `artifact/<id>/page/<g>`.
pub fn page(id: &str, g: usize) -> String {
    format!("artifact/{id}/page/{g}")
}

/// The key of version `id`'s part `n`: `artifact/<id>/part/<n>`.
pub fn part(id: &str, n: usize) -> String {
    format!("artifact/{id}/part/{n}")
}

/// Whether `id` can name a version: the artifact's content id in hex (`redirects publish`
/// writes 16 digits), 1 to 32 hex digits, so a key built from it stays a key of a version.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_by_the_version() {
        assert_eq!(head("00000000000000aa"), "artifact/00000000000000aa/head");
        assert_eq!(
            part("00000000000000aa", 7),
            "artifact/00000000000000aa/part/7"
        );
        assert_eq!(
            page("00000000000000aa", 3),
            "artifact/00000000000000aa/page/3"
        );
        assert_eq!(MANIFEST, "manifest");
    }

    #[test]
    fn ids_are_short_hex() {
        assert!(valid_id("00000000deadBEEF"));
        assert!(valid_id(&"f".repeat(32)));
        assert!(!valid_id(&"f".repeat(33)));
        assert!(!valid_id(""));
        assert!(!valid_id("../manifest"));
        assert!(!valid_id("abc/part/0"));
    }
}
