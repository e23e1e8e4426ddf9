//! One wheel's fetching: starts from its cached copy (if any), asks the
//! server for what is missing (or, offline, says what is), writes what
//! arrives into a new sparse copy, and commits that copy to the cache once
//! it is verified.

use std::io::Read;

use sha2::{Digest as _, Sha256};

use super::ranges::{ByteRange, RangeSet};
use super::store::{CacheEntry, Manifest, NewCopy};
use super::view::FetchedFile;
use super::zip_end::TAIL;
use super::{Access, FetchOptions, RemoteFile, Transfer};
use crate::index::digest::Sha256Digest;
use crate::index::error::IndexError;
use crate::index::http::{self, Client, FileAnswer, RangeRequest};

pub(super) struct Session<'a> {
    access: Access<'a>,
    entry: CacheEntry,
    file: &'a RemoteFile,
    options: &'a FetchOptions,
    /// The cached copy this session started from.
    old: Option<FetchedFile>,
    /// The copy new bytes go to (the old copy's ranges copied in first).
    copy: Option<NewCopy>,
    len: Option<u64>,
    present: RangeSet,
    /// The sha256 of a whole body, hashed as it arrived.
    pub whole_digest: Option<Sha256Digest>,
    pub transfer: Transfer,
}

/// What one answer brought.
enum Got {
    Range(ByteRange),
    Whole(Sha256Digest, u64),
}

const CHUNK: usize = 256 << 10;

impl<'a> Session<'a> {
    /// Starts from the cached copy of `file`, if there is a usable one.
    pub fn start(access: Access<'a>, entry: CacheEntry, file: &'a RemoteFile, options: &'a FetchOptions) -> Self {
        let old = entry.load().and_then(|(manifest, data)| {
            let size_agrees = file.size.is_none_or(|size| size == manifest.size);
            size_agrees.then(|| FetchedFile::new(data, manifest.size, manifest.present, &file.filename))
        });
        let (len, present) = match &old {
            Some(old) => (Some(old.len()), old.present().clone()),
            None => (None, RangeSet::new()),
        };
        let transfer = Transfer { from_cache: old.is_some(), ..Transfer::default() };
        Session { access, entry, file, options, old, copy: None, len, present, whole_digest: None, transfer }
    }

    /// The file's length, once known (from the cache or the first answer).
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    pub fn present(&self) -> &RangeSet {
        &self.present
    }

    pub fn is_online(&self) -> bool {
        matches!(self.access, Access::Online(_))
    }

    /// Whether any byte of this session came from the network.
    pub fn fetched(&self) -> bool {
        self.copy.is_some()
    }

    /// The bytes at hand now.
    pub fn view(&self) -> Result<FetchedFile, IndexError> {
        match (&self.copy, &self.old) {
            (Some(copy), _) => {
                Ok(FetchedFile::new(copy.reopen()?, self.len.unwrap_or(0), self.present.clone(), &self.file.filename))
            }
            (None, Some(old)) => Ok(old.clone()),
            (None, None) => Err(IndexError::NotCached { file: self.file.filename.clone(), missing: "a copy".into() }),
        }
    }

    /// The end of the file (and with it, its length).
    pub fn fetch_tail(&mut self) -> Result<(), IndexError> {
        let request = match self.len.or(self.file.size) {
            Some(len) => RangeRequest::Span(ByteRange::new(len.saturating_sub(TAIL), len)),
            None => RangeRequest::Suffix(TAIL),
        };
        self.get(Some(request), || "a copy".into())
    }

    /// The whole file in one plain request.
    pub fn fetch_whole(&mut self) -> Result<(), IndexError> {
        let missing = self.len.map(|len| len - self.present.total());
        self.get(None, || match missing {
            Some(bytes) => format!("{bytes} bytes that --verify-full needs"),
            None => "a copy".into(),
        })
    }

    /// These ranges, one request each. `missing` says what they are, for the
    /// offline message.
    pub fn fetch_ranges(&mut self, ranges: &[ByteRange], missing: impl Fn() -> String) -> Result<(), IndexError> {
        for range in ranges {
            if self.present.covers(*range) {
                continue; // a whole body arrived meanwhile
            }
            self.get(Some(RangeRequest::Span(*range)), &missing)?;
        }
        Ok(())
    }

