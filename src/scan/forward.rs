//! Stub modules: a `PyInit_` that only jumps to a function of a library
//! shipped beside it (jaxlib's modules into `libjax_common.so`, torch's
//! `_C` into `libtorch_python.so`). The library is found among those the
//! stub links to, in the same wheel or tree; it is read and parsed once,
//! and every stub that forwards to it is decided there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Extension, Input, MEMORY, Options, Target, TargetKind, findings, hint_for, wheel};
use crate::binscan::{self, BinaryReport, BuildHint, Forward, image::Arch};
use crate::input;
use crate::model::tags::WheelTag;

/// One stub to decide: where its extension is, and what it jumps to.
struct Stub {
    /// Index of the target (for a tree) and of the extension in it.
    target: usize,
    extension: usize,
    symbol: String,
    module: String,
    arch: Arch,
}

/// The stubs of a wheel, by the member that defines what each jumps to.
pub struct WheelPlan {
    by_library: BTreeMap<String, Vec<Stub>>,
}

/// Finds the library of each stub among the wheel's members (a stub whose
/// library is not there says so in its evidence).
pub fn plan_in_wheel(target: &mut Target, wheel: &wheel::Wheel) -> WheelPlan {
    let mut by_library: BTreeMap<String, Vec<Stub>> = BTreeMap::new();
    let stubs = stubs_of(0, target);
    if stubs.is_empty() {
        return WheelPlan { by_library };
    }
    let members = wheel.member_names().unwrap_or_default();
    for stub in stubs {
        let extension = &target.extensions[stub.extension];
        let stub_dir = extension.member.rsplit_once('/').map_or("", |(dir, _)| dir);
        let as_loaded = loader_candidates(extension)
            .into_iter()
            .filter_map(|relative| normalize(&format!("{stub_dir}/{relative}")))
            .find(|member| members.contains(member));
        let by_name = || pick(&needed_of(extension), stub_dir, members.iter().map(String::as_str)).map(str::to_string);
        let by_import = || {
            let module = library_module(extension)?;
            let named = members.iter().filter(|m| wheel::is_binary_member(m) && super::dotted_module(m) == module);
            prefer_same_suffix(named.map(String::as_str), &extension.member).map(str::to_string)
        };
        match as_loaded.or_else(by_import).or_else(by_name) {
            Some(library) => by_library.entry(library).or_default().push(stub),
            None => not_found(&mut target.extensions[stub.extension]),
        }
    }
    WheelPlan { by_library }
}

impl WheelPlan {
    /// Whether some stub jumps into `member`.
    pub fn wants(&self, member: &str) -> bool {
        self.by_library.contains_key(member)
    }

    /// What the stubs that jump into `library` are, read from its bytes
    /// (for a library being scanned anyway: it is inflated once).
    pub fn analyse(&self, library: &str, data: &[u8], hint: BuildHint<'_>) -> Decided {
        let stubs = self.by_library.get(library).map_or(&[][..], Vec::as_slice);
        analyse(stubs, Ok(data), hint)
    }

    /// Gives each stub of `library` its verdicts.
    pub fn apply(&mut self, target: &mut Target, library: &str, decided: Decided) {
        if let Some(stubs) = self.by_library.remove(library) {
            apply(std::slice::from_mut(target), &stubs, library, &decided);
        }
    }

    /// Decides the stubs whose libraries were not analysed yet, reading each once.
    pub fn finish(mut self, target: &mut Target, wheel: &wheel::Wheel, tags: &[WheelTag], options: Options) {
        for (library, stubs) in std::mem::take(&mut self.by_library) {
            let mut archive = wheel.archive();
            let _permit = MEMORY.acquire(wheel::claimed_size(&archive, &library).min(options.max_member_size));
            let read =
                wheel::read_member(&mut archive, &library, options.max_member_size, true).map_err(|e| e.to_string());
            let decided = analyse(&stubs, read.as_deref().map_err(Clone::clone), hint_for(&library, Some(tags)));
            apply(std::slice::from_mut(target), &stubs, &library, &decided);
        }
    }
}

