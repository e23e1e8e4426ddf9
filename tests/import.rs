//! `ftprobe import` on the provisioned interpreters: real numpy, a package of
//! fixture modules that re-enable the GIL, and the crash, hang and raise
//! fixtures. Workers load libpython with libloading; these tests check what
//! users see.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{fixtures, ftprobe, provisioned, stderr};
use serde_json::Value;

fn import_json(args: &[&str], python: &Path) -> (Option<i32>, Vec<Value>) {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path())
        .arg("import")
        .args(args)
        .arg("--format")
        .arg("json")
        .arg("-p")
        .arg(python)
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let results = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", common::stdout(&out), stderr(&out)));
    (out.status.code(), results)
}

fn find<'a>(results: &'a [Value], probe: &str, config: Option<&str>) -> &'a Value {
    results
        .iter()
        .find(|r| r["probe"] == probe && config.is_none_or(|c| r["config"] == c))
        .unwrap_or_else(|| panic!("no {probe} {config:?} result in {results:#?}"))
}

/// A venv of the free-threaded interpreter whose site-packages holds the
/// package `ftfix` (three fixture modules, two of which re-enable the GIL),
/// the package `lazy` (one extension submodule that needs the GIL), and every
/// other fixture module at top level.
fn fixture_venv(dir: &Path, variant: &str) -> PathBuf {
    fixture_venv_of(&provisioned(variant.split('-').next().unwrap()), dir, variant)
}

/// [`fixture_venv`] made from `python`, with the modules built for `variant`.
fn fixture_venv_of(python: &Path, dir: &Path, variant: &str) -> PathBuf {
    let (venv, site) = common::make_venv(python, dir);
    let package = site.join("ftfix");
    fs::create_dir_all(&package).unwrap();
    fs::write(package.join("__init__.py"), "from . import c_multi_gil_not_used, c_multi_no_slots, c_single_nodecl\n")
        .unwrap();
    // `lazy` imports nothing itself; its extension submodule needs the GIL.
    fs::create_dir_all(site.join("lazy")).unwrap();
    fs::write(site.join("lazy/__init__.py"), "").unwrap();
    for entry in fs::read_dir(fixtures().join(variant)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let in_package =
            ["c_multi_gil_not_used.", "c_multi_no_slots.", "c_single_nodecl."].iter().any(|p| name.starts_with(p));
        let target = if in_package { package.join(&name) } else { site.join(&name) };
        fs::copy(&path, target).unwrap();
        if name.starts_with("c_multi_no_slots.") {
            fs::copy(&path, site.join("lazy").join(&name)).unwrap();
        }
    }
    venv
}

#[test]
fn numpy_keeps_the_gil_off_on_313t_and_refuses_subinterpreters() {
    let (code, results) = import_json(&["numpy"], &provisioned("3.13t"));
    let ft = find(&results, "free_threading", None);
    assert_eq!(ft["status"], "ok", "{ft:#}");
    assert_eq!(ft["gil_enabled_after"], false);
    assert_eq!(ft["python"]["free_threaded"], true);
    assert!(ft["environment"].get("PYTHON_GIL").is_none());
    assert!(ft["extensions"].as_array().unwrap().iter().any(|e| e["module"] == "numpy._core._multiarray_umath"));
    let isolated = find(&results, "subinterpreter", Some("isolated"));
    assert_eq!(isolated["status"], "import_error");
    assert!(isolated["error"].as_str().unwrap().contains("does not support loading in subinterpreters"));
    assert_eq!(code, Some(1), "a refused subinterpreter is an incompatibility");
}

#[test]
fn numpy_subinterpreter_results_on_the_default_build() {
    let (_, results) = import_json(&["numpy"], &provisioned("3.13"));
    assert_eq!(find(&results, "free_threading", None)["status"], "not_applicable");
    let isolated = find(&results, "subinterpreter", Some("isolated"));
    assert!(
        isolated["error"].as_str().unwrap().contains("does not support loading in subinterpreters"),
        "{isolated:#}"
    );
    // numpy guards itself against a second load in a legacy subinterpreter.
    let legacy = find(&results, "subinterpreter", Some("legacy"));
    assert_eq!(legacy["status"], "import_error");
    assert!(legacy["error"].as_str().unwrap().contains("cannot load module more than once per process"), "{legacy:#}");
}

