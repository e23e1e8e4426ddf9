//! `ftprobe scan`: turn paths (wheels, folders of wheels, installed trees,
//! single `.so`/`.pyd` files) into one [`Target`] report each, scanning
//! binaries in parallel. A file that cannot be read becomes a target with an
//! `error`; the rest of the run goes on.

mod budget;
pub mod findings;
mod forward;
pub mod installed;
pub mod report;
pub mod wheel;

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::binscan::{self, BinaryReport, BuildHint};
use crate::input::{self, InputError};
use crate::model::paths;
use crate::model::tags::{ExtSuffix, WheelTag};
use crate::model::wheel::wheel_tags;
use budget::MemoryBudget;
pub use findings::Finding;

/// Default cap on one member's inflated size (and one loose file's size).
pub const DEFAULT_MAX_MEMBER_SIZE: u64 = 2 << 30;

/// What binaries held in memory at once may add up to, across all scanning
/// threads (one larger binary still goes, alone).
static MEMORY: MemoryBudget = MemoryBudget::new(1 << 30);

/// One scanned wheel or loose binary.
#[derive(Debug, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: TargetKind,
    #[serde(serialize_with = "paths::lossy")]
    pub path: PathBuf,
    /// The path's raw bytes, when it is not valid UTF-8 (`path` is then lossy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes: Option<Vec<u8>>,
    /// The distribution it belongs to: from the wheel's name, or from the
    /// RECORD of an installed `*.dist-info` that lists the file.
    pub distribution: Option<installed::Owner>,
    /// Wheel tags (`cp313-cp313t-manylinux_2_17_x86_64`); empty for loose files.
    pub tags: Vec<String>,
    /// A tag targets a free-threaded ABI (`cp313t`, `abi3t`).
    pub free_threaded_abi: bool,
    pub extensions: Vec<Extension>,
    pub findings: Vec<Finding>,
    /// Why the file could not be read at all.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Wheel,
    File,
}

impl Target {
    /// The file name of the wheel or binary (lossy when not UTF-8).
    pub fn file_name(&self) -> String {
        self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// One binary inside a target (one per slice of a universal Mach-O).
#[derive(Debug, Serialize)]
pub struct Extension {
    /// The member name in the wheel, or the file name.
    pub member: String,
    /// The dotted name it is imported as (`google_crc32c._crc32c`), when
    /// known (always for wheels; for files below a given folder).
    pub import_name: Option<String>,
    #[serde(flatten)]
    pub report: Option<BinaryReport>,
    pub error: Option<String>,
    /// Why no interpreter the wheel is tagged for imports this file, when
    /// it is a copy built for another CPython beside the one that is
    /// (`bson/_cbson.cpython-310-...so` in a cp313t wheel). Such a file
    /// has no say in the module's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_imported: Option<String>,
}

impl Extension {
    /// The module this file is, when it is one the wheel's interpreters
    /// import under its own name: the file's own module (not a further
    /// export), and not a copy for another CPython.
    pub fn imported_module(&self) -> Option<&BinaryReport> {
        self.report.as_ref().filter(|r| r.is_listed_module() && !r.alias && self.never_imported.is_none())
    }
}

/// Scanning limits.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub max_member_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_member_size: DEFAULT_MAX_MEMBER_SIZE }
    }
}

/// The dotted import name of a wheel member: `pkg/sub/_x.cpython-313t-x86_64-linux-gnu.so` -> `pkg.sub._x`.
/// A package's `__init__` extension is imported as the package:
/// `pkg/__init__.cpython-313-x86_64-linux-gnu.so` -> `pkg`.
pub fn dotted_module(member: &str) -> String {
    let (dir, file) = member.rsplit_once('/').unwrap_or(("", member));
    let module = file.split('.').next().unwrap_or(file);
    match (dir.is_empty(), module) {
        (false, "__init__") => dir.replace('/', "."),
        (true, _) => module.to_string(),
        (false, _) => format!("{}.{module}", dir.replace('/', ".")),
    }
}

/// The module `import` loads a file as, whose init function it runs: the
/// file name up to its first dot, or for a package's `__init__` extension
/// the package's folder (`import tomli` runs `PyInit_tomli` of
/// `tomli/__init__...so`).
fn module_of_file(path: &str) -> &str {
    let mut parts = path.rsplit(['/', '\\']);
    let file = parts.next().unwrap_or(path);
    match file.split('.').next().unwrap_or(file) {
        "__init__" => parts.next().filter(|dir| !dir.is_empty()).unwrap_or("__init__"),
        module => module,
    }
}

