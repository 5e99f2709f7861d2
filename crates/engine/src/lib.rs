//! An edge redirect engine: a `rules.json` bundle (format v1) compiled once into an indexed
//! matcher, then every request turned into a [`Decision`] — a redirect answered at the edge,
//! a Post-Redirect-Get through the origin, or a pass to the origin.
//!
//! The engine knows nothing of WebAssembly or Cloudflare Workers: the worker adapter and the
//! `redirects` CLI translate their own request types into a [`Request`] and a [`Decision`] back
//! into a response.
//!
//! ```
//! use edge_redirects::{Decision, Engine, Request};
//!
//! let engine = Engine::compile(r#"{
//!     "version": 1,
//!     "rules": [ { "id": "blog", "from": "/blog/:slug", "to": "/posts/:slug" } ]
//! }"#).unwrap();
//!
//! match engine.evaluate(&Request::get("https://example.com/blog/hello?ref=x")) {
//!     Decision::Redirect(r) => {
//!         assert_eq!(r.status, 308);
//!         assert_eq!(r.location, "https://example.com/posts/hello?ref=x");
//!     }
//!     other => panic!("expected a redirect, got {other:?}"),
//! }
//! ```

pub mod analysis;
mod answer;
pub mod artifact;
pub mod cases;
mod compile;
mod engine;
mod error;
mod evaluate;
mod index;
pub mod limits;
mod model;
mod request;

pub use answer::{Decision, Forward, HeaderChange, Outcome, Passthrough, Response, VARIANT_HEADER};
pub use engine::{Engine, Supply};
pub use error::{pointer_token, CompileError, CompileErrors, ErrorKind};
pub use evaluate::trace::{Explanation, TraceStep, Verdict};
pub use model::condition::{ConditionView, Conditions, GeoField, ValueTest};
pub use model::pattern::{PathRegex, Pattern, Segment, Segments, ShapedPlaceholder};
pub use model::rule::Rule;
pub use model::settings::Settings;
pub use model::split::{Split, Variant};
pub use model::target::placeholder_names;
pub use request::instant::{format_duration, format_instant, parse_instant, InstantError};
pub use request::{random_from_fraction, Geo, Request, RequestBuf};
