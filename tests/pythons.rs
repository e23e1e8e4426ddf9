//! `ftprobe pythons` against the real provisioned interpreters and against
//! each kind of bad input.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use common::{ftprobe, json, provisioned, stderr, write_script};
use serde_json::Value;

fn only(cache: &Path, python: &Path) -> Value {
    let list = json(ftprobe(cache).args(["pythons", "--only", "--format", "json", "--python"]).arg(python));
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    list[0].clone()
}

fn file_name(v: &Value) -> String {
    Path::new(v.as_str().expect("a path")).file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn free_threaded_build_is_reported_with_its_libpython() {
    let cache = tempfile::tempdir().unwrap();
    let python = only(cache.path(), &provisioned("3.13t"));
    assert_eq!(python["free_threaded"], true);
    assert_eq!(python["abiflags"], "t");
    assert_eq!(python["version_info"][1], 13);
    assert!(file_name(&python["libpython"]).starts_with("libpython3.13t.so"), "{python:#}");
    assert!(Path::new(python["libpython"].as_str().unwrap()).is_file());
    assert_eq!(python["ext_suffix"], ".cpython-313t-x86_64-linux-gnu.so");
    assert_eq!(python["problem"], Value::Null);
    assert_eq!(python["is_venv"], false);
}

#[test]
fn default_build_is_reported_with_its_libpython() {
    let cache = tempfile::tempdir().unwrap();
    let python = only(cache.path(), &provisioned("3.13"));
    assert_eq!(python["free_threaded"], false);
    assert!(file_name(&python["libpython"]).starts_with("libpython3.13.so"), "{python:#}");
    assert!(Path::new(python["libpython"].as_str().unwrap()).is_file());
    assert_eq!(python["soabi"], "cpython-313-x86_64-linux-gnu");
}

#[test]
fn version_requests_pick_the_right_build_kind() {
    let cache = tempfile::tempdir().unwrap();
    for (request, free_threaded) in [("3.13t", true), ("3.13", false)] {
        let list = json(ftprobe(cache.path()).args(["pythons", "--only", "--format", "json", "--python", request]));
        assert_eq!(list[0]["free_threaded"], free_threaded, "{request}: {list:#}");
        assert_eq!(list[0]["version_info"][1], 13);
        assert_eq!(list[0]["sources"][0], "requested");
    }
}

#[test]
fn full_listing_includes_provisioned_and_path_interpreters() {
    let cache = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    symlink(provisioned("3.13t"), bin.path().join("python3.13t")).unwrap();
    let list = json(ftprobe(cache.path()).args(["pythons", "--format", "json"]).env("PATH", bin.path()));
    let list = list.as_array().unwrap();
    let provisioned_ft = list
        .iter()
        .find(|p| p["free_threaded"] == true && p["sources"].as_array().unwrap().contains(&"provisioned".into()))
        .expect("the provisioned 3.13t is listed");
    // The PATH symlink and the provisioned binary are one interpreter, listed once.
    assert!(provisioned_ft["sources"].as_array().unwrap().contains(&"path".into()), "{provisioned_ft:#}");
    assert!(list.iter().any(|p| p["free_threaded"] == false && p["version_info"][1] == 13));
    // Answers are cached for the next run.
    assert!(fs::read_dir(cache.path().join("interpreters")).unwrap().count() >= 2);
}

#[test]
fn table_marks_the_free_threaded_build() {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["pythons", "--only", "-p", "3.13t"]).output().unwrap();
    let text = common::stdout(&out);
    assert!(text.starts_with("PYTHON"), "{text}");
    assert!(text.lines().nth(1).unwrap().contains("free-threaded"), "{text}");
}

#[test]
fn venv_directory_reports_its_base() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (venv, _) = common::make_venv(&provisioned("3.13t"), dir.path());
    let python = only(cache.path(), &venv);
    assert_eq!(python["is_venv"], true);
    assert_eq!(python["free_threaded"], true);
    assert_eq!(python["prefix"], venv.to_str().unwrap());
    assert!(file_name(&python["libpython"]).starts_with("libpython3.13t.so"));
    let base = python["base_executable"].as_str().unwrap();
    assert!(base.contains("3.13t/bin/python"), "{base}");
}

fn fails_with(args: &[&str], path: Option<&Path>, expected: &[&str]) {
    let cache = tempfile::tempdir().unwrap();
    let mut command = ftprobe(cache.path());
    command.args(args);
    if let Some(path) = path {
        command.arg(path);
    }
    let out = command.output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for part in expected {
        assert!(err.contains(part), "missing {part:?} in {err}");
    }
}