/// One thing to scan: a path found or given, or a path that could not be
/// looked at (an unreadable folder, a missing argument), kept so that the
/// report says so.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub problem: Option<InputError>,
    /// The installed distribution that lists it in its RECORD.
    pub owner: Option<installed::Owner>,
    /// The folder its import name is relative to (site-packages, or the
    /// folder that was given).
    pub root: Option<PathBuf>,
}

impl Input {
    pub fn found(path: PathBuf) -> Self {
        Input { path, problem: None, owner: None, root: None }
    }
}

/// Expands paths: folders are walked for wheels and binaries. A folder that
/// cannot be read, anywhere below, becomes an input with its problem.
pub fn collect_inputs(paths: &[PathBuf]) -> Vec<Input> {
    let mut out = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let (mut found, mut records) = (Vec::new(), Vec::new());
                walk(path, &mut found, &mut records);
                let owners = installed::owners(&records);
                for mut input in found {
                    match owners.get(&input.path) {
                        Some((owner, root)) => (input.owner, input.root) = (Some(owner.clone()), Some(root.clone())),
                        None => input.root = Some(path.clone()),
                    }
                    out.push(input);
                }
            }
            // Files, and paths that do not resolve: opening them says why.
            _ => out.push(Input::found(path.clone())),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<Input>, records: &mut Vec<PathBuf>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let problem = match InputError::from_io(dir, &e) {
                InputError::Io { path, reason } => InputError::Io { path, reason: format!("{reason} (a folder)") },
                other => other,
            };
            out.push(Input { problem: Some(problem), ..Input::found(dir.to_path_buf()) });
            return;
        }
    };
    let mut found: Vec<(PathBuf, fs::FileType)> =
        entries.filter_map(|e| e.ok()).filter_map(|e| Some((e.path(), e.file_type().ok()?))).collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, file_type) in found {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if file_type.is_dir() {
            walk(&path, out, records);
        } else if name == "RECORD" && dir.extension().is_some_and(|e| e == "dist-info") {
            records.push(path);
        } else if name.ends_with(".whl") || wheel::is_binary_member(&name) {
            out.push(Input::found(path));
        }
    }
}

/// Scans every input in parallel; the order of the result follows the input.
pub fn scan_paths(inputs: &[Input], options: Options) -> Vec<Target> {
    let mut targets: Vec<Target> = inputs.par_iter().map(|input| scan_input(input, options)).collect();
    forward::resolve_in_files(&mut targets, inputs, options);
    targets
}

/// Scans one path (for callers that have no [`Input`]).
pub fn scan_path(path: &Path, options: Options) -> Target {
    let input = [Input::found(path.to_path_buf())];
    let mut targets = vec![scan_input(&input[0], options)];
    forward::resolve_in_files(&mut targets, &input, options);
    targets.pop().expect("one target per input")
}

fn scan_input(input: &Input, options: Options) -> Target {
    let path = &input.path;
    let is_wheel = path.extension().is_some_and(|e| e == "whl");
    let mut target = Target {
        kind: if is_wheel { TargetKind::Wheel } else { TargetKind::File },
        path: path.to_path_buf(),
        path_bytes: paths::raw_bytes(path),
        distribution: input.owner.clone(),
        tags: Vec::new(),
        free_threaded_abi: false,
        extensions: Vec::new(),
        findings: Vec::new(),
        error: None,
    };
    if let Some(problem) = &input.problem {
        target.error = Some(problem.to_string());
        return target;
    }
    if is_wheel {
        scan_wheel(&mut target, options);
    } else {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        target.free_threaded_abi = ExtSuffix::parse(&name).is_some_and(|s| s.free_threaded || s.abi3t);
        let shown = path.to_string_lossy();
        let read = input::open_regular(path).and_then(|(file, size)| {
            let _permit = MEMORY.acquire(size.min(options.max_member_size));
            input::read_opened(file, size, path, options.max_member_size, " (--max-member-size)")
                .map(|data| scan_binary(&name, &data, hint_for(&shown, None)))
        });
        match read {
            Ok(extensions) => target.extensions = extensions,
            Err(e) => {
                target.error = Some(e.to_string());
                return target;
            }
        }
        if target.extensions.iter().all(|e| e.error.is_some()) {
            target.error = target.extensions.first().and_then(|e| e.error.clone());
        }
    }
    let file_name = if is_wheel { None } else { input.root.as_deref().and_then(|r| installed::import_name(r, path)) };
    name_extensions(&mut target, file_name);
    let found = findings::check(&target);
    target.findings.extend(found);
    target
}

