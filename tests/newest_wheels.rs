//! The scanner against the newest real wheels (`[[newest]]` in
//! fixtures/real-wheels.toml): PyO3 0.29/0.30 export hooks on cp315t, an
//! `abi3.abi3t` wheel with PyO3 submodule exports, wheels that carry copies
//! of a module for other CPythons, and mypyc-compiled packages, whose
//! modules are stubs that take their init function from a shared library.
//! The mypyc verdicts are checked against real imports on the provisioned
//! default-build 3.13.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ftprobe, real_wheels};
use serde_json::Value;

fn newest(platform: &str) -> PathBuf {
    real_wheels().join("newest").join(platform)
}

/// The one wheel in `newest/<platform>` whose file name starts with
/// `prefix` and holds `tag`.
fn wheel(platform: &str, prefix: &str, tag: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(newest(platform))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.contains(tag)
        })
        .collect();
    assert_eq!(found.len(), 1, "{prefix} {tag} in {platform}: {found:?}");
    found.into_iter().next().unwrap()
}

fn scan_json(path: &Path) -> Value {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["scan", "--format", "json"]).arg(path).output().unwrap();
    let targets: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stderr(&out)));
    targets[0].clone()
}

fn scan_table(path: &Path) -> String {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).arg("scan").arg(path).env("NO_COLOR", "1").output().unwrap();
    common::stdout(&out)
}

/// The listed modules of a scanned wheel: import name -> (gil, subinterpreters, generator).
fn listed(target: &Value) -> BTreeMap<String, (String, String, String)> {
    let mut out = BTreeMap::new();
    for e in target["extensions"].as_array().unwrap() {
        assert_eq!(e["error"], Value::Null, "{e:#}");
        let listed = e["is_extension"] == true
            && e["alias"] == false
            && e.get("export_role").is_none()
            && e.get("never_imported").is_none();
        if listed {
            let text = |v: &Value| v.as_str().unwrap_or("").to_string();
            let generator = text(&e["generator"]["name"]);
            let verdicts = (text(&e["gil"]), text(&e["subinterpreters"]), generator);
            assert!(out.insert(text(&e["import_name"]), verdicts).is_none(), "listed twice: {e:#}");
        }
    }
    out
}

