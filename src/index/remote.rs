//! Reading a wheel on an index without downloading all of it: HTTP range
//! requests for the end of the file (the zip's central directory) and for
//! the members the caller wants, verified, cached by the wheel's sha256, and
//! presented as positioned reads ([`FetchedFile`]) for the scanner.
//!
//! # Requests
//!
//! 1. One ranged GET for the last [`zip_end::TAIL`] bytes (64 KiB + 1 KiB),
//!    which also gives the file's length (`Content-Range`). A server that
//!    ignores `Range` answers 200 with the whole file: it is taken as it
//!    streams in, hashed on the way, and [`Transfer::range_ignored`] says so
//!    (the caller prints that once). A wheel of at most that size is
//!    complete after this one request.
//! 2. More of the end only when the central directory (or a zip64 record)
//!    starts before those bytes.
//! 3. The wanted members: each from its local header to the next member's,
//!    so the local header, data and data descriptor come in one piece;
//!    members less than [`FetchOptions::merge_gap`] apart share a request.
//!    When what partial reading would fetch reaches
//!    [`FetchOptions::whole_file_above`] of the file (a wheel that is mostly
//!    its extension module), the rest is fetched too: a few more bytes buy
//!    the stronger check below.
//!
//! # What is verified
//!
//! Nothing fetched is read by a caller before one of these checks passed,
//! on every use, whether the bytes came from the network or from the cache.
//! A failed check is an error for that wheel, never a verdict.
//!
//! - **Whole file** ([`Verified::WholeFile`]): when every byte is at hand
//!   (a small wheel, a server that ignores `Range`, `--verify-full`, or a
//!   wheel that is mostly wanted members), the sha256 of the file must equal
//!   the one the index or lock file gives. This is what pip checks: every
//!   byte is the one the index published.
//! - **Against RECORD** ([`Verified::AgainstRecord`]): otherwise, every
//!   wanted member is inflated and its digest and size must equal its line
//!   in the wheel's `*.dist-info/RECORD` (the zip crate checks each member's
//!   CRC as well); every wanted member must be listed there, and every
//!   RECORD path the caller would want must be in the central directory (so
//!   a directory cannot hide an extension module). The file's length must
//!   equal the `size` the index gives, when it gives one. The caller can
//!   read only the zip's structure (end records, central directory, the
//!   last KiB) and the verified members: bytes fetched with them (the rest
//!   of the tail, gaps merged into a request) stay unreadable, and a member
//!   that lies wholly in the structure's bytes is verified too, unless
//!   RECORD lists it without a digest (RECORD itself, signature files).
//!   Local headers are structure: they decide where a member's data is
//!   read from, and the data read is what was checked. What this does
//!   **not** check: RECORD itself, and the central directory, are not
//!   covered by the index's sha256, which needs every byte. They are trusted
//!   as far as the connection to the file host is (TLS) and that host is.
//!   Corruption in transit or on disk is caught (a member's bytes must match
//!   a digest read from elsewhere in the file); a file host (or mirror, or
//!   proxy) that serves a consistently altered wheel, RECORD rewritten to
//!   match, is caught only by the whole-file check: use `--verify-full` when
//!   that matters.
//!
//! The cache holds only bytes that passed a check (a session writes a new
//! copy and commits it after the check); a cached copy that later fails one
//! is removed and reported as such.
//!
//! # Offline
//!
//! [`Access::Offline`] reads the cache only; whatever else would be fetched
//! is an error naming it (a copy, the central directory, which members).

pub mod layout;
pub mod ranges;
pub mod record;
mod session;
pub mod store;
pub mod verify;
pub mod view;
pub mod zip_end;

use zip::ZipArchive;

use self::layout::{Layout, Member};
use self::ranges::{ByteRange, RangeSet};
use self::session::Session;
pub use self::store::WheelCache;
pub use self::view::{FetchedFile, FetchedReader};
use self::zip_end::{Located, TAIL};
use super::digest::Sha256Digest;
use super::error::IndexError;
use super::http::Client;

/// A wheel on an index, as a lock file or project page pins it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    pub filename: String,
    pub url: String,
    pub sha256: Sha256Digest,
    /// The length the index gives (PEP 700), checked against the server's.
    pub size: Option<u64>,
}

/// Whether the network may be used.
#[derive(Clone, Copy, Debug)]
pub enum Access<'a> {
    Online(&'a Client),
    /// The cache only.
    Offline,
}

/// Limits and choices.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Fetch every byte and check the index's sha256 (`--verify-full`).
    pub verify_full: bool,
    /// Fetch the whole file (and check its sha256) when partial reading would
    /// fetch at least this share of it anyway.
    pub whole_file_above: f64,
    /// Members whose uncompressed size claims more are not fetched (the
    /// scanner refuses them: `--max-member-size`).
    pub max_member_size: u64,
    pub max_file_size: u64,
    pub max_directory_size: u64,
    /// Members less than this many bytes apart are fetched in one request.
    pub merge_gap: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            verify_full: false,
            whole_file_above: 0.6,
            max_member_size: crate::scan::DEFAULT_MAX_MEMBER_SIZE,
            max_file_size: 16 << 30,
            max_directory_size: 64 << 20,
            merge_gap: 32 << 10,
        }
    }
}

