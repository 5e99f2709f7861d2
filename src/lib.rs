//! The Cloudflare Worker: translates the platform's request into an engine [`Request`], and the
//! engine's [`Decision`] back into a response. No rule logic lives here.
//!
//! The bundle is compiled once per isolate: the `rules.json` embedded at build time, or, when a
//! KV namespace is bound as `REDIRECT_RULES`, the value of its key `rules.json` (read at most
//! once per isolate every [`KV_REFRESH_MS`] milliseconds, or every `REDIRECT_RULES_REFRESH_SECONDS`
//! seconds when that variable is set). A value that does not compile, or is longer than
//! [`WORKER_MAX_BUNDLE_BYTES`] (refused without being compiled: it would not fit the isolate),
//! is logged once and ignored: the isolate remembers its length and hash and does not compile it
//! again. A KV failure is logged and the last good bundle keeps serving. No
//! visitor waits long for KV: the first request of an isolate waits for the first read at most
//! [`KV_FIRST_READ_WAIT_MS`]; later reads happen in the background while the current bundle
//! answers.
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
mod request_changes;

use std::cell::RefCell;
use std::rc::Rc;

use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::{console_error, console_log, event, js_sys, web_sys, Context, Delay, Env};

use edge_redirects::limits::WORKER_MAX_BUNDLE_BYTES;
use edge_redirects::{random_from_fraction, Decision, Engine, Geo, Passthrough, Request, Response};
use request_changes::{apply, with_request_changes};

/// The bundle deployed with the worker.
const EMBEDDED_RULES: &str = include_str!("../rules.json");

/// Name of the optional variable naming the origin server.
const ORIGIN_VAR: &str = "ORIGIN";

/// Name of the optional KV binding that overrides the embedded bundle.
const KV_BINDING: &str = "REDIRECT_RULES";

/// Key of the bundle in the KV namespace.
const KV_KEY: &str = "rules.json";

/// How long a bundle read from KV (or its absence) is trusted before KV is read again.
const KV_REFRESH_MS: f64 = 60_000.0;

/// Name of the optional variable that replaces [`KV_REFRESH_MS`]: whole seconds, at least 1.
const KV_REFRESH_VAR: &str = "REDIRECT_RULES_REFRESH_SECONDS";

/// How long the first request of an isolate waits for the first KV read before it is answered
/// from the embedded bundle; the read goes on, and its bundle is used as soon as it arrives.
const KV_FIRST_READ_WAIT_MS: u64 = 2_000;

/// The per-isolate state: the compiled bundles and when KV was last read.
#[derive(Default)]
struct Rules {
    /// The embedded bundle, compiled on first use.
    embedded: Option<Rc<Engine>>,
    /// The last good bundle from KV and the fingerprint of the text it was compiled from.
    from_kv: Option<(Fingerprint, Rc<Engine>)>,
    /// The last KV value refused (it did not compile, or was too long): not compiled again.
    refused: Option<Fingerprint>,
    /// `Date.now()` of the last KV read; `None` before the first.
    kv_read_at: Option<f64>,
    /// How long a KV read is trusted, in ms; read from the environment at the first read.
    refresh_ms: f64,
}

/// A KV value's length and hash: enough to recognise the same value again without keeping it
/// (a bundle's text is as large as a third of what compiling it takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    /// Length in UTF-16 units, as JavaScript counts it.
    units: usize,
    /// FxHash of the UTF-8 text; 0 for a value refused by its length alone, never copied.
    hash: u64,
}

impl Fingerprint {
    fn of(units: usize, text: &str) -> Self {
        use std::hash::Hasher;
        let mut hasher = rustc_hash::FxHasher::default();
        hasher.write(text.as_bytes());
        Fingerprint {
            units,
            hash: hasher.finish(),
        }
    }
}

