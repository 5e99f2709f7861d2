//! The `redirects` command-line tool: check a rule bundle before it reaches the edge.
//!
//! The commands live in the library (`edge_redirects_cli`), which the wasm build for
//! JavaScript shares; this binary only hands it the arguments and returns its exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(edge_redirects_cli::cli::run(std::env::args_os()))
}