/// How the bytes at hand were checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    /// Every byte was fetched and the file's sha256 is the index's.
    WholeFile,
    /// These many members were checked against the wheel's RECORD: the
    /// wanted ones, and any other that lies wholly in the readable bytes.
    AgainstRecord { members: usize },
}

/// What reading one wheel cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfer {
    /// Answers received from the server (retried attempts not counted).
    pub requests: u64,
    pub bytes: u64,
    /// The server ignored `Range` and sent the whole file.
    pub range_ignored: bool,
    /// A cached copy was there to start from.
    pub from_cache: bool,
}

/// A remote wheel, its wanted members fetched and verified.
#[derive(Clone, Debug)]
pub struct RemoteWheel {
    /// The bytes that may be read, for `zip::ZipArchive::new(file.reader())`
    /// or positioned reads: every byte after [`Verified::WholeFile`]; after
    /// [`Verified::AgainstRecord`], the zip's structure and the verified
    /// members only. Reading any other byte is an I/O error.
    pub file: FetchedFile,
    pub verified: Verified,
    /// The wanted members, verified and readable, sorted.
    pub members: Vec<String>,
    /// Wanted members not fetched because they claim more than
    /// [`FetchOptions::max_member_size`].
    pub oversized: Vec<String>,
    pub transfer: Transfer,
}

/// The members `ftprobe scan` reads: compiled modules and libraries.
pub fn scanned_members(name: &str) -> bool {
    crate::scan::wheel::is_binary_member(name)
}

/// Fetches (or finds in `cache`) the central directory of `file` and the
/// members `wanted` accepts, verifies them, and commits what was fetched to
/// the cache.
pub fn open_wheel(
    access: Access<'_>,
    cache: &WheelCache,
    file: &RemoteFile,
    wanted: &dyn Fn(&str) -> bool,
    options: &FetchOptions,
) -> Result<RemoteWheel, IndexError> {
    let mut session = Session::start(access, cache.entry(&file.sha256), file, options);
    match read(&mut session, file, wanted, options) {
        Ok(mut wheel) => {
            let how = match wheel.verified {
                Verified::WholeFile => "whole-file",
                Verified::AgainstRecord { .. } => "record",
            };
            session.commit(how)?;
            wheel.transfer = session.transfer;
            Ok(wheel)
        }
        Err(error) if is_integrity(&error) => {
            session.discard_cache();
            if session.transfer.from_cache && !session.fetched() {
                return Err(IndexError::CacheCorrupt { file: file.filename.clone(), reason: error.to_string() });
            }
            Err(error)
        }
        Err(error) => Err(error),
    }
}

/// Failures that say the bytes are not what they should be.
fn is_integrity(error: &IndexError) -> bool {
    matches!(
        error,
        IndexError::HashMismatch { .. }
            | IndexError::MemberMismatch { .. }
            | IndexError::BadRecord { .. }
            | IndexError::BadZip { .. }
            | IndexError::Overlapping { .. }
            | IndexError::SizeMismatch { .. }
    )
}

