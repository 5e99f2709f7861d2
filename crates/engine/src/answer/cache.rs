//! What caches may do with an answer: whether it depends on who asks, and the headers that
//! keep such an answer out of every shared cache.
//!
//! An answer depends on the visitor when any candidate rule that was tried read something
//! about the visitor (geolocation, language, a cookie, a header, an A/B assignment) — not only
//! the rule that applied: `/welcome` redirects English visitors to `/en/welcome` only because
//! the German rule before it did not hold. Such an answer is marked private whatever a rule or
//! the origin says, and names the request headers it depends on in `Vary`.

use crate::condition::{Condition, Conditions};
use crate::rule::{Action, Rule};
use std::borrow::Cow;

/// Cache-Control of every edge answer that must not be stored by any cache.
pub(crate) const PRIVATE: &str = "private, no-store";

/// Headers addressed to shared caches only (CDNs, proxies): a per-visitor answer never carries
/// them, neither from a rule's `headers` nor from the origin.
pub(crate) const SHARED_CACHE_HEADERS: [&str; 3] = [
    "cdn-cache-control",
    "cloudflare-cdn-cache-control",
    "surrogate-control",
];

/// Whether `name` is `Cache-Control` or one of [`SHARED_CACHE_HEADERS`].
pub(crate) fn is_cache_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("cache-control")
        || SHARED_CACHE_HEADERS
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
}

/// What about the visitor the candidates tried for one request have read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Varies<'e> {
    /// Anything at all: the answer is per visitor.
    any: bool,
    language: bool,
    cookie: bool,
    /// Header conditions' names, as written (repeats removed in [`Varies::vary`]).
    headers: Vec<&'e str>,
}

impl<'e> Varies<'e> {
    /// Notes what `rule` reads about the visitor; called for every candidate that is tried.
    pub(crate) fn add(&mut self, rule: &'e Rule) {
        if matches!(rule.action, Action::Split(_)) {
            // The assignment is read from a cookie, or drawn when there is none.
            self.any = true;
            self.cookie = true;
        }
        if rule.extras.is_some() {
            self.add_conditions(rule.when());
            self.add_conditions(rule.unless());
        }
    }

    fn add_conditions(&mut self, conditions: &'e Conditions) {
        for c in &conditions.list {
            match c {
                Condition::Query(..) => {}
                Condition::Geo(..) => self.any = true,
                Condition::Language(_) => {
                    self.any = true;
                    self.language = true;
                }
                Condition::Cookie(..) => {
                    self.any = true;
                    self.cookie = true;
                }
                Condition::Header(name, _) => {
                    // Names are made unique once, in `vary`: a check here would cost the
                    // square of the candidates tried.
                    self.any = true;
                    self.headers.push(name);
                }
            }
        }
    }

    /// Whether the answer depends on who asks.
    pub(crate) fn per_visitor(&self) -> bool {
        self.any
    }

    /// The `Vary` value naming the request headers read, if any (geolocation has none). More
    /// than [`MAX_VARY_BYTES`] of names (hundreds of rules each testing a header of its own)
    /// give `Vary: *`: the answer is private anyway, and a header that long would cost more
    /// than it says and could pass what a response head may hold.
    pub(crate) fn vary(&self) -> Option<Box<str>> {
        let mut names: Vec<&str> = Vec::new();
        if self.language {
            names.push("Accept-Language");
        }
        if self.cookie {
            names.push("Cookie");
        }
        let mut seen: rustc_hash::FxHashSet<String> = Default::default();
        let mut bytes = 0;
        for h in &self.headers {
            let lower = h.to_ascii_lowercase();
            if !seen.contains(&lower) {
                bytes += lower.len() + 2;
                if bytes > MAX_VARY_BYTES {
                    return Some("*".into());
                }
                seen.insert(lower);
            }
        }
        let mut headers: Vec<String> = seen.into_iter().collect();
        headers.sort_unstable();
        for h in &headers {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(h)) {
                names.push(h);
            }
        }
        (!names.is_empty()).then(|| names.join(", ").into_boxed_str())
    }
}

/// The most bytes of distinct header names a `Vary` lists before it becomes `Vary: *`.
pub(crate) const MAX_VARY_BYTES: usize = 2048;

/// The origin's `Cache-Control` for a per-visitor page: what lets a shared cache store it
/// (`public`, `s-maxage`, `proxy-revalidate`) removed and `private` put first, the rest kept,
/// so the visitor's own browser may still cache what the origin allows.
pub(crate) fn made_private(origin: Option<&str>) -> Cow<'static, str> {
    let Some(origin) = origin else {
        return Cow::Borrowed("private");
    };
    let mut out = String::from("private");
    for directive in origin.split(',').map(str::trim) {
        let name = directive.split('=').next().unwrap_or("").trim();
        let shared = ["public", "private", "s-maxage", "proxy-revalidate"]
            .iter()
            .any(|d| name.eq_ignore_ascii_case(d));
        if !directive.is_empty() && !shared {
            out.push_str(", ");
            out.push_str(directive);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keeps_what_the_browser_may_do() {
        assert_eq!(made_private(None), "private");
        assert_eq!(
            made_private(Some("public, max-age=600, s-maxage=3600")),
            "private, max-age=600"
        );
        assert_eq!(
            made_private(Some(
                "Public,PROXY-REVALIDATE, no-cache, private=\"set-cookie\""
            )),
            "private, no-cache"
        );
        assert_eq!(made_private(Some("no-store")), "private, no-store");
    }
}
