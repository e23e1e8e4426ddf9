//! Mach-O reader (64-bit, little-endian; every slice of a universal binary).
//!
//! Load commands are read directly: segments and their sections, the symbol
//! table, the indirect symbol table (stubs, GOT and lazy pointers give import
//! slots), classic rebase opcodes and chained fixups (cpython-reference.md,
//! section E) give pointers. Every read is bounds-checked.

use super::ScanError;
use super::image::{Arch, Export, Format, Image, Segment};

const MH_MAGIC_64: u32 = 0xfeed_facf;
const LC_REQ_DYLD: u32 = 0x8000_0000;
const LC_SEGMENT_64: u32 = 0x19;
const LC_SYMTAB: u32 = 0x2;
const LC_DYSYMTAB: u32 = 0xb;
const LC_LOAD_DYLIB: u32 = 0xc;
const LC_RPATH: u32 = 0x8000_001c;
const LC_DYLD_INFO: u32 = 0x22;
const LC_DYLD_INFO_ONLY: u32 = 0x22 | LC_REQ_DYLD;
const LC_DYLD_CHAINED_FIXUPS: u32 = 0x34 | LC_REQ_DYLD;
const CPU_TYPE_X86_64: u32 = 0x0100_0007;
const CPU_TYPE_ARM64: u32 = 0x0100_000c;
const VM_PROT_EXECUTE: u32 = 4;
const S_NON_LAZY_SYMBOL_POINTERS: u32 = 6;
const S_LAZY_SYMBOL_POINTERS: u32 = 7;
const S_SYMBOL_STUBS: u32 = 8;
const INDIRECT_SYMBOL_LOCAL: u32 = 0x8000_0000;
const INDIRECT_SYMBOL_ABS: u32 = 0x4000_0000;

fn u32_at(data: &[u8], offset: usize) -> Option<u32> {
    data.get(offset..offset.checked_add(4)?).map(|b| u32::from_le_bytes(b.try_into().unwrap()))
}

fn u64_at(data: &[u8], offset: usize) -> Option<u64> {
    data.get(offset..offset.checked_add(8)?).map(|b| u64::from_le_bytes(b.try_into().unwrap()))
}

fn u16_at(data: &[u8], offset: usize) -> Option<u16> {
    data.get(offset..offset.checked_add(2)?).map(|b| u16::from_le_bytes(b.try_into().unwrap()))
}

fn c_string(data: &[u8], offset: usize) -> Option<&str> {
    let tail = data.get(offset..)?;
    let end = tail.iter().take(4096).position(|b| *b == 0)?;
    std::str::from_utf8(&tail[..end]).ok()
}

fn truncated() -> ScanError {
    ScanError::Format("malformed Mach-O: a load command points outside the file".into())
}

/// The slices of a universal (fat) binary: (offset, size) of each.
pub fn fat_slices(data: &[u8]) -> Result<Vec<(usize, usize)>, ScanError> {
    let be32 = |o: usize| data.get(o..o + 4).map(|b| u32::from_be_bytes(b.try_into().unwrap()));
    let be64 = |o: usize| data.get(o..o + 8).map(|b| u64::from_be_bytes(b.try_into().unwrap()));
    let magic = be32(0).ok_or_else(truncated)?;
    let wide = magic == 0xcafe_babf;
    let count = be32(4).ok_or_else(truncated)?.min(64) as usize;
    let mut slices = Vec::new();
    for i in 0..count {
        let (offset, size) = if wide {
            let at = 8 + i * 32;
            (be64(at + 8).ok_or_else(truncated)?, be64(at + 16).ok_or_else(truncated)?)
        } else {
            let at = 8 + i * 20;
            (u64::from(be32(at + 8).ok_or_else(truncated)?), u64::from(be32(at + 12).ok_or_else(truncated)?))
        };
        let (offset, size) =
            (usize::try_from(offset).map_err(|_| truncated())?, usize::try_from(size).map_err(|_| truncated())?);
        if offset.checked_add(size).is_none_or(|end| end > data.len()) {
            return Err(truncated());
        }
        slices.push((offset, size));
    }
    Ok(slices)
}

