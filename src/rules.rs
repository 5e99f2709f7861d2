//! Which rules answer a request: the bundled rules (the artifact uploaded beside the worker,
//! `embedded.rs`), a `rules.json` bundle from KV, or the versions published through KV's
//! manifest (`published.rs`), re-read at the refresh interval in the background.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use edge_redirects::limits::WORKER_MAX_BUNDLE_BYTES;
use edge_redirects::{Decision, Engine, Request, Supply};
use wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::{future_to_promise, JsFuture};
use worker::{console_error, console_log, js_sys, Context, Delay, Env};

use edge_redirects_publish::choice::{self, Versions};
use edge_redirects_publish::{canary, fingerprint, keys, refresh};

use crate::describe;
use crate::published::{self, Published};

/// Name of the optional KV binding that overrides the embedded bundle.
const KV_BINDING: &str = "REDIRECT_RULES";

/// Key of the bundle in the KV namespace.
const KV_KEY: &str = "rules.json";

/// How long the first request of an isolate waits for the first KV read before it is answered
/// from the embedded bundle; the read goes on, and its bundle is used as soon as it arrives.
const KV_FIRST_READ_WAIT_MS: u64 = 2_000;

/// The per-isolate state: the compiled bundles and when KV was last read.
#[derive(Default)]
struct Rules {
    /// The artifact uploaded beside the worker, as the module entry hands it over.
    artifact: Option<js_sys::ArrayBuffer>,
    /// The bundled rules, opened from `artifact` on first use.
    embedded: Option<Rc<published::Version>>,
    /// The last good bundle from KV and the fingerprint of the text it was compiled from.
    from_kv: Option<(Fingerprint, Rc<Engine>)>,
    /// The versions the KV `manifest` puts in use (`redirects publish`): before `from_kv`.
    published: Option<Published>,
    /// The last KV value refused (it did not compile, or was too long): not compiled again.
    refused: Option<Fingerprint>,
    /// When KV was last read, and how long that read is trusted.
    refresh: refresh::Refresh,
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
        Fingerprint {
            units,
            hash: fingerprint::hash(text),
        }
    }
}

thread_local! {
    static RULES: RefCell<Rules> = RefCell::new(Rules::default());
}

/// Keeps the artifact uploaded beside the worker (`rules.bin`, which the module entry imports
/// and hands over before every request: after a failure the wasm instance is a new one), the
/// first time it is handed over to this instance.
pub(crate) fn hand_over(artifact: js_sys::ArrayBuffer) {
    RULES.with(|cell| {
        let mut rules = cell.borrow_mut();
        if rules.artifact.is_none() {
            rules.artifact = Some(artifact);
        }
    });
}

/// The rules a request is answered from: the KV bundle when one is bound and valid, else the
/// embedded one.
pub(crate) enum InUse {
    /// The bundled rules.
    Embedded(Rc<published::Version>),
    /// A `rules.json` value from KV.
    Engine(Rc<Engine>),
    /// Versions published through the manifest, read with this namespace.
    Published(Published, JsValue),
}

/// The rules to use for this request; `None` only if the embedded bundle itself does not load
/// (a broken build).
pub(crate) async fn current_rules(env: &Env, ctx: &Context) -> Option<InUse> {
    refresh_from_kv(env, ctx).await;
    RULES.with(|cell| {
        let mut rules = cell.borrow_mut();
        if let Some(published) = &rules.published {
            if let Ok(namespace) = js_sys::Reflect::get(env, &JsValue::from_str(KV_BINDING)) {
                return Some(InUse::Published(published.clone(), namespace));
            }
        }
        if let Some((_, engine)) = &rules.from_kv {
            return Some(InUse::Engine(Rc::clone(engine)));
        }
        embedded(&mut rules).map(InUse::Embedded)
    })
}

/// The bundled rules, opened on first use.
fn embedded(rules: &mut Rules) -> Option<Rc<published::Version>> {
    if rules.embedded.is_none() {
        let Some(artifact) = rules.artifact.clone() else {
            console_error!("no embedded rules artifact was handed over by the module entry");
            return None;
        };
        match published::Version::embedded(artifact) {
            Ok(version) => rules.embedded = Some(Rc::new(version)),
            Err(error) => {
                console_error!("the embedded rules artifact does not load: {}", error);
                return None;
            }
        }
    }
    rules.embedded.clone()
}

/// The engine chosen for one request, with the parts it needs, and, while a canary runs, the
/// other version with its parts: where the two answer differently, the answer depends on who
/// asks.
pub(crate) struct Chosen {
    engine: Held,
    parts: Parts,
    other: Option<(Rc<published::Version>, Option<Parts>)>,
}

/// The pages and parts one request needs, kept alive while it is answered.
type Parts = published::Needed;

/// An engine kept alive for one request.
enum Held {
    Engine(Rc<Engine>),
    Version(Rc<published::Version>),
}

impl Held {
    fn engine(&self) -> &Engine {
        match self {
            Held::Engine(e) => e,
            Held::Version(v) => &v.engine,
        }
    }
}

