//! The invariants every decision must keep, whatever the request: shared by the hostile-input
//! suites (`tests/hostile.rs`, `tests/hostile_answers.rs`) and the fuzz targets
//! (`fuzz/fuzz_targets/`).
//!
//! - a redirect's `Location` is an absolute http(s) URL on an allowed origin: the request's own
//!   host for a path target, the literal host of an absolute target, or a host listed in
//!   `settings.allowed_hosts` when a placeholder is substituted into the host;
//! - no header name or value carries CR, LF, another control character or raw non-ASCII;
//! - the loop guard holds: a redirect never points at the URL that was requested, and following
//!   it never yields a redirect to that same URL again;
//! - an answer that depends on who asks (any candidate tried read the visitor's geolocation,
//!   language, cookies or headers, or drew an A/B variant) is storable by no shared cache,
//!   whatever the rule's headers or the origin's say.

use edge_redirects::{Decision, Engine, Geo, HeaderChange, Request, Response, Verdict};
use std::borrow::Cow;
use url::Url;

/// Evaluates `request` (and its explanation), checks every invariant, and returns the first
/// violation as text.
pub fn check(engine: &Engine, request: &Request<'_>) -> Result<(), String> {
    let decision = engine.evaluate(request);
    let explained = engine.explain(request);
    if explained.decision != decision {
        return Err(format!(
            "explain decided {:?}, evaluate decided {decision:?}",
            explained.decision
        ));
    }
    check_decision(engine, request, &decision)?;
    // Per visitor when any candidate the engine tried (its method allowed) reads the visitor.
    let per_visitor = explained.trace.iter().any(|step| {
        step.verdict != Verdict::MethodMismatch && engine.rules()[step.rule_index].per_visitor()
    });
    if per_visitor {
        check_private(&decision)?;
    }
    Ok(())
}

/// Headers that let a shared cache store an answer.
pub const SHARED_CACHE_HEADERS: [&str; 3] = [
    "cdn-cache-control",
    "cloudflare-cdn-cache-control",
    "surrogate-control",
];

/// An origin answer every shared cache would store.
pub const SHAREABLE_ORIGIN: &[(&str, &str)] = &[
    ("Cache-Control", "public, max-age=600, s-maxage=3600"),
    ("CDN-Cache-Control", "max-age=3600"),
    ("Cloudflare-CDN-Cache-Control", "max-age=3600"),
    ("Surrogate-Control", "max-age=3600"),
];

/// Whether a response with these headers may be stored by a shared cache.
pub fn shareable<'h>(headers: impl IntoIterator<Item = (&'h str, &'h str)>) -> Option<String> {
    let mut private = false;
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if SHARED_CACHE_HEADERS.contains(&lower.as_str()) {
            return Some(format!("{name}: {value}"));
        }
        if lower == "cache-control" {
            let v = value.to_ascii_lowercase();
            if v.contains("public") || v.contains("s-maxage") {
                return Some(format!("{name}: {value}"));
            }
            private |= v.contains("private") || v.contains("no-store");
        }
    }
    (!private).then(|| "no private Cache-Control".to_string())
}

/// A per-visitor decision: its edge answers, and the origin's answer passed through, are
/// storable by no shared cache.
pub fn check_private(decision: &Decision<'_>) -> Result<(), String> {
    let problem = match decision {
        Decision::Redirect(r) => shareable(r.headers()),
        Decision::Forward(f) => FORWARD_ANSWERS.iter().find_map(|(status, location)| {
            f.respond(*status, *location, &["s=1"])
                .and_then(|r| shareable(r.headers()))
        }),
        Decision::Origin(pass) => {
            let mut headers: Vec<(String, String)> = SHAREABLE_ORIGIN
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            for change in pass.header_changes(Some(SHAREABLE_ORIGIN[0].1)) {
                match change {
                    HeaderChange::Set(n, v) => {
                        headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n));
                        headers.push((n.to_string(), v.into_owned()));
                    }
                    HeaderChange::Append(n, v) => headers.push((n.to_string(), v.into_owned())),
                    HeaderChange::Remove(n) => headers.retain(|(h, _)| !h.eq_ignore_ascii_case(n)),
                }
            }
            shareable(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        }
    };
    match problem {
        Some(p) => Err(format!(
            "a per-visitor answer is shared-cacheable ({p}): {decision:?}"
        )),
        None => Ok(()),
    }
}

