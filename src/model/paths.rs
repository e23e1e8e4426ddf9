//! Paths in machine-readable output. A file name need not be UTF-8, and JSON
//! strings must be: such a path is written lossily (U+FFFD for the bad
//! bytes), with its raw bytes beside it, so no report is ever dropped.

use std::path::Path;

/// Serialises a path as a string, lossily when it is not UTF-8.
pub fn lossy<S: serde::Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

/// Like [`lossy`], for an optional path.
pub fn lossy_option<S: serde::Serializer>(path: &Option<std::path::PathBuf>, serializer: S) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => lossy(path, serializer),
        None => serializer.serialize_none(),
    }
}

/// The raw bytes of `path` when it is not valid UTF-8.
pub fn raw_bytes(path: &Path) -> Option<Vec<u8>> {
    path.to_str().is_none().then(|| path.as_os_str().as_encoded_bytes().to_vec())
}
