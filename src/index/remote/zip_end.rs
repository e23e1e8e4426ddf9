//! Where a zip archive's central directory is, read from the end of the
//! file: the end-of-central-directory record (and, for zip64, its locator
//! and record), as the `zip` crate finds them, so that the bytes fetched are
//! the bytes it will read.

use super::ranges::ByteRange;

/// How many bytes at the end of a file hold the end-of-central-directory
/// record wherever it may be (22 bytes and a comment of up to 64 KiB), its
/// zip64 locator and, usually, the zip64 record: the first request asks for
/// this much.
pub const TAIL: u64 = (64 << 10) + 1024;

const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
const EOCD64_LOCATOR: [u8; 4] = [0x50, 0x4b, 0x06, 0x07];
const EOCD64: [u8; 4] = [0x50, 0x4b, 0x06, 0x06];
const EOCD_SIZE: u64 = 22;
const LOCATOR_SIZE: u64 = 20;
const EOCD64_SIZE: u64 = 56;

/// What the end of the file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Located {
    /// The central directory's bytes.
    Directory(ByteRange),
    /// These bytes are needed to tell (a zip64 record outside the tail).
    Need(ByteRange),
}

/// Why the end of the file does not say where the central directory is
/// (for the last candidate end record tried).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndError {
    #[error("the end of the file was not read")]
    NotRead,
    #[error("no end-of-central-directory record in the last 64 KiB")]
    NoEndRecord,
    #[error("the end-of-central-directory record's comment runs past the end")]
    CommentPastEnd,
    #[error("a zip64 archive without room for its locator")]
    NoRoomForLocator,
    #[error("a zip64 archive without its zip64 locator")]
    NoLocator,
    #[error("the zip64 locator points past itself")]
    LocatorPastItself,
    #[error("the zip64 locator does not point at a zip64 record")]
    NoZip64Record,
    #[error("the central directory claims {size} bytes, more than precede it")]
    DirectoryTooLarge { size: u64 },
}

/// Finds the central directory of a file of `len` bytes whose bytes in
/// `tail` are at hand; `bytes` gives the bytes of a range if they are.
pub fn locate(len: u64, tail: ByteRange, bytes: impl Fn(ByteRange) -> Option<Vec<u8>>) -> Result<Located, EndError> {
    let data = bytes(tail).ok_or(EndError::NotRead)?;
    let mut last_problem = EndError::NoEndRecord;
    let candidates = (0..data.len().saturating_sub(EOCD_SIZE as usize - 1)).rev().filter(|&p| data[p..p + 4] == EOCD);
    for position in candidates {
        let record = &data[position..position + EOCD_SIZE as usize];
        let at = tail.start + position as u64;
        let comment = u64::from(u16_at(record, 20));
        if at + EOCD_SIZE + comment > len {
            last_problem = EndError::CommentPastEnd;
            continue;
        }
        let entries = u16_at(record, 10);
        let (size32, offset32) = (u32_at(record, 12), u32_at(record, 16));
        let zip64 = entries == u16::MAX || size32 == u32::MAX || offset32 == u32::MAX;
        let (directory_end, size) = if zip64 {
            let Some(locator_at) = at.checked_sub(LOCATOR_SIZE) else {
                last_problem = EndError::NoRoomForLocator;
                continue;
            };
            let Some(locator) = bytes(ByteRange::new(locator_at, at)) else {
                return Ok(Located::Need(ByteRange::new(locator_at, at)));
            };
            if locator[..4] != EOCD64_LOCATOR {
                last_problem = EndError::NoLocator;
                continue;
            }
            let record_at = u64_at(&locator, 8);
            if record_at.checked_add(EOCD64_SIZE).is_none_or(|end| end > locator_at) {
                last_problem = EndError::LocatorPastItself;
                continue;
            }
            let record_range = ByteRange::new(record_at, record_at + EOCD64_SIZE);
            let Some(record64) = bytes(record_range) else { return Ok(Located::Need(record_range)) };
            if record64[..4] != EOCD64 {
                last_problem = EndError::NoZip64Record;
                continue;
            }
            (record_at, u64_at(&record64, 40))
        } else {
            (at, u64::from(size32))
        };
        let Some(start) = directory_end.checked_sub(size) else {
            last_problem = EndError::DirectoryTooLarge { size };
            continue;
        };
        return Ok(Located::Directory(ByteRange::new(start, directory_end)));
    }
    Err(last_problem)
}

