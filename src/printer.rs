//! The one place that writes to the terminal. Commands hand it text;
//! it decides about colour and where diagnostics go.

use std::io::{self, IsTerminal, Write};

/// Writes results to stdout and diagnostics to stderr.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    color: bool,
}

impl Printer {
    /// Colour only on a terminal and only when `NO_COLOR` is unset.
    pub fn from_env() -> Self {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer { color }
    }

    /// Writes a result to stdout. A closed pipe (`| head`) is not an error.
    pub fn out(&self, text: &str) {
        let mut stdout = io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Writes text to stderr as it is.
    pub fn err(&self, text: &str) {
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }

    /// Writes a one-line diagnostic to stderr.
    pub fn note(&self, text: &str) {
        let _ = writeln!(io::stderr().lock(), "{text}");
    }

    /// `text` in the given ANSI colour when colour is on.
    pub fn paint(&self, text: &str, color: Color) -> String {
        if self.color { format!("\x1b[{}m{text}\x1b[0m", color as u8) } else { text.to_string() }
    }
}

/// ANSI foreground colours used in tables.
#[derive(Clone, Copy, Debug)]
pub enum Color {
    Red = 31,
    Green = 32,
    Yellow = 33,
}
