//! Rules published through KV by `redirects publish`: a version is an artifact cut into its
//! head (one value, `artifact/<id>/head`) and its parts (one value each,
//! `artifact/<id>/part/<n>`), all immutable and named by the artifact's content id; the small
//! `manifest` value names the version in use, and a canary with its share of visitors.
//!
//! Switching versions is switching the manifest: an isolate reads it at the bundle's refresh
//! interval and puts a version in use only once its head has loaded and checked, so a request
//! is always answered from one version whole. The parts a request needs are read from KV as it
//! needs them (with KV's edge cache, `cacheTtl`: a version never changes) and kept in a small
//! per-version cache; a request no rule is near reads none. A part that is missing or damaged
//! sends the request to the version in use before (or to the embedded bundle), never to a
//! mix.

use std::cell::RefCell;
use std::rc::Rc;

use edge_redirects::artifact::Part;
use edge_redirects::{Engine, Request};
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys;
use worker::wasm_bindgen_futures::JsFuture;

use crate::describe;

/// The KV key naming the version in use.
pub(crate) const MANIFEST_KEY: &str = "manifest";

/// Parts kept per version, most recently used last (a part is about 64 rules).
const CACHED_PARTS: usize = 512;

/// KV's edge cache for the values of a version, in seconds: they never change.
const VALUE_CACHE_TTL_S: f64 = 86_400.0;

/// One published version: its head, and the parts read so far.
pub(crate) struct Version {
    pub id: String,
    pub engine: Engine,
    parts: RefCell<Vec<Rc<Part>>>,
}

/// What the manifest puts in use.
#[derive(Clone)]
pub(crate) struct Published {
    /// The manifest's text, to recognise it unchanged.
    pub manifest: String,
    pub current: Rc<Version>,
    /// A version served to a share of visitors (percent), until promoted or rolled back.
    pub canary: Option<(Rc<Version>, u32)>,
    /// The version in use before `current` in this isolate: answers when a part of `current`
    /// cannot be read.
    pub fallback: Option<Rc<Version>>,
}

fn kv_key_head(id: &str) -> String {
    format!("artifact/{id}/head")
}

fn kv_key_part(id: &str, n: usize) -> String {
    format!("artifact/{id}/part/{n}")
}

/// `namespace.get(key, {type, cacheTtl})`.
pub(crate) async fn kv_get(
    namespace: &JsValue,
    key: &str,
    kind: &str,
    cache_ttl: Option<f64>,
) -> Result<JsValue, JsValue> {
    let get: js_sys::Function =
        js_sys::Reflect::get(namespace, &JsValue::from_str("get"))?.dyn_into()?;
    let options = js_sys::Object::new();
    js_sys::Reflect::set(
        &options,
        &JsValue::from_str("type"),
        &JsValue::from_str(kind),
    )?;
    if let Some(ttl) = cache_ttl {
        js_sys::Reflect::set(
            &options,
            &JsValue::from_str("cacheTtl"),
            &JsValue::from_f64(ttl),
        )?;
    }
    let promise: js_sys::Promise = get
        .call2(namespace, &JsValue::from_str(key), &options)?
        .dyn_into()?;
    JsFuture::from(promise).await
}

/// A KV value written by `redirects publish` (base64 text) as bytes; `None` when the key is
/// absent, and an empty value when it is not base64.
async fn kv_bytes(namespace: &JsValue, key: &str) -> Result<Option<Vec<u8>>, JsValue> {
    let value = kv_get(namespace, key, "text", Some(VALUE_CACHE_TTL_S)).await?;
    Ok(value
        .as_string()
        .map(|text| from_base64(&text).unwrap_or_default()))
}

/// Standard base64 (with or without padding) decoded; `None` on any other character.
fn from_base64(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n: u32 = 0;
        for (k, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)?) << (18 - 6 * k);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    Some(out)
}

/// The manifest's text; `None` when there is none (the `rules.json` key, or the embedded
/// bundle, is then in use).
pub(crate) async fn manifest_text(namespace: &JsValue) -> Result<Option<String>, JsValue> {
    Ok(kv_get(namespace, MANIFEST_KEY, "text", None)
        .await?
        .as_string())
}

