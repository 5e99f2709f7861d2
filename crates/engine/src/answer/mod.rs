//! Answers: what the engine decides for a request, in terms any adapter can turn into a
//! response — which headers it sets, which replace the origin's and which are added
//! ([`HeaderChange`]) — so adapters copy them without knowing the rules.

pub(crate) mod build;
pub(crate) mod cache;
pub(crate) mod variant;

use self::cache::{capped, is_cache_header, made_private, PRIVATE, SHARED_CACHE_HEADERS};
use self::variant::Assigned;
pub use self::variant::VARIANT_HEADER;
use std::borrow::Cow;

/// The outcome of evaluating one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'e> {
    /// Answer at the edge with a redirect; the origin is never contacted.
    Redirect(Response<'e>),
    /// Post-Redirect-Get through the origin: send the request on unchanged, then ask
    /// [`Forward::respond`] what to answer.
    Forward(Forward<'e>),
    /// No rule redirects: send the request to the origin untouched, then change the origin's
    /// response headers as [`Passthrough::header_changes`] says.
    Origin(Passthrough<'e>),
}

/// A response generated at the edge.
///
/// Evaluation keeps it cheap: only the `Location` is built as a new string. The headers are
/// read on demand ([`Response::headers`]) and the HTML note is written when asked for
/// ([`Response::body`]), so an adapter pays for each only once, as it copies them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'e> {
    /// The id of the rule that produced it.
    pub rule: &'e str,
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// The absolute, percent-encoded target; also the first of [`Response::headers`].
    pub location: String,
    pub(crate) head: bool,
    /// The engine's Cache-Control, before the rule's own headers.
    pub(crate) cache_control: &'e str,
    /// The answer depends on who asks: [`PRIVATE`] whatever the rule's headers say, and none
    /// of the shared-cache headers.
    pub(crate) private: bool,
    /// The request headers a per-visitor answer depends on.
    pub(crate) vary: Option<Box<str>>,
    /// On a path whose rules have time windows: the Cache-Control (the rule's own or the
    /// engine's) kept no longer than the next window bound; the rule's shared-cache headers
    /// are then left out.
    pub(crate) bounded: Option<Box<str>>,
    /// The rule's `headers`, as written.
    pub(crate) rule_headers: &'e [(String, String)],
    /// A fresh A/B assignment, or the origin's cookies on a Post-Redirect-Get answer.
    pub(crate) set_cookies: Vec<String>,
    /// The `X-Redirect-Rule` value, when the debug header is on.
    pub(crate) debug: Option<Cow<'e, str>>,
    /// The A/B variant, when a split decided.
    pub(crate) variant: Option<&'e str>,
}

/// Header names whose engine default a rule's own header replaces instead of adding to.
const REPLACEABLE: [&str; 2] = ["cache-control", "content-type"];

impl Response<'_> {
    /// Every response header in the order it is sent: `Location`, `Cache-Control`,
    /// `Content-Type` (a rule's own `Cache-Control` or `Content-Type` replaces the engine's, the
    /// last one written winning), the rule's other headers in order, `Vary`, `Set-Cookie`, then
    /// `X-Redirect-Rule` when the debug header is on.
    ///
    /// An answer that depends on who asks keeps `Cache-Control: private, no-store` and drops
    /// the rule's shared-cache headers (`CDN-Cache-Control`, `Cloudflare-CDN-Cache-Control`,
    /// `Surrogate-Control`): no rule can make it storable by a shared cache. An answer a time
    /// window could change has its `Cache-Control` kept no longer than the window's next bound
    /// ([`cache::capped`]) and drops the shared-cache headers too.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let own = |name, default| last_value(self.rule_headers, name).unwrap_or(default);
        let cache_control = match (&self.bounded, self.private) {
            (_, true) => PRIVATE,
            (Some(bounded), _) => bounded,
            (None, _) => own("cache-control", self.cache_control),
        };
        let drop_shared = self.private || self.bounded.is_some();
        [
            ("Location", self.location.as_str()),
            ("Cache-Control", cache_control),
            (
                "Content-Type",
                own("content-type", "text/html; charset=utf-8"),
            ),
        ]
        .into_iter()
        .chain(
            self.rule_headers
                .iter()
                .filter(move |(n, _)| {
                    let replaced = REPLACEABLE.iter().any(|r| n.eq_ignore_ascii_case(r));
                    !(replaced || drop_shared && is_cache_header(n))
                })
                .map(|(n, v)| (n.as_str(), v.as_str())),
        )
        .chain(self.vary.as_deref().map(|v| ("Vary", v)))
        .chain(self.set_cookies.iter().map(|c| ("Set-Cookie", c.as_str())))
        .chain(self.debug.as_deref().map(|d| ("X-Redirect-Rule", d)))
    }

    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether the response has a body: every method but `HEAD`.
    pub fn has_body(&self) -> bool {
        !self.head
    }

    /// The short HTML note linking to the target (RFC 9110 §15.4); `None` for `HEAD` requests.
    pub fn body(&self) -> Option<String> {
        (!self.head).then(|| build::body(self.status, &self.location))
    }
}

