//! Every fixture module, imported by the real interpreters, behaves as
//! `fixtures/expected.toml` says: the GIL state after import on 3.13t, and
//! loading in isolated and legacy subinterpreters on 3.13 and 3.13t.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Fixture, fixtures, manifest, variants};
use ftprobe::process::{run_with_timeout, signal_name};
use serde_json::Value;

const NORMAL: Duration = Duration::from_secs(30);

fn check_import(
    python: &Path,
    dir: &Path,
    module: &str,
    subinterpreters: bool,
    timeout: Duration,
) -> ftprobe::process::Captured {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/check_import.py");
    let mut command = Command::new(python);
    command.arg("-I").arg(script).arg(dir).arg(module).env_remove("PYTHON_GIL");
    if subinterpreters {
        command.arg("--subinterpreters");
    }
    run_with_timeout(&mut command, timeout).expect("python starts")
}

/// What a subinterpreter of `config` does with the fixture, per the manifest.
fn expect_subinterpreter(f: &Fixture, config: &str, free_threaded: bool) -> bool {
    if f.import != "ok" {
        return false;
    }
    let multi_phase = f.init == "multi_phase";
    match config {
        "isolated" => multi_phase && f.subinterpreters == "per_interpreter_gil",
        _ if f.subinterpreters == "not_supported" && f.subinterpreters_enforced_by == "module" => false,
        // Free-threaded builds force check_multi_interp_extensions on (gh-117649).
        _ if free_threaded => multi_phase && f.subinterpreters != "not_supported",
        // Legacy subinterpreters on default builds skip the check entirely.
        _ => true,
    }
}

fn check_fixture(f: &Fixture, variant: &str, python: &Path, free_threaded: bool) -> Vec<String> {
    let dir = fixtures().join(variant);
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{variant} {}: {what}", f.module));
        }
    };
    match f.import.as_str() {
        "crash" => {
            let got = check_import(python, &dir, &f.module, false, NORMAL);
            let want = f.signal.as_deref().unwrap_or("SIGSEGV");
            expect(got.signal().map(signal_name).as_deref() == Some(want), format!("not a {want}: {got:?}"));
        }
        "hang" => {
            // Long enough for any real import here; the hang never returns.
            let got = check_import(python, &dir, &f.module, false, Duration::from_secs(2));
            expect(got.timed_out, format!("did not hang: {got:?}"));
        }
        _ => {
            let got = check_import(python, &dir, &f.module, true, NORMAL);
            let Ok(result) = serde_json::from_slice::<Value>(&got.stdout) else {
                expect(false, format!("no JSON: {}", got.stderr_tail(500)));
                return problems;
            };
            let main = result["main"].as_str().unwrap_or_default().to_string();
            match f.import.as_str() {
                "ok" => expect(main == "ok", format!("import failed: {main}")),
                "raises" => expect(main.starts_with("RuntimeError"), format!("expected RuntimeError, got {main}")),
                "not_extension" => expect(main.contains("PyInit_"), format!("expected a missing PyInit_, got {main}")),
                "needs_3_15" => expect(
                    main.starts_with("ImportError: dynamic module does not define module export function")
                        || main.starts_with(&format!("SystemError: module {} uses unknown slot ID 92", f.module)),
                    format!("expected 3.13 to refuse a 3.15-shaped module, got {main}"),
                ),
                other => expect(false, format!("unknown import kind {other}")),
            }
            if free_threaded && f.import == "ok" {
                let want = f.gil == "used";
                expect(result["gil_enabled"] == want, format!("GIL enabled should be {want}: {result}"));
            }
            for config in ["isolated", "legacy"] {
                let want = expect_subinterpreter(f, config, free_threaded);
                let got = result[config].as_str().unwrap_or_default();
                expect((got == "ok") == want, format!("{config} subinterpreter should load: {want}, got {got}"));
            }
        }
    }
    problems
}

