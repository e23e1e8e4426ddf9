//! The real lock files under `fixtures/lockfiles/`, for the readers' unit tests.

use std::path::PathBuf;

use super::LockedSet;

/// `fixtures/lockfiles/<relative>`.
pub(crate) fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/lockfiles").join(relative)
}

/// The lock file at `fixtures/lockfiles/<relative>`, read as `ftprobe deps` reads it.
pub(crate) fn read(relative: &str) -> LockedSet {
    super::read(&path(relative)).unwrap()
}
