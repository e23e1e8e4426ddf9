//! The scanner against real PyPI wheels (fixtures/real-wheels.toml): every
//! static verdict for the Linux wheels matches what the real 3.13t reports on
//! import, and the wheels for every other platform (Linux aarch64, i686 and
//! armv7, macOS arm64, x86_64 and universal2, Windows amd64, arm64 and x86) of
//! the same release give the same per-module verdicts. Stub modules are
//! decided through the library they jump into.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::{ftprobe, real_wheels};
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Spec {
    platform: Vec<Platform>,
    wheel: Vec<Wheel>,
}

#[derive(serde::Deserialize)]
struct Platform {
    name: String,
}

#[derive(serde::Deserialize)]
struct Wheel {
    requirement: String,
    #[serde(default)]
    undetermined: BTreeMap<String, String>,
    #[serde(default = "yes")]
    install: bool,
    #[serde(default)]
    findings: Vec<String>,
    /// The venv (under the real-wheels directory, `venv-<name>`) it is installed into.
    #[serde(default = "default_venv")]
    venv: String,
}

fn yes() -> bool {
    true
}

fn default_venv() -> String {
    "3.13t".into()
}

fn spec() -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/real-wheels.toml");
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Per wheel (`numpy-2.4.6`): module -> (gil, subinterpreters), one entry per
/// binary slice (a universal2 wheel has two per module).
type Verdicts = BTreeMap<String, Vec<(String, (String, String))>>;

/// Per wheel: the finding codes its scan reported.
type Findings = BTreeMap<String, BTreeSet<String>>;

fn scan(dir: &Path) -> Verdicts {
    scan_with_findings(dir).0
}