/// A version's id, as the manifest names it: the artifact's content id in hex.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The versions a manifest puts in use, reusing those `before` has loaded already. `Err`
/// says why the manifest cannot be followed (the caller keeps what it has).
pub(crate) async fn follow(
    namespace: &JsValue,
    text: String,
    before: Option<&Published>,
) -> Result<Published, String> {
    let json = js_sys::JSON::parse(&text).map_err(|_| "the manifest is not JSON".to_string())?;
    let field = |name: &str| js_sys::Reflect::get(&json, &JsValue::from_str(name)).ok();
    let current = field("current")
        .and_then(|v| v.as_string())
        .filter(|id| valid_id(id))
        .ok_or("the manifest names no `current` version")?;
    let canary = match field("canary").filter(|c| c.is_object()) {
        Some(c) => {
            let id = js_sys::Reflect::get(&c, &JsValue::from_str("id"))
                .ok()
                .and_then(|v| v.as_string())
                .filter(|id| valid_id(id))
                .ok_or("the manifest's canary names no version")?;
            let percent = js_sys::Reflect::get(&c, &JsValue::from_str("percent"))
                .ok()
                .and_then(|v| v.as_f64())
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or("the manifest's canary has no percent between 0 and 100")?;
            Some((id, percent as u32))
        }
        None => None,
    };
    let known = |id: &str| -> Option<Rc<Version>> {
        let b = before?;
        [
            Some(&b.current),
            b.canary.as_ref().map(|(v, _)| v),
            b.fallback.as_ref(),
        ]
        .into_iter()
        .flatten()
        .find(|v| v.id == id)
        .cloned()
    };
    let load = |id: String| async move {
        if let Some(v) = known(&id) {
            return Ok(v);
        }
        let head = kv_bytes(namespace, &kv_key_head(&id))
            .await
            .map_err(|e| {
                format!(
                    "the head of version {id} could not be read: {}",
                    describe(&e)
                )
            })?
            .ok_or_else(|| format!("version {id} has no head in KV"))?;
        let engine = Engine::load_head(head)
            .map_err(|e| format!("the head of version {id} is refused: {e}"))?;
        Ok::<_, String>(Rc::new(Version {
            id,
            engine,
            parts: RefCell::new(Vec::new()),
        }))
    };
    let current_version = load(current).await?;
    let canary = match canary {
        Some((id, percent)) => Some((load(id).await?, percent)),
        None => None,
    };
    let fallback = match before {
        Some(b) if b.current.id != current_version.id => Some(Rc::clone(&b.current)),
        Some(b) => b.fallback.clone(),
        None => None,
    };
    Ok(Published {
        manifest: text,
        current: current_version,
        canary,
        fallback,
    })
}

impl Version {
    /// The parts `request` needs, from this isolate's cache or KV; `None` if one cannot be
    /// read or is damaged (logged).
    pub(crate) async fn parts_for(
        &self,
        namespace: &JsValue,
        request: &Request<'_>,
    ) -> Option<Vec<Rc<Part>>> {
        let mut out = Vec::new();
        for n in self.engine.parts_needed(request) {
            let cached = {
                let mut parts = self.parts.borrow_mut();
                let at = parts.iter().position(|p| p.number() == n);
                at.map(|i| {
                    let part = parts.remove(i);
                    parts.push(Rc::clone(&part));
                    part
                })
            };
            let part = match cached {
                Some(part) => part,
                None => {
                    let key = kv_key_part(&self.id, n);
                    let bytes = match kv_bytes(namespace, &key).await {
                        Ok(Some(bytes)) => bytes,
                        Ok(None) => {
                            worker::console_error!("{key} is missing");
                            return None;
                        }
                        Err(e) => {
                            worker::console_error!("{key} could not be read: {}", describe(&e));
                            return None;
                        }
                    };
                    let part = match self.engine.decode_part(n, &bytes) {
                        Ok(part) => Rc::new(part),
                        Err(e) => {
                            worker::console_error!("{key} is refused: {e}");
                            return None;
                        }
                    };
                    let mut parts = self.parts.borrow_mut();
                    if parts.len() >= CACHED_PARTS {
                        parts.remove(0);
                    }
                    parts.push(Rc::clone(&part));
                    part
                }
            };
            out.push(part);
        }
        Some(out)
    }
}

/// Whether a visitor falls in a canary's share: by their address, so the same visitor stays
/// with the same version while the canary runs.
pub(crate) fn in_canary(address: Option<&str>, percent: u32) -> bool {
    let Some(address) = address else {
        return false;
    };
    let mut h: u32 = 0x811c_9dc5;
    for b in address.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % 100 < percent
}
