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
use crate::encode::header_safe;
use std::borrow::Cow;

/// The request header that names the split and the variant on requests a split passes to the
/// origin: `X-Redirect-Variant: <rule id>=<variant>` (the variant name never contains `=`).
pub const VARIANT_HEADER: &str = "X-Redirect-Variant";

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
    /// The changes to the request sent to the origin: the assignment in its `Cookie` (only
    /// when fresh: a sticky visitor's cookie already names the variant) and [`VARIANT_HEADER`].
    pub(crate) fn request_changes(
        &self,
        request_headers: &[(&str, &str)],
    ) -> Vec<HeaderChange<'_>> {
        let mut out = Vec::with_capacity(2);
        if self.fresh {
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

/// The request's `Cookie` headers as one, without any pair named `name`, then `name=value`.
/// Other pairs are kept exactly as sent, in order.
fn with_cookie(request_headers: &[(&str, &str)], name: &str, value: &str) -> String {
    let mut out = String::new();
    for (header, cookies) in request_headers {
        if !header.eq_ignore_ascii_case("cookie") {
            continue;
        }
        // Plain loops and single-byte patterns: this runs in the worker, where every
        // iterator adapter and Unicode table costs upload size.
        for pair in cookies.split(';') {
            let pair = pair.trim_matches(' ');
            let pair_name = pair.find('=').map_or(pair, |at| &pair[..at]);
            if !pair.is_empty() && pair_name.trim_end_matches(' ') != name {
                out.push_str(pair);
                out.push_str("; ");
            }
        }
    }
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out
}

/// For a request no split decided: remove a [`VARIANT_HEADER`] the visitor sent, so that the
/// origin never takes a forged one for the edge's.
pub(crate) fn strip_forged(request_headers: &[(&str, &str)]) -> Vec<HeaderChange<'static>> {
    if request_headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case(VARIANT_HEADER))
    {
        vec![HeaderChange::Remove(VARIANT_HEADER)]
    } else {
        Vec::new()
    }
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
