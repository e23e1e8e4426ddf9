//! `ftprobe scan`: turn paths (wheels, folders of wheels, installed trees,
//! single `.so`/`.pyd` files) into one [`Target`] report each, scanning
//! binaries in parallel. A file that cannot be read becomes a target with an
//! `error`; the rest of the run goes on.

pub mod findings;
pub mod report;
pub mod wheel;

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::binscan::{self, BinaryReport, BuildHint};
use crate::model::tags::{ExtSuffix, WheelTag, wheel_tags};
pub use findings::Finding;

/// Default cap on one member's inflated size.
pub const DEFAULT_MAX_MEMBER_SIZE: u64 = 2 << 30;

/// One scanned wheel or loose binary.
#[derive(Debug, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: TargetKind,
    pub path: PathBuf,
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

/// One binary inside a target (one per slice of a universal Mach-O).
#[derive(Debug, Serialize)]
pub struct Extension {
    /// The member name in the wheel, or the file name.
    pub member: String,
    #[serde(flatten)]
    pub report: Option<BinaryReport>,
    pub error: Option<String>,
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
pub fn dotted_module(member: &str) -> String {
    let (dir, file) = member.rsplit_once('/').unwrap_or(("", member));
    let module = file.split('.').next().unwrap_or(file);
    if dir.is_empty() { module.to_string() } else { format!("{}.{module}", dir.replace('/', ".")) }
}

/// Expands paths: folders are walked for wheels and binaries.
pub fn collect_inputs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out);
        } else {
            out.push(path.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() && !path.is_symlink() {
            walk(&path, out);
        } else if name.ends_with(".whl") || wheel::is_binary_member(&name) {
            out.push(path);
        }
    }
}

/// Scans every input in parallel; the order of the result follows the input.
pub fn scan_paths(paths: &[PathBuf], options: Options) -> Vec<Target> {
    paths.par_iter().map(|p| scan_path(p, options)).collect()
}

pub fn scan_path(path: &Path, options: Options) -> Target {
    let is_wheel = path.extension().is_some_and(|e| e == "whl");
    let mut target = Target {
        kind: if is_wheel { TargetKind::Wheel } else { TargetKind::File },
        path: path.to_path_buf(),
        tags: Vec::new(),
        free_threaded_abi: false,
        extensions: Vec::new(),
        findings: Vec::new(),
        error: None,
    };
    let data = match fs::read(path) {
        Ok(data) => data,
        Err(e) => {
            target.error = Some(format!("cannot read `{}`: {e}", path.display()));
            return target;
        }
    };
    if is_wheel {
        scan_wheel(&mut target, &data, options);
    } else {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        target.free_threaded_abi = ExtSuffix::parse(&name).is_some_and(|s| s.free_threaded || s.abi3t);
        target.extensions = scan_binary(&name, &data, hint_for(&name, None));
        if target.extensions.iter().all(|e| e.error.is_some()) {
            target.error = target.extensions.first().and_then(|e| e.error.clone());
        }
    }
    target.findings = findings::check(&target);
    target
}

fn scan_wheel(target: &mut Target, data: &[u8], options: Options) {
    let file_name = target.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tags = wheel_tags(&file_name).unwrap_or_default();
    target.tags = tags.iter().map(|t| format!("{}-{}-{}", t.python, t.abi, t.platform)).collect();
    target.free_threaded_abi = tags.iter().any(|t| t.is_free_threaded() || t.abi == "abi3t");
    let members = match wheel::binary_members(data) {
        Ok(members) => members,
        Err(e) => {
            target.error = Some(e.to_string());
            return;
        }
    };
    let scanned: Vec<Vec<Extension>> = members
        .par_iter()
        .map_init(
            || wheel::open(data),
            |archive, name| {
                let bytes = match archive {
                    Ok(archive) => wheel::read_member(archive, name, options.max_member_size),
                    Err(e) => Err(e.clone()),
                };
                match bytes {
                    Ok(bytes) => scan_binary(name, &bytes, hint_for(name, Some(&tags))),
                    Err(e) => vec![Extension { member: name.clone(), report: None, error: Some(e.to_string()) }],
                }
            },
        )
        .collect();
    target.extensions = scanned.into_iter().flatten().collect();
}

fn scan_binary(member: &str, data: &[u8], hint: BuildHint) -> Vec<Extension> {
    // A malformed binary must never take the run down; a panic inside a
    // parser becomes an error entry for this file.
    let result = std::panic::catch_unwind(|| binscan::scan_bytes(data, hint));
    let error = |text: String| vec![Extension { member: member.to_string(), report: None, error: Some(text) }];
    match result {
        Ok(Ok(reports)) => reports
            .into_iter()
            .map(|r| Extension { member: member.to_string(), report: Some(r), error: None })
            .collect(),
        Ok(Err(e)) => error(e.to_string()),
        Err(_) => error("the binary parser failed on this file (please report it)".into()),
    }
}

/// What the member's file name (and the wheel's tags) say about the build.
fn hint_for(member: &str, tags: Option<&[WheelTag]>) -> BuildHint {
    let base = member.rsplit('/').next().unwrap_or(member);
    let from_name = ExtSuffix::parse(base).filter(|s| s.python.is_some()).map(|s| s.free_threaded);
    let from_tags = tags.and_then(|t| t.first()).map(WheelTag::is_free_threaded);
    BuildHint { free_threaded: from_name.or(from_tags) }
}
