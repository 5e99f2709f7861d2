//! What the engine decides for a request, in terms any adapter can turn into a response.

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'e> {
    /// The id of the rule that produced it.
    pub rule: &'e str,
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// The absolute, percent-encoded target; also present in `headers` as `Location`.
    pub location: String,
    /// Every response header in the order it is sent, starting with `Location`.
    pub headers: Vec<(String, String)>,
    /// The short HTML note linking to the target; `None` for `HEAD` requests.
    pub body: Option<String>,
}

impl Response<'_> {
    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
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
    pub(crate) extra_headers: Vec<(String, String)>,
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
    /// Headers to append to the origin's response (`Set-Cookie`, `X-Redirect-Rule`).
    pub headers: Vec<(String, String)>,
}

impl Decision<'_> {
    /// The id of the rule that decided, if any.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Decision::Redirect(r) => Some(r.rule),
            Decision::Forward(f) => Some(f.rule),
            Decision::Origin(p) => p.rule,
        }
    }
}

pub(crate) fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
