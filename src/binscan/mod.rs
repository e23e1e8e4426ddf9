//! Static scanning of extension modules: what a compiled module declares
//! about the GIL and subinterpreters, read from the binary alone, for ELF,
//! PE and Mach-O, on any host. Nothing is loaded or run.

mod analyze;
pub mod arm32;
pub mod arm64;
pub mod block_memory;
pub mod code;
pub mod elf;
pub mod flow;
pub mod generator;
pub mod image;
pub mod macho;
pub mod moduledef;
pub mod pe;
pub mod x86;

use serde::Serialize;

pub use analyze::{analyze, analyze_forwarded};
use generator::Generator;
use image::{Arch, Format};

/// Why a file could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("unsupported or malformed binary format: {0}")]
    Format(String),
}

/// How the module initialises (PEP 489 multi-phase, legacy single-phase, or 3.15's PEP 793 export hook).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    MultiPhase,
    SinglePhase,
    ExportHook,
}

/// What the module declares about the GIL on a free-threaded build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilVerdict {
    /// Declares it runs without the GIL: the GIL stays off.
    NotUsed,
    /// Declares it needs the GIL, or declares nothing: importing it re-enables the GIL.
    Used,
    Undetermined,
}

/// What the module declares about subinterpreters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubinterpreterVerdict {
    PerInterpreterGil,
    SharedGil,
    NotSupported,
    Undetermined,
}

/// The scan of one binary (one slice of a universal Mach-O).
#[derive(Clone, Debug, Serialize)]
pub struct BinaryReport {
    /// The import name from `PyInit_<name>` / `PyModExport_<name>`.
    pub module: Option<String>,
    /// Exports `PyInit_` or `PyModExport_`: an extension module.
    pub is_extension: bool,
    /// A further `PyInit_` of a file that defines several modules: `import`
    /// of the file's name never runs it; only a loader given this name does
    /// (CPython's `_testmultiphase` holds many).
    pub alias: bool,
    /// What a further export is, when it is known that no import reaches
    /// it under its own name: such a module is not listed as one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export_role: Option<ExportRole>,
    pub format: Format,
    pub arch: Arch,
    pub init: Option<Init>,
    pub gil: Option<GilVerdict>,
    pub subinterpreters: Option<SubinterpreterVerdict>,
    /// Imports `PyUnstable_Module_SetGIL` (only free-threaded builds can).
    pub set_gil_imported: bool,
    /// Built for a free-threaded CPython, as the binary shows it (def layout, imports).
    pub free_threaded_build: Option<bool>,
    pub generator: Option<Generator>,
    /// `PyInit_` only jumps to a function imported from another library (a
    /// stub module): the module is really defined there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwards_to: Option<Forward>,
    /// How each verdict was reached, one sentence each.
    pub evidence: Vec<String>,
}

/// A further `PyInit_`/`PyModExport_` of a file that no import of a file
/// name reaches (unlike `_testmultiphase`'s, which a loader can name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportRole {
    /// Only jumps to another init function of the same file (mypyc's
    /// `PyInit___init__` shims): the same module again.
    SameModule,
    /// A PyO3 `#[pymodule]` submodule: the file's own module adds it when
    /// its exec runs.
    Pyo3Submodule,
}

impl BinaryReport {
    /// A module of its own, as `import` of its file loads it: not a
    /// library, not a further export that no import reaches.
    pub fn is_listed_module(&self) -> bool {
        self.is_extension && self.export_role.is_none()
    }
}

/// Where a stub module's `PyInit_` jumps to.
#[derive(Clone, Debug, Serialize)]
pub struct Forward {
    /// The imported function.
    pub symbol: String,
    /// The libraries the stub links to, one of which defines it.
    #[serde(skip)]
    pub needed: Vec<String>,
    /// The stub's run-time search paths (RUNPATH, LC_RPATH), as written.
    #[serde(skip)]
    pub search_paths: Vec<String>,
    /// The library found to define it: a wheel member, or a path.
    pub library: Option<String>,
    /// The module the library is imported as, when the stub imports it
    /// rather than linking to it (mypyc's `<hash>__mypyc`).
    #[serde(skip)]
    pub library_module: Option<String>,
}