#[test]
fn every_module_that_reenables_the_gil_is_named_even_with_python_gil_0() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let cache = tempfile::tempdir().unwrap();
    // PYTHON_GIL=0 in the caller's environment would hide the GIL coming back.
    let out = ftprobe(cache.path())
        .args(["import", "ftfix", "--probe", "free-threading", "--format", "json", "-p"])
        .arg(&venv)
        .env("PYTHON_GIL", "0")
        .output()
        .unwrap();
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let r = &results[0];
    assert_eq!(r["status"], "gil_enabled", "{r:#}");
    let mut named: Vec<&str> = r["gil_required_by"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    named.sort();
    assert_eq!(named, ["ftfix.c_multi_no_slots", "ftfix.c_single_nodecl"]);
    assert_eq!(r["disagreements"].as_array().unwrap().len(), 0, "static and runtime agree: {r:#}");
    let statics: Vec<(&str, &str)> = r["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["module"].as_str().unwrap(), e["static_gil"].as_str().unwrap_or("?")))
        .collect();
    assert!(statics.contains(&("ftfix.c_multi_gil_not_used", "not_used")), "{statics:?}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn crash_hang_and_raise_are_classified_and_the_run_returns_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-lld");
    let started = Instant::now();
    let (code, results) = import_json(
        &[
            "c_import_segfault",
            "c_import_hang",
            "c_import_raises",
            "--probe",
            "free-threading",
            "--timeout",
            "20",
            "--stall",
            "2",
        ],
        &venv,
    );
    let elapsed = started.elapsed();
    let by_module = |m: &str| results.iter().find(|r| r["module"] == m).unwrap();
    let crash = by_module("c_import_segfault");
    assert_eq!(crash["status"], "crash", "{crash:#}");
    assert!(crash["error"].as_str().unwrap().contains("SIGSEGV"));
    assert!(crash["stderr_tail"].as_str().unwrap().contains("Segmentation fault"), "{crash:#}");
    let hang = by_module("c_import_hang");
    assert_eq!(hang["status"], "deadlock", "{hang:#}");
    let raises = by_module("c_import_raises");
    assert_eq!(raises["status"], "import_error");
    assert!(raises["error"].as_str().unwrap().contains("import fails on purpose"));
    assert_eq!(code, Some(1));
    // The hang is cut at the stall limit (2 s), far below --timeout (20 s).
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

/// Signals an extension raises itself (not faults) must end the probe as
/// they end `python -c "import m"`: the Rust runtime's own SIGSEGV/SIGBUS
/// handlers are not left in place under the interpreter.
#[test]
fn raised_signals_are_crashes_as_with_python() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let signals = ["sigsegv", "sigbus", "sigfpe", "sigill", "sigabrt"];
    let modules: Vec<String> = signals.iter().map(|s| format!("c_raise_{s}")).collect();
    let mut args: Vec<&str> = modules.iter().map(String::as_str).collect();
    args.extend(["--probe", "free-threading"]);
    let (code, results) = import_json(&args, &venv);
    assert_eq!(code, Some(1));
    for (signal, module) in signals.iter().zip(&modules) {
        let python = Command::new(venv.join("bin/python")).args(["-c", &format!("import {module}")]).output().unwrap();
        use std::os::unix::process::ExitStatusExt;
        let killed_by = python.status.signal().map(ftprobe::process::signal_name);
        assert_eq!(killed_by.as_deref(), Some(signal.to_uppercase().as_str()), "python -c import {module}");
        let result = results.iter().find(|r| r["module"] == module.as_str()).unwrap();
        assert_eq!(result["status"], "crash", "{result:#}");
        assert!(result["error"].as_str().unwrap().contains(&signal.to_uppercase()), "{result:#}");
    }
}

#[test]
fn subinterpreter_fixtures_behave_as_declared() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let (_, results) =
        import_json(&["c_subinterp_per_gil", "c_subinterp_supported", "--probe", "subinterpreter"], &venv);
    let get = |m: &str, c: &str| {
        results.iter().find(|r| r["module"] == m && r["config"] == c).unwrap()["status"].as_str().unwrap().to_string()
    };
    assert_eq!(get("c_subinterp_per_gil", "isolated"), "ok");
    assert_eq!(get("c_subinterp_per_gil", "legacy"), "ok");
    assert_eq!(get("c_subinterp_supported", "isolated"), "import_error");
    assert_eq!(get("c_subinterp_supported", "legacy"), "ok");
}

#[test]
fn a_module_that_is_not_installed_is_not_applicable() {
    let (code, results) = import_json(&["surely_not_a_module_xyz"], &provisioned("3.13t"));
    assert!(results.iter().all(|r| r["status"] == "not_applicable"), "{results:#?}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_bad_python_is_a_usage_error() {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path()).args(["import", "numpy", "-p", "/nonexistent/python"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/python"));
}