impl Chosen {
    /// The decision for `view`; while a canary runs, made per-visitor where the other
    /// version (or its missing parts) would answer otherwise.
    pub(crate) fn decide(&self, view: &Request<'_>) -> Decision<'_> {
        let (pages, parts) = self.parts.refs();
        let other_refs = self
            .other
            .as_ref()
            .and_then(|(_, parts)| parts.as_ref())
            .map(published::Needed::refs);
        let other = self.other.as_ref().map(|(version, _)| {
            let supply = other_refs
                .as_ref()
                .map(|(pages, parts)| Supply { pages, parts });
            (&version.engine, supply)
        });
        canary::decide(
            self.engine.engine(),
            Supply {
                pages: &pages,
                parts: &parts,
            },
            other,
            view,
        )
    }
}

/// Picks the version a visitor is served and reads the parts the request needs, falling back
/// as [`choice`] says when a version's parts cannot be read; the embedded bundle last. `None`
/// when the embedded bundle cannot answer either (its artifact does not load, or a piece it
/// needs is damaged: logged), and the request goes to the origin.
pub(crate) async fn choose(
    in_use: InUse,
    view: &Request<'_>,
    address: Option<&str>,
) -> Option<Chosen> {
    let (published, namespace) = match in_use {
        InUse::Engine(engine) => {
            return Some(Chosen {
                engine: Held::Engine(engine),
                parts: Parts::default(),
                other: None,
            })
        }
        InUse::Embedded(version) => return from_embedded(version, view).await,
        InUse::Published(p, ns) => (p, ns),
    };
    let versions = Versions {
        current: Rc::clone(&published.current),
        canary: published.canary.clone(),
        previous: published.fallback.clone(),
    };
    let namespace = &namespace;
    let choice = choice::choose(&versions, address, |version: &Rc<published::Version>| {
        let version = Rc::clone(version);
        async move { version.parts_for(Some(namespace), view).await }
    })
    .await;
    let Some((version, parts)) = choice.answers else {
        let version = RULES.with(|cell| embedded(&mut cell.borrow_mut()))?;
        console_error!("answering from the embedded bundle: a published part could not be read");
        return from_embedded(version, view).await;
    };
    Some(Chosen {
        engine: Held::Version(version),
        parts,
        other: choice.other,
    })
}

/// The bundled rules with the pages and parts `view` needs, copied from the artifact.
async fn from_embedded(version: Rc<published::Version>, view: &Request<'_>) -> Option<Chosen> {
    let parts = version.parts_for(None, view).await?;
    Some(Chosen {
        engine: Held::Version(version),
        parts,
        other: None,
    })
}

/// Starts a read of the KV override if the binding exists and the last read is older than the
/// refresh interval. The read runs in the background (kept alive by `waitUntil`); only the first
/// read of an isolate is waited for, and at most [`KV_FIRST_READ_WAIT_MS`]. Never fails: every
/// problem is logged and the previous state kept.
async fn refresh_from_kv(env: &Env, ctx: &Context) {
    let now = js_sys::Date::now();
    // Claimed before the read, so concurrent requests do not all read KV.
    let claimed = RULES.with(|cell| cell.borrow_mut().refresh.claim(now, || refresh_ms(env)));
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

/// The refresh interval in ms ([`refresh::interval_ms`] of [`refresh::VARIABLE`]).
fn refresh_ms(env: &Env) -> f64 {
    let value = env.var(refresh::VARIABLE).ok().map(|v| v.to_string());
    refresh::interval_ms(value.as_deref()).unwrap_or_else(|default| {
        console_error!(
            "{}={value:?} is not a whole number of seconds; using 60",
            refresh::VARIABLE
        );
        default
    })
}

/// `namespace.get(KV_KEY, {type: "text"})`: the value as a JavaScript string, still outside
/// wasm memory; `None` when the key is absent (or holds something that is not text).
async fn kv_text(namespace: &JsValue) -> Result<Option<js_sys::JsString>, JsValue> {
    let value = published::kv_get(namespace, KV_KEY, "text", None).await?;
    Ok(value.dyn_into::<js_sys::JsString>().ok())
}

/// Reads the KV override and puts it in use if it compiles. A value refused once (too long, or
/// with errors) is recognised by its [`Fingerprint`] and neither compiled nor logged again.
async fn read_kv(namespace: JsValue) {
    match published::manifest_text(&namespace).await {
        Ok(Some(text)) => {
            if follow_manifest(&namespace, text).await {
                return;
            }
        }
        Ok(None) => {
            if RULES.with(|cell| cell.borrow_mut().published.take().is_some()) {
                console_log!("{KV_BINDING}/{}: removed", keys::MANIFEST);
            }
        }
        Err(e) => {
            console_error!(
                "{KV_BINDING}/{} could not be read ({}); keeping the current rules",
                keys::MANIFEST,
                describe(&e)
            );
            return;
        }
    }
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

/// Puts the versions a new manifest names in use once their heads load; keeps the last good
/// ones otherwise. Whether published versions are in use afterwards (if not, the `rules.json`
/// key is read as before).
async fn follow_manifest(namespace: &JsValue, text: String) -> bool {
    let before = RULES.with(|cell| cell.borrow().published.clone());
    if before
        .as_ref()
        .is_some_and(|b| b.manifest == fingerprint::print(&text))
    {
        return true;
    }
    match published::follow(namespace, text, before.as_ref()).await {
        Ok(now) => {
            match &now.canary {
                Some((canary, percent)) => console_log!(
                    "{KV_BINDING}: version {} in use, {} for {percent} % of visitors",
                    now.current.id,
                    canary.id
                ),
                None => console_log!("{KV_BINDING}: version {} in use", now.current.id),
            }
            RULES.with(|cell| cell.borrow_mut().published = Some(now));
            true
        }
        Err(why) => {
            console_error!(
                "{KV_BINDING}/{} not followed, keeping the rules in use: {why}",
                keys::MANIFEST
            );
            before.is_some()
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
