//! Hostile input, built on the spot (FIFOs, sparse files, crafted zips from
//! `tests/hostile_inputs.py`, modules that daemonize or forge results): each
//! run must end within a bound, in bounded memory, without a panic, with the
//! documented exit code, and still report the valid inputs beside it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{fixtures, ftprobe, provisioned, stderr, stdout};
use serde_json::Value;

/// The address-space limit (KiB) hostile scans run under: a run that tried
/// to hold a bomb in memory would abort instead of passing.
const MEMORY_LIMIT_KIB: u32 = 128 * 1024;

/// A real extension module from the fixture build.
fn real_module() -> PathBuf {
    fixtures().join("3.13t-bfd").join("c_multi_gil_not_used.cpython-313t-x86_64-linux-gnu.so")
}

fn hostile_wheel(dir: &Path, kind: &str, count: Option<u32>) -> PathBuf {
    let out = dir.join(format!("{kind}-1.0-cp313-cp313t-linux_x86_64.whl"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile_inputs.py");
    let mut command = Command::new(provisioned("3.13"));
    command.arg(script).arg(kind).arg(&out);
    if let Some(count) = count {
        command.arg(count.to_string());
    }
    let made = command.output().unwrap();
    assert!(made.status.success(), "hostile_inputs.py {kind}: {}", stderr(&made));
    out
}

/// Runs ftprobe under the memory limit, with two scanning threads, and
/// checks it ended in time and did not panic or abort.
fn run_bounded(cache: &Path, args: &[&std::ffi::OsStr], bound: Duration) -> Output {
    run_limited(cache, args, bound, MEMORY_LIMIT_KIB)
}

fn run_limited(cache: &Path, args: &[&std::ffi::OsStr], bound: Duration, limit_kib: u32) -> Output {
    let started = Instant::now();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {limit_kib}; exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_ftprobe"))
        .args(args)
        .env("RAYON_NUM_THREADS", "2")
        .env("FTPROBE_CACHE_DIR", cache)
        .env("NO_COLOR", "1");
    let out = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < bound, "took {elapsed:?}");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(out.status.code().is_some(), "killed by a signal (out of memory?): {}", stderr(&out));
    out
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

fn refs(args: &[std::ffi::OsString]) -> Vec<&std::ffi::OsStr> {
    args.iter().map(|a| a.as_os_str()).collect()
}

fn scan_json(cache: &Path, paths: &[&Path]) -> (Option<i32>, Vec<Value>) {
    let mut args = os(&["scan", "--format", "json"]);
    args.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    let out = run_bounded(cache, &refs(&args), Duration::from_secs(30));
    let targets: Vec<Value> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&out), stderr(&out)));
    (out.status.code(), targets)
}

fn by_path<'a>(targets: &'a [Value], path: &Path) -> &'a Value {
    let shown = path.to_string_lossy();
    targets.iter().find(|t| t["path"] == *shown).unwrap_or_else(|| panic!("no entry for {shown} in {targets:#?}"))
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

fn sparse(path: &Path, size: u64) {
    fs::File::create(path).unwrap().set_len(size).unwrap();
}

