//! The `redirects` CLI as a library: every command, from the arguments to the text it prints
//! and its exit code ([`cli::run`]). The native binary runs it on the process's streams and
//! files; the wasm library for JavaScript runs the same code with the streams captured
//! ([`console::capture`]) and the files served by its caller ([`host::with_host`]), so the npm
//! CLI prints what the native one prints. Talking to Cloudflare (`publish`, `rollback`,
//! `promote`, `stats`) is native only.
//!
//! The modules behind each command are public for the wasm library's structured results
//! (`validate`'s errors, `explain`'s trace, `lint`'s findings as JSON).

// First: its print macros shadow the standard ones in every module below.
#[macro_use]
pub mod console;

pub mod build;
pub mod bundle;
pub mod cli;
mod continents;
pub mod decision_json;
pub mod errors;
pub mod explain;
pub mod host;
pub mod import;
pub mod lint;
pub mod output;
#[cfg(not(target_arch = "wasm32"))]
mod publish;
pub mod request_args;
pub mod schema;
#[cfg(not(target_arch = "wasm32"))]
mod stats;
mod suggest;
pub mod test_cases;
pub mod validate;

/// How a command ended when it ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing to report.
    Ok,
    /// Errors, findings or failed cases were reported.
    Findings,
}
