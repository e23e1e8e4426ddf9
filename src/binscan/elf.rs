//! ELF reader: segments, relative relocations (RELA, REL, RELR), import slots
//! from GLOB_DAT/JUMP_SLOT relocations, and exported functions.
//!
//! Relocated words are always taken from the relocation, never from the file:
//! lld leaves RELA targets as zero on disk (cpython-reference.md, section E).

use object::elf;
use object::read::elf::{Dyn, ElfFile, FileHeader, ProgramHeader, Rel, Rela, SectionHeader, Sym};
use object::{Endianness, Object, ObjectSection, ObjectSymbol};

use super::ScanError;
use super::image::{Arch, Export, Format, Image, Segment};

pub fn read(data: &[u8]) -> Result<Image<'_>, ScanError> {
    match object::FileKind::parse(data) {
        Ok(object::FileKind::Elf64) => read_elf::<elf::FileHeader64<Endianness>>(data),
        Ok(object::FileKind::Elf32) => read_elf::<elf::FileHeader32<Endianness>>(data),
        _ => Err(ScanError::Format("not an ELF file".into())),
    }
}

fn bad(error: object::Error) -> ScanError {
    ScanError::Format(format!("malformed ELF: {error}"))
}

fn read_elf<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<Image<'_>, ScanError> {
    let file = ElfFile::<Elf>::parse(data).map_err(bad)?;
    let endian = file.endian();
    if endian != Endianness::Little {
        return Err(ScanError::Format("big-endian ELF is not supported".into()));
    }
    let header = file.elf_header();
    let arch = match header.e_machine(endian) {
        elf::EM_X86_64 => Arch::X86_64,
        elf::EM_AARCH64 => Arch::Aarch64,
        elf::EM_386 => Arch::X86,
        elf::EM_ARM => Arch::Arm,
        _ => Arch::Other,
    };
    let pointer_size = if file.is_64() { 8 } else { 4 };
    let mut image = Image::new(Format::Elf, arch, pointer_size, data);
    for ph in file.elf_program_headers() {
        if ph.p_type(endian) != elf::PT_LOAD {
            continue;
        }
        let offset: u64 = ph.p_offset(endian).into();
        let filesz: u64 = ph.p_filesz(endian).into();
        let (start, end) =
            (usize::try_from(offset).ok(), offset.checked_add(filesz).and_then(|e| usize::try_from(e).ok()));
        let (Some(start), Some(end)) = (start, end) else { continue };
        if end > data.len() || start > end {
            return Err(ScanError::Format("a segment lies outside the file".into()));
        }
        image.segments.push(Segment {
            address: ph.p_vaddr(endian).into(),
            file_range: (start, end),
            size: ph.p_memsz(endian).into(),
            executable: ph.p_flags(endian).0 & elf::PF_X.0 != 0,
        });
    }
    image.got_base = file.section_by_name(".got.plt").map(|s| s.address());
    read_symbols(&file, &mut image);
    read_relocations(&file, &mut image)?;
    if let Ok(libraries) = file.import_libraries() {
        image.needed =
            libraries.filter_map(|l| l.ok()).map(|l| String::from_utf8_lossy(l.name()).into_owned()).collect();
    }
    image.search_paths = run_paths(&file);
    Ok(image)
}

/// The DT_RUNPATH and DT_RPATH entries, split at `:`, as written (`$ORIGIN/../lib`).
fn run_paths<Elf: FileHeader<Endian = Endianness>>(file: &ElfFile<'_, Elf>) -> Vec<String> {
    let (endian, data) = (file.endian(), file.data());
    let sections = file.elf_section_table();
    // The table comes with the index of the string table it links to.
    let Ok(Some((entries, strings_index))) = sections.dynamic(endian, data) else { return Vec::new() };
    let Ok(strings) = sections.strings(endian, data, strings_index) else { return Vec::new() };
    let mut paths = Vec::new();
    for entry in entries {
        let tag = entry.tag(endian);
        if tag != elf::DT_RUNPATH && tag != elf::DT_RPATH {
            continue;
        }
        if let Ok(text) = entry.string(endian, strings) {
            paths.extend(String::from_utf8_lossy(text).split(':').filter(|p| !p.is_empty()).map(str::to_string));
        }
    }
    paths
}