thread_local! {
    static RULES: RefCell<Rules> = RefCell::new(Rules::default());
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
    let engine = match current_engine(env, ctx).await {
        Some(engine) => engine,
        None => return fetch_origin(req, origin).await,
    };

    let method = req.method();
    let url = req.url();
    let headers = header_pairs(&req.headers());
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let cf = CfFields::of(req);
    let view = Request {
        method: &method,
        url: &url,
        headers: &header_refs,
        geo: cf.geo(),
        random: random_from_fraction(js_sys::Math::random()),
    };

    let decision = engine.evaluate(&view);
    let changed = with_request_changes(req, &decision, &header_refs);
    let to_origin = changed.as_ref().unwrap_or(req);
    let answer = match &decision {
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
            let location = upstream.headers().get("location").ok().flatten();
            let cookies = set_cookies(&upstream.headers());
            let cookie_refs: Vec<&str> = cookies.iter().map(String::as_str).collect();
            match forward.respond(upstream.status(), location.as_deref(), &cookie_refs) {
                Some(response) => match edge_response(&response) {
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
                },
                None => Ok(upstream),
            }
        }
        Decision::Origin(pass) => {
            let upstream = fetch_origin(to_origin, origin).await?;
            if pass.is_untouched() {
                Ok(upstream)
            } else {
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
        }
    };
    if let (Some(dataset), Ok(answer)) = (analytics::Dataset::bound(env), &answer) {
        let referrer = headers.iter().find(|(n, _)| n == "referer");
        let referrer = referrer.map(|(_, v)| v.as_str());
        dataset.record(
            &decision,
            answer.status(),
            &url,
            referrer,
            cf.country.as_deref(),
        );
    }
    answer
}

/// The engine to use for this request: the KV bundle when one is bound and valid, else the
/// embedded one. `None` only if the embedded bundle itself does not compile (a broken build).
async fn current_engine(env: &Env, ctx: &Context) -> Option<Rc<Engine>> {
    refresh_from_kv(env, ctx).await;
    RULES.with(|cell| {
        let mut rules = cell.borrow_mut();
        if let Some((_, engine)) = &rules.from_kv {
            return Some(Rc::clone(engine));
        }
        if rules.embedded.is_none() {
            match Engine::compile(EMBEDDED_RULES) {
                Ok(engine) => rules.embedded = Some(Rc::new(engine)),
                Err(errors) => {
                    console_error!("the embedded rules.json does not compile: {}", errors);
                    return None;
                }
            }
        }
        rules.embedded.clone()
    })
}

/// Starts a read of the KV override if the binding exists and the last read is older than the
/// refresh interval. The read runs in the background (kept alive by `waitUntil`); only the first
/// read of an isolate is waited for, and at most [`KV_FIRST_READ_WAIT_MS`]. Never fails: every
/// problem is logged and the previous state kept.
async fn refresh_from_kv(env: &Env, ctx: &Context) {
    let now = js_sys::Date::now();
    let claimed = RULES.with(|cell| {
        let mut rules = cell.borrow_mut();
        if rules.kv_read_at.is_none() {
            rules.refresh_ms = refresh_ms(env);
        }
        match rules.kv_read_at {
            Some(at) if now - at < rules.refresh_ms && now >= at => None,
            previous => {
                // Claimed before the read, so concurrent requests do not all read KV.
                rules.kv_read_at = Some(now);
                Some(previous.is_none())
            }
        }
    });
    let Some(first) = claimed else {
        return;
    };
    if env.kv(KV_BINDING).is_err() {
        return; // No namespace bound: the embedded bundle is the only one.
    }
    let Ok(namespace) = js_sys::Reflect::get(env, &JsValue::from_str(KV_BINDING)) else {
        return;
    };
    let read = future_to_promise(async move {
        read_kv(namespace).await;
        Ok(JsValue::FALSE)
    });
    let background = read.clone();
    ctx.wait_until(async move {
        let _ = JsFuture::from(background).await;
    });
    if first {
        let timer = future_to_promise(async {
            Delay::from(Duration::from_millis(KV_FIRST_READ_WAIT_MS)).await;
            Ok(JsValue::TRUE)
        });
        let race = js_sys::Promise::race(&js_sys::Array::of2(&read, &timer));
        if JsFuture::from(race)
            .await
            .is_ok_and(|timed_out| timed_out.is_truthy())
        {
            console_error!(
                "{KV_BINDING}/{KV_KEY} not read within {KV_FIRST_READ_WAIT_MS} ms; answering from the embedded bundle until it arrives"
            );
        }
    }
}

