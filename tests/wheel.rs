//! ftprobe as Python people install it: the wheel maturin builds from this
//! repository (`pyproject.toml`, `bindings = "bin"`), installed into fresh
//! virtual environments of both provisioned interpreters from a local
//! folder, then used with no Rust and no network: `ftprobe`, `python -m
//! ftprobe`, `uvx`, `pipx run`, the Python API, and `pytest -p ftprobe` on fixture
//! suites (one staying free-threaded, one whose import re-enables the GIL at
//! collection, one where a test does). `auditwheel show` confirms the
//! platform tag.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{batch_index, provisioned, serve};

fn tools() -> PathBuf {
    batch_index().parent().unwrap().join("batch-index-tools/bin")
}

/// The wheel, built once per test binary by maturin into the shared target
/// folder (so it reuses the dev build the tests already made).
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wheel");
        let _ = std::fs::remove_dir_all(&out);
        let built = Command::new(tools().join("maturin"))
            .args(["build", "--profile", "dev", "--offline", "--out"])
            .arg(&out)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(built.status.success(), "maturin build: {}", common::stderr(&built));
        let wheels: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(wheels.len(), 1, "{wheels:?}");
        wheels.into_iter().next().unwrap()
    })
}

fn ok(command: &mut Command) -> Output {
    let out = command.output().unwrap();
    assert!(out.status.success(), "{command:?}\nstdout:\n{}\nstderr:\n{}", common::stdout(&out), common::stderr(&out));
    out
}

/// A fresh venv of `python` (seeing the base's site-packages, where the
/// provisioning put numpy) with the wheel installed from its folder only.
fn venv_with_wheel(python: &Path, dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    ok(Command::new(python).args(["-m", "venv", "--system-site-packages"]).arg(&venv));
    ok(Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
        .arg(dependencies())
        .arg(wheel()));
    venv
}

/// Where the wheel's dependency (uv's wheel) is found offline: the local index's files.
fn dependencies() -> PathBuf {
    batch_index().join("files")
}

/// A clean environment: no Rust on PATH, no cargo variables, the venv active.
fn in_venv(venv: &Path, program: &str) -> Command {
    let mut command = Command::new(venv.join("bin").join(program));
    command.env_clear().env("PATH", format!("{}:/usr/bin:/bin", venv.join("bin").display()));
    command.env("HOME", venv.parent().unwrap()).env("VIRTUAL_ENV", venv).env("NO_COLOR", "1");
    command
}

#[test]
fn the_wheel_has_an_honest_platform_tag_and_holds_the_binary_and_the_package() {
    let name = wheel().file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("ftprobe-") && name.contains("-py3-none-manylinux_"), "{name}");
    let shown = ok(Command::new(tools().join("auditwheel")).arg("show").arg(wheel()));
    let tag = name.trim_end_matches(".whl").rsplit('-').next().unwrap().to_string();
    assert!(
        common::stdout(&shown).contains(&format!("consistent with\nthe following platform tag: \"{tag}\"")),
        "{}",
        common::stdout(&shown)
    );
    let listing = ok(Command::new(provisioned("3.13")).args(["-m", "zipfile", "-l"]).arg(wheel()));
    let listing = common::stdout(&listing);
    for member in [
        "ftprobe/__init__.py",
        "ftprobe/__main__.py",
        "ftprobe/pytest_plugin.py",
        ".data/scripts/ftprobe",
        "entry_points.txt",
    ] {
        assert!(listing.contains(member), "{member} in\n{listing}");
    }
}

