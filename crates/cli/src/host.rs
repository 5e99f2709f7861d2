//! What the commands need from the machine they run on: files, stdin and a clock.
//!
//! Natively that is the standard library ([`Native`]). The wasm library has no file system of
//! its own: its caller installs a [`Host`] (Node's `fs` for the npm CLI) with [`with_host`].
//! Errors are the texts `std::io::Error` prints (`No such file or directory (os error 2)`), so
//! a message reads the same whichever host produced it.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// Files, stdin and the clock, as the commands use them.
pub trait Host {
    /// A whole file.
    fn read(&self, path: &Path) -> Result<Vec<u8>, String>;
    /// A whole file as UTF-8.
    fn read_text(&self, path: &Path) -> Result<String, String> {
        String::from_utf8(self.read(path)?).map_err(|_| NOT_UTF8.to_string())
    }
    /// All of stdin as UTF-8.
    fn read_stdin(&self) -> Result<String, String>;
    /// Writes (creates or replaces) a file.
    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), String>;
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> f64;
}

/// What `std::io::Read::read_to_string` says of bytes that are not UTF-8.
pub const NOT_UTF8: &str = "stream did not contain valid UTF-8";

/// The standard library's files, stdin and clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

impl Host for Native {
    fn read(&self, path: &Path) -> Result<Vec<u8>, String> {
        std::fs::read(path).map_err(|e| e.to_string())
    }

    fn read_text(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }

    fn read_stdin(&self) -> Result<String, String> {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| e.to_string())?;
        Ok(text)
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), String> {
        std::fs::write(path, bytes).map_err(|e| e.to_string())
    }

    fn now_millis(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

thread_local! {
    static HOST: RefCell<Option<Rc<dyn Host>>> = const { RefCell::new(None) };
}

/// Runs `f` with `host` serving the commands' files and clock.
pub fn with_host<R>(host: Rc<dyn Host>, f: impl FnOnce() -> R) -> R {
    let outer = HOST.with(|h| h.borrow_mut().replace(host));
    let result = f();
    HOST.with(|h| *h.borrow_mut() = outer);
    result
}

/// The host in use: the one installed by [`with_host`], else [`Native`].
pub fn current() -> Rc<dyn Host> {
    HOST.with(|h| h.borrow().clone())
        .unwrap_or_else(|| Rc::new(Native))
}

/// Whether the commands use the standard library's files ([`Native`]: no host installed).
pub fn is_native() -> bool {
    HOST.with(|h| h.borrow().is_none())
}