#[test]
fn submodules_cover_lazily_imported_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let (_, plain) = import_json(&["lazy", "--probe", "free-threading"], &venv);
    assert_eq!(plain[0]["status"], "ok", "{:#}", plain[0]);
    let (code, walked) = import_json(&["lazy", "--probe", "free-threading", "--submodules", "10"], &venv);
    assert_eq!(walked[0]["status"], "gil_enabled", "{:#}", walked[0]);
    assert_eq!(walked[0]["gil_required_by"][0], "lazy.c_multi_no_slots");
    assert_eq!(code, Some(1));
}

#[test]
fn code_and_threads_probes_run_real_work() {
    let python = provisioned("3.13t");
    let (code, results) = import_json(
        &[
            "numpy",
            "--probe",
            "threads",
            "--threads",
            "4",
            "--repeat",
            "2",
            "--code",
            "import numpy; assert numpy.ones(8).sum() == 8",
        ],
        &python,
    );
    assert_eq!(results.len(), 2, "one result per repetition");
    assert!(results.iter().all(|r| r["status"] == "ok" && r["gil_enabled_after"] == false), "{results:#?}");
    assert_eq!(code, Some(0));
    let (_, failing) = import_json(&["numpy", "--probe", "threads", "--code", "raise ValueError('boom')"], &python);
    assert_eq!(failing[0]["status"], "import_error");
    assert!(failing[0]["error"].as_str().unwrap().contains("ValueError: boom"), "{:#}", failing[0]);
}

#[test]
fn a_package_specific_probe_runs_after_the_import() {
    // probes/specific/numpy_freethreading.py uses numpy's C core.
    assert!(ftprobe::probes::specific("numpy", "freethreading").is_some());
    let (_, results) = import_json(&["numpy", "--probe", "free-threading"], &provisioned("3.13t"));
    assert_eq!(results[0]["status"], "ok", "{:#}", results[0]);
    assert_eq!(results[0]["code_ran"], true, "the specific probe did not run");
    let (_, other) = import_json(&["json", "--probe", "free-threading"], &provisioned("3.13t"));
    assert_eq!(other[0]["code_ran"], false, "no specific probe exists for json");
}

#[test]
fn a_probe_past_its_timeout_is_a_timeout_not_a_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let started = Instant::now();
    let (code, results) =
        import_json(&["c_import_hang", "--probe", "free-threading", "--timeout", "2", "--stall", "60"], &venv);
    assert_eq!(results[0]["status"], "timeout", "{:#}", results[0]);
    assert_eq!(code, Some(1));
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

/// An interpreter whose standard library is gone cannot start: that is
/// ftprobe failing to run (exit code 3), not the package crashing.
#[test]
fn an_interpreter_that_cannot_start_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let real = provisioned("3.13t");
    let prefix = dir.path().join("broken");
    fs::create_dir_all(prefix.join("bin")).unwrap();
    fs::create_dir_all(prefix.join("lib")).unwrap();
    fs::hard_link(&real, prefix.join("bin/python3.13t")).unwrap();
    let real_prefix = real.parent().unwrap().parent().unwrap();
    std::os::unix::fs::symlink(real_prefix.join("lib/python3.13t"), prefix.join("lib/python3.13t")).unwrap();
    for lib in fs::read_dir(real_prefix.join("lib")).unwrap() {
        let lib = lib.unwrap().path();
        if lib.file_name().unwrap().to_string_lossy().starts_with("libpython") {
            std::os::unix::fs::symlink(&lib, prefix.join("lib").join(lib.file_name().unwrap())).unwrap();
        }
    }
    // Discovery works while the stdlib is there; then it disappears.
    let cache = tempfile::tempdir().unwrap();
    let python = prefix.join("bin/python3.13t");
    assert!(ftprobe(cache.path()).args(["pythons", "--only", "-p"]).arg(&python).status().unwrap().success());
    fs::remove_file(prefix.join("lib/python3.13t")).unwrap();
    fs::create_dir_all(prefix.join("lib/python3.13t")).unwrap();
    let out = ftprobe(cache.path())
        .args(["import", "json", "--probe", "free-threading", "--format", "json", "-p"])
        .arg(&python)
        .output()
        .unwrap();
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(out.status.code(), Some(3), "{}\n{}", common::stdout(&out), stderr(&out));
    assert_eq!(results[0]["status"], "error", "{:#}", results[0]);
    assert!(results[0]["error"].as_str().unwrap().contains("failed to start"), "{:#}", results[0]);
}

