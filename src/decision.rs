//! What the engine decides for a request, in terms any adapter can turn into a response.

use std::borrow::Cow;

/// The outcome of evaluating one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'e> {
    /// Answer at the edge with a redirect; the origin is never contacted.
    Redirect(Response<'e>),
    /// Post-Redirect-Get through the origin: send the request on unchanged, then ask
    /// [`Forward::respond`] what to answer.
    Forward(Forward<'e>),
    /// No rule redirects: send the request to the origin untouched and add `headers` (an A/B
    /// assignment cookie, the debug header) to the origin's response.
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
    /// The rule's `headers`, as written.
    pub(crate) rule_headers: &'e [(String, String)],
    pub(crate) set_cookie: Option<String>,
    /// The `X-Redirect-Rule` value, when the debug header is on.
    pub(crate) debug: Option<Cow<'e, str>>,
}

/// Header names whose engine default a rule's own header replaces instead of adding to.
const REPLACEABLE: [&str; 2] = ["cache-control", "content-type"];

impl Response<'_> {
    /// Every response header in the order it is sent: `Location`, `Cache-Control`,
    /// `Content-Type` (a rule's own `Cache-Control` or `Content-Type` replaces the engine's, the
    /// last one written winning), the rule's other headers in order, `Set-Cookie` for a fresh
    /// A/B assignment, then `X-Redirect-Rule` when the debug header is on.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let own = |name, default| last_value(self.rule_headers, name).unwrap_or(default);
        [
            ("Location", self.location.as_str()),
            ("Cache-Control", own("cache-control", self.cache_control)),
            (
                "Content-Type",
                own("content-type", "text/html; charset=utf-8"),
            ),
        ]
        .into_iter()
        .chain(
            self.rule_headers
                .iter()
                .filter(|(n, _)| !REPLACEABLE.iter().any(|r| n.eq_ignore_ascii_case(r)))
                .map(|(n, v)| (n.as_str(), v.as_str())),
        )
        .chain(self.set_cookie.as_deref().map(|c| ("Set-Cookie", c)))
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
        (!self.head).then(|| crate::response::body(self.status, &self.location))
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
    pub(crate) rule_headers: &'e [(String, String)],
    pub(crate) debug: Option<Cow<'e, str>>,
}

impl<'e> Forward<'e> {
    /// What to answer once the origin has answered `status` with an optional `Location` header.
    ///
    /// `Some`: a 2xx answer becomes a 303 to the rule's target, or to the origin's `Location`
    /// (resolved against the request URL) when the rule has no `to`. `None`: pass the origin's
    /// response through unchanged (4xx form errors, 5xx, 3xx, or a 2xx without any target).
    pub fn respond(&self, status: u16, origin_location: Option<&str>) -> Option<Response<'e>> {
        crate::response::forward_response(self, status, origin_location)
    }
}

/// Headers to add to the origin's response when the request passes through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Passthrough<'e> {
    /// The rule that decided to pass through (an A/B variant that stays), if any.
    pub rule: Option<&'e str>,
    /// Headers for the origin's response: `Set-Cookie` with a fresh A/B assignment, then
    /// `Cache-Control: private, no-store` with it, then `X-Redirect-Rule`. A `Cache-Control`
    /// here replaces the origin's; the others are appended.
    pub headers: Vec<(String, String)>,
}

impl Decision<'_> {
    /// The headers this decision sends or adds, in order: a redirect's response headers, the
    /// headers added to the origin's answer, none for a forward (see [`Forward::respond`]).
    pub fn headers(&self) -> Vec<(&str, &str)> {
        match self {
            Decision::Redirect(r) => r.headers().collect(),
            Decision::Forward(_) => Vec::new(),
            Decision::Origin(p) => p
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
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
}

/// The value of the last header `name` (case-insensitive) in `headers`.
fn last_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