struct Section {
    address: u64,
    size: u64,
    kind: u32,
    reserved1: u32,
    reserved2: u32,
}

#[derive(Default)]
struct Commands {
    sections: Vec<Section>,
    symtab: Option<(usize, usize, usize, usize)>,
    indirect: Option<(usize, usize)>,
    rebase: Option<(usize, usize)>,
    chained: Option<(usize, usize)>,
    text_base: Option<u64>,
}

pub fn read(data: &[u8]) -> Result<Image<'_>, ScanError> {
    if u32_at(data, 0) != Some(MH_MAGIC_64) {
        return Err(ScanError::Format("only 64-bit little-endian Mach-O is supported".into()));
    }
    let arch = match u32_at(data, 4) {
        Some(CPU_TYPE_X86_64) => Arch::X86_64,
        Some(CPU_TYPE_ARM64) => Arch::Aarch64,
        _ => Arch::Other,
    };
    let mut image = Image::new(Format::MachO, arch, 8, data);
    let commands = read_commands(data, &mut image)?;
    let names = read_symbols(data, &commands, &mut image);
    read_indirect_symbols(data, &commands, &names, &mut image);
    if let Some((offset, size)) = commands.rebase {
        read_rebases(data.get(offset..offset + size).ok_or_else(truncated)?, &mut image);
    }
    if let Some((offset, size)) = commands.chained {
        let fixups = data.get(offset..offset + size).ok_or_else(truncated)?;
        read_chained_fixups(fixups, commands.text_base.unwrap_or(0), &mut image);
    }
    Ok(image)
}

fn read_commands(data: &[u8], image: &mut Image<'_>) -> Result<Commands, ScanError> {
    let count = u32_at(data, 16).ok_or_else(truncated)?.min(4096);
    let mut at = 32usize;
    let mut out = Commands::default();
    for _ in 0..count {
        let cmd = u32_at(data, at).ok_or_else(truncated)?;
        let size = u32_at(data, at + 4).ok_or_else(truncated)? as usize;
        if size < 8 || at.checked_add(size).is_none_or(|e| e > data.len()) {
            return Err(truncated());
        }
        let field = |o: usize| u32_at(data, at + o).ok_or_else(truncated).map(|v| v as usize);
        match cmd {
            LC_SEGMENT_64 => read_segment(data, at, image, &mut out)?,
            LC_SYMTAB => out.symtab = Some((field(8)?, field(12)?, field(16)?, field(20)?)),
            LC_DYSYMTAB => out.indirect = Some((field(56)?, field(60)?)),
            LC_DYLD_INFO | LC_DYLD_INFO_ONLY => out.rebase = Some((field(8)?, field(12)?)).filter(|(_, s)| *s > 0),
            LC_DYLD_CHAINED_FIXUPS => out.chained = Some((field(8)?, field(12)?)),
            LC_LOAD_DYLIB => {
                if let Some(name) = c_string(data, at + field(8)?) {
                    image.needed.push(name.to_string());
                }
            }
            LC_RPATH => {
                if let Some(path) = c_string(data, at + field(8)?) {
                    image.search_paths.push(path.to_string());
                }
            }
            _ => {}
        }
        at += size;
    }
    Ok(out)
}