/// Processes whose command line mentions `needle` (workers carry their
/// venv's path in their request).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let out = Command::new("pgrep").args(["-f", needle]).output().unwrap();
    common::stdout(&out).lines().map(str::to_string).collect()
}

fn wait_for_workers(needle: &str) {
    let started = Instant::now();
    while processes_mentioning(needle).len() < 2 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
}

#[test]
fn ctrl_c_keeps_finished_results_and_leaves_no_worker() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let child = ftprobe(dir.path())
        .args(["import", "json", "c_import_hang", "--probe", "free-threading", "--stall", "120", "-j", "2"])
        .args(["--format", "json", "-p"])
        .arg(&venv)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let needle = venv.display().to_string();
    // json's worker finishes on its own (a loaded machine may take a while):
    // Ctrl-C comes once the hanging worker runs and json's has come and gone
    // (or never showed up in 3 s of the other's running: it was that quick).
    let (json, hang) = (r#""modules":\["json"\]"#, r#""modules":\["c_import_hang"\]"#);
    let started = Instant::now();
    let (mut json_seen, mut hang_since) = (false, None);
    while started.elapsed() < Duration::from_secs(60) {
        let json_running = !processes_mentioning(json).is_empty();
        json_seen |= json_running;
        if !processes_mentioning(hang).is_empty() {
            hang_since.get_or_insert_with(Instant::now);
        }
        let hang_for = hang_since.map_or(Duration::ZERO, |t| t.elapsed());
        if hang_since.is_some() && !json_running && (json_seen || hang_for > Duration::from_secs(3)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?} after Ctrl-C", started.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let status = |m: &str| results.iter().find(|r| r["module"] == m).unwrap()["status"].clone();
    assert_eq!(status("json"), "ok");
    assert_eq!(status("c_import_hang"), "interrupted");
    std::thread::sleep(Duration::from_millis(300));
    assert!(processes_mentioning(&needle).is_empty(), "left behind: {:?}", processes_mentioning(&needle));
}

#[test]
fn a_worker_dies_with_a_killed_ftprobe() {
    let dir = tempfile::tempdir().unwrap();
    let venv = fixture_venv(dir.path(), "3.13t-bfd");
    let mut child = ftprobe(dir.path())
        .args(["import", "c_import_hang", "--probe", "subinterpreter", "--stall", "120", "-p"])
        .arg(&venv)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let needle = venv.display().to_string();
    wait_for_workers(&needle);
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(processes_mentioning(&needle).is_empty(), "left behind: {:?}", processes_mentioning(&needle));
}

/// A package with an optional compiled accelerator and a pure-Python
/// fallback (as frozenlist, google-crc32c and rapidfuzz are built): the
/// import succeeds in an isolated subinterpreter only because the package
/// caught the refusal; ftprobe must say so and name the module.
#[test]
fn a_silent_fallback_to_pure_python_is_reported() {
    for variant in ["3.13-bfd", "3.13t-bfd"] {
        let dir = tempfile::tempdir().unwrap();
        let venv = fixture_venv(dir.path(), variant);
        let site = common::site_packages(&venv);
        let accel = site.join("accel");
        fs::create_dir(&accel).unwrap();
        for entry in fs::read_dir(&site).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("c_subinterp_not_supported.") {
                fs::rename(&path, accel.join(path.file_name().unwrap())).unwrap();
            }
        }
        let init =
            "try:\n    from . import c_subinterp_not_supported as _speed\nexcept ImportError:\n    _speed = None\n";
        fs::write(accel.join("__init__.py"), init).unwrap();
        let (code, results) = import_json(&["accel", "json"], &venv);
        let isolated = results
            .iter()
            .find(|r| r["module"] == "accel" && r["config"] == "isolated")
            .unwrap_or_else(|| panic!("{results:#?}"));
        assert_eq!(isolated["status"], "fallback", "{variant}: {isolated:#}");
        let fallback = &isolated["fallbacks"][0];
        assert_eq!(fallback["module"], "accel.c_subinterp_not_supported", "{variant}: {isolated:#}");
        assert!(fallback["error"].as_str().unwrap().contains("does not support loading in subinterpreters"));
        // ftprobe's own imports (json loads _json first) are not the package's.
        for r in results.iter().filter(|r| r["module"] == "json") {
            assert!(r["extensions"].as_array().unwrap().is_empty(), "{r:#}");
        }
        // A fallback is a warning: nothing else failed, so the run passes.
        assert_eq!(code, Some(0), "{variant}: {results:#?}");
    }
}