/// A Post-Redirect-Get decision: the origin handles the request first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward<'e> {
    /// The id of the rule that asked for forwarding.
    pub rule: &'e str,
    /// The absolute 303 target from the rule's `to`; `None` means "the origin's `Location`".
    pub location: Option<String>,
    pub(crate) request_url: String,
    pub(crate) head: bool,
    /// The request is not a GET or HEAD: a 303 to its own URL is a new request (a GET).
    pub(crate) method_changes: bool,
    pub(crate) rule_headers: &'e [(String, String)],
    pub(crate) debug: Option<Cow<'e, str>>,
}

impl<'e> Forward<'e> {
    /// What to answer once the origin has answered `status` with an optional `Location` header
    /// and `set_cookies` (its `Set-Cookie` values, one per cookie).
    ///
    /// `Some`: a 2xx answer becomes a 303 to the rule's target, or to the origin's `Location`
    /// (resolved against the request URL as a browser does) when the rule has no `to`; it keeps
    /// the origin's cookies and is private. `None`: pass the origin's response through
    /// unchanged (4xx form errors, 5xx, 3xx, a 2xx without any target, or a `Location` that
    /// would send a GET or HEAD back to its own URL).
    pub fn respond(
        &self,
        status: u16,
        origin_location: Option<&str>,
        set_cookies: &[&str],
    ) -> Option<Response<'e>> {
        build::forward_response(self, status, origin_location, set_cookies)
    }
}

/// One change the adapter makes to the origin's response headers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderChange<'a> {
    /// Replace the origin's values of this header with this one (or add it).
    Set(&'static str, Cow<'a, str>),
    /// Add this value, keeping the origin's.
    Append(&'static str, Cow<'a, str>),
    /// Remove every value of this header.
    Remove(&'static str),
}

/// A pass to the origin: the request goes on untouched; what the edge changes in the
/// origin's answer comes from [`Passthrough::header_changes`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passthrough<'e> {
    /// The rule that decided to pass through (an A/B variant that stays), if any.
    pub rule: Option<&'e str>,
    /// A fresh A/B assignment cookie.
    pub(crate) set_cookie: Option<String>,
    /// The answer depends on who asks (a rule tried on this path read the visitor).
    pub(crate) private: bool,
    /// The request headers it depends on.
    pub(crate) vary: Option<Box<str>>,
    /// The `X-Redirect-Rule` value, when the debug header is on.
    pub(crate) debug: Option<Cow<'e, str>>,
    /// The A/B variant that stays, when a split decided.
    pub(crate) assigned: Option<Assigned<'e>>,
    /// On a path whose rules have time windows: the seconds until the next window bound
    /// (0: the time is unknown), which no cache may keep the answer past.
    pub(crate) fresh_for: Option<u64>,
    /// The `Cache-Control` set when the origin sends none, on a window path: made once, so
    /// that [`Decision::headers`] can lend it.
    pub(crate) bounded: Option<Box<str>>,
}