#[test]
fn the_abi3t_wheel_shows_its_tags_and_one_module_not_its_pyo3_submodule_exports() {
    let path = wheel("linux_x86_64", "hypothesis-6.170.17", "abi3t");
    let table = scan_table(&path);
    assert!(table.contains("cp315-abi3.abi3t-manylinux2014_x86_64"), "{table}");
    assert!(table.contains("hypothesis._native") && !table.contains("(alias)"), "{table}");
    assert!(table.contains("1 extension modules in 1 distributions: 1 GIL not used"), "{table}");
    let target = scan_json(&path);
    let modules = listed(&target);
    assert_eq!(modules.keys().collect::<Vec<_>>(), ["hypothesis._native"]);
    assert_eq!(modules["hypothesis._native"].0, "not_used");
    let submodules: Vec<&str> = target["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["export_role"] == "pyo3_submodule")
        .map(|e| e["module"].as_str().unwrap())
        .collect();
    assert_eq!(submodules, ["cathetus", "floats", "internal"]);
}

/// PyO3 0.29/0.30's cp315t export hooks return a word a relocation fills
/// with the slot array's address: decided, as their cp314t twins are.
#[test]
fn cp315t_pyo3_wheels_get_the_verdicts_of_their_cp314t_twins() {
    let mut compared = 0;
    let twins = [
        ("linux_x86_64", "jiter-0.19.0"),
        ("linux_aarch64", "jiter-0.19.0"),
        ("macos_arm64", "jiter-0.19.0"),
        ("windows_amd64", "jiter-0.19.0"),
        ("linux_x86_64", "pydantic_core-2.50.5"),
        ("linux_x86_64", "uuid_utils-1.2.0"),
    ];
    for (platform, prefix) in twins {
        let cp315t = listed(&scan_json(&wheel(platform, prefix, "cp315t")));
        let cp314t = listed(&scan_json(&wheel(platform, prefix, "cp314t")));
        assert!(!cp315t.is_empty(), "{prefix} on {platform}: no modules");
        for (module, verdicts) in &cp315t {
            assert_ne!(verdicts.0, "undetermined", "{prefix} cp315t on {platform}: {module}");
            assert_eq!(verdicts.0, "not_used", "{prefix} cp315t on {platform}: {module}");
            assert_eq!(Some(verdicts), cp314t.get(module), "{prefix} on {platform}: {module}");
            compared += 1;
        }
    }
    assert!(compared >= 6, "only {compared} modules compared");
}

/// pymongo ships its modules for CPython 3.9 to 3.13 beside the cp313t
/// ones; snowflake-connector-python one module for 3.11 to 3.14 beside the
/// cp314t one. Only the file the interpreter imports counts.
#[test]
fn copies_for_other_cpythons_have_no_say_in_the_verdict() {
    for (prefix, tag, expected) in [
        ("pymongo-4.15.1", "cp313t", vec!["bson._cbson", "pymongo._cmessage"]),
        (
            "snowflake_connector_python-5.2.0",
            "cp314t",
            vec!["snowflake.connector._core.sf_core_python", "snowflake.connector._internal.arrow_stream_iterator"],
        ),
    ] {
        let path = wheel("linux_x86_64", prefix, tag);
        let target = scan_json(&path);
        let modules = listed(&target);
        assert_eq!(modules.keys().collect::<Vec<_>>(), expected, "{prefix}");
        assert!(modules.values().all(|v| v.0 == "not_used"), "{prefix}: {modules:?}");
        let findings = target["findings"].as_array().unwrap();
        assert!(findings.iter().all(|f| f["severity"] == "warning"), "{prefix}: {findings:#?}");
        assert!(
            findings.iter().all(|f| f["code"] == "suffix-tag-mismatch"
                && f["message"].as_str().unwrap().contains("never imported here")),
            "{prefix}: {findings:#?}"
        );
        assert!(!findings.is_empty(), "{prefix}: the copies are not mentioned");
        let table = scan_table(&path);
        assert!(table.contains("0 errors"), "{table}");
    }
}

/// mypyc: one row per module, named as `import` names it (a package's
/// `__init__` extension is the package), decided in the shared library the
/// stub takes its init function from, `mypyc` the generator, and no rows
/// for the `PyInit___init__` shims.
#[test]
fn mypyc_wheels_give_one_decided_row_per_module() {
    for (prefix, tag, package, gil) in [
        ("tomli-2.5.0", "cp313-cp313-", "tomli", "used"),
        ("tomli-2.5.0", "cp314t", "tomli", "not_used"),
        ("black-26.10.1", "cp313-cp313-", "black", "used"),
        ("mypy-2.4.1", "cp314t", "mypy", "not_used"),
    ] {
        let path = wheel("linux_x86_64", prefix, tag);
        let target = scan_json(&path);
        let modules = listed(&target);
        let files = target["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["member"].as_str().unwrap())
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(modules.len(), files.len(), "{prefix} {tag}: one row per file: {modules:#?}");
        assert!(modules.contains_key(package), "{prefix} {tag}: no `{package}` row: {:?}", modules.keys());
        for (module, (module_gil, sub, generator)) in &modules {
            assert!(!module.contains("__init__"), "{prefix} {tag}: {module}");
            assert_eq!(generator, "mypyc", "{prefix} {tag}: {module}");
            assert_eq!(module_gil, gil, "{prefix} {tag}: {module}");
            assert_ne!(sub, "undetermined", "{prefix} {tag}: {module}");
        }
        let table = scan_table(&path);
        let summary = format!("{} extension modules in 1 distributions", modules.len());
        assert!(table.contains(&summary) && table.contains(" 0 undetermined;"), "{prefix} {tag}:\n{table}");
        assert!(!table.contains("(alias)"), "{prefix} {tag}:\n{table}");
    }
}

/// On the real default-build 3.13, every mypyc module of tomli and black
/// loads in the main interpreter and is refused by an isolated
/// subinterpreter, as their single-phase definitions (`not_supported`) say.
#[test]
fn mypyc_verdicts_agree_with_real_imports_on_3_13() {
    let venv_python = real_wheels().join("venv-3.13-mypyc/bin/python");
    let mut checked = 0;
    for (prefix, tag) in [("tomli-2.5.0", "cp313-cp313-"), ("black-26.10.1", "cp313-cp313-")] {
        let modules = listed(&scan_json(&wheel("linux_x86_64", prefix, tag)));
        let script = "import _interpreters, importlib, json, sys\n\
                      out = {}\n\
                      for name in sys.argv[1:]:\n\
                      \x20   importlib.import_module(name)\n\
                      \x20   interp = _interpreters.create('isolated')\n\
                      \x20   failure = _interpreters.run_string(interp, f'import {name}')\n\
                      \x20   _interpreters.destroy(interp)\n\
                      \x20   out[name] = None if failure is None else failure.msg\n\
                      print(json.dumps(out))";
        let names: Vec<&String> = modules.keys().filter(|m| !m.ends_with("__mypyc")).collect();
        let out = Command::new(&venv_python)
            // -I: the temporary folder, its current folder, may hold any `dis.py`.
            .args(["-I", "-c", script])
            .args(&names)
            .current_dir(std::env::temp_dir())
            .env_remove("PYTHONPATH")
            .output()
            .unwrap();
        assert!(out.status.success(), "{prefix}: {}", common::stderr(&out));
        let refused: BTreeMap<String, Option<String>> = serde_json::from_str(common::stdout(&out).trim()).unwrap();
        for name in names {
            let (_, sub, _) = &modules[name];
            assert_eq!(sub, "not_supported", "{name}");
            let message = refused[name.as_str()].as_deref().unwrap_or("loaded");
            assert!(message.contains("does not support loading in subinterpreters"), "{name}: {message}");
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} modules checked");
}
