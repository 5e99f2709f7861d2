//! Text for people: ANSI colours only when the stream is a terminal and `NO_COLOR` is unset
//! (or when the capturing caller says so, see [`crate::console::colored`]).

use crate::console::{colored, Stream};

/// Paints text for stdout (or stderr, with [`Paint::stderr`]).
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    color: bool,
}

impl Paint {
    /// Colours when stdout may be coloured.
    pub fn stdout() -> Paint {
        Paint {
            color: colored(Stream::Out),
        }
    }

    /// Colours when stderr may be coloured.
    pub fn stderr() -> Paint {
        Paint {
            color: colored(Stream::Err),
        }
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Errors and failures.
    pub fn red(&self, text: &str) -> String {
        self.wrap("1;31", text)
    }

    /// Warnings.
    pub fn yellow(&self, text: &str) -> String {
        self.wrap("1;33", text)
    }

    /// Success.
    pub fn green(&self, text: &str) -> String {
        self.wrap("1;32", text)
    }

    /// Names: rule ids, URLs.
    pub fn cyan(&self, text: &str) -> String {
        self.wrap("36", text)
    }

    /// Emphasis.
    pub fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }

    /// Secondary detail: hints, pointers.
    pub fn dim(&self, text: &str) -> String {
        self.wrap("2", text)
    }
}

/// `1 rule`, `2 rules`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Prints a JSON value, pretty, followed by a newline.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value always serialises")
    );
}