fn read_segment(data: &[u8], at: usize, image: &mut Image<'_>, out: &mut Commands) -> Result<(), ScanError> {
    let name = data.get(at + 8..at + 24).ok_or_else(truncated)?;
    let vmaddr = u64_at(data, at + 24).ok_or_else(truncated)?;
    let vmsize = u64_at(data, at + 32).ok_or_else(truncated)?;
    let fileoff = u64_at(data, at + 40).ok_or_else(truncated)?;
    let filesize = u64_at(data, at + 48).ok_or_else(truncated)?;
    let initprot = u32_at(data, at + 60).ok_or_else(truncated)?;
    let nsects = u32_at(data, at + 64).ok_or_else(truncated)?.min(1024) as usize;
    if name.starts_with(b"__TEXT\0") {
        out.text_base = Some(vmaddr);
    }
    if filesize > 0 || vmsize > 0 {
        let start = usize::try_from(fileoff).map_err(|_| truncated())?;
        let end = start.checked_add(usize::try_from(filesize).map_err(|_| truncated())?).ok_or_else(truncated)?;
        if end > data.len() {
            return Err(truncated());
        }
        if vmsize > 0 && !name.starts_with(b"__PAGEZERO\0") {
            image.segments.push(Segment {
                address: vmaddr,
                file_range: (start, end),
                size: vmsize,
                executable: initprot & VM_PROT_EXECUTE != 0,
            });
        }
    }
    for i in 0..nsects {
        let s = at + 72 + i * 80;
        out.sections.push(Section {
            address: u64_at(data, s + 32).ok_or_else(truncated)?,
            size: u64_at(data, s + 40).ok_or_else(truncated)?,
            kind: u32_at(data, s + 64).ok_or_else(truncated)? & 0xff,
            reserved1: u32_at(data, s + 68).ok_or_else(truncated)?,
            reserved2: u32_at(data, s + 72).ok_or_else(truncated)?,
        });
    }
    Ok(())
}

/// Symbol names by index; fills exports and imports.
fn read_symbols(data: &[u8], commands: &Commands, image: &mut Image<'_>) -> Vec<Option<String>> {
    let Some((symoff, nsyms, stroff, strsize)) = commands.symtab else { return Vec::new() };
    let strings = data.get(stroff..stroff.saturating_add(strsize)).unwrap_or_default();
    let mut names = Vec::new();
    for i in 0..nsyms.min(1 << 22) {
        let at = symoff + i * 16;
        let (Some(strx), Some(kind), Some(value)) = (u32_at(data, at), data.get(at + 4), u64_at(data, at + 8)) else {
            break;
        };
        let name = c_string(strings, strx as usize).map(|n| n.strip_prefix('_').unwrap_or(n).to_string());
        if let Some(name) = &name {
            let external = kind & 0x01 != 0;
            match kind & 0x0e {
                0x0e if external => image.exports.push(Export { name: name.clone(), address: value, size: None }),
                0x00 if external => {
                    image.imports.insert(name.clone());
                }
                _ => {}
            }
        }
        names.push(name);
    }
    names
}

fn read_indirect_symbols(data: &[u8], commands: &Commands, names: &[Option<String>], image: &mut Image<'_>) {
    let Some((offset, count)) = commands.indirect else { return };
    let symbol = |index: u32| -> Option<String> {
        let entry = u32_at(data, offset + index as usize * 4)?;
        if index as usize >= count || entry & (INDIRECT_SYMBOL_LOCAL | INDIRECT_SYMBOL_ABS) != 0 {
            return None;
        }
        names.get(entry as usize)?.clone()
    };
    for section in &commands.sections {
        let stride = match section.kind {
            S_NON_LAZY_SYMBOL_POINTERS | S_LAZY_SYMBOL_POINTERS => 8,
            S_SYMBOL_STUBS if section.reserved2 > 0 => u64::from(section.reserved2),
            _ => continue,
        };
        for i in 0..(section.size / stride).min(1 << 20) {
            if let Some(name) = symbol(section.reserved1 + i as u32) {
                image.import_slots.insert(section.address + i * stride, name);
            }
        }
    }
}

