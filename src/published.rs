//! Rules published through KV by `redirects publish`: a version is an artifact cut into its
//! head (one value, `artifact/<id>/head`), the pages of its filter (`artifact/<id>/page/<g>`)
//! and its parts (one value each, `artifact/<id>/part/<n>`), all immutable and named by the artifact's content id; the small
//! `manifest` value names the version in use, and a canary with its share of visitors.
//!
//! Switching versions is switching the manifest: an isolate reads it at the bundle's refresh
//! interval and puts a version in use only once its head has loaded and checked, so a request
//! is always answered from one version whole. The pages of the filter a request's homes fall
//! in (one per home at most, a few KB each) and the parts they name are read from KV as it
//! needs them (with KV's edge cache, `cacheTtl`: a version never changes) and cut by home
//! (`Part::narrow`); the isolate keeps the rules of each home a request needed (a path asked
//! for again reads no KV) and, fewer, the other homes of the parts it read last; a request no
//! rule is near reads no part, and once its pages are kept, no value at all. A page or part
//! that is missing or damaged
//! sends the request to the stable version (for a canary's part), else to the version in use
//! before (or to the embedded bundle), never to a mix. The values read are capped by their
//! length before they are copied into wasm memory: a head at
//! [`edge_redirects::limits::MAX_HEAD_BYTES`], a page at
//! [`edge_redirects::limits::MAX_PAGE_BYTES`], a part at the length its page gives, the
//! manifest at
//! [`edge_redirects::limits::WORKER_MAX_MANIFEST_BYTES`]; the caches of compiled pieces count
//! bytes ([`Part::cost`]), not rules.

use std::cell::RefCell;
use std::rc::Rc;

use edge_redirects::artifact::{Need, Page, Part};
use edge_redirects::limits::{
    MAX_HEAD_BYTES, MAX_PAGE_BYTES, WORKER_CACHED_HOME_BYTES, WORKER_CACHED_PAGE_BYTES,
    WORKER_MAX_MANIFEST_BYTES,
};
use edge_redirects::{Engine, Request};
use edge_redirects_publish::manifest::{self, Json, Manifest, ManifestError};
use edge_redirects_publish::{base64, cache, fingerprint, keys};
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys;
use worker::wasm_bindgen_futures::JsFuture;

use crate::describe;
use crate::embedded::Embedded;

/// Memory, in bytes, kept in pieces of the parts read last that no request has needed yet
/// (the neighbours of the rules requests needed), so that the next request for one needs no
/// KV read of its own.
const CACHED_NEIGHBOUR_BYTES: usize = 4 * 1024 * 1024;

/// KV's edge cache for the values of a version, in seconds: they never change.
const VALUE_CACHE_TTL_S: f64 = 86_400.0;

/// One version of the rules: its head, and the pages and parts read so far. A version
/// published through KV, or the bundled rules ([`Embedded`]), read the same way.
pub(crate) struct Version {
    pub id: String,
    pub engine: Engine,
    /// Where its pages and parts are read from.
    store: Store,
    /// Pages of the filter requests needed, within [`WORKER_CACHED_PAGE_BYTES`].
    pages: RefCell<cache::Lru<usize, Rc<Page>>>,
    /// Rules cut by home, of the homes requests needed, within [`WORKER_CACHED_HOME_BYTES`]
    /// (what the isolate's traffic has used, so a path asked for again reads no KV however
    /// large the bundle; no one home may cost more than half of it:
    /// [`edge_redirects::limits::MAX_HOME_COST`]).
    homes: RefCell<Lru>,
    /// The other homes of the parts read, within [`CACHED_NEIGHBOUR_BYTES`].
    neighbours: RefCell<Lru>,
}

/// Where a version's pages and parts are read from.
enum Store {
    /// Workers KV, under the version's keys ([`keys`]), with the namespace each request hands
    /// over.
    Kv,
    /// The artifact uploaded beside the worker.
    Embedded(Embedded),
}

/// Pieces of parts by home, least recently used out first once their cost ([`Part::cost`],
/// an estimate of their memory in bytes) passes a budget.
type Lru = cache::Lru<u64, Rc<Part>>;

/// The pages and parts one request needs of a version, kept alive while it is answered.
#[derive(Clone, Default)]
pub(crate) struct Needed {
    pages: Vec<Rc<Page>>,
    parts: Vec<Rc<Part>>,
}

