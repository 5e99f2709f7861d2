//! The command line on a JavaScript host.

use edge_redirects_cli::console::{capture, Colors};
use edge_redirects_cli::host::{with_host, Host};
use std::path::Path;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CLI_HOST: &str = r#"
/**
 * Files, stdin and the clock of one `run`: Node's `fs` for the npm CLI, a Map in a page.
 * A failure is thrown as the text `std::io::Error` prints natively, such as
 * `No such file or directory (os error 2)`, so messages match the native CLI's.
 */
export interface CliHost {
  /** A whole file. */
  readFile(path: string): Uint8Array;
  /** All of stdin, as text. */
  readStdin(): string;
  /** Creates or replaces a file. */
  writeFile(path: string, bytes: Uint8Array): void;
  /** Milliseconds since the Unix epoch (`Date.now()`). */
  nowMillis(): number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// The caller's files, stdin and clock (the `CliHost` interface).
    #[wasm_bindgen(typescript_type = "CliHost")]
    pub type CliHost;

    #[wasm_bindgen(method, catch, js_name = readFile)]
    fn read_file(this: &CliHost, path: &str) -> Result<Vec<u8>, JsValue>;

    #[wasm_bindgen(method, catch, js_name = readStdin)]
    fn read_stdin(this: &CliHost) -> Result<String, JsValue>;

    #[wasm_bindgen(method, catch, js_name = writeFile)]
    fn write_file(this: &CliHost, path: &str, bytes: &[u8]) -> Result<(), JsValue>;

    #[wasm_bindgen(method, js_name = nowMillis)]
    fn now_millis(this: &CliHost) -> f64;
}

/// What a thrown value says: its text, or `message` of an `Error`.
fn message(thrown: JsValue) -> String {
    if let Some(text) = thrown.as_string() {
        return text;
    }
    match thrown.dyn_into::<js_sys::Error>() {
        Ok(error) => String::from(error.message()),
        Err(other) => format!("{other:?}"),
    }
}

struct JsHost(CliHost);

impl Host for JsHost {
    fn read(&self, path: &Path) -> Result<Vec<u8>, String> {
        self.0.read_file(&path.to_string_lossy()).map_err(message)
    }

    fn read_stdin(&self) -> Result<String, String> {
        self.0.read_stdin().map_err(message)
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        self.0
            .write_file(&path.to_string_lossy(), bytes)
            .map_err(message)
    }

    fn now_millis(&self) -> f64 {
        self.0.now_millis()
    }
}

/// How a command line ended: its exit code and everything it printed.
#[wasm_bindgen(getter_with_clone)]
pub struct Outcome {
    /// 0 success, 1 findings, 2 usage or I/O error (as the native CLI).
    pub code: u8,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Runs `redirects ARGS...` (the arguments without the program name) with `host`'s files; the
/// output is coloured for a terminal when `color_stdout` / `color_stderr` say so.
#[wasm_bindgen]
pub fn run(args: Vec<String>, host: CliHost, color_stdout: bool, color_stderr: bool) -> Outcome {
    let argv = std::iter::once("redirects".to_string()).chain(args);
    let colors = Colors {
        stdout: color_stdout,
        stderr: color_stderr,
    };
    let (code, text) = with_host(Rc::new(JsHost(host)), || {
        capture(colors, || edge_redirects_cli::cli::run(argv))
    });
    Outcome {
        code,
        stdout: text.stdout,
        stderr: text.stderr,
    }
}
