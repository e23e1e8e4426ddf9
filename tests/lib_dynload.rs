//! CPython's own compiled modules (`lib-dynload` of both provisioned
//! builds), a corpus no one here wrote: the scan's verdict for the module
//! each file is imported as must match what a real import does, module by
//! module, and files that define several modules (`_testmultiphase`,
//! `_testimportmultiple`) must be reported under the module `import` loads.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ftprobe, provisioned};
use serde_json::Value;

fn lib_dynload(python: &Path) -> std::path::PathBuf {
    let prefix = python.parent().unwrap().parent().unwrap();
    let version = python.file_name().unwrap().to_str().unwrap().trim_start_matches("python");
    prefix.join("lib").join(format!("python{version}")).join("lib-dynload")
}

fn check_build(name: &str, free_threaded: bool) -> (usize, Vec<String>) {
    let python = provisioned(name);
    let dir = lib_dynload(&python);
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["scan", "--format", "json"]).arg(&dir).output().unwrap();
    let targets: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let check_import = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/check_import.py");
    let (mut compared, mut problems) = (0, Vec::new());
    for target in &targets {
        let file = Path::new(target["path"].as_str().unwrap()).file_name().unwrap().to_str().unwrap().to_string();
        let stem = file.split('.').next().unwrap();
        let Some(primary) = target["extensions"].as_array().unwrap().first() else { continue };
        if primary["module"] != stem || primary["alias"] != false {
            problems
                .push(format!("{name} {file}: reported first as {} (alias {})", primary["module"], primary["alias"]));
            continue;
        }
        let got =
            Command::new(&python).arg(&check_import).arg(&dir).arg(stem).arg("--subinterpreters").output().unwrap();
        let Ok(real) = serde_json::from_slice::<Value>(&got.stdout) else { continue };
        if real["main"] != "ok" {
            continue; // not importable here (a missing system library, a test module that raises)
        }
        compared += 1;
        let mut expect = |ok: bool, what: String| {
            if !ok {
                problems.push(format!("{name} {stem}: {what}"));
            }
        };
        if free_threaded {
            match primary["gil"].as_str() {
                Some("not_used") => {
                    expect(real["gil_enabled"] == false, "declared not_used, yet the GIL came back".into())
                }
                Some("used") => expect(real["gil_enabled"] == true, "declared used, yet the GIL stayed off".into()),
                _ => {}
            }
        }
        let isolated_ok = real["isolated"] == "ok";
        match primary["subinterpreters"].as_str() {
            Some("per_interpreter_gil") => {
                expect(isolated_ok, format!("per-interpreter GIL, yet isolated: {}", real["isolated"]))
            }
            Some("shared_gil" | "not_supported") => {
                expect(!isolated_ok, "isolated subinterpreters should refuse it".into())
            }
            _ => {}
        }
    }
    (compared, problems)
}

#[test]
fn cpython_lib_dynload_verdicts_match_real_imports() {
    let mut problems = Vec::new();
    for (name, free_threaded) in [("3.13t", true), ("3.13", false)] {
        let (compared, found) = check_build(name, free_threaded);
        assert!(compared >= 40, "{name}: only {compared} modules compared");
        problems.extend(found);
    }
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn files_with_several_modules_list_the_others_as_aliases() {
    let python = provisioned("3.13t");
    let file = lib_dynload(&python).join("_testimportmultiple.cpython-313t-x86_64-linux-gnu.so");
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["scan", "--format", "json"]).arg(&file).output().unwrap();
    let targets: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let modules: Vec<(String, bool)> = targets[0]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["module"].as_str().unwrap().to_string(), e["alias"].as_bool().unwrap()))
        .collect();
    let want = [("_testimportmultiple", false), ("_testimportmultiple_bar", true), ("_testimportmultiple_foo", true)];
    assert_eq!(modules, want.map(|(m, a)| (m.to_string(), a)));
}