impl Needed {
    /// Borrowed, for [`edge_redirects::Supply`].
    pub(crate) fn refs(&self) -> (Vec<&Page>, Vec<&Part>) {
        (
            self.pages.iter().map(|p| &**p).collect(),
            self.parts.iter().map(|p| &**p).collect(),
        )
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
        if base64::decode_onto(&slice, &mut out).is_none() {
            return Ok(Some(Vec::new()));
        }
        at += SLICE;
    }
    Ok(Some(out))
}

/// The manifest's text; `None` when there is none (the `rules.json` key, or the embedded
/// bundle, is then in use). A value over [`WORKER_MAX_MANIFEST_BYTES`] characters is an
/// error, found by its length before it is copied into wasm memory.
pub(crate) async fn manifest_text(namespace: &JsValue) -> Result<Option<String>, JsValue> {
    let value = kv_get(namespace, keys::MANIFEST, "text", None).await?;
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

/// A value `JSON.parse` made, as far as the manifest reads it: the manifest's keys of objects
/// `depth` levels deep (JavaScript parses; no JSON parser in the wasm).
fn json_of(value: &JsValue, depth: u8) -> Json {
    if value.is_null() || value.is_undefined() {
        Json::Null
    } else if let Some(b) = value.as_bool() {
        Json::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Json::Number(n)
    } else if let Some(text) = value.as_string() {
        Json::Text(text)
    } else if js_sys::Array::is_array(value) {
        Json::Array
    } else if depth == 0 {
        Json::Object(Vec::new())
    } else {
        let fields = manifest::KEYS
            .iter()
            .filter_map(|&key| {
                let v = js_sys::Reflect::get(value, &JsValue::from_str(key)).ok()?;
                (!v.is_undefined()).then(|| (key.to_owned(), json_of(&v, depth - 1)))
            })
            .collect();
        Json::Object(fields)
    }
}

/// The versions a manifest puts in use, reusing those `before` has loaded already. `Err`
/// says why the manifest cannot be followed (the caller keeps what it has).
pub(crate) async fn follow(
    namespace: &JsValue,
    text: String,
    before: Option<&Published>,
) -> Result<Published, String> {
    // Every field is read (`previous` and `format` too: see the manifest's documentation);
    // the worker loads `current` and the canary, its fallback is the version it had in use.
    let manifest = js_sys::JSON::parse(&text)
        .map_err(|_| ManifestError::NotJson)
        .and_then(|json| Manifest::from_json(&json_of(&json, 2)))
        .map_err(|e| e.to_string())?;
    let current = manifest.current;
    let canary = manifest.canary.map(|c| {
        let percent = c.whole_percent();
        (c.id, percent)
    });
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
        let head = kv_bytes(namespace, &keys::head(&id), MAX_HEAD_BYTES)
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
        Ok::<_, String>(Rc::new(Version::new(id, engine, Store::Kv)))
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
        manifest: fingerprint::print(&text),
        current: current_version,
        canary,
        fallback,
    })
}

impl Version {
    fn new(id: String, engine: Engine, store: Store) -> Version {
        Version {
            id,
            engine,
            store,
            pages: RefCell::new(cache::Lru::new(WORKER_CACHED_PAGE_BYTES)),
            homes: RefCell::new(Lru::new(WORKER_CACHED_HOME_BYTES)),
            neighbours: RefCell::new(Lru::new(CACHED_NEIGHBOUR_BYTES)),
        }
    }

    /// The bundled rules, from the artifact uploaded beside the worker (`buffer`, handed over
    /// by the module entry): its head loaded, its pages and parts read as requests need them.
    pub(crate) fn embedded(buffer: js_sys::ArrayBuffer) -> Result<Version, String> {
        let (embedded, engine) = Embedded::open(buffer).map_err(|e| e.to_string())?;
        Ok(Version::new(
            "embedded".to_owned(),
            engine,
            Store::Embedded(embedded),
        ))
    }

    /// What `request` needs of this version: the pages of the filter its homes fall in, and
    /// each part they name cut to the home it is needed for; from this isolate's caches, or
    /// read from KV with `namespace` (a version published there) or from the artifact
    /// uploaded beside the worker (the bundled rules, for which `namespace` is `None`).
    /// `None` if a page or part cannot be read or is damaged (logged).
    pub(crate) async fn parts_for(
        &self,
        namespace: Option<&JsValue>,
        request: &Request<'_>,
    ) -> Option<Needed> {
        let mut out = Needed::default();
        for g in self.engine.pages_needed(request) {
            out.pages.push(self.page(namespace, g).await?);
        }
        let (pages, _) = out.refs();
        let needs = self.engine.needs(request, &pages)?;
        for need in needs {
            out.parts.push(self.piece(namespace, need).await?);
        }
        Some(out)
    }

