//! Reading extension members out of a wheel in memory: never extracted to
//! disk, every member's inflated size capped, member names checked.

use std::io::{Cursor, Read};

use zip::ZipArchive;

/// Why a wheel or one of its members could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WheelError {
    #[error("not a readable zip archive ({0}); the wheel is corrupt or truncated, download it again")]
    Zip(String),
    #[error(
        "member `{0}` has an unsafe name (absolute or with `..`); the wheel is malformed and must not be installed"
    )]
    UnsafeName(String),
    #[error("member `{name}` claims {claimed} bytes uncompressed, over the {limit}-byte limit (--max-member-size)")]
    ClaimsTooMuch { name: String, claimed: u64, limit: u64 },
    #[error(
        "member `{name}` inflates beyond the size its header declares ({claimed} bytes): a zip bomb or a corrupt wheel"
    )]
    LiesAboutSize { name: String, claimed: u64 },
    #[error("member `{name}` could not be inflated: {reason}")]
    Inflate { name: String, reason: String },
}

/// Whether a member name is a compiled module or library worth scanning.
pub fn is_binary_member(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.ends_with(".so") || base.ends_with(".pyd") || base.ends_with(".dylib") || base.contains(".so.")
}

fn is_safe_name(name: &str) -> bool {
    !name.starts_with('/')
        && !name.starts_with('\\')
        && !name.contains(':')
        && !name.split(['/', '\\']).any(|p| p == "..")
}

/// The wheel's member names that hold binaries, after checking every name is safe.
pub fn binary_members(wheel: &[u8]) -> Result<Vec<String>, WheelError> {
    let archive = ZipArchive::new(Cursor::new(wheel)).map_err(|e| WheelError::Zip(e.to_string()))?;
    let names = member_names(&archive)?;
    if let Some(bad) = names.iter().find(|n| !is_safe_name(n)) {
        return Err(WheelError::UnsafeName(bad.clone()));
    }
    let mut binaries: Vec<String> = names.into_iter().filter(|n| is_binary_member(n)).collect();
    binaries.sort();
    Ok(binaries)
}

fn member_names(archive: &ZipArchive<Cursor<&[u8]>>) -> Result<Vec<String>, WheelError> {
    archive.file_names().map(|n| n.map(|n| n.into_owned()).map_err(|e| WheelError::Zip(e.to_string()))).collect()
}

/// Inflates one member, refusing more than `limit` bytes or more than its header claims.
pub fn read_member(archive: &mut ZipArchive<Cursor<&[u8]>>, name: &str, limit: u64) -> Result<Vec<u8>, WheelError> {
    let inflate = |e: zip::result::ZipError| WheelError::Inflate { name: name.into(), reason: e.to_string() };
    let file = archive.by_name(name).map_err(inflate)?;
    let claimed = file.size();
    if claimed > limit {
        return Err(WheelError::ClaimsTooMuch { name: name.into(), claimed, limit });
    }
    let mut data = Vec::with_capacity(claimed as usize);
    let read = file
        .take(claimed + 1)
        .read_to_end(&mut data)
        .map_err(|e| WheelError::Inflate { name: name.into(), reason: e.to_string() })?;
    if read as u64 > claimed {
        return Err(WheelError::LiesAboutSize { name: name.into(), claimed });
    }
    Ok(data)
}

/// A reader of `wheel`'s members (one per worker thread).
pub fn open(wheel: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, WheelError> {
    ZipArchive::new(Cursor::new(wheel)).map_err(|e| WheelError::Zip(e.to_string()))
}

/// The text of the `*.dist-info/<file>` member (WHEEL, METADATA), if present and small.
pub fn dist_info_file(wheel: &[u8], file: &str) -> Option<String> {
    let mut archive = open(wheel).ok()?;
    let wanted = format!("/{file}");
    let name = member_names(&archive).ok()?.into_iter().find(|n| {
        n.split('/').count() == 2
            && n.split('/').next().is_some_and(|d| d.ends_with(".dist-info"))
            && n.ends_with(&wanted)
    })?;
    let data = read_member(&mut archive, &name, 16 << 20).ok()?;
    String::from_utf8(data).ok()
}

/// The importable top-level names of a wheel: its top-level packages and
/// modules (not `*.dist-info` or `*.data`).
pub fn top_level_names(wheel: &[u8]) -> Result<Vec<String>, WheelError> {
    let archive = open(wheel)?;
    let mut names: Vec<String> = member_names(&archive)?
        .iter()
        .filter_map(|member| {
            let (first, rest) = member.split_once('/').unwrap_or((member, ""));
            if first.ends_with(".dist-info") || first.ends_with(".data") {
                return None;
            }
            if !rest.is_empty() {
                return Some(first.to_string());
            }
            let module = first.split('.').next()?;
            let importable = first.ends_with(".py") || is_binary_member(first);
            importable.then(|| module.to_string())
        })
        .filter(|name| !name.is_empty() && !name.ends_with(".libs"))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_binary_members() {
        assert!(is_binary_member("numpy/_core/_multiarray_umath.cpython-313t-x86_64-linux-gnu.so"));
        assert!(is_binary_member("numpy.libs/libscipy_openblas64_-ff651d7f.so"));
        assert!(is_binary_member("pkg/_ext.cp313t-win_amd64.pyd"));
        assert!(is_binary_member("pkg/.dylibs/libomp.dylib"));
        assert!(is_binary_member("foo.libs/libgfortran-040039e1.so.5.0.0"));
        assert!(!is_binary_member("pkg/__init__.py"));
        assert!(!is_binary_member("pkg/data.solution"));
    }

    #[test]
    fn refuses_escaping_names() {
        for bad in ["../evil.so", "a/../../evil.so", "/etc/evil.so", "C:\\evil.pyd", "a\\..\\b.so"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
        assert!(is_safe_name("pkg/sub/_x.so"));
    }
}
