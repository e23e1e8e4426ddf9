//! Project pages remembered on disk (the files of a project, as `deps`
//! reads them), so that a second run over the same lock file asks the index
//! nothing: a page is reused for a day, and at any age with `--offline`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::choose::Candidate;
use crate::index::digest::Sha256Digest;

/// How long a remembered page stands for the index.
const FRESH_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// `<cache>/index-pages/<sha256 of the page URL>.json`.
pub struct PageCache {
    dir: PathBuf,
}

impl PageCache {
    pub fn new(cache_dir: &Path) -> Self {
        PageCache { dir: cache_dir.join("index-pages") }
    }

    fn path(&self, url: &str) -> PathBuf {
        self.dir.join(format!("{}.json", Sha256Digest::of(url.as_bytes()).to_hex()))
    }

    /// The remembered files of the page at `url`: fresh ones, or any with `any_age`.
    pub fn get(&self, url: &str, any_age: bool) -> Option<Vec<Candidate>> {
        let path = self.path(url);
        let age = std::fs::metadata(&path).ok()?.modified().ok()?.elapsed().unwrap_or_default();
        if !any_age && age > FRESH_FOR {
            return None;
        }
        let text = crate::input::read_text_limited(&path, 256 << 20, "").ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Remembers a page; a failure to write only costs the next run a request.
    pub fn put(&self, url: &str, files: &[Candidate]) {
        let Ok(text) = serde_json::to_string(files) else { return };
        crate::dirs::write_cache_file(&self.path(url), text.as_bytes());
    }
}

/// When the page was remembered, for tests.
pub fn remembered_at(cache: &PageCache, url: &str) -> Option<SystemTime> {
    std::fs::metadata(cache.path(url)).ok()?.modified().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_remembered_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PageCache::new(dir.path());
        let url = "http://127.0.0.1:1/simple/numpy/";
        assert!(cache.get(url, true).is_none());
        let files = vec![Candidate::named("numpy-2.3.2-cp313-cp313t-manylinux_2_28_x86_64.whl")];
        cache.put(url, &files);
        assert_eq!(cache.get(url, false), Some(files));
        assert!(remembered_at(&cache, url).is_some());
    }
}