/// With no `-p`, an active virtual environment is the only interpreter
/// probed (as uv does); outside one, interpreters without the module are
/// left out with one line saying so.
#[test]
fn the_active_venv_is_probed_alone_and_missing_installs_are_skipped_in_one_line() {
    let scratch = tempfile::tempdir().unwrap();
    let (venv, _) = common::make_venv(&provisioned("3.13t"), scratch.path());
    let out = ftprobe(scratch.path())
        .args(["import", "json", "--format", "json"])
        .env("VIRTUAL_ENV", &venv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), 3, "one interpreter, three probes: {results:#?}");
    assert!(results.iter().all(|r| r["python"]["executable"].as_str().unwrap().starts_with(venv.to_str().unwrap())));
    assert!(common::stderr(&out).contains("probing the active virtual environment"));

    // Outside a venv: the venv's 3.13t comes first on PATH (and has no
    // numpy); the provisioned 3.13 has numpy. HOME is private, so pyenv's
    // and uv's interpreters stay out of it.
    let out = ftprobe(scratch.path())
        .args(["import", "numpy", "--format", "json"])
        .env_remove("VIRTUAL_ENV")
        .env_remove("PYENV_ROOT")
        .env("HOME", scratch.path())
        .env("PATH", format!("{}:/usr/bin:/bin", venv.join("bin").display()))
        .output()
        .unwrap();
    let said = common::stderr(&out);
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert!(!results.is_empty(), "{said}");
    assert!(
        results.iter().all(|r| r["python"]["free_threaded"] == false),
        "the venv without numpy is left out: {results:#?}"
    );
    let skipped: Vec<&str> = said.lines().filter(|l| l.contains("skipped")).collect();
    assert_eq!(
        skipped,
        ["ftprobe: skipped 3.13.5t where it is not installed (pass -p to probe an interpreter anyway)"],
        "{said}"
    );
}

/// A free-threaded CPython built without --enable-shared (pyenv's default)
/// has no libpython to load: the probes run in its executable, with
/// subinterpreters from its `_interpreters` module, and give the answers
/// the shared 3.13t gives, for numpy, GIL culprits, a crash and a hang.
#[test]
fn a_static_free_threaded_interpreter_gives_the_same_answers_through_its_executable() {
    let static_python = provisioned("3.13t-static");
    let listed = common::json(
        ftprobe(tempfile::tempdir().unwrap().path())
            .args(["pythons", "--only", "--format", "json", "-p"])
            .arg(&static_python),
    );
    assert_eq!(listed[0]["libpython"], Value::Null, "{listed:#}");
    assert_eq!(listed[0]["probes_via"], "executable");

    let answers = |python: &Path, dir: &Path| {
        let venv = fixture_venv_of(python, dir, "3.13t-lld");
        // numpy from the base interpreter (the provisioning installed it there).
        let (_, mut results) = import_json(&["numpy"], python);
        let (_, fixtures) = import_json(
            &["ftfix", "c_import_segfault", "c_import_hang", "c_subinterp_per_gil", "--timeout", "30", "--stall", "3"],
            &venv,
        );
        results.extend(fixtures);
        results
    };
    let (shared_dir, static_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let shared = answers(&provisioned("3.13t"), shared_dir.path());
    let from_executable = answers(&static_python, static_dir.path());
    let key = |r: &Value| {
        let mut culprits: Vec<String> =
            r["gil_required_by"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        culprits.sort();
        (r["module"].to_string(), r["probe"].to_string(), r["config"].to_string(), r["status"].to_string(), culprits)
    };
    let mut expected: Vec<_> = shared.iter().map(key).collect();
    let mut got: Vec<_> = from_executable.iter().map(key).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        from_executable.iter().all(|r| r["via"] == "executable" || r["status"] == "not_applicable"),
        "{from_executable:#?}"
    );
    assert!(shared.iter().all(|r| r["via"] == "libpython" || r["status"] == "not_applicable"));
    // What the comparison covers: a culprit named, a crash, a hang, a subinterpreter that loads.
    let statuses: Vec<&str> = from_executable.iter().map(|r| r["status"].as_str().unwrap()).collect();
    for wanted in ["gil_enabled", "crash", "deadlock", "ok", "import_error"] {
        assert!(statuses.contains(&wanted), "{wanted} in {statuses:?}");
    }
    let ftfix = from_executable.iter().find(|r| r["module"] == "ftfix" && r["probe"] == "free_threading").unwrap();
    assert!(ftfix["gil_required_by"].as_array().unwrap().contains(&Value::from("ftfix.c_single_nodecl")), "{ftfix:#}");
}
