//! The Cloudflare Worker: translates the platform's request into an engine [`Request`], and the
//! engine's [`Decision`] back into a response. No rule logic lives here.
//!
//! Which rules answer (`rules.rs`): the bundled rules, `rules.json` built into an artifact by
//! `scripts/build` and uploaded beside the wasm as a module of its own, which the module entry
//! hands over (`embedded.rs`); an isolate opens it in constant time and copies in, and compiles,
//! only the pieces of it requests need. When a KV namespace is bound as `REDIRECT_RULES`, it can
//! replace the embedded rules two ways, both re-read at most once per isolate every 60 seconds
//! (`REDIRECT_RULES_REFRESH_SECONDS` changes that): versions published by `redirects publish`
//! (the `manifest` key, `published.rs`), else a JSON bundle under the key `rules.json`. A value
//! that cannot be used is logged and the last good rules keep serving; no visitor waits long for
//! KV (the first request of an isolate waits for the first read at most two seconds).
//!
//! Requests go to the origin unchanged (`fetch(request)`), which on a Cloudflare route reaches
//! the zone's origin server. When the variable `ORIGIN` is set (`https://origin.example.com`),
//! they are sent to that scheme, host and port instead, path and query kept: for `workers.dev`
//! deployments and local development, where the request's own host is the worker itself.
//!
//! Nothing a request contains can make the worker answer 500: an internal failure passes the
//! request to the origin and logs why.

#![cfg(target_arch = "wasm32")]

mod analytics;
mod embedded;
mod header_changes;
mod published;
mod rules;

use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{console_error, event, js_sys, web_sys, Context, Env};

use edge_redirects::{
    random_from_fraction, Decision, Forward, Geo, Passthrough, Request, Response,
};
use header_changes::{apply, with_request_changes};
use rules::{choose, current_rules};

/// Name of the optional variable naming the origin server.
const ORIGIN_VAR: &str = "ORIGIN";

/// Name of a variable that, when bound, replaces the clock for time windows: an RFC 3339
/// instant. For the end-to-end tests only (set in their Miniflare config); nothing a request
/// sends can change the clock.
const TEST_CLOCK_VAR: &str = "REDIRECT_TEST_CLOCK";

/// The request's time in seconds since the Unix epoch: `Date.now()`, or the test clock when
/// [`TEST_CLOCK_VAR`] is bound to an instant.
fn now(env: &Env) -> i64 {
    if let Ok(var) = env.var(TEST_CLOCK_VAR) {
        match edge_redirects::parse_instant(&var.to_string()) {
            Ok(at) => return at,
            Err(e) => console_error!("{TEST_CLOCK_VAR}: {}; the real clock is used", e.message),
        }
    }
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// Hands the worker the artifact of its bundled rules: `rules.bin`, uploaded beside the wasm
/// as a Data module, which the module entry (`scripts/worker-entry.js`) imports and hands over
/// before every request. Only the first hand-over to a wasm instance is kept.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = embedArtifact)]
pub fn embed_artifact(artifact: js_sys::ArrayBuffer) {
    rules::hand_over(artifact);
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> worker::Result<web_sys::Response> {
    match handle(&req, &env, &ctx).await {
        Ok(answer) => Ok(answer),
        Err(e) => {
            // Only the origin fetch can fail here: the origin is unreachable.
            console_error!("the origin could not be reached: {}", describe(&e));
            bad_gateway()
        }
    }
}

/// Decides and answers one request; an `Err` means the origin could not be reached.
async fn handle(
    req: &web_sys::Request,
    env: &Env,
    ctx: &Context,
) -> Result<web_sys::Response, JsValue> {
    let origin = &Origin::from_env(env);
    let Some(in_use) = current_rules(env, ctx).await else {
        return fetch_origin(req, origin).await;
    };
    let incoming = Incoming::read(req);
    let headers = incoming.header_refs();
    let view = incoming.view(&headers, now(env));
    let Some(chosen) = choose(in_use, &view, incoming.address()).await else {
        return fetch_origin(req, origin).await;
    };
    let decision = chosen.decide(&view);
    let answer = respond(req, origin, &decision, &headers).await;
    if let (Some(dataset), Ok(answer)) = (analytics::Dataset::bound(env), &answer) {
        let referrer = incoming.header("referer");
        let country = incoming.cf.country.as_deref();
        dataset.record(&decision, answer.status(), &incoming.url, referrer, country);
    }
    answer
}

/// What the worker reads of the platform's request, owned, for the engine's [`Request`].
struct Incoming {
    method: String,
    url: String,
    /// `(name, value)` pairs, names lower-case ([`header_pairs`]).
    headers: Vec<(String, String)>,
    cf: CfFields,
}

impl Incoming {
    fn read(req: &web_sys::Request) -> Self {
        Incoming {
            method: req.method(),
            url: req.url(),
            headers: header_pairs(&req.headers()),
            cf: CfFields::of(req),
        }
    }

    /// The headers as borrowed pairs, as the engine takes them.
    fn header_refs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// The first value of header `name` (lower-case).
    fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str())
    }

    /// The visitor's address as Cloudflare sets it; never X-Forwarded-For or True-Client-IP,
    /// which a visitor can write (SECURITY.md).
    fn address(&self) -> Option<&str> {
        self.header("cf-connecting-ip")
    }

    /// The engine's view of the request at `now`, with `headers` from [`Incoming::header_refs`].
    fn view<'a>(&'a self, headers: &'a [(&'a str, &'a str)], now: i64) -> Request<'a> {
        Request {
            method: &self.method,
            url: &self.url,
            headers,
            geo: self.cf.geo(),
            random: random_from_fraction(js_sys::Math::random()),
            now: Some(now),
            ip: self.address(),
        }
    }
}

