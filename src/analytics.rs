//! Hit analytics on Workers Analytics Engine: when a dataset is bound as [`BINDING`], one data
//! point per request a rule decided and one per passthrough the origin answered 404.
//!
//! Data points are laid out as [`edge_redirects_publish::analytics`] says (the layout
//! `redirects stats` and the README's SQL read).
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
use edge_redirects_publish::analytics::Point;

/// Name of the optional Analytics Engine dataset binding.
pub const BINDING: &str = "REDIRECT_ANALYTICS";

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
        let Some(point) = Point::of(decision, status, url, referrer, country) else {
            return;
        };
        let [b1, b2, b3, b4, b5, b6] = point.blobs;
        if let Err(e) = write_point(&self.0, b1, b2, b3, b4, b5, b6, point.status, point.index) {
            if !FAILURE_LOGGED.with(|logged| logged.replace(true)) {
                console_error!(
                    "{BINDING}.writeDataPoint failed ({}); answers are unaffected (logged once per isolate)",
                    crate::describe(&e)
                );
            }
        }
    }
}