impl Passthrough<'_> {
    /// Whether the origin's answer goes back exactly as it came.
    pub fn is_untouched(&self) -> bool {
        self.set_cookie.is_none()
            && !self.private
            && self.debug.is_none()
            && self.fresh_for.is_none()
    }

    /// The same passthrough kept no longer than `fresh_for` seconds (see
    /// [`cache::DependsOn::fresh_for`]).
    pub(crate) fn bounded_for(mut self, fresh_for: Option<u64>) -> Self {
        self.fresh_for = fresh_for;
        self.bounded = None;
        self.bounded = self
            .cache_control(None)
            .filter(|_| fresh_for.is_some())
            .map(|c| c.into_owned().into_boxed_str());
        self
    }

    /// The `Cache-Control` to set given the origin's, or `None` to keep the origin's.
    fn cache_control<'a>(&'a self, origin: Option<&'a str>) -> Option<Cow<'a, str>> {
        let value = if self.private {
            if self.set_cookie.is_some() {
                Cow::Borrowed(PRIVATE)
            } else {
                made_private(origin)
            }
        } else {
            match (origin, self.fresh_for?) {
                (_, 0) => return Some(Cow::Borrowed("no-store")),
                (Some(origin), _) => Cow::Borrowed(origin),
                // The engine does not make storable what the origin did not say may be stored.
                (None, _) => return None,
            }
        };
        match (origin, &self.bounded, self.fresh_for) {
            (None, Some(bounded), _) => Some(Cow::Borrowed(bounded)),
            (_, _, Some(seconds)) => Some(Cow::Owned(capped(&value, seconds))),
            _ => Some(value),
        }
    }

    /// The changes to make to the origin's response headers, given its `Cache-Control`:
    ///
    /// - `Set-Cookie` with a fresh A/B assignment (appended);
    /// - on a per-visitor path (a rule tried here read the visitor): `Cache-Control` replaced,
    ///   with `private, no-store` next to a fresh assignment, else with the origin's own value
    ///   made private ([`made_private`]: the browser may still cache, no shared cache may);
    ///   `CDN-Cache-Control`, `Cloudflare-CDN-Cache-Control` and `Surrogate-Control` removed
    ///   (they speak to shared caches only); `Vary` naming the request headers read (appended);
    /// - on a path whose rules have time windows: `Cache-Control` kept no longer than the next
    ///   window bound (`max-age` and `s-maxage` lowered, `max-age` added; `no-store` when the
    ///   request has no time) and the shared-cache headers removed; an origin that sends no
    ///   `Cache-Control` on a path that is not per visitor gets none;
    /// - `X-Redirect-Rule` when the debug header is on.
    ///
    /// The worker runs before Cloudflare's cache, so the origin's page can still be cached at
    /// the edge as the origin says: only caches past the worker see these headers.
    pub fn header_changes<'a>(
        &'a self,
        origin_cache_control: Option<&'a str>,
    ) -> Vec<HeaderChange<'a>> {
        let mut out = Vec::new();
        if let Some(c) = &self.set_cookie {
            out.push(HeaderChange::Append(
                "Set-Cookie",
                Cow::Borrowed(c.as_str()),
            ));
        }
        if self.private || self.fresh_for.is_some() {
            if let Some(cache_control) = self.cache_control(origin_cache_control) {
                out.push(HeaderChange::Set("Cache-Control", cache_control));
            }
            out.extend(SHARED_CACHE_HEADERS.iter().map(|h| HeaderChange::Remove(h)));
        }
        if let (true, Some(v)) = (self.private, &self.vary) {
            out.push(HeaderChange::Append("Vary", Cow::Borrowed(v)));
        }
        if let Some(d) = &self.debug {
            out.push(HeaderChange::Append(
                "X-Redirect-Rule",
                Cow::Borrowed(d.as_ref()),
            ));
        }
        out
    }
}

/// The three kinds of decision, by the names case files, `explain --json` and analytics give
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `redirect`: answered at the edge.
    Redirect,
    /// `forward`: Post-Redirect-Get through the origin.
    Forward,
    /// `origin`: passed to the origin.
    Origin,
}

impl Outcome {
    /// The outcome's name: `redirect`, `forward` or `origin`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Redirect => "redirect",
            Outcome::Forward => "forward",
            Outcome::Origin => "origin",
        }
    }
}