/// Sets each extension's dotted import name: the member's (in a wheel) or
/// the file's below its root, with the last part replaced by the module's
/// own name for a further module of the file (an alias).
fn name_extensions(target: &mut Target, file_name: Option<String>) {
    let is_wheel = target.kind == TargetKind::Wheel;
    for extension in &mut target.extensions {
        let Some(report) = extension.report.as_ref().filter(|r| r.is_extension) else { continue };
        let base = if is_wheel { Some(dotted_module(&extension.member)) } else { file_name.clone() };
        let module = report.module.clone().unwrap_or_default();
        extension.import_name = Some(match base.as_deref().and_then(|b| b.rsplit_once('.')) {
            Some((package, _)) => format!("{package}.{module}"),
            None => module,
        });
    }
}

fn scan_wheel(target: &mut Target, options: Options) {
    match wheel::Wheel::open(&target.path) {
        Ok(wheel) => scan_wheel_contents(target, &wheel, options),
        Err(e) => {
            describe_wheel(target);
            target.error = Some(e.to_string());
        }
    }
}

/// Scans a wheel opened elsewhere (a wheel on an index, read by ranges):
/// `path` names it in the report (its file name, or its URL).
pub fn scan_opened_wheel(path: &Path, wheel: &wheel::Wheel, options: Options) -> Target {
    let mut target = Target {
        kind: TargetKind::Wheel,
        path: path.to_path_buf(),
        path_bytes: None,
        distribution: None,
        tags: Vec::new(),
        free_threaded_abi: false,
        extensions: Vec::new(),
        findings: Vec::new(),
        error: None,
    };
    scan_wheel_contents(&mut target, wheel, options);
    if target.error.is_none() {
        name_extensions(&mut target, None);
        let found = findings::check(&target);
        target.findings.extend(found);
    }
    target
}

/// The distribution and tags a wheel's file name gives; the tags are returned too.
fn describe_wheel(target: &mut Target) -> Vec<WheelTag> {
    let file_name = target.file_name();
    let tags = wheel_tags(&file_name).unwrap_or_default();
    target.distribution = installed::owner_from_name(&file_name);
    target.tags = tags.iter().map(WheelTag::to_string).collect();
    target.free_threaded_abi = tags.iter().any(|t| t.is_free_threaded() || t.abi == "abi3t");
    tags
}

fn scan_wheel_contents(target: &mut Target, wheel: &wheel::Wheel, options: Options) {
    let tags = describe_wheel(target);
    let members = match wheel.binary_members(options.max_member_size) {
        Ok(members) => members,
        Err(e) => {
            target.error = Some(e.to_string());
            return;
        }
    };
    // Small members first: stub modules among them name the (large)
    // libraries they jump into, which are then analysed for them in the same
    // pass that scans them, so each is inflated once.
    let sizes: Vec<u64> = {
        let archive = wheel.archive();
        members.iter().map(|m| wheel::claimed_size(&archive, m)).collect()
    };
    let (mut small, mut large): (Vec<&String>, Vec<&String>) = (Vec::new(), Vec::new());
    for (member, size) in members.iter().zip(&sizes) {
        if *size <= SMALL_MEMBER { small.push(member) } else { large.push(member) }
    }
    target.extensions = scan_members(wheel, &small, &tags, options, None).into_iter().flat_map(|(e, _)| e).collect();
    let mut plan = forward::plan_in_wheel(target, wheel);
    for (extensions, decided) in scan_members(wheel, &large, &tags, options, Some(&plan)) {
        let member = extensions.first().map(|e| e.member.clone()).unwrap_or_default();
        target.extensions.extend(extensions);
        if let Some(decided) = decided {
            plan.apply(target, &member, decided);
        }
    }
    plan.finish(target, wheel, &tags, options);
    target.extensions.sort_by(|a, b| a.member.cmp(&b.member));
    mark_never_imported(&mut target.extensions, &tags);
    if wheel.duplicate_names {
        target.findings.push(Finding {
            code: crate::diagnostic::rules::Rule::DuplicateMemberNames,
            severity: findings::Severity::Warning,
            message: "the wheel lists some member names more than once; installers disagree about which copy \
                      wins, and only one copy of each was scanned"
                .into(),
            member: None,
            hint: None,
        });
    }
}