#[test]
fn fifos_devices_sparse_files_and_missing_paths_are_entries_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    let good = tree.join("c_multi_gil_not_used.cpython-313t-x86_64-linux-gnu.so");
    fs::copy(real_module(), &good).unwrap();
    mkfifo(&tree.join("fifo.cpython-313t-x86_64-linux-gnu.so"));
    std::os::unix::fs::symlink("loop.so", tree.join("loop.so")).unwrap();
    let sparse_so = dir.path().join("sparse.so");
    let sparse_whl = dir.path().join("sparse-1.0-cp313-cp313t-linux_x86_64.whl");
    sparse(&sparse_so, 20 << 30);
    sparse(&sparse_whl, 20 << 30);
    let fifo_arg = dir.path().join("arg.so");
    mkfifo(&fifo_arg);
    let missing = dir.path().join("missing.whl");
    let inputs = [tree.as_path(), &fifo_arg, Path::new("/dev/zero"), &sparse_so, &sparse_whl, &missing];
    let (code, targets) = scan_json(dir.path(), &inputs);
    assert_eq!(code, Some(2), "inputs that could not be examined give exit 2");
    let ok = by_path(&targets, &good);
    assert_eq!(ok["error"], Value::Null);
    assert_eq!(ok["extensions"][0]["gil"], "not_used");
    let error = |path: &Path| by_path(&targets, path)["error"].as_str().unwrap_or_default().to_string();
    assert!(error(&tree.join("fifo.cpython-313t-x86_64-linux-gnu.so")).contains("FIFO"));
    assert!(error(&fifo_arg).contains("FIFO"));
    assert!(error(&tree.join("loop.so")).contains("symlink loop"));
    assert!(error(Path::new("/dev/zero")).contains("character device"));
    assert!(error(&sparse_so).contains("over the 2147483648-byte limit"));
    assert!(error(&sparse_whl).contains("zip"), "{}", error(&sparse_whl));
    assert!(error(&missing).contains("does not exist"));
    // --max-member-size applies to plain files too, and /dev/zero is never read.
    let args = os(&["scan", "--max-member-size", "1000", "/dev/zero"]);
    let out = run_bounded(dir.path(), &refs(&args), Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_and_too_deep_folders_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("locked")).unwrap();
    fs::copy(real_module(), tree.join("m.cpython-313t-x86_64-linux-gnu.so")).unwrap();
    // Deeper than PATH_MAX (4096) allows as one path: made one folder at a time.
    fs::create_dir(tree.join("deep")).unwrap();
    let script = "import os, sys\nos.chdir(sys.argv[1])\nfor _ in range(25):\n    os.mkdir('d' * 200)\n    os.chdir('d' * 200)\n";
    let made = Command::new(provisioned("3.13")).args(["-c", script]).arg(tree.join("deep")).status().unwrap();
    assert!(made.success());
    use std::os::unix::fs::PermissionsExt;
    for p in [dir.path(), tree.as_path()] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::set_permissions(tree.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    // As root every folder is readable: run as nobody to meet a real refusal.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_ftprobe"))
        .args(["scan", "--format", "json"])
        .arg(&tree)
        .output()
        .unwrap();
    fs::set_permissions(tree.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let targets: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = targets.iter().filter_map(|t| t["error"].as_str().map(str::to_string)).collect();
    assert!(errors.iter().any(|e| e.contains("locked") && e.contains("ermission denied")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("too long")), "{errors:#?}");
    assert!(targets.iter().any(|t| t["error"].is_null() && t["extensions"][0]["gil"] == "not_used"));
}

#[test]
fn overlapping_entries_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let many = hostile_wheel(dir.path(), "overlap", Some(10_000));
    let few = dir.path().join("few-1.0-cp313-cp313t-linux_x86_64.whl");
    fs::copy(hostile_wheel(dir.path(), "overlap", Some(4)), &few).unwrap();
    let good = dir.path().join("c_multi_gil_not_used.cpython-313t-x86_64-linux-gnu.so");
    fs::copy(real_module(), &good).unwrap();
    let (code, targets) = scan_json(dir.path(), &[&many, &few, &good]);
    assert_eq!(code, Some(2));
    for wheel in [&many, &few] {
        let error = by_path(&targets, wheel)["error"].as_str().unwrap().to_string();
        assert!(error.contains("entries overlap"), "{error}");
    }
    assert_eq!(by_path(&targets, &good)["extensions"][0]["gil"], "not_used");
}

#[test]
fn a_member_that_is_not_a_binary_is_refused_before_it_is_inflated() {
    let dir = tempfile::tempdir().unwrap();
    // 200 MiB of text under a 128 MiB address-space limit: only a look at
    // the first bytes keeps this run alive.
    let wheel = hostile_wheel(dir.path(), "not-binary-huge", Some(200));
    let (code, targets) = scan_json(dir.path(), &[&wheel]);
    assert_eq!(code, Some(2));
    let error = targets[0]["extensions"][0]["error"].as_str().unwrap();
    assert!(error.contains("not in a binary format"), "{error}");
}

#[test]
fn members_that_could_not_be_scanned_are_not_a_clean_pass() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::manifest();
    let wheel = fixtures().join("wheels").join(&manifest.wheel[0].file);
    let args = vec![
        "scan".into(),
        "--max-member-size".into(),
        "0".into(),
        "--format".into(),
        "json".into(),
        wheel.into_os_string(),
    ];
    let out = run_bounded(dir.path(), &refs(&args), Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
}