impl Decision<'_> {
    /// What kind of decision this is.
    pub fn outcome(&self) -> Outcome {
        match self {
            Decision::Redirect(_) => Outcome::Redirect,
            Decision::Forward(_) => Outcome::Forward,
            Decision::Origin(_) => Outcome::Origin,
        }
    }

    /// The headers this decision sends or adds, in order: a redirect's response headers, the
    /// headers added to an origin answer that has no `Cache-Control` of its own, none for a
    /// forward (see [`Forward::respond`]).
    pub fn headers(&self) -> Vec<(&str, &str)> {
        match self {
            Decision::Redirect(r) => r.headers().collect(),
            Decision::Forward(_) => Vec::new(),
            // With no Cache-Control from the origin every value is borrowed: the decision's
            // own texts or constants.
            Decision::Origin(p) => p
                .header_changes(None)
                .into_iter()
                .filter_map(|c| match c {
                    HeaderChange::Set(n, Cow::Borrowed(v))
                    | HeaderChange::Append(n, Cow::Borrowed(v)) => Some((n, v)),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Marks the answer as one that depends on who asks, whatever made it (for example a
    /// canary serving two versions of the rules, which answer this request differently): a
    /// redirect becomes `private, no-store` without shared-cache headers, an origin answer is
    /// made private as on a per-visitor path. A forward's 303 is private already.
    pub fn make_per_visitor(&mut self) {
        match self {
            Decision::Redirect(r) => r.private = true,
            Decision::Origin(p) => {
                p.private = true;
                let fresh_for = p.fresh_for;
                *p = std::mem::take(p).bounded_for(fresh_for);
            }
            Decision::Forward(_) => {}
        }
    }

    /// Whether two decisions (from two versions of the rules) give a visitor the same answer:
    /// the same kind, status, target and headers, whichever rules made them.
    pub fn same_answer(&self, other: &Decision<'_>) -> bool {
        match (self, other) {
            (Decision::Redirect(a), Decision::Redirect(b)) => {
                a.status == b.status && a.headers().eq(b.headers())
            }
            (Decision::Forward(a), Decision::Forward(b)) => {
                a.location == b.location
                    && a.rule_headers == b.rule_headers
                    && a.debug == b.debug
                    && a.method_changes == b.method_changes
            }
            (Decision::Origin(a), Decision::Origin(b)) => {
                a.header_changes(None) == b.header_changes(None)
            }
            _ => false,
        }
    }

    /// The id of the rule that decided, if any.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Decision::Redirect(r) => Some(r.rule),
            Decision::Forward(f) => Some(f.rule),
            Decision::Origin(p) => p.rule,
        }
    }

    /// The A/B variant, when a split decided: the one redirected to or the one that stays.
    pub fn variant(&self) -> Option<&str> {
        match self {
            Decision::Redirect(r) => r.variant,
            Decision::Forward(_) => None,
            Decision::Origin(p) => p.assigned.map(|a| a.variant),
        }
    }

    /// The changes to make to the request before it is sent to the origin (`request_headers`
    /// are the visitor's, as given in [`crate::Request::headers`]): on a request a split
    /// passes there, the assignment in `Cookie` (when assigned just now) and
    /// [`VARIANT_HEADER`]; on any other request the origin sees, a [`VARIANT_HEADER`] the
    /// visitor sent removed. Empty for most requests: then the request goes on untouched.
    pub fn origin_request_changes<'a>(
        &'a self,
        request_headers: &[(&str, &str)],
    ) -> Vec<HeaderChange<'a>> {
        match self {
            Decision::Redirect(_) => Vec::new(),
            Decision::Origin(Passthrough {
                assigned: Some(assigned),
                ..
            }) => assigned.request_changes(request_headers),
            Decision::Origin(_) | Decision::Forward(_) => variant::strip_forged(request_headers),
        }
    }
}

/// The value of the last header `name` (case-insensitive) in `headers`.
fn last_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Request};

    const BUNDLE: &str = r#"{ "version": 1, "rules": [
        { "id": "launch", "from": "/p", "when": { "after": "2026-12-24T09:00:00Z" }, "to": "/v2" },
        { "id": "office", "from": "/o", "when": { "ip": ["192.0.2.0/24"] }, "to": "/in" },
        { "id": "office-launch", "from": "/o", "when": { "after": "2026-12-24T09:00:00Z" }, "to": "/v2" }
    ] }"#;

    /// The origin's page at `path`, `seconds` before the launch, with `origin` as its
    /// Cache-Control: the header changes the worker makes.
    fn changes(path: &str, seconds: i64, origin: Option<&str>) -> Vec<String> {
        let engine = Engine::compile(BUNDLE).unwrap();
        let launch = crate::request::instant::parse_instant("2026-12-24T09:00:00Z").unwrap();
        let url = format!("https://example.com{path}");
        let request = Request {
            now: Some(launch - seconds),
            ip: Some("203.0.113.1"),
            ..Request::get(&url)
        };
        let Decision::Origin(pass) = engine.evaluate(&request) else {
            panic!("expected the origin");
        };
        assert!(!pass.is_untouched());
        pass.header_changes(origin)
            .iter()
            .map(|c| match c {
                HeaderChange::Set(n, v) => format!("set {n}: {v}"),
                HeaderChange::Append(n, v) => format!("append {n}: {v}"),
                HeaderChange::Remove(n) => format!("remove {n}"),
            })
            .collect()
    }

    #[test]
    fn the_origins_caching_ends_at_the_window() {
        let shared = SHARED_CACHE_HEADERS.map(|h| format!("remove {h}"));
        let set = |v: &str| format!("set Cache-Control: {v}");
        assert_eq!(
            changes("/p", 600, Some("public, max-age=86400, s-maxage=86400")),
            [&[set("public, max-age=600, s-maxage=600")][..], &shared].concat()
        );
        assert_eq!(
            changes("/p", 600, Some("public, max-age=60")),
            [&[set("public, max-age=60")][..], &shared].concat()
        );
        assert_eq!(changes("/p", 600, Some("no-store"))[0], set("no-store"));
        // Nothing said by the origin: nothing made storable.
        assert_eq!(changes("/p", 600, None), shared);
        // A per-visitor path: private, and capped too.
        assert_eq!(
            changes("/o", 30, Some("public, max-age=86400")),
            [&[set("private, max-age=30")][..], &shared].concat()
        );
        assert_eq!(changes("/o", 30, None)[0], set("private, max-age=30"));
    }
}
