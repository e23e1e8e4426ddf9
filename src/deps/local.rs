//! `--find-links DIR`: flat local directories of wheels and sdists that
//! count as one more source of files for every pin, beside the index, as
//! for pip and uv. Each directory is listed once: every regular file whose
//! name is a wheel's (`model::wheel`) or an sdist's (`model::sdist`) is a
//! [`Candidate`] of its project (PEP 503 names) with its path, and other
//! files are ignored. A chosen wheel is scanned in place, from the file
//! (no range reads, no copy into the cache), after its sha256, computed
//! from the same open file, is checked against the lock file's.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::choose::Candidate;
use super::fetch::{FetchFailure, Scanned, ScannedWheel};
use crate::index::digest::Sha256Digest;
use crate::input::{self, InputError};
use crate::model::name::normalize;
use crate::model::sdist::SdistFilename;
use crate::model::wheel::WheelFilename;
use crate::scan::wheel::{Overlaps, Wheel};

/// Why a `--find-links` value cannot be used (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FindLinksError {
    #[error("--find-links {path}: no such directory")]
    Missing { path: String },
    #[error("--find-links {path}: not a directory (it names a flat directory of wheels and sdists)")]
    NotADirectory { path: String },
    #[error("--find-links {path}: cannot be listed: {reason}")]
    Unlistable { path: String, reason: String },
}

/// One directory: its files by PEP 503 name.
struct Directory {
    shown: String,
    /// Named by a lock file (uv.lock's `registry = "../wheels"`), not by --find-links.
    from_lock: bool,
    files: BTreeMap<String, Vec<Candidate>>,
    count: usize,
}

/// The `--find-links` directories, in the order given.
#[derive(Default)]
pub struct FindLinks {
    dirs: Vec<Directory>,
    /// The sha256 of each file hashed so far (None: it could not be read).
    hashes: Mutex<HashMap<PathBuf, Option<String>>>,
}

impl FindLinks {
    /// Lists each directory; one that does not exist, is not a directory
    /// or cannot be listed is an error.
    pub fn open(paths: &[PathBuf]) -> Result<FindLinks, FindLinksError> {
        let dirs = paths.iter().map(|path| list(path)).collect::<Result<Vec<_>, _>>()?;
        Ok(FindLinks { dirs, hashes: Mutex::default() })
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// Adds the flat directories lock files name as their registry (uv
    /// writes `source = { registry = "../wheels" }` for a package found
    /// through its `find-links`, relative to the lock file; a `file://`
    /// URL is absolute). One that does not exist is left out, and the pins
    /// it holds say where to find it.
    pub fn add_lock_directories(&mut self, lock_files: &[(&Path, &str)]) {
        for (lock_file, registry) in lock_files {
            let Some(path) = local_registry(lock_file, registry) else { continue };
            if self.dirs.iter().any(|dir| dir.shown == path.display().to_string()) {
                continue;
            }
            if let Ok(mut dir) = list(&path) {
                dir.from_lock = true;
                self.dirs.push(dir);
            }
        }
    }

    /// Every file of project `name`, any version; where two directories
    /// hold a file of the same name, the first one given.
    pub fn files_of(&self, name: &str) -> Vec<Candidate> {
        let name = normalize(name);
        let mut out: Vec<Candidate> = Vec::new();
        for file in self.dirs.iter().filter_map(|dir| dir.files.get(&name)).flatten() {
            if !out.iter().any(|seen| seen.filename == file.filename) {
                out.push(file.clone());
            }
        }
        out
    }

    /// The file of project `name` called `filename`, if a directory holds it.
    pub fn file_named(&self, name: &str, filename: &str) -> Option<Candidate> {
        self.files_of(name).into_iter().find(|file| file.filename == filename)
    }

    /// `file` (a local one) with its sha256, computed once per file; left
    /// without one when the file cannot be read, so that no pinned hash
    /// matches it.
    pub fn with_sha256(&self, file: Candidate) -> Candidate {
        let Some(path) = file.path.clone() else { return file };
        let mut hashes = self.hashes.lock().unwrap_or_else(PoisonError::into_inner);
        let sha256 = hashes.entry(path).or_insert_with_key(|path| sha256_of(path).ok()).clone();
        Candidate { sha256, ..file }
    }

    /// The note saying which directories were read, when any was given.
    pub fn note(&self) -> Option<String> {
        if self.dirs.is_empty() {
            return None;
        }
        let dirs: Vec<String> = self
            .dirs
            .iter()
            .map(|dir| {
                let files = if dir.count == 1 { "file" } else { "files" };
                let named = if dir.from_lock { ", named by the lock file" } else { "" };
                format!("{} ({} {files}{named})", dir.shown, dir.count)
            })
            .collect();
        Some(format!("--find-links directories used: {}", dirs.join(", ")))
    }
}

/// The folder a lock file's registry names, when it names a local one: a
/// path (relative to the lock file's folder) or a `file://` URL.
pub fn local_registry(lock_file: &Path, registry: &str) -> Option<PathBuf> {
    if let Some(path) = registry.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    if registry.contains("://") {
        return None;
    }
    Some(lock_file.parent().unwrap_or(Path::new(".")).join(registry))
}

/// Lists one directory (not its subdirectories).
fn list(path: &Path) -> Result<Directory, FindLinksError> {
    let shown = path.display().to_string();
    let unlistable = |error: io::Error| FindLinksError::Unlistable { path: shown.clone(), reason: error.to_string() };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(FindLinksError::Missing { path: shown });
        }
        Err(error) => return Err(unlistable(error)),
    };
    if !metadata.is_dir() {
        return Err(FindLinksError::NotADirectory { path: shown });
    }
    let mut files: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut count = 0;
    for entry in std::fs::read_dir(path).map_err(unlistable)? {
        let entry = entry.map_err(unlistable)?;
        let Ok(filename) = entry.file_name().into_string() else { continue };
        let Some(project) = project_of(&filename) else { continue };
        let path = entry.path();
        // Symlinks followed, as pip follows them; anything but a regular file is skipped.
        let Ok(metadata) = std::fs::metadata(&path) else { continue };
        if !metadata.is_file() {
            continue;
        }
        count += 1;
        let file = Candidate { size: Some(metadata.len()), path: Some(path), ..Candidate::named(&filename) };
        files.entry(project).or_default().push(file);
    }
    for list in files.values_mut() {
        list.sort_by(|a, b| a.filename.cmp(&b.filename));
    }
    Ok(Directory { shown, from_lock: false, files, count })
}