/// The stubs among scanned files (an installed tree, a folder), decided
/// through the library the stub links to in its own folder or, failing
/// that, anywhere else below the same root. Their findings are made again.
pub fn resolve_in_files(targets: &mut [Target], inputs: &[Input], options: Options) {
    let stubs: Vec<Stub> = targets
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TargetKind::File)
        .flat_map(|(index, t)| stubs_of(index, t))
        .collect();
    if stubs.is_empty() {
        return;
    }
    let mut by_library: BTreeMap<PathBuf, Vec<Stub>> = BTreeMap::new();
    for stub in stubs {
        let input = &inputs[stub.target];
        let extension = &targets[stub.target].extensions[stub.extension];
        let needed = needed_of(extension);
        let stub_dir = input.path.parent().unwrap_or(Path::new(""));
        let as_loaded =
            loader_candidates(extension).into_iter().map(|r| stub_dir.join(r)).find(|p| p.is_file()).map(|p| tidy(&p));
        let below = || {
            let root = input.root.as_deref();
            inputs.iter().filter(move |i| root.is_some_and(|r| i.path.starts_with(r)))
        };
        let by_import = || {
            let module = library_module(extension)?;
            let root = input.root.as_deref()?;
            let named = below().filter(|i| super::installed::import_name(root, &i.path).as_deref() == Some(module));
            let paths: Vec<&str> = named.filter_map(|i| i.path.to_str()).collect();
            prefer_same_suffix(paths.into_iter(), &input.path.to_string_lossy()).map(PathBuf::from)
        };
        let elsewhere = || {
            let names = below().filter_map(|i| i.path.to_str());
            pick(&needed, &stub_dir.to_string_lossy(), names).map(PathBuf::from)
        };
        match as_loaded.or_else(by_import).or_else(elsewhere) {
            Some(library) => by_library.entry(library).or_default().push(stub),
            None => not_found(&mut targets[stub.target].extensions[stub.extension]),
        }
    }
    for (library, stubs) in by_library {
        let name = library.to_string_lossy().into_owned();
        let read = input::open_regular(&library).and_then(|(file, size)| {
            let _permit = MEMORY.acquire(size.min(options.max_member_size));
            input::read_opened(file, size, &library, options.max_member_size, " (--max-member-size)")
        });
        let decided = analyse(&stubs, read.as_deref().map_err(|e| e.to_string()), hint_for(&name, None));
        apply(targets, &stubs, &name, &decided);
        for index in stubs.iter().map(|s| s.target) {
            targets[index].findings = findings::check(&targets[index]);
        }
    }
}

fn stubs_of(target_index: usize, target: &Target) -> Vec<Stub> {
    target
        .extensions
        .iter()
        .enumerate()
        .filter_map(|(index, extension)| {
            let report = extension.report.as_ref()?;
            let forward = report.forwards_to.as_ref().filter(|f| f.library.is_none())?;
            Some(Stub {
                target: target_index,
                extension: index,
                symbol: forward.symbol.clone(),
                module: report.module.clone()?,
                arch: report.arch,
            })
        })
        .collect()
}

/// Where the loader would find the stub's libraries, relative to the
/// stub's folder, in its order: through each search path that starts at
/// the stub (`$ORIGIN/..`, `@loader_path/..`), then beside the stub.
fn loader_candidates(extension: &Extension) -> Vec<String> {
    let Some(forward) = extension.report.as_ref().and_then(|r| r.forwards_to.as_ref()) else { return Vec::new() };
    let from_stub = |path: &str| {
        ["$ORIGIN", "${ORIGIN}", "@loader_path"]
            .iter()
            .find_map(|origin| path.strip_prefix(origin))
            .map(|rest| rest.trim_start_matches('/').to_string())
    };
    let dirs: Vec<String> = forward.search_paths.iter().filter_map(|p| from_stub(p)).collect();
    let within = |dir: &str, name: &str| if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
    let mut out = Vec::new();
    for name in &forward.needed {
        if let Some(rest) = name.strip_prefix("@rpath/") {
            out.extend(dirs.iter().map(|d| within(d, rest)));
        } else if let Some(rest) = from_stub(name) {
            out.push(rest);
        } else if !name.contains(['/', '\\']) {
            out.extend(dirs.iter().map(|d| within(d, name)));
            out.push(name.clone());
        }
    }
    out
}

/// A `/`-separated path with `.` and `..` resolved; `None` if it climbs
/// above its start.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            _ => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// `path` with `.`, `..` and doubled separators taken out, for showing.
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The module a stub imports its library as (mypyc's `<hash>__mypyc`).
fn library_module(extension: &Extension) -> Option<&str> {
    extension.report.as_ref()?.forwards_to.as_ref()?.library_module.as_deref()
}

/// Of several files of one module (copies built for several CPythons), the
/// one whose file name ends like the stub's (`.cpython-313-x86_64-linux-gnu.so`).
fn prefer_same_suffix<'n>(names: impl Iterator<Item = &'n str>, stub: &str) -> Option<&'n str> {
    let suffix = |name: &str| {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        base.split_once('.').map(|(_, rest)| rest.to_string()).unwrap_or_default()
    };
    let wanted = suffix(stub);
    names.max_by_key(|n| suffix(n) == wanted)
}