/// Carries out `decision` for `req`: the edge's redirect, or the origin's answer as the
/// decision changes it; an `Err` means the origin could not be reached.
async fn respond(
    req: &web_sys::Request,
    origin: &Origin,
    decision: &Decision<'_>,
    headers: &[(&str, &str)],
) -> Result<web_sys::Response, JsValue> {
    let changed = with_request_changes(req, decision, headers);
    let to_origin = changed.as_ref().unwrap_or(req);
    match decision {
        Decision::Redirect(response) => match edge_response(response) {
            Ok(answer) => Ok(answer),
            Err(e) => {
                console_error!(
                    "rule {:?}: building the redirect failed ({}); passing to the origin",
                    response.rule,
                    describe(&e)
                );
                fetch_origin(req, origin).await
            }
        },
        Decision::Forward(forward) => {
            let upstream = fetch_origin(to_origin, origin).await?;
            forwarded(forward, upstream)
        }
        Decision::Origin(pass) => {
            let upstream = fetch_origin(to_origin, origin).await?;
            passed(pass, upstream)
        }
    }
}

/// The answer to a forwarded request once the origin answered `upstream`: the 303 the rule
/// asks for, or the origin's answer.
fn forwarded(
    forward: &Forward<'_>,
    upstream: web_sys::Response,
) -> Result<web_sys::Response, JsValue> {
    let location = upstream.headers().get("location").ok().flatten();
    let cookies = set_cookies(&upstream.headers());
    let cookie_refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
    let Some(response) = forward.respond(upstream.status(), location.as_deref(), &cookie_refs)
    else {
        return Ok(upstream);
    };
    match edge_response(&response) {
        Ok(answer) => {
            if let Some(body) = upstream.body() {
                // The origin's body is not needed once it is replaced by a 303.
                let _ = body.cancel();
            }
            Ok(answer)
        }
        Err(e) => {
            console_error!(
                "rule {:?}: building the 303 failed ({}); passing the origin's answer",
                response.rule,
                describe(&e)
            );
            Ok(upstream)
        }
    }
}

/// The origin's answer `upstream` to a request passed on, its headers changed as `pass` says.
fn passed(
    pass: &Passthrough<'_>,
    upstream: web_sys::Response,
) -> Result<web_sys::Response, JsValue> {
    if pass.is_untouched() {
        return Ok(upstream);
    }
    match with_changed_headers(&upstream, pass) {
        Ok(answer) => Ok(answer),
        Err(e) => {
            // Never send a per-visitor page out with the origin's shared caching.
            console_error!(
                "changing the origin's headers failed ({}); answering 502",
                describe(&e)
            );
            bad_gateway().map_err(JsValue::from)
        }
    }
}