/// The PEP 503 name of a wheel or sdist file name; None for other files.
fn project_of(filename: &str) -> Option<String> {
    if filename.ends_with(".whl") {
        return WheelFilename::parse(filename).ok().map(|wheel| wheel.normalized_name());
    }
    SdistFilename::parse(filename).map(|sdist| sdist.normalized_name())
}

fn sha256_of(path: &Path) -> Result<String, InputError> {
    let (file, _) = input::open_regular(path)?;
    let (digest, _) = Sha256Digest::of_reader(&file).map_err(|e| InputError::from_io(path, &e))?;
    Ok(digest.to_hex())
}

/// Scans the local wheel `wheel` at `path` in place: its sha256 is checked
/// first when the lock file pins one (`wheel.sha256`), then the scanner
/// reads its members from the same open file.
pub fn scan(wheel: &Candidate, path: &Path) -> Scanned {
    let (file, size) = input::open_regular(path)?;
    if let Some(locked) = &wheel.sha256 {
        let (digest, _) = Sha256Digest::of_reader(&file).map_err(|e| InputError::from_io(path, &e))?;
        if !digest.to_hex().eq_ignore_ascii_case(locked) {
            return Err(FetchFailure::LocalHashMismatch {
                path: path.display().to_string(),
                found: digest.to_hex(),
                locked: locked.clone(),
            });
        }
    }
    let shown = path.display().to_string();
    let opened = Wheel::from_source(Arc::new(file), size, Overlaps::Check)
        .map_err(|e| FetchFailure::Unreadable { file: shown.clone(), reason: e.to_string() })?;
    let modules = super::fetch::verdicts(&shown, path, &opened)?;
    Ok(ScannedWheel { modules, range_ignored: false })
}

/// The reason of a pin `--no-index` leaves nothing to answer with: `what`
/// names the file or release.
pub fn no_index_reason(what: &str, find_links: &FindLinks) -> String {
    if find_links.is_empty() {
        format!("{what}: --no-index forbids the index, and no --find-links directory was given; add one that holds it")
    } else {
        format!(
            "{what}: not in the --find-links directories, and --no-index forbids the index; \
             add a directory that holds it with --find-links, or drop --no-index"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_lists_wheels_and_sdists_by_project() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "MarkupSafe-3.0.2-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "markupsafe-3.0.2.tar.gz",
            "python_dateutil-2.9.0.post0-py2.py3-none-any.whl",
            "README.txt",
            "broken-.whl",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        std::fs::create_dir(dir.path().join("six-1.17.0-py2.py3-none-any.whl")).unwrap();
        let links = FindLinks::open(&[dir.path().to_path_buf()]).unwrap();
        let markupsafe: Vec<String> = links.files_of("MarkupSafe").into_iter().map(|f| f.filename).collect();
        assert_eq!(markupsafe.len(), 2, "{markupsafe:?}");
        assert!(links.files_of("six").is_empty(), "a directory is not a file");
        let dateutil = links.file_named("python-dateutil", "python_dateutil-2.9.0.post0-py2.py3-none-any.whl").unwrap();
        assert_eq!(dateutil.path.as_deref(), Some(dir.path().join(&dateutil.filename).as_path()));
        assert_eq!(dateutil.size, Some(1));
        let hashed = links.with_sha256(dateutil);
        assert_eq!(hashed.sha256.as_deref(), Some(Sha256Digest::of(b"x").to_hex().as_str()));
        assert!(links.note().unwrap().ends_with("(3 files)"), "{:?}", links.note());
    }

    #[test]
    fn a_path_that_is_no_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let error = FindLinks::open(std::slice::from_ref(&missing)).err().unwrap();
        assert_eq!(error.to_string(), format!("--find-links {}: no such directory", missing.display()));
        let file = dir.path().join("a.whl");
        std::fs::write(&file, b"").unwrap();
        assert!(matches!(FindLinks::open(&[file]), Err(FindLinksError::NotADirectory { .. })));
    }

    #[test]
    fn a_local_file_with_other_bytes_than_locked_is_not_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a-1.0-cp313-cp313t-linux_x86_64.whl");
        std::fs::write(&path, b"not a zip").unwrap();
        let wheel = Candidate { sha256: Some("ab".repeat(32)), path: Some(path.clone()), ..Candidate::named("a") };
        let error = scan(&wheel, &path).unwrap_err();
        assert!(matches!(error, FetchFailure::LocalHashMismatch { .. }), "{error}");
        assert!(error.to_string().starts_with("hash mismatch: "), "{error}");
        let unlocked = Candidate { sha256: None, ..wheel };
        assert!(matches!(scan(&unlocked, &path), Err(FetchFailure::Unreadable { .. })));
    }
}