fn read_symbols<Elf: FileHeader<Endian = Endianness>>(file: &ElfFile<'_, Elf>, image: &mut Image<'_>) {
    for symbol in file.dynamic_symbols() {
        let Ok(name) = symbol.name() else { continue };
        if symbol.is_undefined() {
            image.imports.insert(name.to_string());
        } else if symbol.kind() == object::SymbolKind::Text && symbol.is_global() {
            image.exports.push(Export {
                name: name.to_string(),
                address: symbol.address(),
                size: Some(symbol.size()).filter(|s| *s > 0),
            });
        }
    }
}

fn relative_type(arch: Arch) -> u32 {
    match arch {
        Arch::X86_64 => elf::R_X86_64_RELATIVE.0,
        Arch::Aarch64 => elf::R_AARCH64_RELATIVE.0,
        Arch::X86 => elf::R_386_RELATIVE.0,
        Arch::Arm => elf::R_ARM_RELATIVE.0,
        Arch::Other => u32::MAX,
    }
}

fn read_relocations<Elf: FileHeader<Endian = Endianness>>(
    file: &ElfFile<'_, Elf>,
    image: &mut Image<'_>,
) -> Result<(), ScanError> {
    let endian = file.endian();
    let data = file.data();
    let sections = file.elf_section_table();
    let dynsym = sections.symbols(endian, data, elf::SHT_DYNSYM).map_err(bad)?;
    let relative = relative_type(image.arch);
    let mips = false;
    for section in sections.iter() {
        if let Some((relas, _)) = section.rela(endian, data).map_err(bad)? {
            for r in relas {
                let (offset, kind, sym): (u64, u32, u32) =
                    (r.r_offset(endian).into(), r.r_type(endian, mips).0, r.r_sym(endian, mips));
                let addend: i64 = r.r_addend(endian).into();
                if kind == relative {
                    image.pointers.insert(offset, addend as u64);
                } else if sym != 0 {
                    note_import_slot(image, &dynsym, endian, offset, sym);
                }
            }
        } else if let Some((rels, _)) = section.rel(endian, data).map_err(bad)? {
            for r in rels {
                let (offset, kind, sym): (u64, u32, u32) =
                    (r.r_offset(endian).into(), r.r_type(endian).0, r.r_sym(endian));
                if kind == relative {
                    // REL keeps the addend in place.
                    if let Some(target) = image.word(offset, image.pointer_size) {
                        image.pointers.insert(offset, target);
                    }
                } else if sym != 0 {
                    note_import_slot(image, &dynsym, endian, offset, sym);
                }
            }
        } else if let Some(relrs) = section.relr(endian, data).map_err(bad)? {
            for offset in relrs {
                let offset: u64 = offset.into();
                // RELR keeps the addend in place too.
                if let Some(target) = image.word(offset, image.pointer_size) {
                    image.pointers.insert(offset, target);
                }
            }
        }
    }
    Ok(())
}

fn note_import_slot<Elf: FileHeader<Endian = Endianness>>(
    image: &mut Image<'_>,
    dynsym: &object::read::elf::SymbolTable<'_, Elf>,
    endian: Endianness,
    offset: u64,
    sym: u32,
) {
    let Ok(symbol) = dynsym.symbol(object::SymbolIndex(sym as usize)) else { return };
    if symbol.is_undefined(endian) {
        if let Ok(name) = dynsym.symbol_name(endian, symbol)
            && let Ok(name) = std::str::from_utf8(name)
        {
            image.import_slots.insert(offset, name.to_string());
        }
    } else if symbol.st_value(endian).into() != 0 {
        // A slot for a function this file defines and exports (mypyc's
        // `PyInit___init__` jumps through the PLT to `PyInit_<module>`):
        // the loader fills it with that function's address.
        image.pointers.insert(offset, symbol.st_value(endian).into());
    }
}