/// Checks one decision already made for `request`.
pub fn check_decision(
    engine: &Engine,
    request: &Request<'_>,
    decision: &Decision<'_>,
) -> Result<(), String> {
    match decision {
        Decision::Redirect(response) => {
            check_response(engine, request, response)?;
            check_loop(engine, request, response)
        }
        Decision::Forward(forward) => {
            if let Some(location) = &forward.location {
                check_location(engine, request, forward.rule, location)?;
            }
            // The origin answers: its status and Location are the origin's; whatever they are,
            // the 303 the edge builds from them must be a clean header set.
            for (status, origin_location) in FORWARD_ANSWERS {
                if let Some(response) = forward.respond(*status, *origin_location, &[]) {
                    if response.status != 303 {
                        return Err(format!("forward answered {}", response.status));
                    }
                    check_headers(response.headers())?;
                    check_location_text(&response.location)?;
                    if forward.location.is_some() {
                        check_location(engine, request, forward.rule, &response.location)?;
                    }
                } else if (200..300).contains(status) && forward.location.is_some() {
                    return Err(format!(
                        "origin answered {status} but the rule's 303 was not sent"
                    ));
                }
            }
            Ok(())
        }
        Decision::Origin(_) => check_headers(decision.headers()),
    }
}

/// Origin answers replayed for every forward decision: statuses and hostile `Location`s.
const FORWARD_ANSWERS: &[(u16, Option<&str>)] = &[
    (200, None),
    (201, Some("/done")),
    (204, Some("https://example.com/ok?x=1")),
    (200, Some("/done\r\nSet-Cookie: evil=1")),
    (200, Some("/d\u{f6}ne/\u{0}")),
    (200, Some("javascript:alert(1)")),
    (200, Some("//evil.example/x")),
    (200, Some("  /padded  ")),
    (299, Some("\\\\evil.example\\x")),
    (302, Some("/elsewhere")),
    (400, None),
    (500, Some("/err")),
    (503, None),
];

/// A header name: an RFC 9110 token.
fn token_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Header names are tokens; values are visible ASCII, space or tab: no CR, LF, NUL or non-ASCII.
pub fn check_headers<'h>(
    headers: impl IntoIterator<Item = (&'h str, &'h str)>,
) -> Result<(), String> {
    for (name, value) in headers {
        if !token_ok(name) {
            return Err(format!("header name {name:?} is not a token"));
        }
        if let Some(b) = value
            .bytes()
            .find(|&b| !(b == b'\t' || (0x20..0x7f).contains(&b)))
        {
            return Err(format!(
                "header {name} carries byte {b:#04x}: {:?}",
                truncate(value)
            ));
        }
    }
    Ok(())
}

/// The Location text itself: visible ASCII only, no backslash, parses as absolute http(s).
fn check_location_text(location: &str) -> Result<Url, String> {
    if let Some(b) = location
        .bytes()
        .find(|&b| !(0x21..0x7f).contains(&b) || b == b'\\')
    {
        return Err(format!(
            "Location carries byte {b:#04x}: {:?}",
            truncate(location)
        ));
    }
    let url = Url::parse(location)
        .map_err(|e| format!("Location {:?} does not parse: {e}", truncate(location)))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("Location scheme {} in {location:?}", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "Location carries user info: {:?}",
            truncate(location)
        ));
    }
    Ok(url)
}

fn check_response(
    engine: &Engine,
    request: &Request<'_>,
    response: &Response<'_>,
) -> Result<(), String> {
    if ![301, 302, 303, 307, 308].contains(&response.status) {
        return Err(format!("redirect status {}", response.status));
    }
    check_headers(response.headers())?;
    let locations: Vec<&str> = response
        .headers()
        .filter(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v)
        .collect();
    if locations != [response.location.as_str()] {
        return Err(format!(
            "Location headers {locations:?} differ from the decision's {:?}",
            truncate(&response.location)
        ));
    }
    if request.method.eq_ignore_ascii_case("HEAD") != response.body().is_none() {
        return Err("body present for HEAD or missing for another method".into());
    }
    check_location(engine, request, response.rule, &response.location)
}

/// The Location is absolute http(s) and its host is one the rule's author allowed.
pub fn check_location(
    engine: &Engine,
    request: &Request<'_>,
    rule_id: &str,
    location: &str,
) -> Result<(), String> {
    let url = check_location_text(location)?;
    let rule = engine
        .rules()
        .iter()
        .find(|r| r.id() == rule_id)
        .ok_or_else(|| format!("decision names unknown rule {rule_id:?}"))?;
    let mut targets: Vec<&str> = rule.to().into_iter().collect();
    if let Some(split) = rule.split() {
        targets.extend(split.variants().iter().filter_map(|v| v.to.as_deref()));
    }
    let host = url.host_str().unwrap_or("");
    let port = url.port_or_known_default();
    for target in &targets {
        if allowed_for(engine, request, target, host, port) {
            return Ok(());
        }
    }
    Err(format!(
        "rule {rule_id:?} (targets {targets:?}) sent request {:?} to host {host:?} port {port:?}: {:?}",
        truncate(request.url),
        truncate(location)
    ))
}