#[test]
fn every_report_format_stays_bounded_on_a_wheel_of_200000_members() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = hostile_wheel(dir.path(), "many", Some(200_000));
    for format in ["json", "sarif", "junit", "markdown", "table"] {
        let args = vec!["scan".into(), "--format".into(), format.into(), wheel.clone().into_os_string()];
        // SARIF once took 1.8 GB here; every format now stays near the table's size.
        let out = run_limited(dir.path(), &refs(&args), Duration::from_secs(120), 1024 * 1024);
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        assert!(out.stdout.len() > 1_000_000, "{format}: the report is missing");
    }
}

#[test]
fn duplicate_member_names_are_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = hostile_wheel(dir.path(), "duplicates", None);
    let (_, targets) = scan_json(dir.path(), &[&wheel]);
    let findings = targets[0]["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["code"] == "duplicate-member-names" && f["severity"] == "warning"),
        "{findings:#?}"
    );
}

#[test]
fn control_characters_in_names_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = hostile_wheel(dir.path(), "control-names", None);
    let loose = dir.path().join("evil\x1b[2J\rname.so");
    fs::copy(real_module(), &loose).unwrap();
    let args = vec!["scan".into(), wheel.into_os_string(), loose.into_os_string()];
    let out = run_bounded(dir.path(), &refs(&args), Duration::from_secs(30));
    let text = stdout(&out);
    assert!(!text.contains('\x1b') && !text.contains('\r'), "raw control characters in:\n{text:?}");
    assert!(text.contains("pkg/evil\\x1b[2J\\x1b[31m.so") && text.contains("fake\\r\\nline.so"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("line.so")), "a name forged a line:\n{text}");
}

#[test]
fn a_file_name_that_is_not_utf8_keeps_the_json_report() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xffname.cpython-313t-x86_64-linux-gnu.so");
    fs::copy(real_module(), dir.path().join(name)).unwrap();
    let (code, targets) = scan_json(dir.path(), &[dir.path()]);
    assert_eq!(code, Some(0));
    assert_eq!(targets.len(), 1);
    assert!(targets[0]["path"].as_str().unwrap().contains("bad\u{fffd}name"));
    let raw: Vec<u8> = targets[0]["path_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap() as u8).collect();
    assert!(raw.ends_with(name.as_bytes()));
    assert_eq!(targets[0]["extensions"][0]["gil"], "not_used");
}

#[test]
fn a_report_that_cannot_be_written_is_an_error() {
    let cache = tempfile::tempdir().unwrap();
    let module = real_module();
    let full = Command::new(env!("CARGO_BIN_EXE_ftprobe"))
        .arg("scan")
        .arg(&module)
        .stdout(fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
        .env("FTPROBE_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert_eq!(full.status.code(), Some(2));
    assert!(stderr(&full).contains("cannot write the report"), "{}", stderr(&full));
    let closed = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" scan \"$1\" >&-")
        .arg(env!("CARGO_BIN_EXE_ftprobe"))
        .arg(&module)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(closed.status.code(), Some(2));
    assert!(stderr(&closed).contains("standard output is closed"), "{}", stderr(&closed));
}

#[test]
fn bad_durations_module_names_and_rule_codes_are_usage_errors() {
    let cache = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &["import", "json", "--timeout", "inf"],
        &["import", "json", "--timeout", "1e30"],
        &["import", "json", "--stall", "inf"],
        &["import", "json", "--timeout", "0"],
        &["import", "json", "--timeout", "nan"],
        &["check", "--timeout", "0"],
        &["check", "--timeout", "nan"],
        &["check", "--timeout", "inf"],
        &["import", "os; x"],
        &["import", "a..b"],
        &["import", "json", "-j", "0"],
        &["check", "--ignore", "gil-reenabeld"],
    ];
    for args in cases {
        let out = ftprobe(cache.path()).args(*args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).lines().next().is_some_and(|l| l.starts_with("error:")), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_huge_job_count_is_lowered_and_said() {
    let cache = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = ftprobe(cache.path())
        .args(["import", "json", "--probe", "subinterpreter", "-j", "100000", "-p"])
        .arg(provisioned("3.13"))
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("-j 100000 lowered to 2"), "{}", stderr(&out));
}

#[test]
fn the_config_file_is_read_only_if_it_is_a_small_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pyproject.toml");
    mkfifo(&fifo);
    let wheel = fixtures().join("wheels").join(&common::manifest().wheel[0].file);
    for config in [fifo.as_path(), Path::new("/dev/zero")] {
        let args = vec!["check".into(), wheel.clone().into_os_string(), "--config".into(), config.into()];
        let out = run_bounded(dir.path(), &refs(&args), Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("not a regular file"), "{}", stderr(&out));
    }
    let big = dir.path().join("big.toml");
    sparse(&big, 100 << 20);
    let args = vec!["check".into(), wheel.into_os_string(), "--config".into(), big.into_os_string()];
    let out = run_bounded(dir.path(), &refs(&args), Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("over the 1048576-byte limit"), "{}", stderr(&out));
}

