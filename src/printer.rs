//! The one place that writes to the terminal. Commands hand it text;
//! it decides about colour and where diagnostics go.

use std::io::{self, IsTerminal, Write};

/// Writes results to stdout and diagnostics to stderr.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    color: bool,
}

impl Printer {
    /// No colour, whatever the terminal (tests, files).
    pub fn plain() -> Self {
        Printer { color: false }
    }

    /// Colour only on a terminal and only when `NO_COLOR` is unset.
    pub fn from_env() -> Self {
        let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Printer { color }
    }

    /// Writes a result to stdout. A reader that went away (`| head`) is not
    /// an error; any other failure is (a full disk, a closed stdout), so that
    /// a lost report never looks like a clean run.
    pub fn out(&self, text: &str) -> io::Result<()> {
        if !crate::os::stdout_is_open() {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "standard output is closed"));
        }
        let mut stdout = io::stdout().lock();
        match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Red = 31,
    Green = 32,
    Yellow = 33,
}