fn read(
    session: &mut Session<'_>,
    file: &RemoteFile,
    wanted: &dyn Fn(&str) -> bool,
    options: &FetchOptions,
) -> Result<RemoteWheel, IndexError> {
    let url = file.url.as_str();
    if session.len().is_none() {
        if options.verify_full { session.fetch_whole()? } else { session.fetch_tail()? }
    }
    let len = session.len().unwrap_or(0);
    let tail = ByteRange::new(len.saturating_sub(TAIL), len);
    if !session.present().covers(tail) {
        session.fetch_ranges(&[tail], || "the central directory".into())?;
    }
    let directory = find_directory(session, url, len, tail)?;
    if directory.len() > options.max_directory_size {
        let (size, limit) = (directory.len(), options.max_directory_size);
        return Err(IndexError::TooLarge { url: url.into(), what: "central directory", size, limit });
    }
    let missing = session.present().missing_from(&vec![directory].into());
    session.fetch_ranges(&missing.requests(0), || "the central directory".into())?;

    let view = session.view()?;
    let bad_zip = |reason: String| IndexError::BadZip { url: url.into(), reason };
    let archive = ZipArchive::new(view.reader()).map_err(|e| bad_zip(e.to_string()))?;
    let layout = Layout::read(&archive, len).map_err(|e| bad_zip(e.to_string()))?;
    let record =
        layout.record(&file.filename).map_err(|e| IndexError::BadRecord { url: url.into(), reason: e.to_string() })?;
    let (members, oversized): (Vec<&Member>, Vec<&Member>) = layout
        .members
        .iter()
        .filter(|m| !m.name.ends_with('/') && wanted(&m.name))
        .partition(|m| m.size <= options.max_member_size);
    check_inflation(url, len, &members)?;

    let mut needed: RangeSet = members.iter().chain(record.iter()).map(|m| m.extent).collect::<Vec<_>>().into();
    let mut after = session.present().clone();
    after.extend(&needed);
    let whole = ByteRange::new(0, len);
    // Offline, a copy good enough for reading is not refused for want of the rest.
    let mostly_wanted = session.is_online() && after.total() as f64 >= options.whole_file_above * len as f64;
    if options.verify_full || mostly_wanted {
        needed = vec![whole].into();
    }
    let missing = session.present().missing_from(&needed);
    let describe = || describe_missing(session.present(), &members, record);
    let describe = describe();
    session.fetch_ranges(&missing.requests(options.merge_gap), || describe.clone())?;

    let view = session.view()?;
    if layout.overlapping(&view) {
        return Err(IndexError::Overlapping { url: url.into() });
    }
    let names = sorted_names(&members);
    let (verified, view) = if view.is_complete() {
        verify::whole_file(&view, &file.sha256, session.whole_digest, url)?;
        (Verified::WholeFile, view)
    } else {
        let record = record.ok_or_else(|| IndexError::NoRecord { url: url.into() })?;
        // What the caller may read: the zip's structure (the end records,
        // the directory, and the last KiB, where the zip crate looks for
        // the end record) and the wanted members. Any other member wholly
        // inside that is checked as well; RECORD itself cannot be.
        let mut readable: RangeSet =
            vec![ByteRange::new(directory.start, len), ByteRange::new(len.saturating_sub(1024), len)].into();
        readable.extend(&members.iter().chain([&record]).map(|m| m.extent).collect::<Vec<_>>().into());
        let mut archive = ZipArchive::new(view.reader()).map_err(|e| bad_zip(e.to_string()))?;
        let wanted_names: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let listed = verify::read_record(&mut archive, record, url)?;
        let incidental: Vec<&Member> = layout
            .members
            .iter()
            .filter(|m| !m.name.ends_with('/') && !wanted_names.contains(m.name.as_str()) && m.name != record.name)
            .filter(|m| readable.covers(m.extent) && listed.get(&m.name).is_some_and(|e| e.digest.is_some()))
            .collect();
        verify::members_against_record(&mut archive, &listed, &names, url)?;
        verify::members_against_record(&mut archive, &listed, &sorted_names(&incidental), url)?;
        verify::directory_has_what_record_lists(&layout, &listed, wanted, url)?;
        let checked = names.len() + incidental.len();
        (Verified::AgainstRecord { members: checked }, view.restricted(&readable))
    };
    let oversized = sorted_names(&oversized);
    Ok(RemoteWheel { file: view, verified, members: names, oversized, transfer: Transfer::default() })
}

fn sorted_names(members: &[&Member]) -> Vec<String> {
    let mut names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// Where the central directory is, fetching a zip64 record outside the tail.
fn find_directory(session: &mut Session<'_>, url: &str, len: u64, tail: ByteRange) -> Result<ByteRange, IndexError> {
    // The end record, its zip64 locator, the zip64 record: at most two more fetches.
    for _ in 0..3 {
        let view = session.view()?;
        match zip_end::locate(len, tail, |r| view.bytes(r)) {
            Ok(Located::Directory(directory)) => return Ok(directory),
            Ok(Located::Need(range)) => session.fetch_ranges(&[range], || "the central directory".into())?,
            Err(reason) => return Err(IndexError::BadZip { url: url.into(), reason: reason.to_string() }),
        }
    }
    Err(IndexError::BadZip { url: url.into(), reason: "its zip64 end records point at each other".into() })
}

/// The check `scan::wheel` makes before it inflates anything, made before
/// the members are inflated here to be verified.
fn check_inflation(url: &str, len: u64, members: &[&Member]) -> Result<(), IndexError> {
    const RATIO: u64 = 64;
    const FLOOR: u64 = 256 << 20;
    let total = members.iter().fold(0u64, |sum, m| sum.saturating_add(m.size));
    let limit = len.saturating_mul(RATIO).max(FLOOR);
    if total > limit {
        return Err(IndexError::Inflates { url: url.into(), total, limit });
    }
    Ok(())
}

/// Which wanted members (and RECORD) are not at hand, for the offline message.
fn describe_missing(present: &RangeSet, members: &[&Member], record: Option<&Member>) -> String {
    let mut names: Vec<&str> =
        members.iter().chain(record.iter()).filter(|m| !present.covers(m.extent)).map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return "the rest of the file, which --verify-full needs".into();
    }
    let shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    let more = names.len().saturating_sub(5);
    let rest = if more > 0 { format!(" and {more} more") } else { String::new() };
    format!("member{} {}{rest}", if names.len() == 1 { "" } else { "s" }, shown.join(", "))
}
