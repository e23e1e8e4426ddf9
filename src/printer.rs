//! The one place that writes to the terminal. Commands hand it text;
//! it decides about colour and where diagnostics go.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// `--quiet`: leave out the informational lines on stderr (errors stay).
static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether to colour a stream: `NO_COLOR` (set and not empty) turns colour
/// off, `CLICOLOR_FORCE` (set, not empty and not `0`) turns it on even when
/// the stream is not a terminal; otherwise colour only on a terminal.
pub fn colour_wanted(is_terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    if set("CLICOLOR_FORCE") && std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    is_terminal
}

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

    /// Colour as [`colour_wanted`] says for stdout.
    pub fn from_env() -> Self {
        Printer { color: colour_wanted(io::stdout().is_terminal()) }
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

    /// Writes a one-line diagnostic to stderr (not with `--quiet`).
    pub fn note(&self, text: &str) {
        if !is_quiet() {
            let _ = writeln!(io::stderr().lock(), "{text}");
        }
    }

    /// Writes an error line to stderr, `--quiet` or not.
    pub fn error(&self, text: &str) {
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