#[test]
fn a_text_file_is_not_a_python() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    fs::write(&file, "hello").unwrap();
    fails_with(&["pythons", "-p"], Some(&file), &["notes.txt", "not a Python interpreter", "not an executable"]);
}

#[test]
fn a_program_that_is_not_python_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python3");
    write_script(&fake, "echo 'I am not python'");
    fails_with(&["pythons", "-p"], Some(&fake), &["not a Python interpreter", "I am not python"]);
}

#[test]
fn a_missing_path_is_named() {
    fails_with(&["pythons", "-p", "/nonexistent/bin/python3"], None, &["/nonexistent/bin/python3", "does not exist"]);
}

#[test]
fn unknown_version_requests_say_what_exists() {
    fails_with(&["pythons", "-p", "3.99t"], None, &["No interpreter matches `3.99t`", "3.13t", "provision-pythons"]);
    fails_with(&["pythons", "-p", "banana"], None, &["`banana`", "version request"]);
}

/// A real venv whose base install is deleted afterwards. The base is a
/// throw-away copy of the provisioned binary with the stdlib linked in.
#[test]
fn a_broken_venv_names_its_missing_base() {
    let dir = tempfile::tempdir().unwrap();
    let real = provisioned("3.13");
    let real_prefix = real.parent().unwrap().parent().unwrap();
    let base = dir.path().join("base");
    fs::create_dir_all(base.join("bin")).unwrap();
    fs::create_dir_all(base.join("lib")).unwrap();
    // A hard link, not a copy: executing a file this process just wrote races
    // with other test threads' forks (ETXTBSY).
    fs::hard_link(&real, base.join("bin/python3.13"))
        .or_else(|_| fs::copy(&real, base.join("bin/python3.13")).map(|_| ()))
        .unwrap();
    symlink(real_prefix.join("lib/python3.13"), base.join("lib/python3.13")).unwrap();
    let (venv, _) = common::make_venv(&base.join("bin/python3.13"), dir.path());
    fs::remove_dir_all(&base).unwrap();
    fails_with(&["pythons", "-p"], Some(&venv), &["broken virtualenv", "venv", "base/bin"]);
    fails_with(&["pythons", "-p"], Some(&venv.join("bin/python")), &["broken virtualenv"]);
}

/// scripts/provision-pythons builds a real statically linked CPython 3.13
/// (core only, in-tree), which has no libpython to load: it is used through
/// its executable, and says so; its core-only build cannot make
/// subinterpreters, and the probe says that in one line.
#[test]
fn a_statically_linked_interpreter_is_probed_through_its_executable() {
    let static_python = common::provisioned_root().join("3.13-static/python");
    assert!(static_python.is_file(), "{} is missing: run scripts/provision-pythons", static_python.display());
    let cache = tempfile::tempdir().unwrap();
    let listed =
        common::json(ftprobe(cache.path()).args(["pythons", "--only", "--format", "json", "-p"]).arg(&static_python));
    assert_eq!(listed[0]["probes_via"], "executable", "{listed:#}");
    assert_eq!(listed[0]["libpython"], serde_json::Value::Null);
    let table = ftprobe(cache.path()).args(["pythons", "--only", "-p"]).arg(&static_python).output().unwrap();
    assert!(common::stdout(&table).contains("none: probes run in the executable"), "{}", common::stdout(&table));
    let out = ftprobe(cache.path())
        .args(["import", "json", "--probe", "subinterpreter", "--format", "json", "-p"])
        .arg(&static_python)
        .output()
        .unwrap();
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = results[0]["error"].as_str().unwrap_or_default();
    assert_eq!(results[0]["status"], "error", "{results:#}");
    assert!(error.contains("neither _interpreters nor _xxsubinterpreters"), "{error}");
}

#[test]
fn the_listing_renders_as_junit_and_sarif_too() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for format in ["junit", "sarif", "markdown"] {
        let file = dir.path().join(format!("pythons.{format}"));
        let out = ftprobe(cache.path())
            .args(["pythons", "--only", "-p", "3.13t", "--format", format, "--output"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = fs::read_to_string(&file).unwrap();
        match format {
            // One passing testcase per interpreter.
            "junit" => {
                common::assert_junit_schema(&file);
                assert!(text.contains("3.13t (") && text.contains("failures=\"0\""), "{text}");
            }
            // SARIF lists problems only: a usable interpreter is none.
            "sarif" => {
                common::assert_json_schema("sarif-2.1.0.json", &file);
                let sarif: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 0, "{text}");
            }
            _ => assert!(text.starts_with("## ") && text.contains("1 passed, 0 failed"), "{text}"),
        }
    }
}