/// Whether a Location on `host`:`port` is on the origin `target` allows.
fn allowed_for(
    engine: &Engine,
    request: &Request<'_>,
    target: &str,
    host: &str,
    port: Option<u16>,
) -> bool {
    if target.starts_with('/') {
        // A path target stays on the request's own host (and port).
        return match Url::parse(request.url) {
            Ok(req) => req.host_str() == Some(host) && req.port_or_known_default() == port,
            Err(_) => false,
        };
    }
    let Some((scheme, after)) = target.split_once("://") else {
        return false;
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    let templated = authority
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b':' && (w[1].is_ascii_alphabetic() || w[1] == b'_'));
    if templated {
        return engine.settings().host_allowed(host);
    }
    match Url::parse(&format!("{scheme}://{authority}/")) {
        Ok(literal) => literal.host_str() == Some(host) && literal.port_or_known_default() == port,
        Err(_) => false,
    }
}

/// The loop guard: the Location is not the requested URL, and following it does not yield a
/// redirect to itself.
fn check_loop(
    engine: &Engine,
    request: &Request<'_>,
    response: &Response<'_>,
) -> Result<(), String> {
    let exempt = response.status == 303
        && !request.method.eq_ignore_ascii_case("GET")
        && !request.method.eq_ignore_ascii_case("HEAD");
    let location = Url::parse(&response.location).map_err(|e| e.to_string())?;
    if !exempt {
        if let Ok(requested) = Url::parse(request.url) {
            // Only for URLs in the form a browser or the platform sends them.
            if requested.as_str() == request.url && same_resource(&requested, &location) {
                return Err(format!(
                    "rule {:?} redirects {:?} to itself: {:?}",
                    response.rule,
                    truncate(request.url),
                    truncate(&response.location)
                ));
            }
        }
    }
    // Follow it, as a browser would (303 turns into GET), with the same visitor.
    let method = if matches!(response.status, 307 | 308) {
        request.method
    } else {
        "GET"
    };
    let next_url = location.as_str().to_string();
    let next = Request {
        method,
        url: &next_url,
        ..*request
    };
    if let Decision::Redirect(again) = engine.evaluate(&next) {
        let again_url = Url::parse(&again.location).map_err(|e| e.to_string())?;
        let exempt = again.status == 303
            && !method.eq_ignore_ascii_case("GET")
            && !method.eq_ignore_ascii_case("HEAD");
        if !exempt && same_resource(&location, &again_url) {
            return Err(format!(
                "following {:?} yields rule {:?} redirecting to the same URL {:?}",
                truncate(&response.location),
                again.rule,
                truncate(&again.location)
            ));
        }
    }
    Ok(())
}

/// Same scheme, host, port, path (segment by segment, percent-decoded: `%2F` is not a `/`) and
/// percent-decoded query (an empty query equals none).
fn same_resource(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path()
            .split('/')
            .map(decode)
            .eq(b.path().split('/').map(decode))
        && decode(a.query().unwrap_or("")) == decode(b.query().unwrap_or(""))
}

fn decode(text: &str) -> Cow<'_, [u8]> {
    percent_decode(text.as_bytes())
}

fn percent_decode(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(bytes);
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// Checks a request with `url` as sent and as the platform normalises it
/// ([`crate::as_sent_and_normalised`]), without an instant or an address, and panics on a
/// violation that is not known ([`is_known`]): what each fuzz target does with a request.
pub fn assert_holds(
    engine: &Engine,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    geo: Geo<'_>,
    random: u64,
) {
    for url in &crate::as_sent_and_normalised(url) {
        let request = Request {
            method,
            url,
            headers,
            geo,
            random,
            now: None,
            ip: None,
        };
        match check(engine, &request) {
            Err(violation) if !is_known(&violation) => {
                panic!("invariant broken: {violation}\nrequest: {request:?}")
            }
            _ => {}
        }
    }
}

/// Whether `violation` belongs to a class of engine bugs already pinned by an ignored test
/// in `tests/hostile.rs`, which the fuzz targets then skip so a run keeps looking for new ones.
/// None is open today: every violation counts.
pub fn is_known(_violation: &str) -> bool {
    false
}

/// The start of a long text, for readable messages.
pub fn truncate(text: &str) -> String {
    if text.len() <= 200 {
        return text.to_string();
    }
    let mut end = 200;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}
