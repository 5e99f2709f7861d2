//! The A/B variant a split chose, told to the origin on every request the split sends there —
//! the first one included, before the visitor's browser has the assignment cookie.
//!
//! The origin learns it twice: in the forwarded request's `Cookie` (the assignment cookie,
//! added or corrected when the variant was assigned just now, so code that reads the cookie
//! works from the first page view on) and in the [`VARIANT_HEADER`] request header
//! (`<rule id>=<variant>`). Any [`VARIANT_HEADER`] a visitor sends is removed from every other
//! request the worker passes to the origin, so on the origin it only ever names a split's
//! decision. Both are as trustworthy as the assignment cookie itself: a visitor may pick a known
//! variant by sending the cookie, never an unknown one.

use super::HeaderChange;
use crate::request::encode::header_safe;
use std::borrow::Cow;

/// The request header that names the split and the variant on requests a split passes to the
/// origin: `X-Redirect-Variant: <rule id>=<variant>` (the variant name never contains `=`).
pub const VARIANT_HEADER: &str = "X-Redirect-Variant";

/// The other spellings of [`VARIANT_HEADER`] that CGI-style origins (which turn `-` into `_`
/// in header names) read as the same variable: removed from every request the origin sees.
const FOLDED_VARIANT_HEADERS: [&str; 3] = [
    "X_Redirect_Variant",
    "X-Redirect_Variant",
    "X_Redirect-Variant",
];

/// The variant a split chose for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assigned<'e> {
    /// The split rule's id.
    pub rule: &'e str,
    /// The variant's name.
    pub variant: &'e str,
    /// The assignment cookie's name.
    pub cookie: &'e str,
    /// Assigned just now: the request carries no valid assignment cookie.
    pub fresh: bool,
}

impl Assigned<'_> {
    /// The changes to the request sent to the origin: the assignment in its `Cookie` (when
    /// fresh, or when the visitor sent the assignment cookie other than once with this value:
    /// every copy is replaced by the one decided, so an origin reading the last copy reads it
    /// too) and [`VARIANT_HEADER`], any other spelling of it removed.
    pub(crate) fn request_changes(
        &self,
        request_headers: &[(&str, &str)],
    ) -> Vec<HeaderChange<'_>> {
        let mut out = strip_folded(request_headers);
        if self.fresh || !sent_once_as(request_headers, self.cookie, self.variant) {
            out.push(HeaderChange::Set(
                "Cookie",
                Cow::Owned(with_cookie(request_headers, self.cookie, self.variant)),
            ));
        }
        let mut value = header_safe(self.rule).into_owned();
        value.push('=');
        value.push_str(self.variant);
        out.push(HeaderChange::Set(VARIANT_HEADER, Cow::Owned(value)));
        out
    }
}

/// Each pair of the request's `Cookie` headers, trimmed, with its name.
fn cookie_pairs<'h>(request_headers: &'h [(&str, &str)], mut each: impl FnMut(&'h str, &'h str)) {
    for (header, cookies) in request_headers {
        if !header.eq_ignore_ascii_case("cookie") {
            continue;
        }
        // Plain loops and single-byte patterns: this runs in the worker, where every
        // iterator adapter and Unicode table costs upload size.
        for pair in cookies.split(';') {
            let pair = pair.trim_matches(' ');
            if !pair.is_empty() {
                let pair_name = pair.find('=').map_or(pair, |at| &pair[..at]);
                each(pair_name.trim_end_matches(' '), pair);
            }
        }
    }
}

/// Whether the request's cookies hold exactly one pair named `name`, and it is `name=value`.
fn sent_once_as(request_headers: &[(&str, &str)], name: &str, value: &str) -> bool {
    let (mut copies, mut same) = (0, false);
    cookie_pairs(request_headers, |pair_name, pair| {
        if pair_name == name {
            copies += 1;
            let sent = pair[pair_name.len()..].trim_start_matches(' ');
            same = sent.strip_prefix('=').map(|v| v.trim_matches(' ')) == Some(value);
        }
    });
    copies == 1 && same
}

/// The request's `Cookie` headers as one, without any pair named `name`, then `name=value`.
/// Other pairs are kept exactly as sent, in order.
fn with_cookie(request_headers: &[(&str, &str)], name: &str, value: &str) -> String {
    let mut out = String::new();
    cookie_pairs(request_headers, |pair_name, pair| {
        if pair_name != name {
            out.push_str(pair);
            out.push_str("; ");
        }
    });
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out
}

/// For a request no split decided: remove a [`VARIANT_HEADER`] the visitor sent (in any
/// spelling an origin folds into it), so that the origin never takes a forged one for the
/// edge's.
pub(crate) fn strip_forged(request_headers: &[(&str, &str)]) -> Vec<HeaderChange<'static>> {
    let mut out = strip_folded(request_headers);
    if sent(request_headers, VARIANT_HEADER) {
        out.push(HeaderChange::Remove(VARIANT_HEADER));
    }
    out
}

/// Removals of the [`FOLDED_VARIANT_HEADERS`] the visitor sent.
fn strip_folded(request_headers: &[(&str, &str)]) -> Vec<HeaderChange<'static>> {
    let mut out = Vec::new();
    for name in FOLDED_VARIANT_HEADERS {
        if sent(request_headers, name) {
            out.push(HeaderChange::Remove(name));
        }
    }
    out
}

/// Whether the request has a header `name` (case-insensitive).
fn sent(request_headers: &[(&str, &str)], name: &str) -> bool {
    request_headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assignment_replaces_a_stale_cookie_and_keeps_the_others() {
        let headers = [("cookie", "a=1; ab_x=bogus;b=2"), ("Cookie", "c=3")];
        assert_eq!(
            with_cookie(&headers, "ab_x", "new"),
            "a=1; b=2; c=3; ab_x=new"
        );
        assert_eq!(with_cookie(&[], "ab_x", "new"), "ab_x=new");
    }

    #[test]
    fn a_forged_variant_header_is_removed() {
        assert_eq!(
            strip_forged(&[("x-redirect-variant", "x=y")]),
            vec![HeaderChange::Remove(VARIANT_HEADER)]
        );
        assert!(strip_forged(&[("accept", "*/*")]).is_empty());
    }
}