/// Marks the files no interpreter of the wheel's tags imports, where a
/// file of the same module that one does import sits beside them. A module
/// with no importable file at all keeps its files (the wheel is broken,
/// and its findings say so).
fn mark_never_imported(extensions: &mut [Extension], tags: &[WheelTag]) {
    let importable: Vec<bool> = extensions.iter().map(|e| imported_under_tags(&e.member, tags)).collect();
    if importable.iter().all(|i| *i) {
        return;
    }
    let modules: Vec<String> = extensions.iter().map(|e| dotted_module(&e.member)).collect();
    let imported: std::collections::HashSet<&str> =
        modules.iter().zip(&importable).filter(|(_, i)| **i).map(|(m, _)| m.as_str()).collect();
    for (index, extension) in extensions.iter_mut().enumerate() {
        if importable[index] || !imported.contains(modules[index].as_str()) {
            continue;
        }
        let base = extension.member.rsplit('/').next().unwrap_or(&extension.member);
        let built_for = ExtSuffix::parse(base)
            .and_then(|s| {
                s.python.map(|(major, minor)| format!("{major}.{minor}{}", if s.free_threaded { "t" } else { "" }))
            })
            .unwrap_or_default();
        let abis = tags.iter().map(|t| t.abi.as_str()).fold(Vec::new(), |mut seen, abi| {
            if !seen.contains(&abi) {
                seen.push(abi);
            }
            seen
        });
        extension.never_imported = Some(format!(
            "shipped for CPython {built_for}, never imported here (the wheel is tagged {})",
            abis.join(".")
        ));
    }
}

/// Whether some interpreter the wheel's tags name imports `member` by its
/// file name: its suffix names no particular CPython (`.so`, `.abi3.so`,
/// `.abi3t.so`), or one the tags name (`.cpython-313t-...` under `cp313t`;
/// under `abi3` with `cp39`, any default build from 3.9 on).
fn imported_under_tags(member: &str, tags: &[WheelTag]) -> bool {
    let base = member.rsplit('/').next().unwrap_or(member);
    let Some(suffix) = ExtSuffix::parse(base) else { return true };
    let Some(version) = suffix.python else { return true };
    tags.is_empty()
        || tags.iter().any(|tag| match (tag.abi.as_str(), tag.python_version()) {
            ("abi3", Some(from)) => !suffix.free_threaded && version >= from,
            ("abi3t", Some(from)) => version >= from,
            ("none", _) | ("abi3" | "abi3t", None) => true,
            _ => tag.abi_version() == Some(version) && tag.is_free_threaded() == suffix.free_threaded,
        })
}

/// Members above this size are scanned after the others.
const SMALL_MEMBER: u64 = 16 << 20;

/// Scans wheel members in parallel; for a member some stub jumps into
/// (`plan`), also what the stubs' functions are there.
fn scan_members(
    wheel: &wheel::Wheel,
    members: &[&String],
    tags: &[WheelTag],
    options: Options,
    plan: Option<&forward::WheelPlan>,
) -> Vec<(Vec<Extension>, Option<forward::Decided>)> {
    members
        .par_iter()
        .map_init(
            || wheel.archive(),
            |archive, name| {
                let _permit = MEMORY.acquire(wheel::claimed_size(archive, name).min(options.max_member_size));
                match wheel::read_member(archive, name, options.max_member_size, true) {
                    Ok(bytes) => {
                        let hint = hint_for(name, Some(tags));
                        let decided = plan.filter(|p| p.wants(name)).map(|p| p.analyse(name, &bytes, hint));
                        (scan_binary(name, &bytes, hint), decided)
                    }
                    Err(e) => {
                        let error = Some(e.to_string());
                        (
                            vec![Extension {
                                member: name.to_string(),
                                import_name: None,
                                report: None,
                                error,
                                never_imported: None,
                            }],
                            None,
                        )
                    }
                }
            },
        )
        .collect()
}

