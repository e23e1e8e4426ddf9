//! Byte ranges of a file and sets of them: which bytes are at hand, which
//! are still missing, and the few requests that fetch them.

use serde::{Deserialize, Serialize};

/// The bytes `start..end` of a file (half-open).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "[u64; 2]", into = "[u64; 2]")]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl From<[u64; 2]> for ByteRange {
    fn from([start, end]: [u64; 2]) -> Self {
        ByteRange { start, end }
    }
}

impl From<ByteRange> for [u64; 2] {
    fn from(range: ByteRange) -> Self {
        [range.start, range.end]
    }
}

impl ByteRange {
    pub fn new(start: u64, end: u64) -> Self {
        ByteRange { start, end: end.max(start) }
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bytes {}..{}", self.start, self.end)
    }
}

/// Disjoint ranges, sorted, with touching ranges merged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<ByteRange>", into = "Vec<ByteRange>")]
pub struct RangeSet {
    ranges: Vec<ByteRange>,
}

impl From<Vec<ByteRange>> for RangeSet {
    fn from(ranges: Vec<ByteRange>) -> Self {
        let mut set = RangeSet::default();
        for range in ranges {
            set.insert(range);
        }
        set
    }
}

impl From<RangeSet> for Vec<ByteRange> {
    fn from(set: RangeSet) -> Self {
        set.ranges
    }
}

impl RangeSet {
    pub fn new() -> Self {
        RangeSet::default()
    }

    pub fn insert(&mut self, range: ByteRange) {
        if range.is_empty() {
            return;
        }
        let (mut start, mut end) = (range.start, range.end);
        // Everything touching or overlapping `range` is absorbed into it.
        let first = self.ranges.partition_point(|r| r.end < start);
        let mut last = first;
        while last < self.ranges.len() && self.ranges[last].start <= end {
            start = start.min(self.ranges[last].start);
            end = end.max(self.ranges[last].end);
            last += 1;
        }
        self.ranges.splice(first..last, [ByteRange { start, end }]);
    }

    pub fn extend(&mut self, other: &RangeSet) {
        for range in &other.ranges {
            self.insert(*range);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &ByteRange> {
        self.ranges.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The number of bytes in the set.
    pub fn total(&self) -> u64 {
        self.ranges.iter().map(ByteRange::len).sum()
    }

    /// The range of the set that holds byte `offset`.
    pub fn containing(&self, offset: u64) -> Option<ByteRange> {
        let index = self.ranges.partition_point(|r| r.end <= offset);
        self.ranges.get(index).filter(|r| r.start <= offset).copied()
    }

    /// Whether every byte of `range` is in the set.
    pub fn covers(&self, range: ByteRange) -> bool {
        range.is_empty() || self.containing(range.start).is_some_and(|r| r.end >= range.end)
    }

    /// The bytes of `wanted` that are not in the set.
    pub fn missing_from(&self, wanted: &RangeSet) -> RangeSet {
        let mut out = RangeSet::new();
        for want in &wanted.ranges {
            let mut cursor = want.start;
            for have in self.ranges.iter().filter(|h| h.end > want.start && h.start < want.end) {
                if have.start > cursor {
                    out.ranges.push(ByteRange { start: cursor, end: have.start });
                }
                cursor = cursor.max(have.end);
            }
            if cursor < want.end {
                out.ranges.push(ByteRange { start: cursor, end: want.end });
            }
        }
        out
    }

    /// The bytes in both sets.
    pub fn intersection(&self, other: &RangeSet) -> RangeSet {
        let only_here = other.missing_from(self);
        only_here.missing_from(self)
    }

    /// The ranges as requests: ranges less than `gap` bytes apart are
    /// fetched together (the bytes between cost less than another request).
    pub fn requests(&self, gap: u64) -> Vec<ByteRange> {
        let mut out: Vec<ByteRange> = Vec::new();
        for range in &self.ranges {
            match out.last_mut() {
                Some(last) if range.start - last.end < gap => last.end = range.end,
                _ => out.push(*range),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u64, u64)]) -> RangeSet {
        ranges.iter().map(|&(s, e)| ByteRange::new(s, e)).collect::<Vec<_>>().into()
    }

    #[test]
    fn merges_touching_and_overlapping_ranges() {
        let mut s = set(&[(10, 20), (30, 40)]);
        s.insert(ByteRange::new(20, 30));
        assert_eq!(s, set(&[(10, 40)]));
        s.insert(ByteRange::new(0, 5));
        s.insert(ByteRange::new(50, 60));
        s.insert(ByteRange::new(3, 55));
        assert_eq!(s, set(&[(0, 60)]));
        s.insert(ByteRange::new(70, 70));
        assert_eq!(s.total(), 60);
    }

    #[test]
    fn finds_what_is_missing_and_plans_requests() {
        let have = set(&[(0, 10), (20, 30)]);
        assert_eq!(have.missing_from(&set(&[(5, 25), (28, 40)])), set(&[(10, 20), (30, 40)]));
        assert!(have.covers(ByteRange::new(22, 30)) && !have.covers(ByteRange::new(8, 12)));
        assert_eq!(have.containing(25), Some(ByteRange::new(20, 30)));
        assert_eq!(have.containing(10), None);
        assert_eq!(have.intersection(&set(&[(5, 25)])), set(&[(5, 10), (20, 25)]));
        let wanted = set(&[(0, 10), (15, 20), (100, 110)]);
        assert_eq!(wanted.requests(6), vec![ByteRange::new(0, 20), ByteRange::new(100, 110)]);
        assert_eq!(wanted.requests(0).len(), 3);
    }

    #[test]
    fn round_trips_as_json_pairs() {
        let s = set(&[(0, 10), (20, 30)]);
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(text, "[[0,10],[20,30]]");
        assert_eq!(serde_json::from_str::<RangeSet>(&text).unwrap(), s);
    }
}
