//! The fetched bytes of a remote file, read at positions: a sparse copy on
//! disk plus the set of ranges that were really fetched. Reading a byte that
//! was not fetched is an error, never zeros.

use std::fs::File;
use std::io;
use std::sync::Arc;

use super::ranges::{ByteRange, RangeSet};
use crate::scan::wheel::{FileReader, PositionedRead};

/// A remote file as far as it was fetched. Cheap to clone, safe to share
/// between threads: every read says where it reads (`pread`).
#[derive(Clone, Debug)]
pub struct FetchedFile {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    data: Arc<File>,
    len: u64,
    present: RangeSet,
    /// The file's name, for messages.
    name: String,
}

impl FetchedFile {
    /// `data` holds the file's bytes at their own offsets wherever `present` says.
    pub(crate) fn new(data: File, len: u64, present: RangeSet, name: &str) -> Self {
        FetchedFile { inner: Arc::new(Inner { data: Arc::new(data), len, present, name: name.to_string() }) }
    }

    /// The same copy with only the bytes of `allowed` readable (those of
    /// them that are at hand).
    pub(crate) fn restricted(&self, allowed: &RangeSet) -> FetchedFile {
        let inner = &self.inner;
        let present = inner.present.intersection(allowed);
        FetchedFile {
            inner: Arc::new(Inner { data: inner.data.clone(), len: inner.len, present, name: inner.name.clone() }),
        }
    }

    /// The remote file's full length.
    pub fn len(&self) -> u64 {
        self.inner.len
    }

    pub fn is_empty(&self) -> bool {
        self.inner.len == 0
    }

    /// The ranges that were fetched.
    pub fn present(&self) -> &RangeSet {
        &self.inner.present
    }

    /// Every byte of the file was fetched.
    pub fn is_complete(&self) -> bool {
        self.inner.present.covers(ByteRange::new(0, self.inner.len))
    }

    /// Reads at `offset` into `buf`, stopping at the end of the fetched range
    /// that holds `offset` (like a short read); 0 at the end of the file. An
    /// error when `offset` was not fetched.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.inner.len || buf.is_empty() {
            return Ok(0);
        }
        let Some(range) = self.inner.present.containing(offset) else {
            return Err(io::Error::other(format!(
                "byte {offset} of {} was not fetched and verified (ftprobe reads only the members it scans)",
                self.inner.name
            )));
        };
        let wanted = buf.len().min(usize::try_from(range.end - offset).unwrap_or(usize::MAX));
        let n = PositionedRead::read_at(&*self.inner.data, &mut buf[..wanted], offset)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the cached copy of {} is truncated", self.inner.name),
            ));
        }
        Ok(n)
    }

    /// Fills `buf` from `offset`, or fails.
    pub fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.read_at(buf, offset)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end of the file"));
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Ok(())
    }

    /// The bytes of `range`, if all were fetched.
    pub fn bytes(&self, range: ByteRange) -> Option<Vec<u8>> {
        if !self.inner.present.covers(range) || range.end > self.inner.len {
            return None;
        }
        let mut out = vec![0u8; usize::try_from(range.len()).ok()?];
        self.read_exact_at(&mut out, range.start).ok()?;
        Some(out)
    }

    /// A reader with its own cursor (`Read + Seek`), as `zip::ZipArchive` takes.
    pub fn reader(&self) -> FetchedReader {
        FileReader::new(Arc::new(self.clone()), self.len())
    }
}

/// A cursor over a [`FetchedFile`] (the scanner's positioned cursor);
/// clones have their own cursor.
pub type FetchedReader = FileReader;

impl PositionedRead for FetchedFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        FetchedFile::read_at(self, buf, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};

    #[test]
    fn reads_what_was_fetched_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"0123456789abcdefghij").unwrap();
        let present: RangeSet = vec![ByteRange::new(2, 6), ByteRange::new(6, 8), ByteRange::new(15, 20)].into();
        let fetched = FetchedFile::new(File::open(&path).unwrap(), 20, present, "x.whl");
        assert_eq!(fetched.bytes(ByteRange::new(2, 8)).as_deref(), Some(&b"234567"[..]));
        assert_eq!(fetched.bytes(ByteRange::new(7, 9)), None);
        let mut reader = fetched.reader();
        reader.seek(SeekFrom::End(-5)).unwrap();
        let mut tail = String::new();
        reader.read_to_string(&mut tail).unwrap();
        assert_eq!(tail, "fghij");
        reader.seek(SeekFrom::Start(7)).unwrap();
        let mut two = [0u8; 2];
        let error = reader.read_exact(&mut two).unwrap_err().to_string();
        assert!(error.contains("byte 8 of x.whl was not fetched"), "{error}");
        assert!(!fetched.is_complete());
        let narrowed = fetched.restricted(&vec![ByteRange::new(0, 4), ByteRange::new(16, 30)].into());
        assert_eq!(narrowed.present(), &vec![ByteRange::new(2, 4), ByteRange::new(16, 20)].into());
        assert_eq!(narrowed.bytes(ByteRange::new(5, 6)), None);
    }
}