/// The request's headers as owned `(name, value)` pairs (names lower-case, as Fetch gives them).
fn header_pairs(headers: &web_sys::Headers) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let Ok(Some(iter)) = js_sys::try_iter(headers) else {
        return pairs;
    };
    for entry in iter.flatten() {
        let entry: js_sys::Array = entry.unchecked_into();
        if let (Some(name), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string()) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// The geolocation fields of `request.cf`, read defensively: a missing object or a field of
/// the wrong type counts as absent.
struct CfFields {
    country: Option<String>,
    continent: Option<String>,
    region: Option<String>,
    city: Option<String>,
    asn: Option<u32>,
}

impl CfFields {
    fn of(req: &web_sys::Request) -> Self {
        let cf = js_sys::Reflect::get(req, &JsValue::from_str("cf"))
            .ok()
            .filter(|v| v.is_object());
        let field = |name: &str| {
            cf.as_ref()
                .and_then(|cf| js_sys::Reflect::get(cf, &JsValue::from_str(name)).ok())
                .and_then(|v| v.as_string())
        };
        CfFields {
            country: field("country"),
            continent: field("continent"),
            region: field("regionCode"),
            city: field("city"),
            asn: cf
                .as_ref()
                .and_then(|cf| js_sys::Reflect::get(cf, &JsValue::from_str("asn")).ok())
                .and_then(|v| v.as_f64())
                .filter(|n| n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(n))
                .map(|n| n as u32),
        }
    }

    fn geo(&self) -> Geo<'_> {
        Geo {
            country: self.country.as_deref(),
            continent: self.continent.as_deref(),
            region: self.region.as_deref(),
            city: self.city.as_deref(),
            asn: self.asn,
        }
    }
}

/// Where requests that are not answered at the edge go.
enum Origin {
    /// To the request's own URL: the zone's origin behind a Cloudflare route.
    RequestUrl,
    /// To this scheme, host and port (the `ORIGIN` variable), path and query kept.
    Server(url::Url),
}

impl Origin {
    fn from_env(env: &Env) -> Self {
        let Ok(var) = env.var(ORIGIN_VAR) else {
            return Origin::RequestUrl;
        };
        let value = var.to_string();
        match url::Url::parse(&value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                Origin::Server(url)
            }
            _ => {
                console_error!("{ORIGIN_VAR}={value:?} is not an http(s) URL; ignored");
                Origin::RequestUrl
            }
        }
    }

    /// The URL to fetch for `request_url`, or `None` to fetch the request as it is.
    fn url_for(&self, request_url: &str) -> Option<String> {
        let Origin::Server(server) = self else {
            return None;
        };
        let request_url = url::Url::parse(request_url).ok()?;
        let mut target = server.clone();
        target.set_path(request_url.path());
        target.set_query(request_url.query());
        Some(target.into())
    }
}

/// Sends the request to the origin unchanged: method, headers and the body, streamed.
async fn fetch_origin(
    req: &web_sys::Request,
    origin: &Origin,
) -> Result<web_sys::Response, JsValue> {
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let promise = match origin.url_for(&req.url()) {
        // `new Request(url, request)`: the same method, headers, body and redirect mode.
        Some(url) => {
            let moved = web_sys::Request::new_with_str_and_init(&url, req.unchecked_ref())?;
            global.fetch_with_request(&moved)
        }
        None => global.fetch_with_request(req),
    };
    JsFuture::from(promise).await?.dyn_into()
}

/// The answer when the origin cannot be reached at all.
fn bad_gateway() -> worker::Result<web_sys::Response> {
    let init = web_sys::ResponseInit::new();
    init.set_status(502);
    Ok(web_sys::Response::new_with_opt_str_and_init(
        Some("502 Bad Gateway: the origin could not be reached"),
        &init,
    )?)
}

/// The response the edge generates for a redirect decision.
fn edge_response(response: &Response<'_>) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in response.headers() {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(response.status);
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(response.body().as_deref(), &init)
}

/// The origin's response with the headers changed as the engine says; its body is streamed,
/// not copied.
fn with_changed_headers(
    origin: &web_sys::Response,
    pass: &Passthrough<'_>,
) -> Result<web_sys::Response, JsValue> {
    let headers = web_sys::Headers::new_with_headers(&origin.headers())?;
    let cache_control = headers.get("cache-control")?;
    apply(&headers, &pass.header_changes(cache_control.as_deref()))?;
    let init = web_sys::ResponseInit::new();
    init.set_status(origin.status());
    init.set_status_text(&origin.status_text());
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_readable_stream_and_init(origin.body().as_ref(), &init)
}

/// The `Set-Cookie` values of a response, one per cookie (Fetch iterates them apart).
fn set_cookies(headers: &web_sys::Headers) -> Vec<String> {
    header_pairs(headers)
        .into_iter()
        .filter(|(name, _)| name == "set-cookie")
        .map(|(_, value)| value)
        .collect()
}

/// A JavaScript error as text for the log.
pub(crate) fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| {
            error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{error:?}"))
}
