//! Building the responses the edge generates: status, Location, Cache-Control, the HTML note,
//! the rule's headers, the A/B cookie and the debug header, in that order.

use crate::encode::{header_safe, html_escape};
use crate::rule::Rule;
use crate::settings::Settings;
use crate::{Forward, Response};
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

/// Cache-Control for a rule's answer: shared caching only for permanent moves that are the same
/// for every visitor. An answer that depends on geolocation, language, cookies, headers or an
/// A/B draw is `private, no-store` whatever its status, so no cache hands one visitor's
/// redirect to another.
fn cache_control<'s>(rule: &Rule, status: u16, settings: &'s Settings) -> &'s str {
    match status {
        301 | 308 if !rule.per_visitor() => &settings.permanent_cache_control,
        _ => PRIVATE,
    }
}

/// Cache-Control of every answer that must not be shared.
pub(crate) const PRIVATE: &str = "private, no-store";

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

/// A redirect answered at the edge.
pub(crate) fn redirect<'e>(
    rule: &'e Rule,
    settings: &'e Settings,
    status: u16,
    location: String,
    head: bool,
    set_cookie: Option<String>,
) -> Response<'e> {
    Response {
        rule: &rule.id,
        status,
        location,
        head,
        cache_control: cache_control(rule, status, settings),
        rule_headers: rule.headers(),
        set_cookie,
        debug: debug_value(rule, settings),
    }
}

pub(crate) fn forward_response<'e>(
    forward: &Forward<'e>,
    status: u16,
    origin_location: Option<&str>,
) -> Option<Response<'e>> {
    if !(200..300).contains(&status) {
        return None;
    }
    let location = match &forward.location {
        Some(l) => l.clone(),
        None => {
            let base = url::Url::parse(&forward.request_url).ok()?;
            let target = base.join(origin_location?.trim()).ok()?;
            if target.scheme() != "https" && target.scheme() != "http" {
                return None;
            }
            target.to_string()
        }
    };
    Some(Response {
        rule: forward.rule,
        status: 303,
        location,
        head: forward.head,
        cache_control: PRIVATE,
        rule_headers: forward.rule_headers,
        set_cookie: None,
        debug: forward.debug.clone(),
    })
}
