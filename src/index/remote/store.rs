//! The cache of remote wheels, one folder per wheel named by its sha256:
//! `<cache>/remote-wheels/<sha256>/` holds a sparse copy of the file
//! (`data-<id>`, the fetched bytes at their own offsets) and `manifest.json`,
//! which names that copy and lists the ranges it holds. A session writes a
//! new copy under a temporary name and commits it with two renames, the
//! manifest's last: a reader sees the old manifest and copy or the new ones,
//! never a manifest that promises bytes its copy lacks.

use std::fs::{self, File, OpenOptions};
use std::io;
#[cfg(unix)]
use std::os::unix::fs::FileExt;
#[cfg(windows)]
use std::os::windows::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::ranges::RangeSet;
use super::view::FetchedFile;
use crate::index::digest::Sha256Digest;
use crate::index::error::IndexError;

/// Where remote wheels are cached.
#[derive(Clone, Debug)]
pub struct WheelCache {
    root: PathBuf,
}

/// What a manifest records: what the copy holds and how it was last checked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: u32,
    pub filename: String,
    pub url: String,
    pub size: u64,
    /// The name of the sparse copy in the same folder.
    pub data: String,
    pub present: RangeSet,
    /// `whole-file` or `record` (informative: every use checks again).
    pub verified: String,
}

const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// Temporary files older than this are left-overs of a killed run.
const STALE: Duration = Duration::from_secs(3600);

impl WheelCache {
    /// The cache below `cache_dir` (ftprobe's cache directory).
    pub fn new(cache_dir: &Path) -> Self {
        WheelCache { root: cache_dir.join("remote-wheels") }
    }

    /// The cache below ftprobe's cache directory (`crate::dirs::cache_dir`).
    pub fn in_default_location() -> Option<Self> {
        crate::dirs::cache_dir().map(|dir| WheelCache::new(&dir))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn entry(&self, sha256: &Sha256Digest) -> CacheEntry {
        CacheEntry { dir: self.root.join(sha256.to_hex()) }
    }
}

/// One wheel's folder.
pub(crate) struct CacheEntry {
    dir: PathBuf,
}

/// A sparse copy being written; removed on drop unless committed.
pub(crate) struct NewCopy {
    file: File,
    path: PathBuf,
    committed: bool,
}

impl CacheEntry {
    /// The manifest and an open copy, if a usable one is there. A manifest
    /// that does not parse, or names a missing copy, counts as no cache.
    pub fn load(&self) -> Option<(Manifest, File)> {
        let text = fs::read(self.dir.join(MANIFEST)).ok()?;
        let manifest: Manifest = serde_json::from_slice(&text).ok()?;
        if manifest.format != FORMAT || !is_copy_name(&manifest.data) {
            return None;
        }
        let file = File::open(self.dir.join(&manifest.data)).ok()?;
        Some((manifest, file))
    }

    /// A new, empty sparse copy of `len` bytes.
    pub fn new_copy(&self, len: u64) -> Result<NewCopy, IndexError> {
        fs::create_dir_all(&self.dir).map_err(|e| IndexError::cache(&self.dir, e))?;
        let path = self.dir.join(format!(".tmp-{}", unique()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| IndexError::cache(&path, e))?;
        file.set_len(len).map_err(|e| IndexError::cache(&path, e))?;
        Ok(NewCopy { file, path, committed: false })
    }

    /// Makes `copy` the cached copy, described by `manifest` (whose `data`
    /// is set here), then removes older copies and stale temporary files.
    pub fn commit(&self, mut copy: NewCopy, mut manifest: Manifest) -> Result<(), IndexError> {
        let name = format!("data-{}", unique());
        let final_path = self.dir.join(&name);
        fs::rename(&copy.path, &final_path).map_err(|e| IndexError::cache(&final_path, e))?;
        copy.committed = true;
        manifest.data = name.clone();
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| IndexError::cache(&self.dir, e))?;
        let temp = self.dir.join(format!(".tmp-{}", unique()));
        fs::write(&temp, text).map_err(|e| IndexError::cache(&temp, e))?;
        let target = self.dir.join(MANIFEST);
        if let Err(e) = fs::rename(&temp, &target) {
            let _ = fs::remove_file(&temp);
            return Err(IndexError::cache(&target, e));
        }
        self.tidy(&name);
        Ok(())
    }

