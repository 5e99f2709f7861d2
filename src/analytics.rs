//! Hit analytics on Workers Analytics Engine: when a dataset is bound as [`BINDING`], one data
//! point per request a rule decided and one per passthrough the origin answered 404.
//!
//! Data points (the layout `redirects stats` and the README's SQL read):
//!
//! | field | rule hit | origin 404 |
//! |---|---|---|
//! | `blob1` | `rule` | `404` |
//! | `blob2` | rule id | path (no query) |
//! | `blob3` | outcome: `redirect`, `forward` or `origin` | referrer host (`""` when none) |
//! | `blob4` | A/B variant (`""` when no split decided) | `""` |
//! | `blob5` | country (`request.cf.country`, `""` when unknown) | country |
//! | `blob6` | host | host |
//! | `double1` | status answered | 404 |
//! | `index1` | rule id (the sampling key) | host |
//!
//! `writeDataPoint` does no I/O while the request waits (the runtime sends points on its own),
//! and a binding that throws is logged once per isolate and otherwise ignored: analytics never
//! changes or delays a visitor's answer. Without the binding, the only cost is one property
//! lookup on `env` per request.

use std::cell::Cell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use worker::{console_error, js_sys, Env};

use edge_redirects::Decision;

/// Name of the optional Analytics Engine dataset binding.
pub const BINDING: &str = "REDIRECT_ANALYTICS";

/// Longest index Analytics Engine accepts, in bytes.
const MAX_INDEX_BYTES: usize = 96;

/// Longest blob written, in bytes: six of them stay far below the 16 KB a point may carry.
const MAX_BLOB_BYTES: usize = 1024;

thread_local! {
    /// Whether a failing write was logged already in this isolate.
    static FAILURE_LOGGED: Cell<bool> = const { Cell::new(false) };
}

// The data point is put together in JavaScript: a few bytes of glue instead of a
// kilobyte-sized object builder in the wasm.
#[wasm_bindgen(
    inline_js = "export function write_point(d, b1, b2, b3, b4, b5, b6, n, i) { d.writeDataPoint({ blobs: [b1, b2, b3, b4, b5, b6], doubles: [n], indexes: [i] }); }"
)]
extern "C" {
    #[wasm_bindgen(catch)]
    #[allow(clippy::too_many_arguments)]
    fn write_point(
        dataset: &JsValue,
        b1: &str,
        b2: &str,
        b3: &str,
        b4: &str,
        b5: &str,
        b6: &str,
        double: f64,
        index: &str,
    ) -> Result<(), JsValue>;
}

/// The bound dataset, if any.
pub struct Dataset(JsValue);

impl Dataset {
    /// The binding [`BINDING`], when it is an object; `None` otherwise.
    pub fn bound(env: &Env) -> Option<Dataset> {
        let binding = js_sys::Reflect::get(env, &JsValue::from_str(BINDING)).ok()?;
        binding.is_object().then_some(Dataset(binding))
    }

    /// Writes what is worth writing about one answered request: a rule hit when a rule
    /// decided, an origin 404 when none did and the origin answered 404; else nothing.
    /// (Kept out of line: the request handler's state machine stays small.)
    #[inline(never)]
    pub fn record(
        &self,
        decision: &Decision<'_>,
        status: u16,
        url: &str,
        referrer: Option<&str>,
        country: Option<&str>,
    ) {
        let host = host_of(url);
        let country = country.unwrap_or("");
        let (blobs, index) = match decision.rule() {
            Some(rule) => {
                let outcome = decision.outcome().name();
                let variant = decision.variant().unwrap_or("");
                (["rule", rule, outcome, variant, country, host], rule)
            }
            None if status == 404 => {
                let referrer = referrer.map(host_of).unwrap_or("");
                (["404", path_of(url), referrer, "", country, host], host)
            }
            None => return,
        };
        let [b1, b2, b3, b4, b5, b6] = blobs.map(|b| cut(b, MAX_BLOB_BYTES));
        let index = cut(index, MAX_INDEX_BYTES);
        if let Err(e) = write_point(&self.0, b1, b2, b3, b4, b5, b6, f64::from(status), index) {
            if !FAILURE_LOGGED.with(|logged| logged.replace(true)) {
                console_error!(
                    "{BINDING}.writeDataPoint failed ({}); answers are unaffected (logged once per isolate)",
                    crate::describe(&e)
                );
            }
        }
    }
}

/// The host of an absolute URL, without port or user info; `""` if there is none.
fn host_of(url: &str) -> &str {
    let Some(at) = url.find("://") else {
        return "";
    };
    let rest = &url[at + 3..];
    let authority = &rest[..end_of(rest, b"/?#")];
    let host = &authority[authority.rfind('@').map_or(0, |at| at + 1)..];
    match host.strip_prefix('[') {
        Some(v6) => &v6[..end_of(v6, b"]")],
        None => &host[..end_of(host, b":")],
    }
}

/// The path of an absolute URL, without query or fragment.
fn path_of(url: &str) -> &str {
    let rest = url.find("://").map_or(url, |at| &url[at + 3..]);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    &path[..end_of(path, b"?#")]
}

/// Where the first of the ASCII `stops` is in `text`, else its length.
fn end_of(text: &str, stops: &[u8]) -> usize {
    text.bytes()
        .position(|b| stops.contains(&b))
        .unwrap_or(text.len())
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
