//! Building the responses the edge generates: status, Location, Cache-Control, the HTML note,
//! the rule's headers, the A/B cookie and the debug header, in that order.

use crate::encode::{header_safe, html_escape};
use crate::rule::Rule;
use crate::settings::Settings;
use crate::{Forward, Response};

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
fn cache_control(rule: &Rule, status: u16, settings: &Settings) -> String {
    match status {
        301 | 308 if !rule.per_visitor() => settings.permanent_cache_control.clone(),
        _ => "private, no-store".to_string(),
    }
}

/// The short HTML note that carries a link to the target (RFC 9110 §15.4).
fn body(status: u16, location: &str) -> String {
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

/// Appends `extra`, where a `Cache-Control` or `Content-Type` replaces the engine's own.
fn apply(headers: &mut Vec<(String, String)>, extra: &[(String, String)]) {
    for (name, value) in extra {
        let replaced = ["cache-control", "content-type"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
            && headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|slot| slot.1 = value.clone())
                .is_some();
        if !replaced {
            headers.push((name.clone(), value.clone()));
        }
    }
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

/// The debug header for a rule, when enabled.
pub(crate) fn debug_header(rule: &Rule, settings: &Settings) -> Option<(String, String)> {
    settings.debug_header.then(|| {
        (
            "X-Redirect-Rule".to_string(),
            header_safe(&rule.id).into_owned(),
        )
    })
}

/// A redirect answered at the edge.
pub(crate) fn redirect<'e>(
    rule: &'e Rule,
    settings: &Settings,
    status: u16,
    location: String,
    head: bool,
    set_cookie: Option<String>,
) -> Response<'e> {
    let mut headers = Vec::with_capacity(4 + rule.headers.len());
    headers.push(("Location".to_string(), location.clone()));
    headers.push((
        "Cache-Control".to_string(),
        cache_control(rule, status, settings),
    ));
    headers.push((
        "Content-Type".to_string(),
        "text/html; charset=utf-8".to_string(),
    ));
    apply(&mut headers, &rule.headers);
    if let Some(c) = set_cookie {
        headers.push(("Set-Cookie".to_string(), c));
    }
    headers.extend(debug_header(rule, settings));
    Response {
        rule: &rule.id,
        status,
        body: (!head).then(|| body(status, &location)),
        location,
        headers,
    }
}

/// The extra headers a forwarded rule's 303 carries: the rule's headers and the debug header.
pub(crate) fn forward_extras(rule: &Rule, settings: &Settings) -> Vec<(String, String)> {
    let mut extra = rule.headers.clone();
    extra.extend(debug_header(rule, settings));
    extra
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
    let mut headers = vec![
        ("Location".to_string(), location.clone()),
        ("Cache-Control".to_string(), "private, no-store".to_string()),
        (
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        ),
    ];
    apply(&mut headers, &forward.extra_headers);
    Some(Response {
        rule: forward.rule,
        status: 303,
        body: (!forward.head).then(|| body(303, &location)),
        location,
        headers,
    })
}
