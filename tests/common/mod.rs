//! Helpers shared by the integration tests: the ftprobe binary, the
//! provisioned interpreters, and scratch directories.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// The interpreters `scripts/provision-pythons` builds. A missing one fails the
/// test with the command to run: a silent skip would hide a broken set-up.
pub fn provisioned(name: &str) -> PathBuf {
    let root = std::env::var_os("FTPROBE_PYTHONS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/ftprobe/pythons")
    });
    // `3.13t`, `3.13t-static`: free-threaded.
    let binary = if name.split('-').next().is_some_and(|n| n.ends_with('t')) { "python3.13t" } else { "python3.13" };
    let path = root.join(name).join("bin").join(binary);
    assert!(path.is_file(), "{} is missing: run scripts/provision-pythons (or set FTPROBE_PYTHONS)", path.display());
    path
}

pub fn provisioned_root() -> PathBuf {
    provisioned("3.13t").parent().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

/// `ftprobe` with a private cache directory, so tests do not share state.
pub fn ftprobe(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ftprobe"));
    command.env("FTPROBE_CACHE_DIR", cache).env("FTPROBE_PYTHONS", provisioned_root()).env("NO_COLOR", "1");
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs and parses stdout as JSON, failing with stderr when it is not.
pub fn json(command: &mut Command) -> serde_json::Value {
    let output = command.output().expect("ftprobe runs");
    assert!(output.status.success(), "ftprobe failed: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&output)))
}

/// Makes a venv (without pip) of `python` at `dir/venv`; returns it and its site-packages.
pub fn make_venv(python: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let venv = dir.join("venv");
    let made = Command::new(python).args(["-m", "venv", "--without-pip"]).arg(&venv).output().unwrap();
    assert!(made.status.success(), "{} -m venv: {}", python.display(), stderr(&made));
    let site = site_packages(&venv);
    (venv, site)
}

/// The site-packages folder of a POSIX venv.
pub fn site_packages(venv: &Path) -> PathBuf {
    std::fs::read_dir(venv.join("lib")).unwrap().next().unwrap().unwrap().path().join("site-packages")
}

/// Writes an executable shell script.
pub fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs a provisioning script from `scripts/` (idempotent, cached) and
/// returns the directory it prints last.
fn script_directory(script: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash").arg(root.join("scripts").join(script)).output().expect("bash runs");
    assert!(out.status.success(), "scripts/{script} failed:\n{}", stderr(&out));
    PathBuf::from(stdout(&out).trim().lines().last().unwrap_or_else(|| panic!("scripts/{script} printed no directory")))
}

/// The fixture build (scripts/provision-fixtures), built once per test binary.
pub fn fixtures() -> &'static Path {
    static BUILD: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILD.get_or_init(|| {
        let dir = script_directory("provision-fixtures");
        assert!(dir.join("build-info.json").is_file(), "no complete build at {}", dir.display());
        dir
    })
}

/// `fixtures/expected.toml`.
#[derive(Debug, serde::Deserialize)]
pub struct Manifest {
    pub fixture: Vec<Fixture>,
    pub wheel: Vec<WheelFixture>,
    pub broken_wheel: Vec<BrokenWheel>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Fixture {
    pub module: String,
    pub source: String,
    pub generator: String,
    pub init: String,
    pub gil: String,
    pub gil_declared_by: String,
    pub subinterpreters: String,
    #[serde(default = "cpython")]
    pub subinterpreters_enforced_by: String,
    pub import: String,
    /// For `import = "crash"`: the signal it dies of (default SIGSEGV).
    pub signal: Option<String>,
    pub linkers: Vec<String>,
    /// The interpreters it is built for (default: all).
    pub pythons: Option<Vec<String>>,
    /// Further init functions the file exports for PyO3 submodules, which
    /// no import runs: marked, not listed.
    #[serde(default)]
    pub submodule_exports: Vec<String>,
}

impl Fixture {
    /// Whether this fixture is built for `variant` (`3.13t-lld`).
    pub fn built_for(&self, variant: &str) -> bool {
        let (python, linker) = variant.rsplit_once('-').expect("variant is python-linker");
        self.linkers.iter().any(|l| l == linker) && self.pythons.as_ref().is_none_or(|p| p.iter().any(|p| p == python))
    }
}

fn cpython() -> String {
    "cpython".into()
}

#[derive(Debug, serde::Deserialize)]
pub struct WheelFixture {
    pub file: String,
    pub variant: String,
    pub modules: Vec<String>,
    pub findings: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct BrokenWheel {
    pub file: String,
    pub kind: String,
    pub error: String,
}

pub fn manifest() -> Manifest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/expected.toml");
    toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The builds of every fixture: (variant directory name, interpreter, free-threaded).
pub fn variants() -> Vec<(String, PathBuf, bool)> {
    let mut out = Vec::new();
    for (name, free_threaded) in [("3.13t", true), ("3.13", false)] {
        for linker in ["bfd", "lld", "relr"] {
            out.push((format!("{name}-{linker}"), provisioned(name), free_threaded));
        }
    }
    out
}

/// The real PyPI wheels and the 3.13t venv holding the Linux ones
/// (scripts/fetch-real-wheels), fetched once per test binary.
pub fn real_wheels() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| script_directory("fetch-real-wheels"))
}

/// The local package index of scripts/fetch-batch-index (real wheels and
/// fixture packages), built once per test binary.
pub fn batch_index() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| script_directory("fetch-batch-index"))
}