fn scan_json(dir: &Path) -> Vec<Value> {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["scan", "--format", "json"]).arg(dir).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scan_with_findings(dir: &Path) -> (Verdicts, Findings) {
    let targets = scan_json(dir);
    let mut verdicts = Verdicts::new();
    let mut findings = Findings::new();
    for t in &targets {
        assert_eq!(t["error"], Value::Null, "{t:#}");
        let name = Path::new(t["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
        let key = name.splitn(3, '-').take(2).collect::<Vec<_>>().join("-").to_lowercase();
        let codes = t["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string());
        findings.entry(key.clone()).or_default().extend(codes);
        let modules = verdicts.entry(key).or_default();
        for e in t["extensions"].as_array().unwrap() {
            assert_eq!(e["error"], Value::Null, "{name}: {e:#}");
            if e["is_extension"] == true {
                let gil = e["gil"].as_str().unwrap().to_string();
                let sub = e["subinterpreters"].as_str().unwrap().to_string();
                modules.push((ftprobe::scan::dotted_module(e["member"].as_str().unwrap()), (gil, sub)));
            }
        }
    }
    (verdicts, findings)
}

fn wheel_key(requirement: &str) -> String {
    let (name, version) = requirement.split_once("==").unwrap();
    format!("{}-{version}", name.replace('-', "_")).to_lowercase()
}

/// Imports `modules` in the 3.13t venv with PYTHONVERBOSE=1; returns the
/// modules that imported and those CPython says require the GIL.
fn import_all(venv_python: &Path, modules: &[String]) -> (BTreeSet<String>, BTreeSet<String>) {
    let probe = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/free_threading.py");
    let request = serde_json::json!({ "modules": modules }).to_string();
    let out = Command::new(venv_python)
        .arg(probe)
        .arg(request)
        .env_remove("PYTHON_GIL")
        .env_remove("PYTHONPATH")
        .env("PYTHONVERBOSE", "1")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stdout = common::stdout(&out);
    let line =
        stdout.lines().rev().find_map(|l| l.strip_prefix(ftprobe::worker::protocol::STANDALONE_MARKER)).unwrap_or("");
    let result: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "probe gave no JSON ({e}); stderr tail: {}",
            &common::stderr(&out)[common::stderr(&out).len().saturating_sub(2000)..]
        )
    });
    let imported = result["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["ok"] == true)
        .map(|i| i["module"].as_str().unwrap().to_string())
        .collect();
    let needs_gil = common::stderr(&out)
        .lines()
        .filter_map(|l| {
            l.strip_prefix("# loading module '")?.split_once("', which requires the GIL").map(|(m, _)| m.to_string())
        })
        .collect();
    (imported, needs_gil)
}

#[test]
fn linux_verdicts_match_what_free_threaded_cpython_does() {
    let spec = spec();
    let dir = real_wheels();
    let linux = scan(&dir.join(&spec.platform[0].name));
    let mut problems = Vec::new();
    let mut compared = 0;
    for wheel in spec.wheel.iter().filter(|w| w.install) {
        let modules: BTreeMap<String, (String, String)> = linux
            .get(&wheel_key(&wheel.requirement))
            .unwrap_or_else(|| panic!("{} not scanned", wheel.requirement))
            .iter()
            .cloned()
            .collect();
        let names: Vec<String> = modules.keys().cloned().collect();
        let venv_python = dir.join(format!("venv-{}/bin/python", wheel.venv));
        let (imported, needs_gil) = import_all(&venv_python, &names);
        assert!(
            imported.len() * 10 >= names.len() * 8,
            "{}: only {}/{} imported",
            wheel.requirement,
            imported.len(),
            names.len()
        );
        for (module, (gil, _)) in &modules {
            if !imported.contains(module) {
                continue;
            }
            let runtime = if needs_gil.contains(module) { "used" } else { "not_used" };
            match gil.as_str() {
                "undetermined" if wheel.undetermined.contains_key(module.as_str()) => {}
                "undetermined" => problems.push(format!("{module}: undetermined (runtime: {runtime})")),
                static_verdict if static_verdict != runtime => {
                    problems.push(format!("{module}: static {static_verdict}, runtime {runtime}"))
                }
                _ => compared += 1,
            }
        }
    }
    assert!(compared >= 50, "only {compared} modules compared");
    assert!(problems.is_empty(), "{} disagreements:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_other_platform_agrees_with_linux_x86_64() {
    let spec = spec();
    let dir = real_wheels();
    let linux = scan(&dir.join(&spec.platform[0].name));
    let mut problems = Vec::new();
    let mut compared = 0;
    for platform in &spec.platform[1..] {
        for (wheel, modules) in scan(&dir.join(&platform.name)) {
            // Wheels published for this platform only have nothing to compare with.
            let Some(reference) = linux.get(&wheel) else { continue };
            let reference: BTreeMap<String, (String, String)> = reference.iter().cloned().collect();
            for (module, verdict) in modules {
                let Some(expected) = reference.get(&module) else { continue };
                if verdict != *expected {
                    problems.push(format!("{}: {module}: {verdict:?}, Linux says {expected:?}", platform.name));
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 60, "only {compared} modules compared");
    assert!(problems.is_empty(), "{} disagreements:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn declared_findings_are_reported_on_every_platform() {
    let spec = spec();
    let dir = real_wheels();
    let mut checked = 0;
    for platform in &spec.platform {
        let (_, findings) = scan_with_findings(&dir.join(&platform.name));
        for wheel in spec.wheel.iter().filter(|w| !w.findings.is_empty()) {
            let Some(codes) = findings.get(&wheel_key(&wheel.requirement)) else { continue };
            for code in &wheel.findings {
                assert!(codes.contains(code), "{} on {}: {codes:?} lacks {code}", wheel.requirement, platform.name);
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} wheels checked for findings");
}

/// Stub modules (jaxlib's, on Linux and macOS) are decided through the
/// library their `PyInit_` jumps into, and across every platform's wheels
/// fewer than 1% of the modules stay undetermined.
#[test]
fn stubs_are_decided_in_their_library_and_under_one_percent_stays_undetermined() {
    let spec = spec();
    let dir = real_wheels();
    let (mut modules, mut undetermined, mut forwarded) = (0, Vec::new(), BTreeSet::new());
    for platform in &spec.platform {
        for target in scan_json(&dir.join(&platform.name)) {
            for e in target["extensions"].as_array().unwrap().iter().filter(|e| e["is_extension"] == true) {
                modules += 1;
                let member = e["member"].as_str().unwrap().to_string();
                if e["gil"] == "undetermined" || e["subinterpreters"] == "undetermined" {
                    undetermined.push(format!("{}: {member}", platform.name));
                }
                if let Some(library) = e["forwards_to"]["library"].as_str() {
                    assert!(library.starts_with("jaxlib/libjax_common."), "{member} -> {library}");
                    assert_eq!(e["gil"], "not_used", "{member}");
                    forwarded.insert((platform.name.clone(), member));
                }
            }
        }
    }
    assert!(forwarded.len() >= 27 * 3, "only {} stub modules decided through their library", forwarded.len());
    assert!(undetermined.len() * 100 < modules, "{} of {modules} undetermined: {undetermined:#?}", undetermined.len());
}

/// MLX's module is linked with chained fixups: every rebase must decode to an
/// address inside the image (after the top byte, which libc++ uses to tag
/// non-unique RTTI names), and the binds must name CPython's functions.
#[test]
fn chained_fixups_decode_to_addresses_inside_the_image() {
    use std::io::Read;
    let wheel = std::fs::read_dir(real_wheels().join("macos_arm64"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("mlx-"))
        .expect("the mlx wheel is fetched");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let mut data = Vec::new();
    archive.by_name("mlx/core.cpython-313-darwin.so").unwrap().read_to_end(&mut data).unwrap();
    assert!(has_chained_fixups(&data), "the binary no longer uses LC_DYLD_CHAINED_FIXUPS");
    let image = ftprobe::binscan::macho::read(&data).unwrap();
    assert!(image.pointers.len() > 500, "only {} rebases decoded", image.pointers.len());
    let outside: Vec<_> = image.pointers.values().filter(|t| !image.is_mapped(**t & 0x00ff_ffff_ffff_ffff)).collect();
    assert!(outside.is_empty(), "{} rebases point outside the image: {outside:x?}", outside.len());
    for name in ["PyObject_GetAttr", "PyModuleDef_Init"] {
        assert!(image.import_slots.values().any(|n| n == name), "no bind to {name}");
    }
}

/// Whether a 64-bit Mach-O has an LC_DYLD_CHAINED_FIXUPS load command.
fn has_chained_fixups(data: &[u8]) -> bool {
    let word = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
    let mut at = 32;
    (0..word(16)).any(|_| {
        let (cmd, size) = (word(at), word(at + 4) as usize);
        at += size;
        cmd == 0x8000_0034
    })
}