/// The refresh interval in ms: [`KV_REFRESH_VAR`] when it holds a whole number of seconds
/// (at least 1), else [`KV_REFRESH_MS`].
fn refresh_ms(env: &Env) -> f64 {
    let Ok(var) = env.var(KV_REFRESH_VAR) else {
        return KV_REFRESH_MS;
    };
    let value = var.to_string();
    match value.trim().parse::<u32>() {
        Ok(seconds) if seconds >= 1 => f64::from(seconds) * 1000.0,
        _ => {
            console_error!("{KV_REFRESH_VAR}={value:?} is not a whole number of seconds; using 60");
            KV_REFRESH_MS
        }
    }
}

/// `namespace.get(KV_KEY, {type: "text"})`: the value as a JavaScript string, still outside
/// wasm memory; `None` when the key is absent (or holds something that is not text).
async fn kv_text(namespace: &JsValue) -> Result<Option<js_sys::JsString>, JsValue> {
    let get: js_sys::Function =
        js_sys::Reflect::get(namespace, &JsValue::from_str("get"))?.dyn_into()?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(
        &options,
        &JsValue::from_str("type"),
        &JsValue::from_str("text"),
    )?;
    let promise: js_sys::Promise = get
        .call2(namespace, &JsValue::from_str(KV_KEY), &options)?
        .dyn_into()?;
    let value = JsFuture::from(promise).await?;
    Ok(value.dyn_into::<js_sys::JsString>().ok())
}

/// Reads the KV override and puts it in use if it compiles. A value refused once (too long, or
/// with errors) is recognised by its [`Fingerprint`] and neither compiled nor logged again.
async fn read_kv(namespace: JsValue) {
    match kv_text(&namespace).await {
        Ok(Some(value)) => {
            let units = value.length() as usize;
            if units > WORKER_MAX_BUNDLE_BYTES {
                // Refused by its length alone: not even copied into wasm memory.
                refuse(Fingerprint { units, hash: 0 }, || {
                    too_long(units, "characters")
                });
                return;
            }
            let text = String::from(value);
            let print = Fingerprint::of(units, &text);
            let (unchanged, refused) = RULES.with(|cell| {
                let rules = cell.borrow();
                (
                    matches!(&rules.from_kv, Some((current, _)) if *current == print),
                    rules.refused == Some(print),
                )
            });
            if unchanged || refused {
                return;
            }
            if text.len() > WORKER_MAX_BUNDLE_BYTES {
                refuse(print, || too_long(text.len(), "bytes"));
                return;
            }
            match Engine::compile(&text) {
                Ok(engine) => {
                    drop(text);
                    console_log!("{KV_BINDING}/{KV_KEY}: new bundle in use");
                    RULES.with(|cell| {
                        let mut rules = cell.borrow_mut();
                        rules.from_kv = Some((print, Rc::new(engine)));
                        rules.refused = None;
                    });
                }
                Err(errors) => refuse(print, || errors.to_string()),
            }
        }
        Ok(None) => {
            let had_override = RULES.with(|cell| {
                let mut rules = cell.borrow_mut();
                rules.refused = None;
                rules.from_kv.take().is_some()
            });
            if had_override {
                console_log!("{KV_BINDING}/{KV_KEY} removed: back to the embedded bundle");
            }
        }
        Err(e) => {
            console_error!(
                "{KV_BINDING}/{KV_KEY} could not be read ({}); keeping the current bundle",
                describe(&e)
            );
        }
    }
}

/// Why a value of `length` `unit`s is refused.
fn too_long(length: usize, unit: &str) -> String {
    format!("{length} {unit} long; the limit is {WORKER_MAX_BUNDLE_BYTES} bytes (a bundle this large, compiled, does not fit the isolate)")
}

/// Logs why the KV value `print` is ignored, once: the same value read again is skipped.
fn refuse(print: Fingerprint, why: impl FnOnce() -> String) {
    let first = RULES.with(|cell| cell.borrow_mut().refused.replace(print) != Some(print));
    if first {
        console_error!(
            "{KV_BINDING}/{KV_KEY} ignored, keeping the last good bundle (this value is not read again by this isolate until it changes): {}",
            why()
        );
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
        }
    }

    fn geo(&self) -> Geo<'_> {
        Geo {
            country: self.country.as_deref(),
            continent: self.continent.as_deref(),
            region: self.region.as_deref(),
            city: self.city.as_deref(),
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
fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| {
            error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{error:?}"))
}
