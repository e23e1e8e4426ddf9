//! What a CLI people install is expected to do: completions, a `--version`
//! that names the build, colour that follows NO_COLOR / CLICOLOR_FORCE and
//! the terminal, and `--quiet`.

mod common;

use std::process::Command;

use common::{ftprobe, provisioned};

#[test]
fn completions_are_valid_scripts_for_each_shell() {
    let scratch = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = ftprobe(scratch.path()).args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", common::stderr(&out));
        let script = common::stdout(&out);
        assert!(script.contains("ftprobe") && script.contains("batch") && script.contains("iterations"), "{shell}");
        if shell == "bash" {
            let path = scratch.path().join("ftprobe.bash");
            std::fs::write(&path, &script).unwrap();
            let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(checked.status.success(), "bash -n: {}", common::stderr(&checked));
        }
    }
}

#[test]
fn version_names_the_commit_target_and_profile() {
    let scratch = tempfile::tempdir().unwrap();
    let long = common::stdout(&ftprobe(scratch.path()).arg("--version").output().unwrap());
    assert!(long.starts_with(&format!("ftprobe {} (", env!("CARGO_PKG_VERSION"))), "{long}");
    assert!(long.contains("x86_64-unknown-linux-gnu") || long.contains("aarch64"), "{long}");
    assert!(long.contains("commit ") && long.trim_end().ends_with("build)"), "{long}");
    let short = common::stdout(&ftprobe(scratch.path()).arg("-V").output().unwrap());
    assert_eq!(short.trim(), format!("ftprobe {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn colour_follows_no_color_and_clicolor_force_and_quiet_drops_notes() {
    let scratch = tempfile::tempdir().unwrap();
    let pythons = |envs: &[(&str, &str)]| {
        let mut command = ftprobe(scratch.path());
        command.args(["pythons", "-p"]).arg(provisioned("3.13t")).env_remove("NO_COLOR");
        for (key, value) in envs {
            command.env(key, value);
        }
        common::stdout(&command.output().unwrap())
    };
    assert!(!pythons(&[]).contains('\u{1b}'), "not a terminal: no colour");
    assert!(pythons(&[("CLICOLOR_FORCE", "1")]).contains("\u{1b}[32m"), "forced");
    assert!(!pythons(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\u{1b}'), "NO_COLOR wins");
    assert!(!pythons(&[("CLICOLOR_FORCE", "0")]).contains('\u{1b}'));

    // The active-venv line is a note; --quiet drops it, and errors stay.
    let (venv, _) = common::make_venv(&provisioned("3.13t"), scratch.path());
    let noisy = ftprobe(scratch.path()).args(["import", "json"]).env("VIRTUAL_ENV", &venv).output().unwrap();
    assert!(common::stderr(&noisy).contains("probing the active virtual environment"));
    let quiet = ftprobe(scratch.path()).args(["import", "json", "-q"]).env("VIRTUAL_ENV", &venv).output().unwrap();
    assert_eq!(common::stderr(&quiet), "", "--quiet");
    assert!(common::stdout(&quiet).contains("json"));
    let failed = ftprobe(scratch.path()).args(["-q", "import", "json", "-p", "/nonexistent/python"]).output().unwrap();
    assert!(common::stderr(&failed).contains("ftprobe: error:"), "{}", common::stderr(&failed));
}