fn uleb(data: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    while let Some(byte) = data.get(*at) {
        *at += 1;
        if shift < 64 {
            value |= u64::from(byte & 0x7f) << shift;
        }
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

/// Classic `LC_DYLD_INFO` rebase opcodes: each rebased word holds its unslid target.
fn read_rebases(opcodes: &[u8], image: &mut Image<'_>) {
    let segments: Vec<u64> = image.segments.iter().map(|s| s.address).collect();
    let mut address = 0u64;
    let mut at = 0;
    let mut budget = 1usize << 24;
    let rebase = |image: &mut Image<'_>, address: u64| {
        if let Some(target) = image.word(address, 8) {
            image.pointers.insert(address, target);
        }
    };
    while let Some(&byte) = opcodes.get(at) {
        at += 1;
        let (opcode, immediate) = (byte & 0xf0, u64::from(byte & 0x0f));
        match opcode {
            0x00 => break,
            0x10 => {}
            0x20 => {
                let segment_base = segments.get(immediate as usize).copied().unwrap_or(0);
                address = segment_base.wrapping_add(uleb(opcodes, &mut at));
            }
            0x30 => address = address.wrapping_add(uleb(opcodes, &mut at)),
            0x40 => address = address.wrapping_add(immediate * 8),
            0x50 | 0x60 => {
                let times = if opcode == 0x50 { immediate } else { uleb(opcodes, &mut at) };
                for _ in 0..times.min(budget as u64) {
                    rebase(image, address);
                    address = address.wrapping_add(8);
                    budget -= 1;
                }
            }
            0x70 => {
                rebase(image, address);
                address = address.wrapping_add(8 + uleb(opcodes, &mut at));
            }
            0x80 => {
                let times = uleb(opcodes, &mut at);
                let skip = uleb(opcodes, &mut at);
                for _ in 0..times.min(budget as u64) {
                    rebase(image, address);
                    address = address.wrapping_add(8 + skip);
                    budget -= 1;
                }
            }
            _ => break,
        }
        if budget == 0 {
            break;
        }
    }
}

/// `LC_DYLD_CHAINED_FIXUPS` with pointer formats 2 (`DYLD_CHAINED_PTR_64`) and
/// 6 (`_64_OFFSET`): rebases become pointers, binds become import slots.
fn read_chained_fixups(fixups: &[u8], base: u64, image: &mut Image<'_>) {
    let (Some(starts), Some(imports), Some(symbols), Some(count), Some(format)) =
        (u32_at(fixups, 4), u32_at(fixups, 8), u32_at(fixups, 12), u32_at(fixups, 16), u32_at(fixups, 20))
    else {
        return;
    };
    let import_name = |ordinal: u64| -> Option<String> {
        if ordinal >= u64::from(count) {
            return None;
        }
        let name_offset = match format {
            1 => u32_at(fixups, imports as usize + ordinal as usize * 4)? >> 9,
            2 => u32_at(fixups, imports as usize + ordinal as usize * 8)? >> 9,
            3 => u32_at(fixups, imports as usize + ordinal as usize * 16 + 4)?,
            _ => return None,
        };
        let name = c_string(fixups, symbols as usize + name_offset as usize)?;
        Some(name.strip_prefix('_').unwrap_or(name).to_string())
    };
    let starts = starts as usize;
    let segment_count = u32_at(fixups, starts).unwrap_or(0).min(64) as usize;
    let mut budget = 1usize << 24;
    for segment in 0..segment_count {
        let Some(info) = u32_at(fixups, starts + 4 + segment * 4).filter(|o| *o != 0) else { continue };
        let at = starts + info as usize;
        let (Some(page_size), Some(pointer_format), Some(segment_offset), Some(page_count)) =
            (u16_at(fixups, at + 4), u16_at(fixups, at + 6), u64_at(fixups, at + 8), u16_at(fixups, at + 20))
        else {
            continue;
        };
        if pointer_format != 2 && pointer_format != 6 {
            continue;
        }
        for page in 0..usize::from(page_count) {
            let Some(start) = u16_at(fixups, at + 22 + page * 2).filter(|s| *s != 0xffff) else { continue };
            let mut address = base + segment_offset + page as u64 * u64::from(page_size) + u64::from(start);
            while budget > 0 {
                budget -= 1;
                let Some(raw) = image.bytes(address, 8).map(|b| u64::from_le_bytes(b.try_into().unwrap())) else {
                    break;
                };
                if raw >> 63 == 1 {
                    if let Some(name) = import_name(raw & 0xff_ffff) {
                        image.imports.insert(name.clone());
                        image.import_slots.insert(address, name);
                    }
                } else {
                    let target = raw & 0xf_ffff_ffff;
                    let high8 = (raw >> 36) & 0xff;
                    let pointer = (high8 << 56) | target;
                    image.pointers.insert(address, if pointer_format == 6 { pointer + base } else { pointer });
                }
                let next = (raw >> 51) & 0xfff;
                if next == 0 {
                    break;
                }
                address += next * 4;
            }
        }
    }
}
