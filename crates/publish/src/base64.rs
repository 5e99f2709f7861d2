//! KV values are base64 text (`redirects publish` writes them so: every way of writing KV keeps
//! text as written), decoded here a slice at a time.

/// Standard base64 (with or without padding) decoded onto `out`; `None` on any other character.
/// A text cut into slices whose lengths are multiples of 4 decodes slice by slice to the same
/// bytes as whole.
pub fn decode_onto(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    for chunk in bytes.chunks(4) {
        let mut n: u32 = 0;
        for (k, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)?) << (18 - 6 * k);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        decode_onto(text, &mut out).map(|()| out)
    }

    #[test]
    fn rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(decode(coded).as_deref(), Some(plain.as_bytes()), "{coded}");
            assert_eq!(
                decode(coded.trim_end_matches('=')).as_deref(),
                Some(plain.as_bytes())
            );
        }
        assert_eq!(decode("+/8=").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(decode("Zm9v!"), None);
        assert_eq!(decode("Zm 9v"), None);
        assert_eq!(decode("Zm9v-_"), None);
    }

    #[test]
    fn slices_decode_as_the_whole() {
        let mut out = Vec::new();
        for slice in ["Zm9v", "YmFy", "Zg=="] {
            decode_onto(slice, &mut out).unwrap();
        }
        assert_eq!(out, b"foobarf");
    }
}
