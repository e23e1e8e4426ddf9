//! Checking fetched bytes before anything reads them: the whole file against
//! the sha256 the index (or lock file) gives, or, when only parts were
//! fetched, every member that will be read against the wheel's RECORD.

use std::collections::HashSet;
use std::io::Read;

use zip::ZipArchive;

use super::layout::{Layout, Member};
use super::record::Record;
use super::view::{FetchedFile, FetchedReader};
use crate::index::digest::Sha256Digest;
use crate::index::error::IndexError;
use crate::scan::wheel::DIST_INFO_LIMIT;

/// Every byte of `file` hashes to `expected`. `hashed` is the digest taken
/// while the whole body arrived, if it did (the bytes are not read twice).
pub fn whole_file(
    file: &FetchedFile,
    expected: &Sha256Digest,
    hashed: Option<Sha256Digest>,
    url: &str,
) -> Result<(), IndexError> {
    let actual = match hashed {
        Some(digest) => digest,
        None => {
            let (digest, read) = Sha256Digest::of_reader(file.reader())
                .map_err(|e| IndexError::BadZip { url: url.into(), reason: format!("the copy cannot be read: {e}") })?;
            if read != file.len() {
                return Err(IndexError::SizeMismatch { url: url.into(), expected: file.len(), actual: read });
            }
            digest
        }
    };
    if &actual != expected {
        return Err(IndexError::HashMismatch { url: url.into(), expected: expected.to_hex(), actual: actual.to_hex() });
    }
    Ok(())
}

/// The wheel's RECORD, read through `archive`.
pub fn read_record(archive: &mut ZipArchive<FetchedReader>, record: &Member, url: &str) -> Result<Record, IndexError> {
    let bad_record = |reason: String| IndexError::BadRecord { url: url.into(), reason };
    let entry = archive.by_name(&record.name).map_err(|e| bad_record(e.to_string()))?;
    if entry.size() > DIST_INFO_LIMIT {
        return Err(bad_record(format!("it claims {} bytes", entry.size())));
    }
    let mut text = String::new();
    entry.take(DIST_INFO_LIMIT + 1).read_to_string(&mut text).map_err(|e| bad_record(e.to_string()))?;
    Record::parse(&text).map_err(|e| bad_record(e.to_string()))
}

/// Each of `members` inflates to the bytes `record` lists for it (digest
/// and size; the zip crate checks the CRC on the way).
pub fn members_against_record(
    archive: &mut ZipArchive<FetchedReader>,
    record: &Record,
    members: &[String],
    url: &str,
) -> Result<(), IndexError> {
    for name in members {
        let mismatch = |reason: String| IndexError::MemberMismatch { url: url.into(), member: name.clone(), reason };
        let entry = record.get(name).ok_or_else(|| mismatch("is not listed in the wheel's RECORD".into()))?;
        let data = archive.by_name(name).map_err(|e| mismatch(format!("cannot be read ({e})")))?;
        let claimed = data.size();
        match entry.check(data.take(claimed.saturating_add(1))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(mismatch(why.to_string())),
            Err(e) => return Err(mismatch(format!("cannot be read ({e})"))),
        }
    }
    Ok(())
}

/// RECORD lists no member the caller wants that the directory lacks (so
/// the directory cannot hide one).
pub fn directory_has_what_record_lists(
    layout: &Layout,
    record: &Record,
    wanted: &dyn Fn(&str) -> bool,
    url: &str,
) -> Result<(), IndexError> {
    let in_directory: HashSet<&str> = layout.members.iter().map(|m| m.name.as_str()).collect();
    let mut unlisted: Vec<&str> = record.paths().filter(|p| wanted(p) && !in_directory.contains(p)).collect();
    unlisted.sort_unstable();
    match unlisted.first() {
        Some(first) => Err(IndexError::MemberMismatch {
            url: url.into(),
            member: first.to_string(),
            reason: "is listed in RECORD but missing from the archive's directory".into(),
        }),
        None => Ok(()),
    }
}
