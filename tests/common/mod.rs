//! Helpers shared by the integration tests: the ftprobe binary, the
//! provisioned interpreters, and scratch directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The interpreters `scripts/provision-pythons` builds. A missing one fails the
/// test with the command to run: a silent skip would hide a broken set-up.
pub fn provisioned(name: &str) -> PathBuf {
    let root = std::env::var_os("FTPROBE_PYTHONS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/ftprobe/pythons")
    });
    let binary = if name.ends_with('t') { "python3.13t" } else { "python3.13" };
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

/// Writes an executable shell script.
pub fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