/// What the file name or wheel says about the build, to pick a layout when
/// the binary is ambiguous, and which module the file is imported as.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuildHint<'a> {
    pub free_threaded: Option<bool>,
    /// The file name up to its first dot: `import` runs `PyInit_<this>`.
    pub file_module: Option<&'a str>,
}

/// Scans one file's bytes: one report per module the file defines (the one
/// `import` loads under the file's name first), per slice of a universal Mach-O.
pub fn scan_bytes(data: &[u8], hint: BuildHint<'_>) -> Result<Vec<BinaryReport>, ScanError> {
    let kind = object::FileKind::parse(data).map_err(|_| ScanError::Format(describe_unknown(data)))?;
    match kind {
        object::FileKind::Elf32 | object::FileKind::Elf64 => Ok(analyze(&elf::read(data)?, hint)),
        object::FileKind::Pe32 | object::FileKind::Pe64 => Ok(analyze(&pe::read(data)?, hint)),
        object::FileKind::MachO64 => Ok(analyze(&macho::read(data)?, hint)),
        object::FileKind::MachOFat32 | object::FileKind::MachOFat64 => {
            let mut reports = Vec::new();
            for (offset, size) in macho::fat_slices(data)? {
                reports.extend(analyze(&macho::read(&data[offset..offset + size])?, hint));
            }
            Ok(reports)
        }
        other => Err(ScanError::Format(format!("{other:?} files are not supported yet"))),
    }
}

/// Analyses, in a library that stub modules forward to, the function each
/// request names as the init function of its module: `(symbol, module)`.
/// The library is parsed once for all of them; of a universal Mach-O, the
/// slice for `arch` is read.
pub fn scan_forwarded(
    data: &[u8],
    arch: Arch,
    requests: &[(&str, &str)],
    hint: BuildHint<'_>,
) -> Result<Vec<Option<BinaryReport>>, ScanError> {
    let kind = object::FileKind::parse(data).map_err(|_| ScanError::Format(describe_unknown(data)))?;
    let image = match kind {
        object::FileKind::Elf32 | object::FileKind::Elf64 => elf::read(data)?,
        object::FileKind::Pe32 | object::FileKind::Pe64 => pe::read(data)?,
        object::FileKind::MachO64 => macho::read(data)?,
        object::FileKind::MachOFat32 | object::FileKind::MachOFat64 => {
            let mut found = None;
            for (offset, size) in macho::fat_slices(data)? {
                let slice = macho::read(&data[offset..offset + size])?;
                if slice.arch == arch {
                    found = Some(slice);
                    break;
                }
            }
            found.ok_or_else(|| ScanError::Format(format!("no {arch:?} slice in the universal binary")))?
        }
        other => return Err(ScanError::Format(format!("{other:?} files are not supported yet"))),
    };
    if image.arch != arch {
        return Err(ScanError::Format(format!("built for {:?}, not {arch:?}", image.arch)));
    }
    Ok(analyze_forwarded(&image, requests, hint))
}

/// Whether `prefix` (a file's first bytes, at least four) starts like an
/// ELF, PE or Mach-O file (thin or universal), so a member that cannot be
/// scanned is refused before it is inflated whole.
pub fn starts_like_binary(prefix: &[u8]) -> bool {
    const MAGICS: [&[u8]; 8] = [
        b"\x7fELF",
        b"MZ",
        &[0xfe, 0xed, 0xfa, 0xce],
        &[0xfe, 0xed, 0xfa, 0xcf],
        &[0xce, 0xfa, 0xed, 0xfe],
        &[0xcf, 0xfa, 0xed, 0xfe],
        &[0xca, 0xfe, 0xba, 0xbe],
        &[0xca, 0xfe, 0xba, 0xbf],
    ];
    MAGICS.iter().any(|magic| prefix.starts_with(magic))
}

fn describe_unknown(data: &[u8]) -> String {
    if data.is_empty() { "the file is empty".into() } else { "not an ELF, PE or Mach-O file".into() }
}
