//! A format-neutral view of one loaded binary: bytes by virtual address, the
//! pointers that relocations make, exported functions, and which import each
//! pointer slot resolves to. ELF, PE and Mach-O readers fill it in; the
//! analysis reads only this.

use std::collections::{BTreeMap, HashMap, HashSet};

/// The machine a binary is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    X86_64,
    Aarch64,
    X86,
    Arm,
    Other,
}

/// The container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Elf,
    Pe,
    MachO,
}

/// One mapped piece of the file.
#[derive(Clone, Debug)]
pub struct Segment {
    pub address: u64,
    /// Bytes present in the file (the rest up to `size` is zero-filled).
    pub file_range: (usize, usize),
    pub size: u64,
    pub executable: bool,
}

/// An exported function.
#[derive(Clone, Debug)]
pub struct Export {
    /// Without Mach-O's leading underscore.
    pub name: String,
    pub address: u64,
    /// Function size when the symbol table records one.
    pub size: Option<u64>,
}

/// Everything the analysis needs to know about one binary.
#[derive(Debug)]
pub struct Image<'a> {
    pub format: Format,
    pub arch: Arch,
    pub pointer_size: u8,
    pub data: &'a [u8],
    pub segments: Vec<Segment>,
    /// Address of a pointer-sized word → the address it holds once loaded
    /// (relative relocations, PE base relocations, Mach-O rebases). Only words
    /// listed here are pointers.
    pub pointers: BTreeMap<u64, u64>,
    /// Address of an import slot (GOT entry, IAT entry, lazy pointer) → symbol name.
    pub import_slots: HashMap<u64, String>,
    /// Every imported symbol name (without Mach-O's leading underscore).
    pub imports: HashSet<String>,
    pub exports: Vec<Export>,
    /// Libraries this one links to (DT_NEEDED, PE import DLLs, Mach-O dylibs).
    pub needed: Vec<String>,
    /// Where the loader looks for them, as written: DT_RUNPATH / DT_RPATH
    /// entries (`$ORIGIN/../lib`), Mach-O LC_RPATH (`@loader_path/..`).
    pub search_paths: Vec<String>,
    /// Added to addresses to get what absolute operands in code hold (a
    /// 32-bit PE's image base; addresses here are RVAs). 0 elsewhere.
    pub absolute_base: u64,
    /// i386 PIC code reaches its GOT through `ebx` = the start of `.got.plt`.
    pub got_base: Option<u64>,
}

impl<'a> Image<'a> {
    /// An image with nothing read yet; the format readers fill it in.
    pub fn new(format: Format, arch: Arch, pointer_size: u8, data: &'a [u8]) -> Self {
        Image {
            format,
            arch,
            pointer_size,
            data,
            segments: Vec::new(),
            pointers: BTreeMap::new(),
            import_slots: HashMap::new(),
            imports: HashSet::new(),
            exports: Vec::new(),
            needed: Vec::new(),
            search_paths: Vec::new(),
            absolute_base: 0,
            got_base: None,
        }
    }

    /// Up to `len` bytes of executable code starting at `start` (fewer at the end of its segment).
    pub fn code(&self, start: u64, len: usize) -> Option<&'a [u8]> {
        let segment = self.segment_of(start).filter(|s| s.executable)?;
        let from = segment.file_range.0.checked_add(usize::try_from(start - segment.address).ok()?)?;
        let to = from.saturating_add(len).min(segment.file_range.1);
        self.data.get(from..to)
    }

    fn segment_of(&self, address: u64) -> Option<&Segment> {
        self.segments.iter().find(|s| address >= s.address && address - s.address < s.size)
    }

    /// `len` bytes at `address` when all of them are in the file.
    pub fn bytes(&self, address: u64, len: usize) -> Option<&'a [u8]> {
        let seg = self.segment_of(address)?;
        let offset = usize::try_from(address - seg.address).ok()?;
        let (start, end) = seg.file_range;
        let from = start.checked_add(offset)?;
        let to = from.checked_add(len)?;
        if to > end {
            return None;
        }
        self.data.get(from..to)
    }

    /// Whether `address` is inside the image (in the file or zero-filled).
    pub fn is_mapped(&self, address: u64) -> bool {
        self.segment_of(address).is_some()
    }

    pub fn is_code(&self, address: u64) -> bool {
        self.segment_of(address).is_some_and(|s| s.executable)
    }

    /// A little-endian integer of `size` bytes (4 or 8); zero-filled memory reads as 0.
    pub fn word(&self, address: u64, size: u8) -> Option<u64> {
        match self.bytes(address, size as usize) {
            Some(b) => Some(b.iter().rev().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))),
            None => self.is_mapped(address).then_some(0),
        }
    }

    /// The pointer stored at `address`, only when a relocation makes it one.
    pub fn pointer(&self, address: u64) -> Option<u64> {
        self.pointers.get(&address).copied()
    }

    /// Whether any relocation covers the word at `address`.
    pub fn is_relocated(&self, address: u64) -> bool {
        self.pointers.contains_key(&address) || self.import_slots.contains_key(&address)
    }

    /// The NUL-terminated string at `address` (at most 512 bytes, UTF-8).
    pub fn c_str(&self, address: u64) -> Option<&'a str> {
        let seg = self.segment_of(address)?;
        let offset = usize::try_from(address - seg.address).ok()?;
        let from = seg.file_range.0.checked_add(offset)?;
        let tail = self.data.get(from..seg.file_range.1)?;
        let end = tail.iter().take(512).position(|b| *b == 0)?;
        std::str::from_utf8(&tail[..end]).ok()
    }

    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// Whether the raw bytes contain `needle` anywhere (generator fingerprints).
    pub fn contains(&self, needle: &[u8]) -> bool {
        !needle.is_empty() && memchr::memmem::find(self.data, needle).is_some()
    }
}
