//! edge-redirects for JavaScript (wasm32 only; natively this crate is empty).
//!
//! Three faces, one wasm file:
//! - [`run`]: the `redirects` command line itself, the code of the native CLI with its output
//!   captured and its files served by the caller (the npm package's `bin` passes Node's `fs`),
//!   so output and exit codes are the native ones;
//! - [`Rules`]: a bundle compiled once, asked for its validation errors, the explanation of a
//!   request and its lint findings as the JSON objects of `validate --json`, `explain --json`
//!   and `lint --json` (the playground page);
//! - `Engine`: the engine alone, for the peer benchmark (`benches/peers`).
//!
//! wasm-bindgen writes the TypeScript declarations (`.d.ts`) from the types below.

#![cfg(target_arch = "wasm32")]

mod bench;
mod command;
mod rules;

pub use bench::JsEngine;
pub use command::{run, CliHost, Outcome};
pub use rules::Rules;
