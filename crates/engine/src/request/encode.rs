//! Percent-encoding and decoding. Every byte that reaches a `Location` header passes through
//! here, which is why no placeholder value can smuggle CR/LF, raw non-ASCII, `\`, `?` or `#`
//! into a redirect.

use std::borrow::Cow;

/// Where in a URL a piece of text goes; decides which characters stay as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlPart {
    /// One path segment: `/` is encoded.
    Segment,
    /// Several path segments: `/` stays.
    Path,
    /// A query string: `&` and `=` stay (they separate pairs).
    Query,
    /// One query name or value: `&`, `=`, `+` and `#` are encoded.
    QueryComponent,
    /// The fragment.
    Fragment,
}

fn keep(b: u8, part: UrlPart) -> bool {
    // RFC 3986 unreserved characters are safe everywhere.
    if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
        return true;
    }
    // pchar: sub-delims plus `:` and `@`.
    let pchar = matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@'
    );
    match part {
        UrlPart::Segment => pchar,
        UrlPart::Path => pchar || b == b'/',
        UrlPart::Query | UrlPart::Fragment => pchar || b == b'/' || b == b'?',
        // Inside one name or value, the pair separators `&`, `=` and `+` (a space) are escaped.
        UrlPart::QueryComponent => {
            (pchar && !matches!(b, b'&' | b'=' | b'+')) || b == b'/' || b == b'?'
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_escaped(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

fn is_escape(bytes: &[u8], i: usize) -> bool {
    i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit()
}

/// Appends `text` to `out`, keeping valid `%XX` escapes as they are and percent-encoding every
/// other byte that may not appear raw in `part`. Used for text that is already in URL form
/// (a captured request path segment, a carried-over query string, a literal of a target).
pub(crate) fn push_normalized(out: &mut String, text: &str, part: UrlPart) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if keep(b, part) || (b == b'%' && is_escape(bytes, i)) {
            i += if b == b'%' { 3 } else { 1 };
            continue;
        }
        // A non-empty run holds only ASCII, so both ends are character boundaries.
        if run < i {
            out.push_str(&text[run..i]);
        }
        push_escaped(out, b);
        i += 1;
        run = i;
    }
    if run < bytes.len() {
        out.push_str(&text[run..]);
    }
}

/// Appends `text` (plain, decoded text) to `out`, percent-encoding every byte that may not
/// appear raw in `part`, `%` included.
pub(crate) fn push_encoded(out: &mut String, text: &str, part: UrlPart) {
    for &b in text.as_bytes() {
        if b != b'%' && keep(b, part) {
            out.push(b as char);
        } else {
            push_escaped(out, b);
        }
    }
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// Percent-decodes one path segment for matching. `%2F` stays encoded (as `%2F`) so a decoded
/// segment never gains a `/`; invalid UTF-8 becomes U+FFFD. Borrows when nothing changes.
pub(crate) fn decode_segment(text: &str) -> Cow<'_, str> {
    if !text.as_bytes().contains(&b'%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && is_escape(bytes, i) {
            let v = hex_val(bytes[i + 1]) << 4 | hex_val(bytes[i + 2]);
            if v == b'/' {
                out.extend_from_slice(b"%2F");
            } else {
                out.push(v);
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Decodes a query name or value as a browser's form parser does: `+` is a space, `%XX` a byte.
pub(crate) fn decode_query(text: &str) -> Cow<'_, str> {
    if !text.as_bytes().iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if is_escape(bytes, i) => {
                out.push(hex_val(bytes[i + 1]) << 4 | hex_val(bytes[i + 2]));
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Escapes text for an HTML attribute or element body.
pub(crate) fn html_escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Makes arbitrary text safe as a header value: visible ASCII and spaces stay, every other
/// byte is percent-encoded.
pub(crate) fn header_safe(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'%') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for &b in text.as_bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            push_escaped(&mut out, b);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_keeps_escapes_and_encodes_the_rest() {
        let mut s = String::new();
        push_normalized(&mut s, "a%2Fb/\\c%zz é?#\r\n", UrlPart::Segment);
        assert_eq!(s, "a%2Fb%2F%5Cc%25zz%20%C3%A9%3F%23%0D%0A");
    }

    #[test]
    fn decode_segment_keeps_encoded_slash() {
        assert_eq!(decode_segment("a%2fb%20c%C3%A9"), "a%2Fb cé");
        assert_eq!(decode_segment("%"), "%");
        assert_eq!(decode_segment("%4"), "%4");
    }

    #[test]
    fn decode_query_handles_plus() {
        assert_eq!(decode_query("a+b%26c"), "a b&c");
    }
}
