//! HTTP syntax that several parts of a rule share: header names, method names and cookie names
//! are tokens, header values visible ASCII.

/// RFC 9110 `tchar`.
pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `text` can be sent as a header value: visible ASCII, spaces and tabs.
pub(super) fn header_value_ok(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}
