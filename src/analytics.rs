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
use wasm_bindgen::{JsCast, JsValue};
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

/// The bound dataset, if any.
pub struct Dataset(js_sys::Function, JsValue);

impl Dataset {
    /// The dataset bound as [`BINDING`] with a `writeDataPoint` method; `None` otherwise.
    pub fn bound(env: &Env) -> Option<Dataset> {
        let binding = js_sys::Reflect::get(env, &JsValue::from_str(BINDING)).ok()?;
        if !binding.is_object() {
            return None;
        }
        let write = js_sys::Reflect::get(&binding, &JsValue::from_str("writeDataPoint")).ok()?;
        Some(Dataset(write.dyn_into().ok()?, binding))
    }

    /// Writes what is worth writing about one answered request: a rule hit when a rule
    /// decided, an origin 404 when none did and the origin answered 404; else nothing.
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
                let outcome = match decision {
                    Decision::Redirect(_) => "redirect",
                    Decision::Forward(_) => "forward",
                    Decision::Origin(_) => "origin",
                };
                let variant = decision.variant().unwrap_or("");
                (["rule", rule, outcome, variant, country, host], rule)
            }
            None if status == 404 => {
                let referrer = referrer.map(host_of).unwrap_or("");
                (["404", path_of(url), referrer, "", country, host], host)
            }
            None => return,
        };
        if let Err(e) = self.write(&blobs, f64::from(status), index) {
            if !FAILURE_LOGGED.with(|logged| logged.replace(true)) {
                console_error!(
                    "{BINDING}.writeDataPoint failed ({}); answers are unaffected (logged once per isolate)",
                    crate::describe(&e)
                );
            }
        }
    }

    /// `writeDataPoint({blobs, doubles: [double], indexes: [index]})`.
    fn write(&self, blobs: &[&str], double: f64, index: &str) -> Result<JsValue, JsValue> {
        let point = js_sys::Object::new();
        let list = js_sys::Array::new_with_length(blobs.len() as u32);
        for (i, blob) in blobs.iter().enumerate() {
            list.set(i as u32, JsValue::from_str(cut(blob, MAX_BLOB_BYTES)));
        }
        js_sys::Reflect::set(&point, &JsValue::from_str("blobs"), &list)?;
        let doubles = js_sys::Array::of1(&JsValue::from_f64(double));
        js_sys::Reflect::set(&point, &JsValue::from_str("doubles"), &doubles)?;
        let indexes = js_sys::Array::of1(&JsValue::from_str(cut(index, MAX_INDEX_BYTES)));
        js_sys::Reflect::set(&point, &JsValue::from_str("indexes"), &indexes)?;
        self.0.call1(&self.1, &point)
    }
}

/// The host of an absolute URL, without port or user info; `""` if there is none.
fn host_of(url: &str) -> &str {
    let Some((_, rest)) = url.split_once("://") else {
        return "";
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.split(':').next().unwrap_or(host),
    }
}

/// The path of an absolute URL, without query or fragment.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |at| &rest[at..]);
    path.split(['?', '#']).next().unwrap_or(path)
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
