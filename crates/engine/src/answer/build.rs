//! Building the responses the edge generates: status, Location, Cache-Control, the HTML note,
//! the rule's headers, the A/B cookie and the debug header, in that order.

use super::{Forward, Response};
use crate::answer::cache::{capped, DependsOn, PRIVATE};
use crate::model::rule::Rule;
use crate::model::settings::Settings;
use crate::request::encode::{header_safe, html_escape};
use crate::request::url::RequestUrl;
use std::borrow::Cow;

/// The reason phrase of a redirect status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        _ => "Permanent Redirect",
    }
}

/// Cache-Control for a rule's answer before its own headers: shared caching only for
/// permanent moves that are the same for every visitor (a per-visitor answer is [`PRIVATE`]
/// whatever its status, see [`crate::answer::cache`]).
fn cache_control(status: u16, per_visitor: bool, settings: &Settings) -> &str {
    match status {
        301 | 308 if !per_visitor => &settings.permanent_cache_control,
        _ => PRIVATE,
    }
}

/// The short HTML note that carries a link to the target (RFC 9110 §15.4).
pub(crate) fn body(status: u16, location: &str) -> String {
    let href = html_escape(location);
    let title = reason(status);
    let mut out = String::with_capacity(200 + 2 * href.len());
    let code = match status {
        301 => "301",
        302 => "302",
        303 => "303",
        307 => "307",
        _ => "308",
    };
    for piece in [
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>",
        code,
        " ",
        title,
        "</title></head>\n<body><h1>",
        code,
        " ",
        title,
        "</h1><p>Redirecting to <a href=\"",
        &href,
        "\">",
        &href,
        "</a>.</p></body></html>\n",
    ] {
        out.push_str(piece);
    }
    out
}

/// The assignment cookie for a freshly assigned A/B variant.
pub(crate) fn assignment_cookie(
    cookie: &str,
    variant: &str,
    settings: &Settings,
    https: bool,
) -> String {
    format!(
        "{cookie}={variant}; Path=/; Max-Age={}; SameSite=Lax; HttpOnly{}",
        settings.sticky_max_age,
        if https { "; Secure" } else { "" }
    )
}

/// The `X-Redirect-Rule` value for a rule, when the debug header is on.
pub(crate) fn debug_value<'e>(rule: &'e Rule, settings: &Settings) -> Option<Cow<'e, str>> {
    settings.debug_header.then(|| header_safe(&rule.id))
}

/// A redirect answered at the edge; `depends` is what the candidates tried read of the visitor,
/// `variant` the A/B variant when a split decided.
pub(crate) fn redirect<'e>(
    rule: &'e Rule,
    settings: &'e Settings,
    depends: &DependsOn<'_>,
    location: String,
    head: bool,
    set_cookie: Option<String>,
    variant: Option<&'e str>,
) -> Response<'e> {
    let private = depends.per_visitor();
    let cache_control = cache_control(rule.status, private, settings);
    // A window could change this answer: no cache keeps it past the window's next bound.
    let bounded = depends.fresh_for().filter(|_| !private).map(|seconds| {
        let own = rule
            .headers()
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case("cache-control"));
        let value = own.map_or(cache_control, |(_, v)| v.as_str());
        capped(value, seconds).into_boxed_str()
    });
    Response {
        rule: &rule.id,
        status: rule.status,
        location,
        head,
        cache_control,
        private,
        vary: if private { depends.vary() } else { None },
        bounded,
        rule_headers: rule.headers(),
        set_cookies: set_cookie.into_iter().collect(),
        debug: debug_value(rule, settings),
        variant,
    }
}

/// The 303 of a Post-Redirect-Get once the origin has answered (see [`Forward::respond`]).
pub(crate) fn forward_response<'e>(
    forward: &Forward<'e>,
    status: u16,
    origin_location: Option<&str>,
    set_cookies: &[&str],
) -> Option<Response<'e>> {
    if !(200..300).contains(&status) {
        return None;
    }
    let location = match &forward.location {
        Some(l) => l.clone(),
        None => {
            // Resolved exactly as a browser resolves a Location (the WHATWG URL parser strips
            // only C0 controls and spaces around it): no Unicode trimming that could turn
            // `\u{a0}//evil.example` into a host.
            let base = url::Url::parse(&forward.request_url).ok()?;
            let target = base.join(origin_location?).ok()?;
            if target.scheme() != "https" && target.scheme() != "http" {
                return None;
            }
            let target = target.to_string();
            if !forward.method_changes && is_same_resource(&forward.request_url, &target) {
                // A GET answered with its own URL: a 303 there would repeat forever.
                return None;
            }
            target
        }
    };
    Some(Response {
        rule: forward.rule,
        status: 303,
        location,
        head: forward.head,
        cache_control: PRIVATE,
        private: true,
        vary: None,
        bounded: None,
        rule_headers: forward.rule_headers,
        set_cookies: set_cookies.iter().map(|c| c.to_string()).collect(),
        debug: forward.debug.clone(),
        variant: None,
    })
}

/// Whether two absolute URLs name the same resource (the loop guard's comparison).
fn is_same_resource(a: &str, b: &str) -> bool {
    match (RequestUrl::parse(a), RequestUrl::parse(b)) {
        (Some(a), Some(b)) => a.same_resource(&b),
        _ => false,
    }
}
