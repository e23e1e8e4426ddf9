//! Which installed distribution a file belongs to, from the `RECORD` files
//! of the `*.dist-info` folders in a scanned tree (PEP 376/627), and what a
//! file is imported as relative to the folder holding the `.dist-info`.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::model::wheel::WheelFilename;

/// The distribution a file came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub name: String,
    pub version: String,
}

/// The largest RECORD read (real ones are well under a megabyte).
const RECORD_LIMIT: u64 = 16 << 20;

/// `name-version.dist-info` (or a wheel's `name-version-...whl`) as an owner.
pub fn owner_from_name(file_name: &str) -> Option<Owner> {
    if file_name.ends_with(".whl") {
        let wheel = WheelFilename::parse(file_name).ok()?;
        return Some(Owner { name: wheel.name, version: wheel.version });
    }
    let stem = file_name.strip_suffix(".dist-info")?;
    let mut parts = stem.split('-');
    let (name, version) = (parts.next()?, parts.next()?);
    (!name.is_empty() && !version.is_empty()).then(|| Owner { name: name.to_string(), version: version.to_string() })
}

/// Removes `.` and `a/..` from a path without touching the disk.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Every file listed in the given RECORD files, mapped to its distribution
/// and to the folder its import name is relative to (the `.dist-info`'s parent).
pub fn owners(records: &[PathBuf]) -> HashMap<PathBuf, (Owner, PathBuf)> {
    let mut out = HashMap::new();
    for record in records {
        let Some(dist_info) = record.parent() else { continue };
        let Some(owner) = dist_info.file_name().and_then(|n| owner_from_name(&n.to_string_lossy())) else { continue };
        let Some(root) = dist_info.parent() else { continue };
        let Ok(text) = crate::input::read_text_limited(record, RECORD_LIMIT, "") else { continue };
        for line in text.lines() {
            // path,hash,size; a path with a comma is quoted (csv).
            let path = match line.strip_prefix('"') {
                Some(rest) => rest.split('"').next().unwrap_or_default(),
                None => line.split(',').next().unwrap_or_default(),
            };
            if crate::scan::wheel::is_binary_member(path) {
                out.insert(normalise(&root.join(path)), (owner.clone(), root.to_path_buf()));
            }
        }
    }
    out
}

/// The dotted import name of `file` below `root`, or None when it is not below it.
pub fn import_name(root: &Path, file: &Path) -> Option<String> {
    let relative = normalise(file).strip_prefix(normalise(root)).ok()?.to_string_lossy().replace('\\', "/");
    Some(crate::scan::dotted_module(&relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_owners_from_folder_and_wheel_names() {
        let owner = |name: &str, version: &str| Some(Owner { name: name.into(), version: version.into() });
        assert_eq!(owner_from_name("google_crc32c-1.7.1.dist-info"), owner("google_crc32c", "1.7.1"));
        assert_eq!(owner_from_name("numpy-2.4.6-cp313-cp313t-manylinux_2_28_x86_64.whl"), owner("numpy", "2.4.6"));
        assert_eq!(owner_from_name("stray.dist-info"), None);
    }

    #[test]
    fn maps_record_entries_and_import_names() {
        let dir = tempfile::tempdir().unwrap();
        let dist_info = dir.path().join("google_crc32c-1.7.1.dist-info");
        std::fs::create_dir(&dist_info).unwrap();
        std::fs::write(
            dist_info.join("RECORD"),
            "google_crc32c/__init__.py,sha256=x,10\ngoogle_crc32c/_crc32c.cpython-313t-x86_64-linux-gnu.so,sha256=y,20\n\"odd,name.so\",,\n",
        )
        .unwrap();
        let map = owners(&[dist_info.join("RECORD")]);
        let so = dir.path().join("google_crc32c/_crc32c.cpython-313t-x86_64-linux-gnu.so");
        assert_eq!(map[&so].0.name, "google_crc32c");
        assert!(map.contains_key(&dir.path().join("odd,name.so")));
        assert_eq!(map.len(), 2);
        assert_eq!(import_name(dir.path(), &so).as_deref(), Some("google_crc32c._crc32c"));
    }
}
