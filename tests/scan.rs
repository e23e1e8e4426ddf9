//! `ftprobe scan` against the fixture matrix: every module's static verdict
//! must match `fixtures/expected.toml` (100%), fixture wheels must give exactly
//! their findings, and broken wheels an error entry, never a crash.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{fixtures, ftprobe, manifest, variants};
use serde_json::Value;

fn scan_json(paths: &[&Path]) -> (Option<i32>, Vec<Value>) {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["scan", "--format", "json"]).args(paths).output().unwrap();
    let err = common::stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    let targets: Vec<Value> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stdout(&out)));
    (out.status.code(), targets)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("null").to_string()
}

#[test]
fn every_fixture_module_gets_its_manifest_verdict() {
    let manifest = manifest();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (variant, _, free_threaded) in variants() {
        let dir = fixtures().join(&variant);
        let (_, targets) = scan_json(&[&dir]);
        for f in manifest.fixture.iter().filter(|f| f.built_for(&variant)) {
            let prefix = format!("{}.", f.module);
            let Some(target) = targets.iter().find(|t| {
                Path::new(t["path"].as_str().unwrap()).file_name().unwrap().to_string_lossy().starts_with(&prefix)
            }) else {
                problems.push(format!("{variant} {}: not scanned", f.module));
                continue;
            };
            let e = &target["extensions"][0];
            let mut expect = |what: &str, got: String, want: &str| {
                if got != want {
                    problems.push(format!("{variant} {}: {what} is {got}, expected {want}", f.module));
                }
            };
            checked += 1;
            if f.init == "none" {
                expect("is_extension", e["is_extension"].to_string(), "false");
                continue;
            }
            expect("is_extension", e["is_extension"].to_string(), "true");
            expect("module", text(&e["module"]), &f.module);
            expect("init", text(&e["init"]), &f.init);
            expect("subinterpreters", text(&e["subinterpreters"]), &f.subinterpreters);
            let generator = if f.generator == "c" { "null".to_string() } else { f.generator.clone() };
            expect("generator", text(&e["generator"]["name"]), &generator);
            let further: Vec<String> = target["extensions"].as_array().unwrap()[1..]
                .iter()
                .filter(|e| e["export_role"] == "pyo3_submodule")
                .map(|e| text(&e["module"]))
                .collect();
            expect("submodule exports", further.join(","), &f.submodule_exports.join(","));
            // The GIL declaration is what a free-threaded build reads.
            if free_threaded {
                expect("gil", text(&e["gil"]), &f.gil);
            }
            // The binary may not show its build kind (null), but must never show the wrong one.
            let wrong = !free_threaded;
            if e["free_threaded_build"] == wrong {
                problems.push(format!("{variant} {}: free_threaded_build is {wrong}", f.module));
            }
        }
    }
    assert!(checked >= 100, "only {checked} fixture builds checked");
    assert!(problems.is_empty(), "{} mismatches:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn fixture_wheels_give_exactly_their_findings() {
    let manifest = manifest();
    let wheels = fixtures().join("wheels");
    for w in &manifest.wheel {
        let (code, targets) = scan_json(&[&wheels.join(&w.file)]);
        let t = &targets[0];
        assert_eq!(t["type"], "wheel");
        assert_eq!(t["error"], Value::Null, "{}: {t:#}", w.file);
        let modules: BTreeSet<String> =
            t["extensions"].as_array().unwrap().iter().map(|e| text(&e["module"])).collect();
        assert_eq!(modules, w.modules.iter().cloned().collect(), "{}", w.file);
        let codes: BTreeSet<String> = t["findings"].as_array().unwrap().iter().map(|f| text(&f["code"])).collect();
        let want: BTreeSet<String> = w.findings.iter().cloned().collect();
        assert!(want.is_subset(&codes), "{}: findings {codes:?}, expected {want:?}", w.file);
        let errors: BTreeSet<&String> = codes.iter().filter(|c| *c != "abi3-not-loadable-free-threaded").collect();
        assert_eq!(errors.len(), want.len(), "{}: unexpected findings {codes:?}", w.file);
        assert_eq!(code, Some(if want.is_empty() { 0 } else { 1 }), "{}", w.file);
    }
}

#[test]
fn broken_wheels_become_error_entries_and_the_run_goes_on() {
    let manifest = manifest();
    let wheels = fixtures().join("wheels");
    let good = wheels.join(&manifest.wheel[0].file);
    let mut paths: Vec<std::path::PathBuf> = manifest.broken_wheel.iter().map(|b| wheels.join(&b.file)).collect();
    paths.push(good.clone());
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let (code, targets) = scan_json(&refs);
    assert_eq!(targets.len(), paths.len());
    for (b, t) in manifest.broken_wheel.iter().zip(&targets) {
        let mut errors = vec![text(&t["error"])];
        errors.extend(t["extensions"].as_array().unwrap().iter().map(|e| text(&e["error"])));
        assert!(
            errors.iter().any(|e| e != "null" && e.contains(&b.error)),
            "{} ({}): no error mentioning {:?}: {errors:?}",
            b.file,
            b.kind,
            b.error
        );
    }
    // The good wheel after them was still scanned.
    let last = targets.last().unwrap();
    assert_eq!(last["error"], Value::Null);
    assert!(!last["extensions"].as_array().unwrap().is_empty());
    assert_eq!(code, Some(2), "unreadable files give exit code 2");
}

#[test]
fn a_missing_path_is_an_error_entry_and_exit_2() {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["scan", "/nonexistent/foo.whl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stdout(&out).contains("`/nonexistent/foo.whl` does not exist"), "{}", common::stdout(&out));
}

/// The real 3.13t venv of scripts/fetch-real-wheels (22 distributions, from
/// numpy and pandas to frozenlist and pure-Python ones): one table grouped by
/// distribution, dotted import names, libraries hidden, one summary line.
#[test]
fn an_installed_tree_is_one_grouped_table_with_a_summary() {
    let site = common::real_wheels().join("venv-3.13t/lib/python3.13t/site-packages");
    let dists = std::fs::read_dir(&site)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "dist-info"))
        .count();
    assert!(dists >= 20, "only {dists} distributions installed");
    let cache = tempfile::tempdir().unwrap();
    let (_, targets) = scan_json(&[&site]);
    let find = |name: &str| {
        targets
            .iter()
            .flat_map(|t| t["extensions"].as_array().unwrap().iter().map(move |e| (t, e)))
            .find(|(_, e)| e["import_name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let (target, _) = find("frozenlist._frozenlist");
    assert_eq!(target["distribution"]["name"], "frozenlist");
    assert_eq!(target["distribution"]["version"], "1.8.0");
    let (target, module) = find("numpy._core._multiarray_umath");
    assert_eq!(target["distribution"]["name"], "numpy");
    assert_eq!(module["gil"], "not_used");
    // A stub module, decided through the library installed beside it.
    let (_, stub) = find("jaxlib.mlir._mlir_libs._chlo");
    assert_eq!((text(&stub["gil"]), text(&stub["subinterpreters"])), ("not_used".into(), "not_supported".into()));
    let library = text(&stub["forwards_to"]["library"]);
    assert!(library.ends_with("jaxlib/libjax_common.so"), "{library}");

    let out = ftprobe(cache.path()).arg("scan").arg(&site).output().unwrap();
    let table = common::stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("DISTRIBUTION  ") && lines[0].contains("MODULE"), "{}", lines[0]);
    assert!(!table.contains("no extension modules") && !table.contains("(library)"), "{table}");
    assert!(lines.iter().any(|l| l.starts_with("frozenlist") && l.contains("frozenlist._frozenlist")));
    let summary = lines.last().unwrap();
    assert!(summary.contains("extension modules in") && summary.contains("undetermined"), "{summary}");
    let modules =
        targets.iter().flat_map(|t| t["extensions"].as_array().unwrap()).filter(|e| e["is_extension"] == true).count();
    assert!(summary.starts_with(&format!("{modules} extension modules in ")), "{summary} (JSON has {modules})");
    // One row per module plus a header, findings and the summary: no row per file.
    assert!(lines.len() < modules + 80, "{} lines for {modules} modules", lines.len());
    let all = ftprobe(cache.path()).args(["scan", "--all-libraries"]).arg(&site).output().unwrap();
    assert!(common::stdout(&all).contains("(library) libscipy_openblas"), "libraries appear with --all-libraries");
}

/// A module that re-enables the GIL carries the fix for the generator that
/// built it, in JSON, in the table (once per distinct fix) and in SARIF.
#[test]
fn findings_carry_the_fix_for_their_generator() {
    let cases = [
        ("cy_ft_false", "freethreading_compatible"),
        ("pb11_3_gil", "py::mod_gil_not_used()"),
        ("nb_29_gil", "FREE_THREADED"),
        ("pyo3_027_gil", "gil_used = false"),
        ("c_multi_no_slots", "{Py_mod_gil, Py_MOD_GIL_NOT_USED}"),
        ("c_single_nodecl", "PyUnstable_Module_SetGIL"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (module, _) in cases {
        let built = ["3.13t-bfd", "3.13t-lld", "3.13t-relr"]
            .iter()
            .flat_map(|v| std::fs::read_dir(fixtures().join(v)).unwrap())
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{module}.")))
            .unwrap_or_else(|| panic!("{module} is not built"));
        let copy = dir.path().join(built.file_name().unwrap());
        std::fs::copy(&built, &copy).unwrap();
        paths.push(copy);
    }
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let (_, targets) = scan_json(&refs);
    for ((module, fix), target) in cases.iter().zip(&targets) {
        let finding = target["findings"].as_array().unwrap().iter().find(|f| f["code"] == "gil-reenabled");
        let hint = finding.and_then(|f| f["hint"].as_str()).unwrap_or_else(|| panic!("{module}: {target:#}"));
        assert!(hint.contains(fix) && hint.contains("https://"), "{module}: {hint}");
    }
    let cache = tempfile::tempdir().unwrap();
    let table = common::stdout(&ftprobe(cache.path()).arg("scan").args(&paths).output().unwrap());
    for (_, fix) in cases {
        assert_eq!(table.lines().filter(|l| l.starts_with("hint: ") && l.contains(fix)).count(), 1, "{table}");
    }
    let sarif = ftprobe(cache.path()).args(["scan", "--format", "sarif"]).args(&paths).output().unwrap();
    let log: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let rule = &log["runs"][0]["tool"]["driver"]["rules"][0];
    assert_eq!(rule["id"], "gil-reenabled");
    assert!(rule["help"]["text"].as_str().unwrap().contains("py-free-threading"));
    let messages: Vec<&str> =
        log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["message"]["text"].as_str().unwrap()).collect();
    for (_, fix) in cases {
        assert!(messages.iter().any(|m| m.contains("Fix: ") && m.contains(fix)), "{messages:#?}");
    }
}