/// The file names of the libraries a stub links to.
fn needed_of(extension: &Extension) -> Vec<String> {
    let needed = extension.report.as_ref().and_then(|r| r.forwards_to.as_ref()).map(|f| f.needed.as_slice());
    needed
        .unwrap_or_default()
        .iter()
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Of `names` (wheel members or paths), one whose file name is among
/// `needed`: in the stub's own folder if one is, else the nearest by path.
fn pick<'n>(needed: &[String], stub_dir: &str, names: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    let matching = names.filter(|n| {
        let base = n.rsplit(['/', '\\']).next().unwrap_or(n);
        needed.iter().any(|wanted| wanted.eq_ignore_ascii_case(base))
    });
    let shared_prefix = |n: &str| n.chars().zip(stub_dir.chars()).take_while(|(a, b)| a == b).count();
    matching.max_by_key(|n| (shared_prefix(n), std::cmp::Reverse(n.len())))
}

fn not_found(extension: &mut Extension) {
    if let Some(report) = extension.report.as_mut() {
        report
            .evidence
            .push("none of the libraries it links to that define that function is in the same wheel or folder".into());
    }
}

/// Per stub, the module as the library defines it (`None`: not exported
/// there), or why the library could not be read.
// The reason is text on purpose: it only becomes a line of the stubs'
// evidence (`{library} could not be read: {reason}`), and it comes from
// several sources (a wheel member's read, a file's, the parser).
pub type Decided = Result<Vec<Option<BinaryReport>>, String>;

/// Analyses, in the library's bytes, the function each stub jumps to.
// `data` is the library's bytes or, as text, why they could not be read;
// see [`Decided`].
fn analyse(stubs: &[Stub], data: Result<&[u8], String>, hint: BuildHint<'_>) -> Decided {
    let Some(arch) = stubs.first().map(|s| s.arch) else { return Ok(Vec::new()) };
    let requests: Vec<(&str, &str)> = stubs.iter().map(|s| (s.symbol.as_str(), s.module.as_str())).collect();
    data.and_then(|data| {
        // A malformed library must not take the run down either.
        std::panic::catch_unwind(|| binscan::scan_forwarded(data, arch, &requests, hint))
            .map_err(|_| "the binary parser failed on this file (please report it)".to_string())?
            .map_err(|e| e.to_string())
    })
}

/// Gives each stub the verdicts `decided` holds for it.
fn apply(targets: &mut [Target], stubs: &[Stub], library: &str, decided: &Decided) {
    for (index, stub) in stubs.iter().enumerate() {
        let extension = &mut targets[stub.target].extensions[stub.extension];
        let Some(report) = extension.report.as_mut() else { continue };
        match decided {
            Ok(found) => match found.get(index).cloned().flatten() {
                Some(defined) => adopt(report, library, defined),
                None => report.evidence.push(format!("{library} does not export {}", stub.symbol)),
            },
            Err(error) => report.evidence.push(format!("{library} could not be read: {error}")),
        }
    }
}

/// The stub takes the verdicts of the module as the library defines it.
fn adopt(stub: &mut BinaryReport, library: &str, defined: BinaryReport) {
    let symbol = stub.forwards_to.as_ref().map(|f| f.symbol.clone()).unwrap_or_default();
    stub.forwards_to = Some(Forward {
        symbol: symbol.clone(),
        needed: Vec::new(),
        search_paths: Vec::new(),
        library: Some(library.to_string()),
        library_module: None,
    });
    stub.init = defined.init;
    stub.gil = defined.gil;
    stub.subinterpreters = defined.subinterpreters;
    stub.generator = defined.generator;
    stub.set_gil_imported |= defined.set_gil_imported;
    stub.free_threaded_build = stub.free_threaded_build.or(defined.free_threaded_build);
    // What the stub alone allowed (undetermined) no longer stands.
    stub.evidence.retain(|line| !line.starts_with("GIL: ") && !line.starts_with("subinterpreters: "));
    stub.evidence.push(format!("{library} defines {symbol}, read as the module's init function:"));
    stub.evidence.extend(defined.evidence);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_dot_dot_and_refuse_to_climb_out() {
        assert_eq!(
            normalize("jaxlib/mlir/_mlir_libs/../../libjax_common.so").as_deref(),
            Some("jaxlib/libjax_common.so")
        );
        assert_eq!(normalize("/pkg/./lib.so").as_deref(), Some("pkg/lib.so"));
        assert_eq!(normalize("pkg/../../lib.so"), None);
    }
}
