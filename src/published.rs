//! Rules published through KV by `redirects publish`: a version is an artifact cut into its
//! head (one value, `artifact/<id>/head`) and its parts (one value each,
//! `artifact/<id>/part/<n>`), all immutable and named by the artifact's content id; the small
//! `manifest` value names the version in use, and a canary with its share of visitors.
//!
//! Switching versions is switching the manifest: an isolate reads it at the bundle's refresh
//! interval and puts a version in use only once its head has loaded and checked, so a request
//! is always answered from one version whole. The parts a request needs are read from KV as it
//! needs them (with KV's edge cache, `cacheTtl`: a version never changes) and cut by home
//! (`Part::narrow`); the isolate keeps the rules of each home a request needed (a path asked
//! for again reads no KV) and, fewer, the other homes of the parts it read last; a request no
//! rule is near reads none. A part that is missing or damaged
//! sends the request to the stable version (for a canary's part), else to the version in use
//! before (or to the embedded bundle), never to a mix. The values read are capped by their
//! length before they are copied into wasm memory: a head at
//! [`edge_redirects::limits::MAX_HEAD_BYTES`], the manifest at
//! [`edge_redirects::limits::WORKER_MAX_MANIFEST_BYTES`]; the caches of compiled pieces count
//! bytes ([`Part::cost`]), not rules.

use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;

use edge_redirects::artifact::{Need, Part};
use edge_redirects::limits::{MAX_HEAD_BYTES, WORKER_MAX_MANIFEST_BYTES};
use edge_redirects::{Engine, Request};
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys;
use worker::wasm_bindgen_futures::JsFuture;

use crate::describe;

/// The KV key naming the version in use.
pub(crate) const MANIFEST_KEY: &str = "manifest";

/// Memory, in bytes, a version keeps in compiled pieces of parts cut to the homes requests
/// needed ([`Part::narrow`]; a home's rules are usually one rule, a few KB with its index,
/// costed by [`Part::cost`]): what the isolate's traffic has used, so a path asked for again
/// reads no KV however large the bundle. An isolate has 128 MB and holds up to three versions
/// (current, canary, the one before) each with its head (at most
/// [`edge_redirects::limits::MAX_HEAD_BYTES`]): their caches together take at most 48 MiB.
const CACHED_HOME_BYTES: usize = 12 * 1024 * 1024;

/// Memory, in bytes, kept in pieces of the parts read last that no request has needed yet
/// (the neighbours of the rules requests needed), so that the next request for one needs no
/// KV read of its own.
const CACHED_NEIGHBOUR_BYTES: usize = 4 * 1024 * 1024;

/// KV's edge cache for the values of a version, in seconds: they never change.
const VALUE_CACHE_TTL_S: f64 = 86_400.0;

/// One published version: its head, and the parts read so far.
pub(crate) struct Version {
    pub id: String,
    pub engine: Engine,
    /// Rules cut by home, of the homes requests needed, within [`CACHED_HOME_BYTES`].
    homes: RefCell<Lru>,
    /// The other homes of the parts read, within [`CACHED_NEIGHBOUR_BYTES`].
    neighbours: RefCell<Lru>,
}

/// Pieces of parts by home, least recently used out first once their cost ([`Part::cost`],
/// an estimate of their memory in bytes) passes a budget.
struct Lru {
    entries: FxHashMap<u64, Cached>,
    /// The cost of the entries held, and the most they may cost.
    cost: usize,
    budget: usize,
    /// Ticks on every use: an entry's `used` says how recently.
    clock: u64,
}

struct Cached {
    part: Rc<Part>,
    cost: usize,
    used: u64,
}

impl Lru {
    fn new(budget: usize) -> Lru {
        Lru {
            entries: FxHashMap::default(),
            cost: 0,
            budget,
            clock: 0,
        }
    }

    /// Takes an entry out.
    fn take(&mut self, key: u64) -> Option<Rc<Part>> {
        let gone = self.entries.remove(&key)?;
        self.cost -= gone.cost;
        Some(gone.part)
    }

    fn get(&mut self, key: u64) -> Option<Rc<Part>> {
        self.clock += 1;
        let cached = self.entries.get_mut(&key)?;
        cached.used = self.clock;
        Some(Rc::clone(&cached.part))
    }

    /// Whether `key` is held (not counted as a use).
    fn holds(&self, key: u64) -> bool {
        self.entries.contains_key(&key)
    }

    /// Keeps `part` at its cost (at least 1); a part that costs more than the whole budget is
    /// not kept (the request that read it still uses it). To make room it first drops, as
    /// often as it takes, the entries last used in the oldest quarter of the time since the
    /// oldest use (the oldest entry at least): each insert pays for a few drops, not a scan.
    fn insert(&mut self, key: u64, part: Rc<Part>) {
        let cost = part.cost().max(1);
        if cost > self.budget {
            return;
        }
        while self.cost + cost > self.budget && !self.entries.is_empty() {
            let oldest = self.entries.values().map(|c| c.used).min().unwrap_or(0);
            let cut = oldest + (self.clock - oldest) / 4;
            self.entries.retain(|_, c| c.used > cut);
            self.cost = self.entries.values().map(|c| c.cost).sum();
        }
        self.clock += 1;
        let used = self.clock;
        if let Some(old) = self.entries.insert(key, Cached { part, cost, used }) {
            self.cost -= old.cost;
        }
        self.cost += cost;
    }
}

