//! Where ftprobe keeps things outside the project: its cache and the
//! interpreters `scripts/provision-pythons` builds. Environment variables win.

use std::env;
use std::path::PathBuf;

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