    fn client(&self, missing: impl Fn() -> String) -> Result<&'a Client, IndexError> {
        match self.access {
            Access::Online(client) => Ok(client),
            Access::Offline => Err(IndexError::NotCached { file: self.file.filename.clone(), missing: missing() }),
        }
    }

    fn get(&mut self, request: Option<RangeRequest>, missing: impl Fn() -> String) -> Result<(), IndexError> {
        let client = self.client(missing)?;
        let url = self.file.url.clone();
        let got = client.get_file(&url, request, |answer, body| self.receive(&url, request, answer, body))?;
        self.transfer.requests += 1;
        match got {
            Got::Range(range) => {
                self.transfer.bytes += range.len();
                self.present.insert(range);
            }
            Got::Whole(digest, len) => {
                self.transfer.bytes += len;
                self.transfer.range_ignored |= request.is_some();
                self.present = vec![ByteRange::new(0, len)].into();
                self.whole_digest = Some(digest);
            }
        }
        Ok(())
    }

    /// Writes one answer's body into the copy (again, if the exchange is retried).
    fn receive(
        &mut self,
        url: &str,
        request: Option<RangeRequest>,
        answer: FileAnswer,
        body: &mut dyn Read,
    ) -> Result<Got, IndexError> {
        match answer {
            FileAnswer::Partial { range, total } => {
                self.learn_len(url, total)?;
                let asked = match request {
                    Some(RangeRequest::Span(asked)) => Some(ByteRange::new(asked.start, asked.end.min(total))),
                    Some(RangeRequest::Suffix(n)) => Some(ByteRange::new(total.saturating_sub(n), total)),
                    None => None,
                };
                if asked != Some(range) {
                    let reason =
                        format!("asked for {}, got {range}", asked.map_or("the whole file".into(), |a| a.to_string()));
                    return Err(IndexError::BadRange { url: url.into(), reason });
                }
                let copy = self.ensure_copy()?;
                let (received, _) = stream(body, url, range.len(), |chunk, at| copy.write_at(chunk, range.start + at))?;
                if received > range.len() {
                    let reason = format!("more bytes than the {range} it announced");
                    return Err(IndexError::BadRange { url: url.into(), reason });
                }
                if received < range.len() {
                    return Err(http::transfer(url, &short(received, range.len())));
                }
                Ok(Got::Range(range))
            }
            FileAnswer::Whole { length } => {
                if let Some(length) = length {
                    self.learn_len(url, length)?;
                }
                let limit = self.len.unwrap_or(self.options.max_file_size);
                let copy = self.ensure_copy()?;
                let (received, digest) = stream(body, url, limit, |chunk, at| copy.write_at(chunk, at))?;
                if received > limit {
                    return Err(match self.len {
                        Some(expected) => IndexError::SizeMismatch { url: url.into(), expected, actual: received },
                        None => self.too_large(url, received),
                    });
                }
                if let Some(length) = length.filter(|&length| received < length) {
                    return Err(http::transfer(url, &short(received, length)));
                }
                self.learn_len(url, received)?;
                Ok(Got::Whole(digest, received))
            }
        }
    }

    fn too_large(&self, url: &str, size: u64) -> IndexError {
        IndexError::TooLarge { url: url.into(), what: "file", size, limit: self.options.max_file_size }
    }

    /// Takes the length a server gave, checking it against what the index
    /// and earlier answers said.
    fn learn_len(&mut self, url: &str, total: u64) -> Result<(), IndexError> {
        if let Some(expected) = self.len.or(self.file.size)
            && expected != total
        {
            return Err(IndexError::SizeMismatch { url: url.into(), expected, actual: total });
        }
        if total > self.options.max_file_size {
            return Err(self.too_large(url, total));
        }
        self.len = Some(total);
        Ok(())
    }

    fn ensure_copy(&mut self) -> Result<&NewCopy, IndexError> {
        let copy = match self.copy.take() {
            Some(copy) => copy,
            None => {
                let copy = self.entry.new_copy(self.len.unwrap_or(0))?;
                if let Some(old) = &self.old {
                    copy.copy_from(old)?;
                }
                copy
            }
        };
        Ok(self.copy.insert(copy))
    }

    /// Commits the new copy, if bytes were fetched, as verified by `how`.
    pub fn commit(&mut self, how: &str) -> Result<(), IndexError> {
        let (Some(copy), Some(len)) = (self.copy.take(), self.len) else { return Ok(()) };
        let manifest = Manifest {
            format: 1,
            filename: self.file.filename.clone(),
            url: self.file.url.clone(),
            size: len,
            data: String::new(),
            present: self.present.clone(),
            verified: how.into(),
        };
        self.entry.commit(copy, manifest)
    }

    /// Forgets the cached copy this session started from.
    pub fn discard_cache(&self) {
        if self.old.is_some() {
            self.entry.discard();
        }
    }
}

fn short(received: u64, expected: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        format!("the body ended after {received} of {expected} bytes"),
    )
}

/// Reads `body` to its end (at most `limit + 1` bytes), handing each chunk
/// and its offset to `write` (never a byte past `limit`). Returns the byte
/// count (`limit + 1` when the body is longer) and the sha256 of the bytes
/// written.
fn stream(
    body: &mut dyn Read,
    url: &str,
    limit: u64,
    mut write: impl FnMut(&[u8], u64) -> Result<(), IndexError>,
) -> Result<(u64, Sha256Digest), IndexError> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut body = body.take(limit.saturating_add(1));
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(http::transfer(url, &e)),
        };
        let kept = n.min(usize::try_from(limit.saturating_sub(received)).unwrap_or(usize::MAX));
        write(&buffer[..kept], received)?;
        hasher.update(&buffer[..kept]);
        received += n as u64;
    }
    Ok((received, Sha256Digest(hasher.finalize().into())))
}
