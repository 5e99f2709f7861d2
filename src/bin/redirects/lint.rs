//! `redirects lint`.

use crate::bundle::CmdResult;
use std::path::Path;

/// Runs the command.
pub fn run(_path: &Path, _as_json: bool, _deny_warnings: bool) -> CmdResult {
    Err("lint is not available yet".into())
}
