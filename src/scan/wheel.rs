//! Reading extension members out of a wheel: never extracted to disk, never
//! read whole into memory (members are read in place from the file), and
//! hostile archives refused before any inflation: unsafe names, entries whose
//! data overlap (one stream listed ten thousand times), members that claim or
//! inflate beyond their limits, and members that do not start like a binary.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
#[cfg(unix)]
use std::os::unix::fs::FileExt;
#[cfg(windows)]
use std::os::windows::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use zip::ZipArchive;

use crate::input::{self, InputError};

/// Why a wheel or one of its members could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WheelError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("not a readable zip archive ({0}); the wheel is corrupt or truncated, download it again")]
    Zip(String),
    #[error(
        "member `{0}` has an unsafe name (absolute or with `..`); the wheel is malformed and must not be installed"
    )]
    UnsafeName(String),
    #[error(
        "entries overlap: several members share the same compressed bytes (a zip bomb or a corrupt wheel); real wheels never do this"
    )]
    Overlapping,
    #[error(
        "its binaries would inflate to {total} bytes, over {limit} bytes allowed for a {size}-byte wheel: a zip bomb or a corrupt wheel"
    )]
    InflatesTooMuch { total: u64, limit: u64, size: u64 },
    #[error("member `{name}` claims {claimed} bytes uncompressed, over the {limit}-byte limit (--max-member-size)")]
    ClaimsTooMuch { name: String, claimed: u64, limit: u64 },
    #[error(
        "member `{name}` inflates beyond the size its header declares ({claimed} bytes): a zip bomb or a corrupt wheel"
    )]
    LiesAboutSize { name: String, claimed: u64 },
    #[error("member `{name}` is not in a binary format ftprobe reads (ELF, PE or Mach-O)")]
    NotBinary { name: String },
    #[error("member `{name}` could not be inflated: {reason}")]
    Inflate { name: String, reason: String },
    #[error("`{name}` is not valid UTF-8 text")]
    NotText { name: String },
}

/// The most a wheel's binaries may inflate to: this many times the wheel's
/// size, or [`INFLATE_FLOOR`] for small wheels. Real wheels inflate 2-4 times.
const INFLATE_RATIO: u64 = 64;
const INFLATE_FLOOR: u64 = 256 << 20;

/// The largest `*.dist-info` text file read (METADATA, WHEEL).
pub const DIST_INFO_LIMIT: u64 = 16 << 20;

/// Bytes read at positions, from any thread: a file (`pread`), or a wheel
/// on an index read through HTTP ranges (`index::remote::FetchedFile`).
pub trait PositionedRead: Send + Sync + std::fmt::Debug {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl PositionedRead for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        #[cfg(unix)]
        let n = FileExt::read_at(self, buf, offset)?;
        // Positional as well: no shared cursor between the readers of one file.
        #[cfg(windows)]
        let n = self.seek_read(buf, offset)?;
        Ok(n)
    }
}

/// A cursor of its own over a shared positioned source, so that every
/// thread reads one wheel without sharing a position.
#[derive(Clone, Debug)]
pub struct FileReader {
    source: Arc<dyn PositionedRead>,
    position: u64,
    len: u64,
}

impl FileReader {
    /// A cursor at the start of `source`, which is `len` bytes long.
    pub fn new(source: Arc<dyn PositionedRead>, len: u64) -> FileReader {
        FileReader { source, position: 0, len }
    }
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(buf, self.position)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for FileReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.position)
    }
}

pub type Archive = ZipArchive<FileReader>;

/// An opened, checked wheel.
pub struct Wheel {
    archive: Archive,
    size: u64,
    /// The directory lists a member name more than once.
    pub duplicate_names: bool,
}

/// Who checks that no two members share compressed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlaps {
    /// The wheel reader, from every local header.
    Check,
    /// The source did, as it fetched the members it holds.
    CheckedBySource,
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

impl Wheel {
    /// Opens the wheel at `path` and checks its directory: names, overlaps, duplicates.
    pub fn open(path: &Path) -> Result<Wheel, WheelError> {
        let (file, size) = input::open_regular(path)?;
        Wheel::from_source(Arc::new(file), size, Overlaps::Check)
    }

    /// A wheel read from `source` (`len` bytes), with its directory checked
    /// the same way. A source that holds only some members (a wheel read by
    /// ranges) cannot show every local header: its reader checked overlaps
    /// as it fetched, and says [`Overlaps::CheckedBySource`].
    pub fn from_source(source: Arc<dyn PositionedRead>, len: u64, overlaps: Overlaps) -> Result<Wheel, WheelError> {
        let reader = FileReader::new(source, len);
        let mut archive = ZipArchive::new(reader).map_err(|e| WheelError::Zip(e.to_string()))?;
        let names = member_names(&archive)?;
        if let Some(bad) = names.iter().find(|n| !is_safe_name(n)) {
            return Err(WheelError::UnsafeName(bad.clone()));
        }
        if overlaps == Overlaps::Check
            && archive.has_overlapping_entries().map_err(|e| WheelError::Zip(e.to_string()))?
        {
            return Err(WheelError::Overlapping);
        }
        let duplicate_names = archive.has_duplicate_names();
        Ok(Wheel { archive, size: len, duplicate_names })
    }