fn u16_at(data: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([data[at], data[at + 1]])
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&data[at..at + 8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(members: usize, comment: &[u8], zip64: bool) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..members {
            writer.start_file(format!("pkg/m{i}.py"), zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(format!("x = {i}\n").as_bytes()).unwrap();
        }
        writer.set_comment(String::from_utf8(comment.to_vec()).unwrap()).unwrap();
        let data = writer.finish().unwrap().into_inner();
        if zip64 { with_zip64_end(data) } else { data }
    }

    /// The archive with its end record replaced by a zip64 record, its
    /// locator and an end record that defers to them (as writers do for
    /// archives past 4 GiB or 65535 members).
    fn with_zip64_end(mut data: Vec<u8>) -> Vec<u8> {
        let at = data.len() - EOCD_SIZE as usize;
        assert_eq!(data[at..at + 4], EOCD, "no comment, so the record is last");
        let entries = u64::from(u16_at(&data, at + 10));
        let (size, offset) = (u64::from(u32_at(&data, at + 12)), u64::from(u32_at(&data, at + 16)));
        data.truncate(at);
        let mut record = EOCD64.to_vec();
        record.extend_from_slice(&44u64.to_le_bytes());
        record.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for value in [entries, entries, size, offset] {
            record.extend_from_slice(&value.to_le_bytes());
        }
        let mut locator = EOCD64_LOCATOR.to_vec();
        locator.extend_from_slice(&0u32.to_le_bytes());
        locator.extend_from_slice(&(at as u64).to_le_bytes());
        locator.extend_from_slice(&1u32.to_le_bytes());
        let mut end = EOCD.to_vec();
        end.extend_from_slice(&[
            0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0,
        ]);
        data.extend(record.into_iter().chain(locator).chain(end));
        data
    }

    fn locate_in(data: &[u8]) -> Result<Located, EndError> {
        let len = data.len() as u64;
        let tail = ByteRange::new(len.saturating_sub(TAIL), len);
        locate(len, tail, |r| data.get(r.start as usize..r.end as usize).map(<[u8]>::to_vec))
    }

    fn directory_of(data: &[u8]) -> ByteRange {
        let archive = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
        ByteRange::new(archive.central_directory_start(), 0)
    }

    #[test]
    fn finds_the_directory_with_and_without_a_comment_and_zip64() {
        for (comment, zip64) in [(&b""[..], false), (&b"a comment PK\x05\x06 inside"[..], false), (&b""[..], true)] {
            let data = archive(3, comment, zip64);
            let Located::Directory(found) = locate_in(&data).unwrap() else { panic!("needs more") };
            assert_eq!(found.start, directory_of(&data).start);
            assert!(found.len() > 3 * 46, "{found}");
        }
    }

    #[test]
    fn asks_for_a_zip64_record_outside_the_tail_and_refuses_garbage() {
        // Only the last 22 bytes at hand: enough for a zip32 archive, not for zip64.
        let only_the_last = |data: &[u8]| {
            let len = data.len() as u64;
            let at_hand = ByteRange::new(len - 22, len);
            locate(len, at_hand, |r| {
                (r.start >= at_hand.start).then(|| data[r.start as usize..r.end as usize].to_vec())
            })
        };
        assert!(matches!(only_the_last(&archive(2, &[], false)), Ok(Located::Directory(_))));
        let zip64 = archive(2, &[], true);
        let len = zip64.len() as u64;
        assert_eq!(only_the_last(&zip64), Ok(Located::Need(ByteRange::new(len - 42, len - 22))));
        // With the locator at hand, the zip64 record is asked for next.
        let at_hand = ByteRange::new(len - 42, len);
        let next = locate(len, at_hand, |r| {
            (r.start >= at_hand.start).then(|| zip64[r.start as usize..r.end as usize].to_vec())
        });
        assert_eq!(next, Ok(Located::Need(ByteRange::new(len - 98, len - 42))));
        assert!(locate_in(&[0u8; 100]).unwrap_err().to_string().contains("no end-of-central-directory"));
        let mut forged = vec![0u8; 40];
        forged.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(locate_in(&forged).unwrap_err().to_string().contains("more than precede it"));
    }
}
