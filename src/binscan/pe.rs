//! PE (`.pyd`) reader. Addresses are RVAs: base relocations hold absolute
//! addresses for the preferred image base, which are turned back into RVAs;
//! import slots are the IAT entries; exports come from the export directory.

use object::pe;
use object::read::pe::{ExportTarget, ImageNtHeaders, PeFile};
use object::{LittleEndian as LE, Object};

use super::ScanError;
use super::image::{Arch, Export, Format, Image, Segment};

pub fn read(data: &[u8]) -> Result<Image<'_>, ScanError> {
    match object::FileKind::parse(data) {
        Ok(object::FileKind::Pe64) => read_pe::<pe::ImageNtHeaders64>(data),
        Ok(object::FileKind::Pe32) => read_pe::<pe::ImageNtHeaders32>(data),
        _ => Err(ScanError::Format("not a PE file".into())),
    }
}

fn bad(error: object::Error) -> ScanError {
    ScanError::Format(format!("malformed PE: {error}"))
}

fn read_pe<Pe: ImageNtHeaders>(data: &[u8]) -> Result<Image<'_>, ScanError> {
    let file = PeFile::<Pe>::parse(data).map_err(bad)?;
    let arch = match file.nt_headers().file_header().machine.get(LE) {
        pe::IMAGE_FILE_MACHINE_AMD64 => Arch::X86_64,
        pe::IMAGE_FILE_MACHINE_ARM64 => Arch::Aarch64,
        pe::IMAGE_FILE_MACHINE_I386 => Arch::X86,
        _ => Arch::Other,
    };
    let image_base = file.relative_address_base();
    let mut image = Image::new(Format::Pe, arch, if file.is_64() { 8 } else { 4 }, data);
    if !file.is_64() {
        // 32-bit code addresses data absolutely (no rip-relative operands).
        image.absolute_base = image_base;
    }
    for section in file.section_table().iter() {
        let (offset, size) = section.pe_file_range();
        let virtual_size = u64::from(section.virtual_size.get(LE)).max(u64::from(size));
        let end = (offset as usize).checked_add(size as usize).filter(|e| *e <= data.len());
        let Some(end) = end else { return Err(ScanError::Format("a section lies outside the file".into())) };
        image.segments.push(Segment {
            address: u64::from(section.virtual_address.get(LE)),
            file_range: (offset as usize, end),
            size: virtual_size,
            executable: section.characteristics.get(LE).0 & pe::IMAGE_SCN_MEM_EXECUTE.0 != 0,
        });
    }
    read_relocations(&file, &mut image, image_base)?;
    read_imports(&file, &mut image)?;
    if let Some(table) = file.export_table().map_err(bad)? {
        for export in table.exports().map_err(bad)? {
            if let (Some(name), ExportTarget::Address(rva)) = (export.name, export.target) {
                image.exports.push(Export {
                    name: String::from_utf8_lossy(name).into_owned(),
                    address: rva.into(),
                    size: None,
                });
            }
        }
    }
    Ok(image)
}

fn read_relocations<Pe: ImageNtHeaders>(
    file: &PeFile<'_, Pe>,
    image: &mut Image<'_>,
    base: u64,
) -> Result<(), ScanError> {
    let blocks = file.data_directories().relocation_blocks(file.data(), &file.section_table()).map_err(bad)?;
    let Some(mut blocks) = blocks else { return Ok(()) };
    while let Some(block) = blocks.next().map_err(bad)? {
        for reloc in block {
            let size = match reloc.typ {
                pe::IMAGE_REL_BASED_DIR64 => 8,
                pe::IMAGE_REL_BASED_HIGHLOW => 4,
                _ => continue,
            };
            let at = u64::from(reloc.virtual_address);
            if let Some(value) = image.word(at, size) {
                image.pointers.insert(at, value.wrapping_sub(base));
            }
        }
    }
    Ok(())
}

/// Walks the import directory through the image, so names and thunks may
/// live in any section (some linkers split them across sections).
fn read_imports<Pe: ImageNtHeaders>(file: &PeFile<'_, Pe>, image: &mut Image<'_>) -> Result<(), ScanError> {
    let Some(directory) = file.data_directories().get(pe::IMAGE_DIRECTORY_ENTRY_IMPORT) else { return Ok(()) };
    let mut descriptor = u64::from(directory.virtual_address.get(LE));
    let step = u64::from(image.pointer_size);
    let ordinal_flag = 1u64 << (step * 8 - 1);
    // 20-byte descriptors, ended by an all-zero one; bounded against corrupt tables.
    for _ in 0..4096 {
        let field = |offset: u64| image.word(descriptor + offset, 4);
        let (Some(lookup), Some(name), Some(first_thunk)) = (field(0), field(12), field(16)) else { break };
        if name == 0 && first_thunk == 0 {
            break;
        }
        if let Some(library) = image.c_str(name) {
            image.needed.push(library.to_string());
        }
        let lookup = if lookup == 0 { first_thunk } else { lookup };
        for index in 0..65536u64 {
            let Some(thunk) = image.word(lookup + index * step, image.pointer_size) else { break };
            if thunk == 0 {
                break;
            }
            if thunk & ordinal_flag == 0
                && let Some(symbol) = image.c_str((thunk & 0x7fff_ffff) + 2)
            {
                let symbol = symbol.to_string();
                image.import_slots.insert(first_thunk + index * step, symbol.clone());
                image.imports.insert(symbol);
            }
        }
        descriptor += 20;
    }
    Ok(())
}