    /// A reader for one thread (the directory is shared, not parsed again).
    pub fn archive(&self) -> Archive {
        self.archive.clone()
    }

    /// The members that hold binaries, sorted, after checking that together
    /// they do not inflate to more than a real wheel would (members over
    /// `member_limit` are not counted: they are refused one by one).
    pub fn binary_members(&self, member_limit: u64) -> Result<Vec<String>, WheelError> {
        let (mut binaries, mut total) = (Vec::new(), 0u64);
        let metadata = self.archive.metadata();
        for index in 0..self.archive.len() {
            let entry = metadata.entry(index).map_err(|e| WheelError::Zip(e.to_string()))?;
            let name = entry.name().map_err(|e| WheelError::Zip(e.to_string()))?;
            if !is_binary_member(&name) {
                continue;
            }
            if entry.size() <= member_limit {
                total = total.saturating_add(entry.size());
            }
            binaries.push(name.into_owned());
        }
        binaries.sort();
        let limit = self.size.saturating_mul(INFLATE_RATIO).max(INFLATE_FLOOR);
        if total > limit {
            return Err(WheelError::InflatesTooMuch { total, limit, size: self.size });
        }
        Ok(binaries)
    }

    /// Every member's name, in directory order.
    pub fn member_names(&self) -> Result<Vec<String>, WheelError> {
        member_names(&self.archive)
    }

    /// The text of the `*.dist-info/<file>` member (WHEEL, METADATA); None when absent.
    pub fn dist_info_file(&self, file: &str) -> Result<Option<String>, WheelError> {
        let wanted = format!("/{file}");
        let Some(name) = member_names(&self.archive)?.into_iter().find(|n| {
            n.split('/').count() == 2
                && n.split('/').next().is_some_and(|d| d.ends_with(".dist-info"))
                && n.ends_with(&wanted)
        }) else {
            return Ok(None);
        };
        let mut archive = self.archive();
        let data = read_member(&mut archive, &name, DIST_INFO_LIMIT, false)?;
        String::from_utf8(data).map(Some).map_err(|_| WheelError::NotText { name })
    }

    /// The importable top-level names: top-level packages and modules (not
    /// `*.dist-info`, `*.data` or vendored `*.libs`).
    pub fn top_level_names(&self) -> Result<Vec<String>, WheelError> {
        let mut names: Vec<String> = member_names(&self.archive)?
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
}

fn member_names(archive: &Archive) -> Result<Vec<String>, WheelError> {
    archive.file_names().map(|n| n.map(|n| n.into_owned()).map_err(|e| WheelError::Zip(e.to_string()))).collect()
}

/// The uncompressed size a member's header claims.
pub fn claimed_size(archive: &Archive, name: &str) -> u64 {
    let metadata = archive.metadata();
    archive.index_for_name(name).and_then(|i| metadata.entry(i).ok().map(|e| e.size())).unwrap_or(0)
}

/// Inflates one member, refusing more than `limit` bytes or more than its
/// header claims. With `binary`, the first bytes are checked to be an ELF,
/// PE or Mach-O header before the rest is inflated.
pub fn read_member(archive: &mut Archive, name: &str, limit: u64, binary: bool) -> Result<Vec<u8>, WheelError> {
    let inflate = |e: &dyn std::fmt::Display| WheelError::Inflate { name: name.into(), reason: e.to_string() };
    // What the directory claims is refused before the member's own header
    // is read (a source read by ranges never fetches a member that large).
    let listed = claimed_size(archive, name);
    if listed > limit {
        return Err(WheelError::ClaimsTooMuch { name: name.into(), claimed: listed, limit });
    }
    let file = archive.by_name(name).map_err(|e| inflate(&e))?;
    let claimed = file.size();
    if claimed > limit {
        return Err(WheelError::ClaimsTooMuch { name: name.into(), claimed, limit });
    }
    // The allocation follows what is really inflated, not what the header claims.
    let mut data = Vec::with_capacity(claimed.min(1 << 20) as usize);
    let mut reader = file.take(claimed + 1);
    if binary {
        (&mut reader).take(4).read_to_end(&mut data).map_err(|e| inflate(&e))?;
        if !crate::binscan::starts_like_binary(&data) {
            return Err(WheelError::NotBinary { name: name.into() });
        }
    }
    reader.read_to_end(&mut data).map_err(|e| inflate(&e))?;
    if data.len() as u64 > claimed {
        return Err(WheelError::LiesAboutSize { name: name.into(), claimed });
    }
    Ok(data)
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
