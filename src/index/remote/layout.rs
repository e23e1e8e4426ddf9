//! A wheel's members as its central directory lists them: where each lies
//! in the file (local header, data and any data descriptor: everything up to
//! the next member), which is the wheel's RECORD, and whether any two
//! overlap, decided without the local headers that were not fetched.

use zip::ZipArchive;

use super::ranges::ByteRange;
use super::view::{FetchedFile, FetchedReader};

/// One central-directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub header_start: u64,
    pub compressed_size: u64,
    /// The uncompressed size the directory claims.
    pub size: u64,
    /// From its local header to the next member's (or the directory).
    pub extent: ByteRange,
}

/// The members, in directory order, and where the directory starts.
#[derive(Clone, Debug)]
pub struct Layout {
    pub members: Vec<Member>,
    pub directory_start: u64,
}

/// Why the central directory cannot be laid out, or names no RECORD of its own.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// An entry the zip crate cannot read (its words alone).
    #[error("{reason}")]
    Entry { index: usize, reason: String },
    #[error("it has {count} *.dist-info/RECORD files and none is clearly its own")]
    AmbiguousRecord { count: usize },
}

const LOCAL_HEADER: [u8; 4] = [0x50, 0x4b, 0x03, 0x04];
const LOCAL_HEADER_SIZE: u64 = 30;

impl Layout {
    pub fn read(archive: &ZipArchive<FetchedReader>, len: u64) -> Result<Layout, LayoutError> {
        let directory_start = archive.central_directory_start().min(len);
        let metadata = archive.metadata();
        let mut members = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let unreadable = |e: &dyn std::fmt::Display| LayoutError::Entry { index, reason: e.to_string() };
            let entry = metadata.entry(index).map_err(|e| unreadable(&e))?;
            let name = entry.name().map_err(|e| unreadable(&e))?.into_owned();
            let header_start = entry.header_start();
            members.push(Member {
                name,
                header_start,
                compressed_size: entry.compressed_size(),
                size: entry.size(),
                extent: ByteRange::new(header_start, header_start),
            });
        }
        let mut starts: Vec<u64> = members.iter().map(|m| m.header_start).collect();
        starts.sort_unstable();
        starts.dedup();
        for member in &mut members {
            member.extent.end =
                next_start(&starts, member.header_start).unwrap_or(directory_start).max(member.header_start);
        }
        Ok(Layout { members, directory_start })
    }

    /// Whether any two members share bytes, or one runs into the directory.
    /// A member's end is exact when its local header was fetched, and a
    /// lower bound (header without names and extra fields) when not; the
    /// members ftprobe reads are always fetched, so their ends are exact.
    pub fn overlapping(&self, file: &FetchedFile) -> bool {
        let mut sorted: Vec<&Member> = self.members.iter().collect();
        sorted.sort_by_key(|m| m.header_start);
        sorted.windows(2).any(|pair| pair[0].header_start == pair[1].header_start)
            || sorted.iter().any(|member| {
                let header = file.bytes(ByteRange::new(member.header_start, member.header_start + LOCAL_HEADER_SIZE));
                let variable = match header {
                    Some(header) if header[..4] == LOCAL_HEADER => {
                        u64::from(u16::from_le_bytes([header[26], header[27]]))
                            + u64::from(u16::from_le_bytes([header[28], header[29]]))
                    }
                    // Not a local header at all: the archive is broken (and reading it will say so).
                    Some(_) => return true,
                    None => 0,
                };
                let end = member
                    .header_start
                    .saturating_add(LOCAL_HEADER_SIZE + variable)
                    .saturating_add(member.compressed_size);
                end > member.extent.end || member.header_start >= self.directory_start
            })
    }

    /// The wheel's `<name>-<version>.dist-info/RECORD`: the only one, or the
    /// one whose folder the wheel's file name names.
    pub fn record(&self, wheel_filename: &str) -> Result<Option<&Member>, LayoutError> {
        let records: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| {
                m.name.strip_suffix(".dist-info/RECORD").is_some_and(|dir| !dir.is_empty() && !dir.contains('/'))
            })
            .collect();
        if records.len() <= 1 {
            return Ok(records.first().copied());
        }
        let mut parts = wheel_filename.split('-');
        let own = format!("{}-{}", parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let fold = |s: &str| s.to_ascii_lowercase().replace(['-', '.'], "_");
        let own_prefix = fold(&own);
        let mut matching = records.iter().filter(|m| fold(m.name.trim_end_matches(".dist-info/RECORD")) == own_prefix);
        match (matching.next(), matching.next()) {
            (Some(record), None) => Ok(Some(record)),
            _ => Err(LayoutError::AmbiguousRecord { count: records.len() }),
        }
    }
}

fn next_start(sorted: &[u64], start: u64) -> Option<u64> {
    let index = sorted.partition_point(|&s| s <= start);
    sorted.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str) -> Member {
        Member { name: name.into(), header_start: 0, compressed_size: 0, size: 0, extent: ByteRange::new(0, 0) }
    }

    #[test]
    fn picks_the_wheels_own_record() {
        let layout = |names: &[&str]| Layout { members: names.iter().map(|n| member(n)).collect(), directory_start: 0 };
        let one = layout(&["pkg/x.so", "pkg-1.0.dist-info/RECORD"]);
        assert_eq!(one.record("pkg-1.0-py3-none-any.whl").unwrap().unwrap().name, "pkg-1.0.dist-info/RECORD");
        assert!(layout(&["pkg/x.so"]).record("pkg-1.0-py3-none-any.whl").unwrap().is_none());
        let two = layout(&["My.Pkg-1.0.dist-info/RECORD", "vendored-2.0.dist-info/RECORD", "a/b.dist-info/RECORD"]);
        assert_eq!(
            two.record("my_pkg-1.0-cp313-cp313t-linux_x86_64.whl").unwrap().unwrap().name,
            "My.Pkg-1.0.dist-info/RECORD"
        );
        assert!(two.record("other-1.0-py3-none-any.whl").unwrap_err().to_string().contains("2 *.dist-info/RECORD"));
    }
}
