//! Where ftprobe keeps things outside the project: its cache and the
//! interpreters `scripts/provision-pythons` builds. Environment variables win.

use std::env;
use std::path::{Path, PathBuf};

/// `$FTPROBE_CACHE_DIR`, else `$XDG_CACHE_HOME/ftprobe`, else `~/.cache/ftprobe`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = env::var_os("FTPROBE_CACHE_DIR").filter(|v| !v.is_empty()) {
        return Some(dir.into());
    }
    if let Some(dir) = env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("ftprobe"));
    }
    home().map(|h| h.join(".cache").join("ftprobe"))
}

/// Writes a cache file whole or not at all: written beside it, then renamed
/// over it, so a reader never sees half of one. Best effort: a cache that
/// cannot be written only makes the next run slower, so a failure is
/// cleaned up and not reported.
pub fn write_cache_file(path: &Path, bytes: &[u8]) {
    let beside = path.with_extension(format!("partial-{}", std::process::id()));
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&beside, bytes))
        .and_then(|()| std::fs::rename(&beside, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&beside);
    }
}

/// `$FTPROBE_PYTHONS`, else `~/.cache/ftprobe/pythons` (as in `scripts/provision-pythons`).
pub fn provisioned_pythons() -> Option<PathBuf> {
    if let Some(dir) = env::var_os("FTPROBE_PYTHONS").filter(|v| !v.is_empty()) {
        return Some(dir.into());
    }
    home().map(|h| h.join(".cache").join("ftprobe").join("pythons"))
}

pub fn home() -> Option<PathBuf> {
    env::var_os("HOME").filter(|v| !v.is_empty()).map(PathBuf::from)
}
