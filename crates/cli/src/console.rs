//! Where the commands' text goes: the process's stdout and stderr natively, or two strings when
//! a caller captures them ([`capture`]: the wasm library, which has no process streams).
//!
//! The crate's `print!`, `println!`, `eprint!` and `eprintln!` are the macros below, which
//! shadow the standard ones in every module declared after this one (lib.rs declares it first):
//! each command writes as it always did, and the same text reaches a terminal or a string.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write as _};

/// The two streams of a captured run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

/// Whether a captured stream may carry ANSI colours (the caller knows its terminal).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Colors {
    /// Colour stdout.
    pub stdout: bool,
    /// Colour stderr.
    pub stderr: bool,
}

struct Capture {
    text: Captured,
    colors: Colors,
}

thread_local! {
    static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

/// One of the two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output: the command's result.
    Out,
    /// Standard error: diagnostics.
    Err,
}

/// Runs `f` with everything the commands print kept in strings instead of written out.
pub fn capture<R>(colors: Colors, f: impl FnOnce() -> R) -> (R, Captured) {
    let outer = CAPTURE.with(|c| {
        c.borrow_mut().replace(Capture {
            text: Captured::default(),
            colors,
        })
    });
    let result = f();
    let inner = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (result, inner.map(|c| c.text).unwrap_or_default())
}

/// Writes formatted text to a stream (what the macros expand to).
pub fn write(stream: Stream, args: fmt::Arguments<'_>) {
    let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(capture) => {
            let text = match stream {
                Stream::Out => &mut capture.text.stdout,
                Stream::Err => &mut capture.text.stderr,
            };
            let _ = text.write_fmt(args);
            true
        }
        None => false,
    });
    if captured {
        return;
    }
    // As the standard macros: a failed write to a process stream is a panic.
    match stream {
        Stream::Out => std::io::stdout()
            .write_fmt(args)
            .expect("failed printing to stdout"),
        Stream::Err => std::io::stderr()
            .write_fmt(args)
            .expect("failed printing to stderr"),
    }
}

/// Whether text for `stream` may be coloured: the capturer's choice, else a terminal with
/// `NO_COLOR` unset or empty.
pub fn colored(stream: Stream) -> bool {
    let chosen = CAPTURE.with(|c| {
        c.borrow().as_ref().map(|capture| match stream {
            Stream::Out => capture.colors.stdout,
            Stream::Err => capture.colors.stderr,
        })
    });
    chosen.unwrap_or_else(|| {
        let terminal = match stream {
            Stream::Out => std::io::stdout().is_terminal(),
            Stream::Err => std::io::stderr().is_terminal(),
        };
        terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    })
}

/// `print!` to the current stdout (see the module).
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::console::write($crate::console::Stream::Out, format_args!($($arg)*))
    };
}

/// `println!` to the current stdout (see the module).
macro_rules! println {
    () => {
        $crate::console::write($crate::console::Stream::Out, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::console::write(
            $crate::console::Stream::Out,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

/// `eprint!` to the current stderr (see the module).
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::console::write($crate::console::Stream::Err, format_args!($($arg)*))
    };
}

/// `eprintln!` to the current stderr (see the module).
macro_rules! eprintln {
    () => {
        $crate::console::write($crate::console::Stream::Err, format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::console::write(
            $crate::console::Stream::Err,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}