/// The licence (MIT OR Apache-2.0) travels with the wheel and the sdist:
/// PEP 639's `License-Expression` and both licence texts.
#[test]
fn the_wheel_and_the_sdist_carry_the_licence() {
    let read = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
                meta = next(n for n in z.namelist() if n.endswith('.dist-info/METADATA'))\n\
                print(z.read(meta).decode())\nprint('\\n'.join(z.namelist()))";
    let shown = common::stdout(&ok(Command::new(provisioned("3.13")).args(["-c", read]).arg(wheel())));
    assert!(shown.lines().any(|l| l == "License-Expression: MIT OR Apache-2.0"), "{shown}");
    for text in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(shown.lines().any(|l| l.ends_with(&format!(".dist-info/licenses/{text}"))), "{text} in\n{shown}");
    }
    let out = tempfile::tempdir().unwrap();
    ok(Command::new(tools().join("maturin"))
        .args(["sdist", "--out"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    let sdist = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let listing = common::stdout(&ok(Command::new("tar").arg("-tzf").arg(&sdist)));
    for text in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(listing.lines().any(|l| l.ends_with(&format!("/{text}"))), "{text} in\n{listing}");
    }
}

#[test]
fn an_installed_wheel_runs_without_rust_on_both_builds() {
    for (python, free_threaded) in [("3.13t", true), ("3.13", false)] {
        let scratch = tempfile::tempdir().unwrap();
        let venv = venv_with_wheel(&provisioned(python), scratch.path());
        let version = common::stdout(&ok(in_venv(&venv, "ftprobe").arg("--version")));
        assert!(version.starts_with(&format!("ftprobe {}", env!("CARGO_PKG_VERSION"))), "{version}");
        let module = common::stdout(&ok(in_venv(&venv, "python").args(["-m", "ftprobe", "--version"])));
        assert_eq!(module, version);

        // The active venv, and nothing else, is probed; numpy comes from the base.
        let out = in_venv(&venv, "ftprobe").args(["import", "numpy", "--format", "json"]).output().unwrap();
        let results: Vec<serde_json::Value> =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stderr(&out)));
        assert_eq!(results.len(), 3, "{results:#?}");
        let gil = results.iter().find(|r| r["probe"] == "free_threading").unwrap();
        assert_eq!(gil["status"], if free_threaded { "ok" } else { "not_applicable" }, "{gil:#}");
        assert!(
            results.iter().all(|r| r["python"]["executable"].as_str().unwrap().starts_with(venv.to_str().unwrap()))
        );

        // The Python API: the executable's JSON, as Python objects.
        let script = "import ftprobe, json, numpy.random, sys\n\
                      print(json.dumps([e['gil'] for t in ftprobe.scan(numpy.random.__path__[0]) for e in t['extensions']][:1]))\n\
                      print(json.dumps([r['status'] for r in ftprobe.import_probe('json', python=sys.executable, probes=['free-threading'])]))";
        let said = common::stdout(&ok(in_venv(&venv, "python").args(["-c", script])));
        let lines: Vec<serde_json::Value> = said.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        // numpy.random's modules declare free-threading support on a
        // free-threaded build; on a default build they read as `used`.
        assert_eq!(lines[0], serde_json::json!([if free_threaded { "not_used" } else { "used" }]), "{said}");
        assert_eq!(lines[1], serde_json::json!([if free_threaded { "ok" } else { "not_applicable" }]), "{said}");
    }
    // uvx runs it from the wheel, offline, in its own environment.
    let scratch = tempfile::tempdir().unwrap();
    let out = ok(Command::new(tools().join("uvx"))
        .args(["--offline", "--python"])
        .arg(provisioned("3.13t"))
        .arg("--find-links")
        .arg(dependencies())
        .arg("--from")
        .arg(wheel())
        .args(["ftprobe", "--version"])
        .env("UV_CACHE_DIR", scratch.path().join("uv-cache")));
    assert!(common::stdout(&out).starts_with("ftprobe "));
    // And so does `pipx run`, with pip kept off the network.
    let out = ok(Command::new(tools().join("pipx"))
        .args(["run", "--python"])
        .arg(provisioned("3.13t"))
        .arg("--spec")
        .arg(wheel())
        // The dependency (uv's wheel) from the local folder: pipx hands these to its installer.
        .arg(format!("--pip-args=--no-index --find-links {}", dependencies().display()))
        .args(["ftprobe", "--version"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", scratch.path())
        .env("PIPX_HOME", scratch.path().join("pipx"))
        .env("PIPX_BIN_DIR", scratch.path().join("pipx-bin"))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", dependencies()));
    assert!(common::stdout(&out).starts_with(&format!("ftprobe {} (", env!("CARGO_PKG_VERSION"))), "{out:?}");
}

/// `pip install ftprobe` brings uv (a dependency whose wheel ships the
/// binary), and `batch` makes its environments with it from beside its own
/// executable, with nothing of the venv on PATH; the summary line says so.
#[test]
fn the_installed_wheel_brings_uv_and_batch_uses_it_without_path_changes() {
    let scratch = tempfile::tempdir().unwrap();
    let venv = venv_with_wheel(&provisioned("3.13"), scratch.path());
    assert!(venv.join("bin/uv").is_file(), "pip install of the wheel did not bring uv");
    let server = serve(batch_index());
    let out = Command::new(venv.join("bin/ftprobe"))
        .args(["batch", "markupsafe", "--probe", "free-threading", "-p"])
        .arg(provisioned("3.13t"))
        .args(["--index-url", &format!("http://127.0.0.1:{}/simple/", server.1), "--out"])
        .arg(scratch.path().join("run"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", scratch.path())
        .env("FTPROBE_CACHE_DIR", scratch.path().join("cache"))
        .env("UV_CACHE_DIR", scratch.path().join("uv-cache"))
        .output()
        .unwrap();
    let said = common::stderr(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("installed with uv"), "{said}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.path().join("run/meta.json")).unwrap()).unwrap();
    assert_eq!(meta["installer"], "uv", "{meta:#}");
}

/// `pytest -p ftprobe` names the module that re-enabled the GIL and when,
/// with the scanner's verdict; it says nothing unless asked, and
/// `--ftprobe-fail-on-gil` fails the session.
#[test]
fn the_pytest_plugin_names_who_turned_the_gil_back_on_and_when() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let venv = venv_with_wheel(&provisioned("3.13t"), scratch.path());
    let fixture = scratch.path().join("gil_fallback");
    ok(Command::new("cp")
        .arg("-r")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/suites/gil_fallback"))
        .arg(&fixture));
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    ok(in_venv(&venv, "python").args(["-m", "pip", "install", "-q", "--index-url", &index, "pytest"]).arg(&fixture));

    let suites = scratch.path().join("suites");
    let write = |path: &str, text: &str| {
        let path = suites.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("stays_free/test_json.py", "import json\n\ndef test_dumps():\n    assert json.dumps(1) == '1'\n");
    write("at_collection/test_add.py", "from gil_fallback import add\n\ndef test_add():\n    assert add(1, 2) == 3\n");
    write(
        "in_a_test/test_late.py",
        "def test_first():\n    pass\n\ndef test_late_import():\n    from gil_fallback import add\n    assert add(1, 2) == 3\n",
    );
    let pytest = |folder: &str, args: &[&str]| {
        let mut command = in_venv(&venv, "python");
        command.args(["-P", "-m", "pytest", "-p", "no:cacheprovider"]).args(args).arg(suites.join(folder));
        command.current_dir(&suites).output().unwrap()
    };

    let quiet = pytest("stays_free", &["-p", "ftprobe"]);
    assert_eq!(quiet.status.code(), Some(0), "{}", common::stdout(&quiet));
    assert!(!common::stdout(&quiet).contains("GIL was re-enabled"), "{}", common::stdout(&quiet));

    let collection = pytest("at_collection", &["-p", "ftprobe"]);
    let said = common::stdout(&collection);
    assert_eq!(collection.status.code(), Some(0), "{said}");
    assert!(said.contains("the GIL was re-enabled during collection, when gil_fallback._legacy loaded"), "{said}");
    assert!(said.contains("gil_fallback._legacy (static: GIL used)"), "the scanner's verdict: {said}");
    assert!(said.contains("fix: "), "the scanner's fix: {said}");

    let junit = scratch.path().join("late.xml");
    let late = pytest("in_a_test", &["--ftprobe-fail-on-gil", &format!("--junitxml={}", junit.display())]);
    let said = common::stdout(&late);
    assert_eq!(late.status.code(), Some(1), "--ftprobe-fail-on-gil fails a passing session: {said}");
    assert!(said.contains("the GIL was re-enabled in in_a_test/test_late.py::test_late_import"), "{said}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"ftprobe_gil_reenabled_by\" value=\"gil_fallback._legacy\""), "{xml}");

    // Not asked: nothing said, nothing changed.
    let unasked = pytest("at_collection", &[]);
    assert_eq!(unasked.status.code(), Some(0));
    assert!(!common::stdout(&unasked).contains("GIL was re-enabled"), "{}", common::stdout(&unasked));

    // A default build always has the GIL: nothing to report, nothing to fail.
    let default = scratch.path().join("default");
    std::fs::create_dir_all(&default).unwrap();
    let venv = venv_with_wheel(&provisioned("3.13"), &default);
    ok(in_venv(&venv, "python").args(["-m", "pip", "install", "-q", "--index-url", &index, "pytest"]).arg(&fixture));
    let mut command = in_venv(&venv, "python");
    command.args(["-P", "-m", "pytest", "-p", "no:cacheprovider", "-p", "ftprobe", "--ftprobe-fail-on-gil"]);
    let calm = command.arg(suites.join("at_collection")).current_dir(&suites).output().unwrap();
    assert_eq!(calm.status.code(), Some(0), "{}", common::stdout(&calm));
    assert!(!common::stdout(&calm).contains("GIL was re-enabled"), "{}", common::stdout(&calm));
}

/// The shell script of action.yml's "Install ftprobe" step.
fn action_install_step() -> String {
    let action = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let step = action.split("    - name: Install ftprobe\n").nth(1).unwrap();
    let body = step.split("      run: |\n").nth(1).unwrap().split("\n    - name:").next().unwrap();
    body.lines().map(|l| l.strip_prefix("        ").unwrap_or(l)).collect::<Vec<_>>().join("\n")
}

/// action.yml installs the released wheel of its own version (here from a
/// local folder standing in for PyPI): no cargo, a working `ftprobe`.
#[test]
fn the_action_installs_the_released_wheel_of_its_version() {
    let script = action_install_step();
    let scratch = tempfile::tempdir().unwrap();
    let python_bin = provisioned("3.13").parent().unwrap().to_path_buf();
    let out = ok(Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("FTPROBE_ACTION_REF", format!("v{}", env!("CARGO_PKG_VERSION")))
        .env("RUNNER_TEMP", scratch.path())
        .env("GITHUB_ACTION_PATH", "/nonexistent")
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", format!("{} {}", wheel().parent().unwrap().display(), dependencies().display()))
        // python3 is the provisioned 3.13; no cargo on PATH.
        .env("PATH", format!("{}:/usr/bin:/bin", python_bin.display())));
    let said = common::stdout(&out);
    assert!(said.contains(&format!("ftprobe {}: the released wheel", env!("CARGO_PKG_VERSION"))), "{said}");
    assert!(said.contains(&format!("ftprobe {} (", env!("CARGO_PKG_VERSION"))), "{said}");
}

/// A ref that is not a release (`@main`, what every user has until the
/// first release) builds ftprobe from the action's own checkout with cargo.
/// Offline, and at opt-level 0 to keep the suite quick; the target folder
/// persists under target/tmp between runs.
#[test]
fn the_action_builds_from_source_for_a_ref_with_no_release() {
    let script = action_install_step();
    let scratch = tempfile::tempdir().unwrap();
    let python_bin = provisioned("3.13").parent().unwrap().to_path_buf();
    let cargo_bin = Path::new(&std::env::var("CARGO").unwrap()).parent().unwrap().to_path_buf();
    let out = ok(Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("FTPROBE_ACTION_REF", "main")
        .env("RUNNER_TEMP", scratch.path())
        .env("GITHUB_ACTION_PATH", env!("CARGO_MANIFEST_DIR"))
        // No release of any version is reachable.
        .env("PIP_NO_INDEX", "1")
        .env("CARGO_NET_OFFLINE", "true")
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("action-install"))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("PATH", format!("{}:{}:/usr/bin:/bin", python_bin.display(), cargo_bin.display())));
    let said = common::stdout(&out);
    assert!(said.contains("ftprobe: no released wheel for ref 'main': building from source"), "{said}");
    assert!(said.contains(&format!("ftprobe {} (", env!("CARGO_PKG_VERSION"))), "{said}");
    assert!(scratch.path().join("ftprobe/bin/ftprobe").is_file());
}