/// What the manifest puts in use.
#[derive(Clone)]
pub(crate) struct Published {
    /// The manifest's length and hash, to recognise it unchanged (its text is not kept).
    pub manifest: (usize, u64),
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
/// absent, and an empty value when it is not base64. A value longer than `max` bytes in
/// base64 is an error, found by its length before any of it is copied into wasm memory; the
/// rest is copied and decoded a slice at a time, so decoding takes no more memory than the
/// bytes decoded.
async fn kv_bytes(namespace: &JsValue, key: &str, max: usize) -> Result<Option<Vec<u8>>, JsValue> {
    /// UTF-16 units copied into wasm memory at a time (a multiple of 4).
    const SLICE: u32 = 64 * 1024;
    let value = kv_get(namespace, key, "text", Some(VALUE_CACHE_TTL_S)).await?;
    let Ok(text) = value.dyn_into::<js_sys::JsString>() else {
        return Ok(None);
    };
    let units = text.length();
    if units as usize > max.div_ceil(3) * 4 {
        return Err(JsValue::from_str(&format!(
            "{units} characters of base64; at most {max} bytes are read"
        )));
    }
    let mut out = Vec::with_capacity(units as usize / 4 * 3);
    let mut at = 0;
    while at < units {
        let slice = String::from(text.slice(at, units.min(at + SLICE)));
        if from_base64(&slice, &mut out).is_none() {
            return Ok(Some(Vec::new()));
        }
        at += SLICE;
    }
    Ok(Some(out))
}

/// Standard base64 (with or without padding) decoded onto `out`; `None` on any other
/// character.
fn from_base64(text: &str, out: &mut Vec<u8>) -> Option<()> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    for chunk in bytes.chunks(4) {
        let mut n: u32 = 0;
        for (k, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)?) << (18 - 6 * k);
        }
        let b = n.to_be_bytes();
        out.extend_from_slice(&b[1..chunk.len()]);
    }
    Some(())
}

/// The manifest's text; `None` when there is none (the `rules.json` key, or the embedded
/// bundle, is then in use). A value over [`WORKER_MAX_MANIFEST_BYTES`] characters is an
/// error, found by its length before it is copied into wasm memory.
pub(crate) async fn manifest_text(namespace: &JsValue) -> Result<Option<String>, JsValue> {
    let value = kv_get(namespace, MANIFEST_KEY, "text", None).await?;
    let Ok(text) = value.dyn_into::<js_sys::JsString>() else {
        return Ok(None);
    };
    let units = text.length() as usize;
    if units > WORKER_MAX_MANIFEST_BYTES {
        return Err(JsValue::from_str(&format!(
            "{units} characters long; the limit is {WORKER_MAX_MANIFEST_BYTES}"
        )));
    }
    Ok(Some(String::from(text)))
}

/// What recognises a manifest's text again: its length and FxHash.
pub(crate) fn manifest_print(text: &str) -> (usize, u64) {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(text.as_bytes());
    (text.len(), hasher.finish())
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
        let head = kv_bytes(namespace, &kv_key_head(&id), MAX_HEAD_BYTES)
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
            homes: RefCell::new(Lru::new(CACHED_HOME_BYTES)),
            neighbours: RefCell::new(Lru::new(CACHED_NEIGHBOUR_BYTES)),
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
        manifest: manifest_print(&text),
        current: current_version,
        canary,
        fallback,
    })
}

impl Version {
    /// What `request` needs of this version, each part cut to the home it is needed for:
    /// from this isolate's caches, or read from KV. `None` if a part cannot be read or is
    /// damaged (logged).
    pub(crate) async fn parts_for(
        &self,
        namespace: &JsValue,
        request: &Request<'_>,
    ) -> Option<Vec<Rc<Part>>> {
        let mut out = Vec::new();
        for need in self.engine.needs(request) {
            out.push(self.piece(namespace, need).await?);
        }
        Some(out)
    }

    /// The rules `need` asks for: kept, a neighbour kept, or read from KV.
    async fn piece(&self, namespace: &JsValue, need: Need) -> Option<Rc<Part>> {
        // Each borrow ends before the next (and before any await).
        let kept = self.homes.borrow_mut().get(need.home);
        if kept.is_some() {
            return kept;
        }
        let neighbour = self.neighbours.borrow_mut().take(need.home);
        let part = match neighbour {
            Some(part) => part,
            None => Rc::new(self.read_and_cut(namespace, need).await?),
        };
        self.homes.borrow_mut().insert(need.home, Rc::clone(&part));
        Some(part)
    }

    /// The part of `need` read from KV and cut by home: the piece needed, the others kept as
    /// neighbours (those not kept already).
    async fn read_and_cut(&self, namespace: &JsValue, need: Need) -> Option<Part> {
        let whole = self.read_part(namespace, need.part).await?;
        let (wanted, others) = whole.narrow(need.home);
        let homes = self.homes.borrow();
        let mut neighbours = self.neighbours.borrow_mut();
        for other in others {
            if let Some(home) = other.home().filter(|&h| !homes.holds(h)) {
                neighbours.insert(home, Rc::new(other));
            }
        }
        Some(wanted)
    }

    /// Part `n` read from KV and compiled; `None` if it is missing, unreadable, longer than
    /// the head's directory says, or damaged (logged).
    async fn read_part(&self, namespace: &JsValue, n: usize) -> Option<Part> {
        let key = kv_key_part(&self.id, n);
        // A value longer than the directory says is refused by its length.
        let max = self.engine.part_len(n).unwrap_or(0);
        let bytes = match kv_bytes(namespace, &key, max).await {
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
        match self.engine.decode_part(n, &bytes) {
            Ok(part) => Some(part),
            Err(e) => {
                worker::console_error!("{key} is refused: {e}");
                None
            }
        }
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
