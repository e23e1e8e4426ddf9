//! Reading TOML lock files with positions: a malformed file is a
//! `path:line:column` error from `toml`'s span, and markers and dependency
//! strings that do not parse point into the string that holds them.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;

use super::markers::Marker;
use super::requirement::{self, Requirement};
use super::{Location, LockError, line_column};

/// One TOML file being read: its path and text.
#[derive(Clone, Copy)]
pub(crate) struct TomlSource<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl<'a> TomlSource<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> TomlSource<'a> {
        TomlSource { path, text }
    }

    /// Deserializes the whole file.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, LockError> {
        toml::from_str(self.text).map_err(|error| {
            let (line, column) = line_column(self.text, error.span().map_or(0, |span| span.start));
            LockError::malformed(self.path, line, column, error.message())
        })
    }

    /// Where byte `offset` is, in file 0 (the lock file).
    pub fn location(&self, offset: usize) -> Location {
        let (line, column) = line_column(self.text, offset);
        Location { file: 0, line, column }
    }

    /// An error at byte `offset`.
    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> LockError {
        let (line, column) = line_column(self.text, offset);
        LockError::malformed(self.path, line, column, message)
    }

    /// Parses a marker held in a TOML string.
    pub fn marker(&self, spanned: &Spanned<String>) -> Result<Marker, LockError> {
        Marker::parse(spanned.get_ref()).map_err(|problem| {
            let offset = self.offset_in_string(spanned, problem.column);
            self.error_at(offset, format!("bad environment marker `{}`: {}", problem.text, problem.message))
        })
    }

    /// Parses markers, `None` for a missing one.
    pub fn optional_marker(&self, spanned: Option<&Spanned<String>>) -> Result<Option<Marker>, LockError> {
        spanned.map(|spanned| self.marker(spanned)).transpose()
    }

    /// Parses a list of markers as one that holds where any of them does
    /// (uv's `resolution-markers` and `supported-markers`, pylock's
    /// `environments`); `None` for an empty list.
    pub fn any_marker(&self, listed: &[Spanned<String>]) -> Result<Option<Marker>, LockError> {
        let markers = listed.iter().map(|spanned| self.marker(spanned)).collect::<Result<Vec<_>, _>>()?;
        Ok(Marker::any_of(markers))
    }

    /// Parses a PEP 508 dependency specifier held in a TOML string.
    pub fn requirement(&self, spanned: &Spanned<String>) -> Result<Requirement, LockError> {
        requirement::parse(spanned.get_ref()).map_err(|problem| {
            let offset = self.offset_in_string(spanned, problem.column);
            self.error_at(offset, format!("bad dependency `{}`: {}", spanned.get_ref(), problem.message))
        })
    }

    /// The byte offset in the file of 1-based character `column` of a
    /// string value (exact for strings without escapes).
    fn offset_in_string(&self, spanned: &Spanned<String>, column: usize) -> usize {
        let value = spanned.get_ref();
        let inner: usize = value.chars().take(column.saturating_sub(1)).map(char::len_utf8).sum();
        let quote_width =
            if self.text[spanned.span()].starts_with("\"\"\"") || self.text[spanned.span()].starts_with("'''") {
                3
            } else {
                1
            };
        spanned.span().start + quote_width + inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Holder {
        marker: Spanned<String>,
    }

    #[test]
    fn malformed_toml_names_line_and_column() {
        let source = TomlSource::new(Path::new("uv.lock"), "version = 1\n[[package]]\nname = \n");
        let error = source.parse::<toml::Table>().unwrap_err().to_string();
        assert!(error.starts_with("uv.lock:3:"), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn bad_markers_point_into_their_string() {
        let text = "\n\nmarker = \"python_version >= '3.8' and\"\n";
        let source = TomlSource::new(Path::new("x.lock"), text);
        let holder: Holder = source.parse().unwrap();
        let error = source.marker(&holder.marker).unwrap_err().to_string();
        assert!(error.starts_with("x.lock:3:38: bad environment marker"), "{error}");
    }
}