    /// Page `g` of the filter: kept, or read and checked.
    async fn page(&self, namespace: Option<&JsValue>, g: usize) -> Option<Rc<Page>> {
        let kept = self.pages.borrow_mut().get(&g);
        if kept.is_some() {
            return kept;
        }
        let bytes = self.bytes(namespace, Piece::Page(g)).await?;
        let page = match self.engine.decode_page(g, &bytes) {
            Ok(page) => Rc::new(page),
            Err(e) => {
                worker::console_error!("{} is refused: {e}", self.name(Piece::Page(g)));
                return None;
            }
        };
        let cost = page.cost();
        self.pages.borrow_mut().insert(g, Rc::clone(&page), cost);
        Some(page)
    }

    /// The rules `need` asks for: kept, a neighbour kept, or read.
    async fn piece(&self, namespace: Option<&JsValue>, need: Need) -> Option<Rc<Part>> {
        // Each borrow ends before the next (and before any await).
        let kept = self.homes.borrow_mut().get(&need.home);
        if kept.is_some() {
            return kept;
        }
        let neighbour = self.neighbours.borrow_mut().take(&need.home);
        let part = match neighbour {
            Some(part) => part,
            None => Rc::new(self.read_and_cut(namespace, need).await?),
        };
        let cost = part.cost();
        self.homes
            .borrow_mut()
            .insert(need.home, Rc::clone(&part), cost);
        Some(part)
    }

    /// The part of `need` read and cut by home: the piece needed, the others kept as
    /// neighbours (those not kept already).
    async fn read_and_cut(&self, namespace: Option<&JsValue>, need: Need) -> Option<Part> {
        let bytes = self.bytes(namespace, Piece::Part(&need)).await?;
        let whole = match self.engine.decode_part(&need, &bytes) {
            Ok(part) => part,
            Err(e) => {
                worker::console_error!("{} is refused: {e}", self.name(Piece::Part(&need)));
                return None;
            }
        };
        let (wanted, others) = whole.narrow(need.home);
        let homes = self.homes.borrow();
        let mut neighbours = self.neighbours.borrow_mut();
        for other in others {
            if let Some(home) = other.home().filter(|h| !homes.holds(h)) {
                let cost = other.cost();
                neighbours.insert(home, Rc::new(other), cost);
            }
        }
        Some(wanted)
    }

    /// What the log calls `piece`: its KV key, or its place in the embedded artifact.
    fn name(&self, piece: Piece<'_>) -> String {
        match (&self.store, piece) {
            (Store::Kv, Piece::Page(g)) => keys::page(&self.id, g),
            (Store::Kv, Piece::Part(need)) => keys::part(&self.id, need.part),
            (Store::Embedded(_), Piece::Page(g)) => format!("page {g} of the embedded artifact"),
            (Store::Embedded(_), Piece::Part(need)) => {
                format!("part {} of the embedded artifact", need.part)
            }
        }
    }

    /// The stored bytes of `piece`: from KV with `namespace`, at most as many as a page (or
    /// the part's page says) may take, or copied from the embedded artifact. `None` if missing
    /// or unreadable (logged).
    async fn bytes(&self, namespace: Option<&JsValue>, piece: Piece<'_>) -> Option<Vec<u8>> {
        let read = match (&self.store, piece) {
            (Store::Kv, _) => {
                // A value longer than its page says is refused by its length.
                let max = match piece {
                    Piece::Page(_) => MAX_PAGE_BYTES,
                    Piece::Part(need) => need.part_bytes(),
                };
                match namespace {
                    Some(namespace) => kv_bytes(namespace, &self.name(piece), max)
                        .await
                        .map_err(|e| describe(&e)),
                    None => Err("no KV namespace".to_owned()),
                }
            }
            (Store::Embedded(embedded), _) => match piece {
                Piece::Page(g) => embedded.page(g),
                Piece::Part(need) => embedded.part(need),
            }
            .map(Some)
            .map_err(|e| e.to_string()),
        };
        match read {
            Ok(Some(bytes)) => Some(bytes),
            Ok(None) => {
                worker::console_error!("{} is missing", self.name(piece));
                None
            }
            Err(why) => {
                worker::console_error!("{} could not be read: {why}", self.name(piece));
                None
            }
        }
    }
}

/// A page of the filter, or the part a need names: what [`Version::bytes`] reads.
#[derive(Clone, Copy)]
enum Piece<'n> {
    Page(usize),
    Part(&'n Need),
}