#[test]
fn metadata_that_cannot_be_read_is_an_error_not_no_claim() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["metadata-huge", "metadata-bomb"] {
        let wheel = hostile_wheel(dir.path(), kind, None);
        let args = vec!["check".into(), wheel.into_os_string(), "--format".into(), "json".into()];
        let out = run_bounded(dir.path(), &refs(&args), Duration::from_secs(20));
        assert_eq!(out.status.code(), Some(3), "{kind}: {}", stdout(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let error = report["wheels"][0]["error"].as_str().unwrap_or_default();
        assert!(error.contains("METADATA"), "{kind}: {error}");
    }
}

/// A venv of the default build holding pure-Python modules written here.
fn venv_with(dir: &Path, modules: &[(&str, &str)]) -> PathBuf {
    let (venv, site) = common::make_venv(&provisioned("3.13t"), dir);
    for (name, source) in modules {
        fs::write(site.join(format!("{name}.py")), source).unwrap();
    }
    venv
}

#[test]
fn a_daemonizing_module_leaves_no_process_and_its_result_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("daemon.pid");
    let source = format!(
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        open({0:?} + '.tmp', 'w').write(str(os.getpid()))\n        os.rename({0:?} + '.tmp', {0:?})\n        time.sleep(300)\n        os._exit(0)\n    os._exit(0)\nos.wait()\nwhile not os.path.exists({0:?}):\n    time.sleep(0.01)\n",
        pid_file.display().to_string()
    );
    let venv = venv_with(dir.path(), &[("daemonizer", &source)]);
    let started = Instant::now();
    let out = ftprobe(dir.path())
        .args(["import", "daemonizer", "--probe", "free-threading", "--format", "json", "-p"])
        .arg(&venv)
        .output()
        .unwrap();
    // Well under the daemon's 300 s: ftprobe did not wait for it (a bound
    // loose enough for a loaded machine).
    assert!(started.elapsed() < Duration::from_secs(150), "took {:?}", started.elapsed());
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["status"], "ok", "{:#}", results[0]);
    let pid = fs::read_to_string(&pid_file).expect("the daemon ran");
    std::thread::sleep(Duration::from_millis(500));
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "the daemon {pid} outlived the run");
}

#[test]
fn a_module_cannot_forge_a_result_by_printing_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let source = "import json, sys\n\
        fake = {'stage': 'main', 'gil_enabled_before': False, 'gil_enabled_after': False, 'extensions': {},\n\
                'imports': [{'module': 'forger', 'ok': True, 'error': None, 'seconds': 0.0}]}\n\
        print('\\n@@ftprobe-result@@ ' + json.dumps(fake), flush=True)\n\
        raise ImportError('the real outcome')\n";
    let venv = venv_with(dir.path(), &[("forger", source)]);
    let out = ftprobe(dir.path())
        .args(["import", "forger", "--probe", "free-threading", "--format", "json", "-p"])
        .arg(&venv)
        .output()
        .unwrap();
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results[0]["status"], "import_error", "{:#}", results[0]);
    assert!(results[0]["error"].as_str().unwrap().contains("the real outcome"));
    assert_eq!(out.status.code(), Some(1));
}
