//! ftprobe.exe, the real Windows build (x86_64-pc-windows-gnu, linked by
//! mingw-w64 in scripts/check-platforms), run under Wine: it scans real
//! wheels of every platform exactly as the Linux build does, checks wheels,
//! reads a run directory made on Linux, and refuses the commands that run
//! interpreters with a one-line error.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{batch_index, ftprobe, provisioned, real_wheels, serve};

/// The folder holding ftprobe.exe, built (or brought up to date) once per
/// test binary.
fn windows() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-platforms");
        let out = Command::new("bash").arg(script).arg("--windows-exe").output().unwrap();
        assert!(out.status.success(), "scripts/check-platforms --windows-exe failed:\n{}", common::stderr(&out));
        PathBuf::from(common::stdout(&out).trim())
    })
}

/// ftprobe.exe with `args`, under Wine, in the prefix the script made.
fn exe(args: &[&str]) -> Command {
    let dir = windows();
    let mut command = Command::new("/usr/lib/wine/wine64");
    command.arg(dir.join("ftprobe.exe")).args(args);
    command.env("WINEPREFIX", dir.parent().unwrap().join("wine")).env("WINEDEBUG", "-all").env("NO_COLOR", "1");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

/// Windows prints the paths it was given with its own separator.
fn with_slashes(text: &str) -> String {
    text.replace("\\\\", "/")
}

#[test]
fn the_windows_build_names_itself_and_the_same_commit() {
    let windows = common::stdout(&run(&mut exe(&["--version"])));
    let linux = common::stdout(&run(ftprobe(Path::new("/nonexistent")).arg("--version")));
    assert!(windows.contains("x86_64-pc-windows-gnu"), "{windows}");
    let commit = |v: &str| v.split("commit ").nth(1).map(|c| c[..12].to_string());
    assert_eq!(commit(&windows), commit(&linux), "ftprobe.exe is stale:\n{windows}\n{linux}");
}

/// Every real wheel of the Windows platforms, and one each for macOS and
/// Linux: the same JSON, finding for finding, and the same exit code.
#[test]
fn scans_agree_with_the_linux_build_on_real_wheels() {
    let root = real_wheels();
    let numpy = |dir: &str| -> String {
        let found = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .find(|n| n.to_string_lossy().starts_with("numpy-"));
        format!("{dir}/{}", found.unwrap().to_string_lossy())
    };
    let inputs = [
        "windows_amd64".to_string(),
        "windows_arm64".into(),
        "windows_x86".into(),
        numpy("macos_arm64"),
        numpy("linux_x86_64"),
    ];
    for input in inputs {
        let windows = run(exe(&["scan", "--format", "json", &input]).current_dir(root));
        let linux =
            run(ftprobe(Path::new("/nonexistent")).args(["scan", "--format", "json", &input]).current_dir(root));
        assert_eq!(windows.status.code(), linux.status.code(), "{input}: {}", common::stderr(&windows));
        let parsed: serde_json::Value = serde_json::from_slice(&linux.stdout).unwrap();
        assert!(parsed.as_array().is_some_and(|a| !a.is_empty()), "{input}");
        assert_eq!(with_slashes(&common::stdout(&windows)), common::stdout(&linux), "{input}");
    }
}

/// `check` without interpreters: the wheel checks, in SARIF as CI uploads it.
#[test]
fn check_without_python_runs_and_with_python_is_refused() {
    let root = real_wheels();
    let wheel = "windows_amd64/MarkupSafe-3.0.2-cp313-cp313t-win_amd64.whl";
    let windows = run(exe(&["check", wheel, "--format", "json"]).current_dir(root));
    let linux = run(ftprobe(Path::new("/nonexistent")).args(["check", wheel, "--format", "json"]).current_dir(root));
    assert_eq!(windows.status.code(), linux.status.code(), "{}", common::stderr(&windows));
    assert_eq!(with_slashes(&common::stdout(&windows)), common::stdout(&linux));

    let refused = run(exe(&["check", wheel, "--python", "3.13t"]).current_dir(root));
    assert_eq!(refused.status.code(), Some(2));
    let said = common::stderr(&refused);
    assert!(said.contains("`ftprobe check --python` runs Python interpreters"), "{said}");
    for command in
        [&["import", "json"][..], &["pythons"], &["batch", "six", "-p", "3.13t"], &["test", "six", "-p", "3.13t"]]
    {
        let out = run(&mut exe(command));
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let said = common::stderr(&out);
        assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
        assert!(said.contains("on Linux and macOS only; on Windows use `ftprobe scan`"), "{said}");
    }
}

/// A run made on Linux reads the same on Windows.
#[test]
fn a_linux_run_reports_the_same_on_windows() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run_dir = scratch.path().join("run");
    let made = run(ftprobe(scratch.path())
        .args(["batch", "markupsafe", "-p"])
        .arg(provisioned("3.13t"))
        .args(["--pip", "--index-url", &format!("http://127.0.0.1:{}/simple/", server.1), "--out"])
        .arg(&run_dir));
    assert!(made.status.success(), "{}", common::stderr(&made));
    for format in ["table", "markdown", "csv"] {
        let windows = run(exe(&["report", "--format", format, "run"]).current_dir(scratch.path()));
        let linux =
            run(ftprobe(scratch.path()).args(["report", "--format", format, "run"]).current_dir(scratch.path()));
        assert!(windows.status.success(), "{}", common::stderr(&windows));
        assert!(common::stdout(&linux).contains("markupsafe"), "{}", common::stdout(&linux));
        assert_eq!(common::stdout(&windows), common::stdout(&linux), "{format}");
    }
}
