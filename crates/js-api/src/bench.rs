//! The engine alone, seen from JavaScript as `Engine`.
//!
//! This is what a JS host such as Node (V8, the engine Workers run) sees when it uses the engine
//! without the worker adapter: compile a bundle once, then evaluate requests given as strings.
//! The benchmark against other redirect engines (`benches/peers`) drives it, so each call crosses
//! the JS↔wasm boundary exactly as an embedding would: the URL goes in as a string, the Location
//! comes back as a string.

use wasm_bindgen::prelude::*;

use edge_redirects::{Decision, Engine, Geo, Request};

/// A compiled rule bundle, seen from JavaScript as `Engine`.
#[wasm_bindgen(js_name = Engine)]
pub struct JsEngine {
    engine: Engine,
    status: u16,
}

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    /// Compiles `rules.json` text; throws with every validation error when it does not compile.
    #[wasm_bindgen(constructor)]
    pub fn new(rules_json: &str) -> Result<JsEngine, JsError> {
        match Engine::compile(rules_json) {
            Ok(engine) => Ok(JsEngine { engine, status: 0 }),
            Err(errors) => Err(JsError::new(&errors.to_string())),
        }
    }

    /// Evaluates one request. Returns the redirect's `Location` (or the Post-Redirect-Get target,
    /// empty when it is the origin's own), or `undefined` when the request goes to the origin.
    /// An empty `country` means the request has no geolocation.
    pub fn evaluate(&mut self, method: &str, url: &str, country: &str) -> Option<String> {
        let request = Request {
            method,
            url,
            headers: &[],
            geo: Geo {
                country: (!country.is_empty()).then_some(country),
                ..Geo::default()
            },
            random: 0,
            now: None,
            ip: None,
        };
        match self.engine.evaluate(&request) {
            Decision::Redirect(response) => {
                self.status = response.status;
                Some(response.location)
            }
            Decision::Forward(forward) => {
                self.status = 303;
                Some(forward.location.unwrap_or_default())
            }
            Decision::Origin(_) => {
                self.status = 0;
                None
            }
        }
    }

    /// The status of the last redirect [`JsEngine::evaluate`] returned; 0 after a pass to the
    /// origin.
    pub fn status(&self) -> u16 {
        self.status
    }
}