#[test]
fn every_fixture_behaves_as_the_manifest_says() {
    let manifest = manifest();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (variant, python, free_threaded) in variants() {
        for f in manifest.fixture.iter().filter(|f| f.built_for(&variant)) {
            problems.extend(check_fixture(f, &variant, &python, free_threaded));
            checked += 1;
        }
    }
    assert!(checked >= 4 * 18, "only {checked} fixture builds checked");
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn wheels_are_valid_and_broken_ones_exist() {
    let manifest = manifest();
    let wheels = fixtures().join("wheels");
    let check = r#"
import sys, zipfile, hashlib, base64
with zipfile.ZipFile(sys.argv[1]) as zf:
    names = zf.namelist()
    record = [n for n in names if n.endswith(".dist-info/RECORD")][0]
    for line in zf.read(record).decode().splitlines():
        name, digest, size = line.rsplit(",", 2)
        if digest:
            data = zf.read(name)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == "sha256=" + want and int(size) == len(data), name
    wheel = [n for n in names if n.endswith(".dist-info/WHEEL")][0]
    print(zf.read(wheel).decode())
"#;
    for w in &manifest.wheel {
        let out = Command::new(common::provisioned("3.13"))
            .args(["-I", "-c", check])
            .arg(wheels.join(&w.file))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", w.file, common::stderr(&out));
        let tag = w.file.trim_end_matches(".whl").splitn(3, '-').nth(2).unwrap();
        assert!(common::stdout(&out).contains(&format!("Tag: {tag}")), "{}", w.file);
    }
    for b in &manifest.broken_wheel {
        assert!(wheels.join(&b.file).is_file(), "{} ({}) missing", b.file, b.kind);
    }
}

/// The linker matrix is real: GNU ld writes each R_X86_64_RELATIVE addend
/// into the relocated word on disk, lld leaves the word zero, and the relr
/// builds carry their relative relocations in `.relr.dyn`.
#[test]
fn each_build_used_the_linker_it_claims() {
    use object::read::elf::ElfFile64;
    use object::{Object, ObjectSection};
    let manifest = manifest();
    let mut checked = 0;
    for (variant, _, _) in variants() {
        let lld = variant.ends_with("-lld");
        for f in manifest.fixture.iter().filter(|f| f.built_for(&variant) && f.module != "plain_library") {
            let file = std::fs::read_dir(fixtures().join(&variant))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{}.", f.module)))
                .unwrap_or_else(|| panic!("{variant}/{} not built", f.module));
            let data = std::fs::read(&file).unwrap();
            let elf = ElfFile64::<object::Endianness>::parse(&*data).unwrap();
            if variant.ends_with("-relr") {
                assert!(elf.section_by_name(".relr.dyn").is_some(), "{}: no .relr.dyn", file.display());
                checked += 1;
                continue;
            }
            let (mut written, mut zero) = (0, 0);
            for (address, reloc) in elf.dynamic_relocations().into_iter().flatten() {
                if reloc.flags() != (object::RelocationFlags::Elf { r_type: object::elf::R_X86_64_RELATIVE }) {
                    continue;
                }
                let section = elf.sections().find(|s| (s.address()..s.address() + s.size()).contains(&address));
                // Words in .bss have no bytes in the file.
                let Some(Ok((data, start))) = section.map(|s| s.data().map(|d| (d, s.address()))) else { continue };
                let Some(bytes) = data.get((address - start) as usize..).and_then(|d| d.get(..8)) else { continue };
                let stored = u64::from_le_bytes(bytes.try_into().unwrap());
                if stored == 0 {
                    zero += 1
                } else if stored == reloc.addend() as u64 {
                    written += 1
                }
            }
            assert!(written + zero > 0, "{}: no relative relocations", file.display());
            let ok = if lld { written == 0 } else { zero == 0 };
            assert!(ok, "{}: {written} addends written, {zero} zero", file.display());
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} files checked");
}