/// The ftprobe cache scripts/fetch-deps-cache fills for the real lock files
/// of fixtures/deps-truth/lockfiles.txt (online, once per machine; then a
/// no-op): what `ftprobe deps --offline` reads for them.
pub fn deps_cache() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("bash")
            .arg(root.join("scripts/fetch-deps-cache"))
            .env("FTPROBE", env!("CARGO_BIN_EXE_ftprobe"))
            .env("FTPROBE_PYTHONS", provisioned_root())
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "scripts/fetch-deps-cache failed:\n{}", stderr(&out));
        PathBuf::from(stdout(&out).trim().lines().last().expect("scripts/fetch-deps-cache printed no directory"))
    })
}

/// The folder holding a real `keyring` command with a file backend
/// (scripts/provision-keyring), installed once per machine.
#[allow(dead_code)]
pub fn keyring_tools() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| script_directory("provision-keyring"))
}

/// The schemas and validators of scripts/fetch-schemas, fetched once per test binary.
pub fn schemas() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| script_directory("fetch-schemas"))
}

/// Validates `document` against the JSON Schema `schema` (a file in [`schemas`]); panics with the violations.
pub fn assert_json_schema(schema: &str, document: &Path) {
    let python = schemas().parent().unwrap().join("schema-tools/bin/python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/validate_schema.py");
    let out = Command::new(python).arg(script).arg(schemas().join(schema)).arg(document).output().unwrap();
    assert!(
        out.status.success(),
        "{} is not valid against {schema}:\n{}{}",
        document.display(),
        stdout(&out),
        stderr(&out)
    );
}

/// Validates a JUnit XML file against the Jenkins JUnit XSD with xmllint.
pub fn assert_junit_schema(document: &Path) {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(schemas().join("junit-10.xsd"))
        .arg(document)
        .output()
        .expect("xmllint runs (scripts/fetch-schemas installs it)");
    assert!(out.status.success(), "{} is not valid JUnit:\n{}", document.display(), stderr(&out));
}

/// `python -m http.server` on a free port of 127.0.0.1, killed on drop.
pub struct Server(pub Child, pub u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve(dir: &Path) -> Server {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(provisioned("3.13"))
        .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
        .arg(dir)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child, port);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the local index did not start");
}

pub fn rows(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The quick loop (`scripts/test --quick`): the heaviest sampling tests
/// take fewer samples; the full suite takes them all.
pub fn quick() -> bool {
    std::env::var_os("FTPROBE_TEST_QUICK").is_some()
}

/// Whether Chromium is here to render pages. Only the quick loop
/// (`scripts/test --quick`, which sets FTPROBE_TEST_QUICK and installs
/// nothing) goes on without it, saying so; elsewhere its absence is a failure.
pub fn browser() -> bool {
    let found = Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found && quick() {
        eprintln!(
            "quick loop: chromium is not installed, so the rendered page is not checked (bash scripts/test installs it)"
        );
        return false;
    }
    found || panic!("chromium is not installed (bash scripts/test installs Debian's chromium)")
}

/// Headless Chromium's output for `args` (Debian's `chromium` package).
pub fn chromium(args: &[&str]) -> String {
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000"])
        .args(args)
        .output()
        .expect("chromium is installed (scripts/test installs Debian's chromium)");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}