fn scan_binary(member: &str, data: &[u8], hint: BuildHint) -> Vec<Extension> {
    // A malformed binary must never take the run down; a panic inside a
    // parser becomes an error entry for this file.
    let result = std::panic::catch_unwind(|| binscan::scan_bytes(data, hint));
    let error = |text: String| {
        vec![Extension {
            member: member.to_string(),
            import_name: None,
            report: None,
            error: Some(text),
            never_imported: None,
        }]
    };
    match result {
        Ok(Ok(reports)) => reports
            .into_iter()
            .map(|r| Extension {
                member: member.to_string(),
                import_name: None,
                report: Some(r),
                error: None,
                never_imported: None,
            })
            .collect(),
        Ok(Err(e)) => error(e.to_string()),
        Err(_) => error("the binary parser failed on this file (please report it)".into()),
    }
}

/// What the member's file name (and the wheel's tags) say about the build.
fn hint_for<'a>(member: &'a str, tags: Option<&[WheelTag]>) -> BuildHint<'a> {
    let base = member.rsplit(['/', '\\']).next().unwrap_or(member);
    let from_name = ExtSuffix::parse(base).filter(|s| s.python.is_some()).map(|s| s.free_threaded);
    let from_tags = tags.and_then(|t| t.first()).map(WheelTag::is_free_threaded);
    BuildHint { free_threaded: from_name.or(from_tags), file_module: Some(module_of_file(member)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(file_name: &str) -> Vec<WheelTag> {
        wheel_tags(file_name).unwrap()
    }

    #[test]
    fn a_package_init_extension_is_imported_as_the_package() {
        assert_eq!(dotted_module("tomli/__init__.cpython-313-x86_64-linux-gnu.so"), "tomli");
        assert_eq!(dotted_module("a/b/__init__.cpython-313-x86_64-linux-gnu.so"), "a.b");
        assert_eq!(dotted_module("a/b/_x.cpython-313t-x86_64-linux-gnu.so"), "a.b._x");
        assert_eq!(dotted_module("__init__.so"), "__init__");
        assert_eq!(module_of_file("site/tomli/__init__.cpython-313-x86_64-linux-gnu.so"), "tomli");
        assert_eq!(module_of_file("tomli/_re.cpython-313-x86_64-linux-gnu.so"), "_re");
        assert_eq!(module_of_file("__init__.so"), "__init__");
    }

    #[test]
    fn files_for_other_cpythons_than_the_tags_name_are_not_imported() {
        let cp313t = tags("pymongo-4.15.1-cp313-cp313t-manylinux_2_17_x86_64.whl");
        assert!(imported_under_tags("bson/_cbson.cpython-313t-x86_64-linux-gnu.so", &cp313t));
        assert!(!imported_under_tags("bson/_cbson.cpython-313-x86_64-linux-gnu.so", &cp313t));
        assert!(!imported_under_tags("bson/_cbson.cpython-310-x86_64-linux-gnu.so", &cp313t));
        assert!(imported_under_tags("bson/_cbson.so", &cp313t));
        let abi3 = tags("x-1.0-cp39-abi3-manylinux_2_17_x86_64.whl");
        assert!(imported_under_tags("x/_a.cpython-312-x86_64-linux-gnu.so", &abi3));
        assert!(!imported_under_tags("x/_a.cpython-38-x86_64-linux-gnu.so", &abi3));
        let abi3t = tags("x-1.0-cp315-abi3.abi3t-manylinux_2_17_x86_64.whl");
        assert!(imported_under_tags("x/_a.abi3t.so", &abi3t));
        assert!(!imported_under_tags("x/_a.cpython-314t-x86_64-linux-gnu.so", &abi3t));
        assert!(imported_under_tags("x/_a.cpython-310-x86_64-linux-gnu.so", &[]));
    }

    #[test]
    fn only_copies_beside_an_imported_file_are_marked() {
        let file = |member: &str| Extension {
            member: member.into(),
            import_name: None,
            report: None,
            error: None,
            never_imported: None,
        };
        let mut extensions = vec![
            file("bson/_cbson.cpython-310-x86_64-linux-gnu.so"),
            file("bson/_cbson.cpython-313t-x86_64-linux-gnu.so"),
            file("other/_only.cpython-311-x86_64-linux-gnu.so"),
        ];
        mark_never_imported(&mut extensions, &tags("pymongo-4.15.1-cp313-cp313t-manylinux_2_17_x86_64.whl"));
        assert_eq!(
            extensions[0].never_imported.as_deref(),
            Some("shipped for CPython 3.10, never imported here (the wheel is tagged cp313t)")
        );
        assert_eq!(extensions[1].never_imported, None);
        // The module's only file: the wheel is broken, which the findings say.
        assert_eq!(extensions[2].never_imported, None);
    }
}
