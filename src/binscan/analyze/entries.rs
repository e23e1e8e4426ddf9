//! Which modules a file defines and what each further one is: every
//! `PyInit_`/`PyModExport_` export (the file's own module first), and for
//! the others whether `import` of the file's name reaches them, they are the
//! same module again, or PyO3 submodules (which make their parent refuse
//! subinterpreters).

use crate::binscan::code::{CodeFacts, Target};
use crate::binscan::generator::{Generator, GeneratorKind};
use crate::binscan::image::Image;
use crate::binscan::{BinaryReport, ExportRole, SubinterpreterVerdict};

pub(super) struct Entry {
    pub(super) module: String,
    /// The exported function: `PyInit_<module>`, `PyModExport_<module>`, or
    /// the function of a library a stub module jumps to.
    pub(super) function: String,
    pub(super) address: u64,
    pub(super) size: Option<u64>,
    pub(super) export_hook: bool,
}

/// Every module the file defines, one entry per name (CPython prefers the
/// 3.15 export hook when both exist, PEP 793), the file's own module first,
/// then the others by name.
pub(super) fn find_entries(image: &Image<'_>, file_module: Option<&str>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for (prefix, export_hook) in [("PyModExport_", true), ("PyInit_", false)] {
        for e in &image.exports {
            let Some(module) = e.name.strip_prefix(prefix).filter(|m| !m.is_empty()) else { continue };
            if !entries.iter().any(|x| x.module == module) {
                entries.push(Entry {
                    module: module.to_string(),
                    function: e.name.clone(),
                    address: e.address,
                    size: e.size,
                    export_hook,
                });
            }
        }
    }
    entries.sort_by(|a, b| {
        (Some(a.module.as_str()) != file_module, &a.module).cmp(&(Some(b.module.as_str()) != file_module, &b.module))
    });
    entries
}

/// PyO3 makes a `#[pymodule]` submodule with its module builder when the
/// parent's exec runs (`wrap_pymodule!`), and that builder refuses a second
/// interpreter: the parent fails in every subinterpreter, whatever its own
/// slots say (measured with PyO3 0.30 on 3.13: "failed to wrap pymodule:
/// PyO3 modules do not yet support subinterpreters").
pub(super) fn refused_by_pyo3_submodules(reports: &mut [BinaryReport]) {
    let submodules: Vec<String> = reports
        .iter()
        .filter(|r| r.export_role == Some(ExportRole::Pyo3Submodule))
        .filter_map(|r| r.module.clone())
        .collect();
    let Some(parent) = reports.first_mut().filter(|_| !submodules.is_empty()) else { return };
    if parent.subinterpreters == Some(SubinterpreterVerdict::Undetermined) {
        return;
    }
    parent.subinterpreters = Some(SubinterpreterVerdict::NotSupported);
    parent.evidence.retain(|line| !line.starts_with("subinterpreters: "));
    parent.evidence.push(format!(
        "subinterpreters: PyO3 builds its submodule{} `{}` while the module runs, which refuses a second interpreter",
        if submodules.len() == 1 { "" } else { "s" },
        submodules.join("`, `")
    ));
}

/// What the further exports of a file are judged against.
pub(super) struct FileEntries<'e> {
    pub(super) entries: &'e [Entry],
    /// The `PyModuleDef` the file's own init function passes.
    pub(super) first_def: Option<u64>,
    pub(super) file_defines_its_module: bool,
}

/// What a further export of a file is, when no import reaches it under its
/// own name, with the sentence that says so: the same module again (it
/// passes the same `PyModuleDef`, or only jumps to another init function of
/// the file), or a PyO3 submodule.
pub(super) fn export_role(
    entry: &Entry,
    code: &CodeFacts,
    def_address: Option<u64>,
    file: &FileEntries<'_>,
    generator: &Option<Generator>,
) -> Option<(ExportRole, String)> {
    let entries = file.entries;
    if file.first_def.is_some() && def_address == file.first_def {
        let why = format!("{} passes the same PyModuleDef as {}: the same module", entry.function, entries[0].function);
        return Some((ExportRole::SameModule, why));
    }
    let jumps_to = |other: &&Entry| match code.calls.as_slice() {
        [call] => match &call.target {
            Target::Import(name) => *name == other.function,
            Target::Local(address) => *address == other.address,
            _ => false,
        },
        _ => false,
    };
    if let Some(other) = entries.iter().filter(|e| e.module != entry.module).find(jumps_to) {
        let why = format!(
            "{} only jumps to {}, the init function of `{}`: the same module",
            entry.function, other.function, other.module
        );
        return Some((ExportRole::SameModule, why));
    }
    let pyo3 = generator.as_ref().is_some_and(|g| g.name == GeneratorKind::Pyo3);
    (pyo3 && file.file_defines_its_module).then(|| {
        let why = format!(
            "{} is a PyO3 `#[pymodule]` submodule's export: `{}` adds it when its exec runs, and no import of a file name runs it",
            entry.function, entries[0].module
        );
        (ExportRole::Pyo3Submodule, why)
    })
}
