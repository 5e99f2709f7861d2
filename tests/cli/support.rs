//! Running the `redirects` binary from tests, and golden files under `tests/cli/golden/`.
//!
//! `UPDATE_GOLDEN=1 cargo test --test cli_...` rewrites the golden files from the actual output;
//! review the diff before committing it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root (two levels above the CLI crate): every command runs there, so paths
/// in outputs are stable.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

/// The binary under test, run from the crate root without colours.
pub fn redirects() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_redirects"));
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// Runs `args` and returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = redirects().args(args).output().expect("the binary runs");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

/// Compares `actual` with `tests/cli/golden/<name>` (`.json` files as JSON values).
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/cli/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    if name.ends_with(".json") {
        // Compared as JSON values: key order is not part of the contract.
        let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).expect("JSON");
        if parse(&expected) == parse(actual) {
            return;
        }
    }
    assert!(
        expected == actual,
        "output differs from {}\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// A scratch file under the target directory.
pub fn scratch(name: &str, contents: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write scratch file");
    path
}
