//! Answers remembered across runs, by the sha256 of the file they are
//! about: `<cache>/<kind>/<code digest>/<sha256>`. The code digest
//! (`FTPROBE_CODE_DIGEST`, from build.rs) changes with any change to the
//! sources, so a build that might answer differently never reads another
//! build's answers. A cache that cannot be written only makes runs slower.

use std::path::{Path, PathBuf};

/// One kind of remembered answer.
#[derive(Clone, Debug)]
pub struct Remembered {
    dir: PathBuf,
}

impl Remembered {
    pub fn new(cache_dir: &Path, kind: &str) -> Remembered {
        Remembered { dir: cache_dir.join(kind).join(env!("FTPROBE_CODE_DIGEST")) }
    }

    /// What was remembered about the file with this sha256.
    pub fn get(&self, sha256: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(sha256.to_ascii_lowercase())).ok()
    }

    /// Remembers `text`, whole or not at all.
    pub fn put(&self, sha256: &str, text: &str) {
        crate::dirs::write_cache_file(&self.dir.join(sha256.to_ascii_lowercase()), text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_by_sha256_under_this_builds_code_digest() {
        let dir = tempfile::tempdir().unwrap();
        let remembered = Remembered::new(dir.path(), "wheel-verdicts");
        let sha = "AB".repeat(32);
        assert_eq!(remembered.get(&sha), None);
        remembered.put(&sha, "first");
        remembered.put(&sha, "second");
        assert_eq!(remembered.get(&sha.to_ascii_lowercase()).as_deref(), Some("second"));
        let kept = dir.path().join("wheel-verdicts").join(env!("FTPROBE_CODE_DIGEST")).join("ab".repeat(32));
        assert!(kept.is_file(), "{}", kept.display());
        assert_eq!(env!("FTPROBE_CODE_DIGEST").len(), 16);
        // Another kind is kept apart.
        assert_eq!(Remembered::new(dir.path(), "sdist-kinds").get(&sha), None);
    }
}