    /// Forgets the cached copy (after it failed a check).
    pub fn discard(&self) {
        let _ = fs::remove_file(self.dir.join(MANIFEST));
        self.tidy("");
    }

    /// Removes copies other than `keep` (a reader that has one open keeps
    /// reading it) and temporary files older than [`STALE`].
    fn tidy(&self, keep: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale =
                || entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age > STALE));
            if (is_copy_name(&name) && name != keep) || (name.starts_with(".tmp-") && stale()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

fn is_copy_name(name: &str) -> bool {
    name.strip_prefix("data-")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// A name no other process or thread uses at the same time.
fn unique() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl NewCopy {
    /// Writes `data` at `offset`.
    pub fn write_at(&self, mut data: &[u8], mut offset: u64) -> Result<(), IndexError> {
        while !data.is_empty() {
            #[cfg(unix)]
            let written = self.file.write_at(data, offset);
            #[cfg(windows)]
            let written = self.file.seek_write(data, offset);
            match written {
                Ok(0) => return Err(IndexError::cache(&self.path, "the disk accepted no more bytes")),
                Ok(n) => {
                    data = &data[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(IndexError::cache(&self.path, e)),
            }
        }
        Ok(())
    }

    /// Copies the fetched ranges of `old` (a copy of the same file) in.
    pub fn copy_from(&self, old: &FetchedFile) -> Result<(), IndexError> {
        let mut buffer = vec![0u8; 1 << 20];
        for range in old.present().iter() {
            let mut offset = range.start;
            while offset < range.end {
                let n = buffer.len().min(usize::try_from(range.end - offset).unwrap_or(usize::MAX));
                old.read_exact_at(&mut buffer[..n], offset).map_err(|e| IndexError::cache(&self.path, e))?;
                self.write_at(&buffer[..n], offset)?;
                offset += n as u64;
            }
        }
        Ok(())
    }

    /// Another handle on the copy, for reading.
    pub fn reopen(&self) -> Result<File, IndexError> {
        self.file.try_clone().map_err(|e| IndexError::cache(&self.path, e))
    }
}

impl Drop for NewCopy {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::remote::ranges::ByteRange;

    #[test]
    fn commits_atomically_and_keeps_one_copy() {
        let dir = tempfile::tempdir().unwrap();
        let cache = WheelCache::new(dir.path());
        let entry = cache.entry(&Sha256Digest::of(b"wheel"));
        assert!(entry.load().is_none());
        let manifest = |present: RangeSet| Manifest {
            format: FORMAT,
            filename: "a-1-py3-none-any.whl".into(),
            url: "http://x/a.whl".into(),
            size: 10,
            data: String::new(),
            present,
            verified: "record".into(),
        };
        for round in 0..2u8 {
            let copy = entry.new_copy(10).unwrap();
            copy.write_at(&[round; 4], 6).unwrap();
            entry.commit(copy, manifest(vec![ByteRange::new(6, 10)].into())).unwrap();
        }
        let (loaded, file) = entry.load().unwrap();
        let fetched = FetchedFile::new(file, loaded.size, loaded.present, &loaded.filename);
        assert_eq!(fetched.bytes(ByteRange::new(6, 10)), Some(vec![1; 4]));
        let names: Vec<String> = fs::read_dir(entry.dir.clone())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // A copy dropped before its commit leaves nothing behind.
        drop(entry.new_copy(10).unwrap());
        assert_eq!(fs::read_dir(&entry.dir).unwrap().count(), 2);
        entry.discard();
        assert!(entry.load().is_none());
    }
}
