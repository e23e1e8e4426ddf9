//! Checking fetched bytes before anything reads them: the whole file against
//! the sha256 the index (or lock file) gives, or, when only parts were
//! fetched, every member that will be read against the wheel's RECORD.

use std::collections::HashSet;
use std::io::Read;

use zip::ZipArchive;

use super::layout::{Layout, Member};
use super::record::Record;
use super::view::FetchedFile;
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

/// Each of `members` inflates to the bytes RECORD lists for it (digest and
/// size), and RECORD lists no member the caller wants that the directory
/// lacks. Returns how many members were checked.
pub fn against_record(
    file: &FetchedFile,
    layout: &Layout,
    record: &Member,
    members: &[String],
    wanted: &dyn Fn(&str) -> bool,
    url: &str,
) -> Result<usize, IndexError> {
    let bad_zip = |e: &dyn std::fmt::Display| IndexError::BadZip { url: url.into(), reason: e.to_string() };
    let bad_record = |reason: String| IndexError::BadRecord { url: url.into(), reason };
    let mut archive = ZipArchive::new(file.reader()).map_err(|e| bad_zip(&e))?;
    let text = {
        let entry = archive.by_name(&record.name).map_err(|e| bad_record(e.to_string()))?;
        if entry.size() > DIST_INFO_LIMIT {
            return Err(bad_record(format!("it claims {} bytes", entry.size())));
        }
        let mut text = String::new();
        entry.take(DIST_INFO_LIMIT + 1).read_to_string(&mut text).map_err(|e| bad_record(e.to_string()))?;
        text
    };
    let listed = Record::parse(&text).map_err(bad_record)?;
    let mismatch = |member: &str, reason: String| IndexError::MemberMismatch { url: url.into(), member: member.into(), reason };
    for name in members {
        let entry = listed.get(name).ok_or_else(|| mismatch(name, "is not listed in the wheel's RECORD".into()))?;
        let data = archive.by_name(name).map_err(|e| mismatch(name, format!("cannot be read ({e})")))?;
        let claimed = data.size();
        match entry.check(data.take(claimed.saturating_add(1))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(mismatch(name, why.to_string())),
            Err(e) => return Err(mismatch(name, format!("cannot be read ({e})"))),
        }
    }
    let in_directory: HashSet<&str> = layout.members.iter().map(|m| m.name.as_str()).collect();
    let mut unlisted: Vec<&str> = listed.paths().filter(|p| wanted(p) && !in_directory.contains(p)).collect();
    unlisted.sort_unstable();
    if let Some(first) = unlisted.first() {
        return Err(mismatch(first, "is listed in RECORD but missing from the archive's directory".into()));
    }
    Ok(members.len())
}
