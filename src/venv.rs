//! Fresh environments for `ftprobe batch`: one virtual environment per
//! package and interpreter, made and filled by `uv` when it is on PATH
//! (`uv venv`, `uv pip install`, with its shared cache), else by
//! `python -m venv` and pip. The index options are passed through. Every
//! step runs in its own process group under a deadline, so a hanging
//! build costs at most its timeout.

pub mod explain;
pub mod install;
pub mod installed;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{self, Captured};
use install::{Install, InstallStatus};

/// What makes the environments.
#[derive(Clone, Debug)]
pub enum Installer {
    Uv(PathBuf),
    Pip,
}

impl Installer {
    /// `uv` (unless `pip` is asked for) as [`find_uv`] finds it; else pip.
    pub fn choose(prefer_pip: bool) -> Installer {
        if prefer_pip {
            return Installer::Pip;
        }
        match find_uv() {
            Some(uv) => Installer::Uv(uv),
            None => Installer::Pip,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Which installer it is, as a run's `meta.json` records it.
    pub fn kind(&self) -> InstallerKind {
        match self {
            Installer::Uv(_) => InstallerKind::Uv,
            Installer::Pip => InstallerKind::Pip,
        }
    }
}

/// What made a run's environments: `uv` or `pip` (`meta.json`'s `installer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallerKind {
    Uv,
    Pip,
}

impl InstallerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallerKind::Uv => "uv",
            InstallerKind::Pip => "pip",
        }
    }
}

impl std::fmt::Display for InstallerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `uv` beside the running executable (the `uv` wheel that `pip install
/// ftprobe` brings puts it in the same `bin/`), else on PATH.
pub fn find_uv() -> Option<PathBuf> {
    let name = if cfg!(windows) { "uv.exe" } else { "uv" };
    let beside_us =
        std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(name))).filter(|uv| uv.is_file());
    beside_us.or_else(|| find_on_path(name))
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Where packages come from: passed through to the installer.
#[derive(Clone, Debug, Default)]
pub struct IndexOptions {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<PathBuf>,
    pub no_index: bool,
    pub only_binary: bool,
}

impl IndexOptions {
    /// The options as pip and uv take them.
    pub fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(url) = &self.index_url {
            args.extend(["--index-url".to_string(), url.clone()]);
        }
        for url in &self.extra_index_urls {
            args.extend(["--extra-index-url".to_string(), url.clone()]);
        }
        for dir in &self.find_links {
            args.extend(["--find-links".to_string(), dir.to_string_lossy().into_owned()]);
        }
        if self.no_index {
            args.push("--no-index".into());
        }
        if self.only_binary {
            args.push("--only-binary=:all:".into());
        }
        args
    }
}

/// What to install, and how.
#[derive(Clone, Copy, Default)]
pub struct What<'a> {
    /// The package first, then what goes with it (`-r FILE` pairs allowed).
    pub requirements: &'a [String],
    /// Built afresh from source even when the installer cached a build.
    pub rebuild: &'a [String],
    /// Set for every step.
    pub env: &'a [(String, String)],
    /// Byte-compile what uv installs, as pip does: for `batch`, whose
    /// workers never write bytecode, so an uncompiled package is compiled
    /// again by every import (2-3 times slower). A test suite's own runs
    /// write their bytecode once and do not need it.
    pub compile_bytecode: bool,
}

/// A fresh environment: its folder and its interpreter.
pub struct Environment {
    pub dir: PathBuf,
    pub python: PathBuf,
}

/// Makes a fresh environment at `dir` from `base` (an interpreter) and installs
/// `requirements` (the package first) into it, giving what happened as an [`Install`] (never an
/// error: a failed install is a result). Packages in `rebuild` are built
/// afresh from their source (a checkout that may have changed since uv
/// cached a build of it: uv keys such builds on `pyproject.toml`'s time).
/// `env` is set for every step (`TSAN_OPTIONS` under a ThreadSanitizer
/// interpreter, whose own reports would otherwise fail pip).
pub fn create_and_install(
    installer: &Installer,
    base: &Path,
    dir: &Path,
    what: &What,
    index: &IndexOptions,
    timeout: Duration,
) -> (Environment, Install) {
    let env = what.env;
    let started = Instant::now();
    let environment = Environment { dir: dir.to_path_buf(), python: dir.join("bin").join("python") };
    let outcome = |status, error, why: Option<explain::Explanation>| Install {
        status,
        from: None,
        wheel_tags: Vec::new(),
        wheel: None,
        seconds: started.elapsed().as_secs_f64(),
        error,
        failed_to_build: why.as_ref().and_then(|w| w.built().map(str::to_string)),
        failed_dist: why.as_ref().and_then(|w| w.failed_dist.clone()),
        required_by: why.as_ref().map(|w| w.required_by.clone()).unwrap_or_default(),
        reason: why.map(|w| w.reason),
    };
    let failed = |(status, error, why): StepFailure| outcome(status, Some(error), why);
    let mut make = match installer {
        Installer::Uv(uv) => {
            let mut c = Command::new(uv);
            c.args(["venv", "--quiet", "--python"]).arg(base).arg(dir);
            c
        }
        Installer::Pip => {
            let mut c = Command::new(base);
            c.args(["-m", "venv", "--without-pip"]).arg(dir);
            c
        }
    };
    make.envs(env.iter().map(|(k, v)| (k, v)));
    match step(&mut make, timeout) {
        Ok(_) => {}
        Err((status, error, _)) => {
            return (environment, failed((status, format!("could not make the environment: {error}"), None)));
        }
    }
    let remaining = timeout.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
    let install = match install_into(installer, base, &environment, what, index, remaining) {
        Ok(()) => outcome(InstallStatus::Ok, None, None),
        Err(failure) => failed(failure),
    };
    (environment, install)
}

/// Installs `what` into an environment [`create_and_install`] made from `base`.
pub fn install_into(
    installer: &Installer,
    base: &Path,
    environment: &Environment,
    what: &What,
    index: &IndexOptions,
    timeout: Duration,
) -> Result<(), StepFailure> {
    let What { requirements, rebuild, env, compile_bytecode } = *what;
    let mut install = match installer {
        Installer::Uv(uv) => {
            let mut c = Command::new(uv);
            c.args(["pip", "install", "--quiet", "--python"]).arg(&environment.python);
            if compile_bytecode {
                c.arg("--compile-bytecode");
            }
            for name in rebuild {
                c.args(["--refresh-package", name]);
            }
            c
        }
        Installer::Pip => {
            // The base interpreter's pip installs into the environment (no pip
            // is copied into each one).
            let mut c = Command::new(base);
            c.args(["-m", "pip", "--python"]).arg(&environment.python);
            // Not --quiet: its "Collecting X" lines name what a failed build was.
            c.args(["install", "--progress-bar", "off", "--disable-pip-version-check", "--no-input"]);
            c
        }
    };
    install.args(index.args()).args(requirements).envs(env.iter().map(|(k, v)| (k, v)));
    step(&mut install, timeout).map(|_| ())
}

/// The line of an installer's output that tells most: a compiler's or a
/// build backend's `error:`, else the last line.
pub fn telling_line(output: &str) -> String {
    let lines: Vec<&str> = output.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let compiler =
        lines.iter().find(|l| l.contains("error:") && !l.starts_with("ERROR:") && !l.starts_with("error: subprocess"));
    // pip quotes the build backend between `[N lines of output]` and `[end of output]`.
    let quoted = lines.iter().position(|l| *l == "[end of output]").filter(|end| *end > 0).map(|end| lines[end - 1]);
    let closing = lines.iter().rev().find(|l| !l.starts_with("note:") && !l.starts_with("hint:"));
    compiler.or(quoted.as_ref()).or(closing).map(|l| l.to_string()).unwrap_or_else(|| "?".into())
}

/// How a step failed: its status, the tail of what it said, and why, as
/// read from all of it.
pub type StepFailure = (InstallStatus, String, Option<explain::Explanation>);

/// The requirement an installer names as failing to build: uv's
/// ``Failed to build `hypothesis==6.168.0` ``, pip's `Failed to build
/// installable wheels for some pyproject.toml based projects (hypothesis)`
/// or `Failed building wheel for hypothesis`.
pub fn failed_to_build(said: &str) -> Option<String> {
    let named = said.lines().map(str::trim).find_map(|line| {
        let uv = line.split_once("Failed to build `").and_then(|(_, rest)| rest.split_once('`')).map(|(r, _)| r);
        let pip_list = line
            .strip_prefix("ERROR: Failed to build installable wheels for some pyproject.toml based projects (")
            .and_then(|rest| rest.strip_suffix(')'));
        let pip_one = line.split_once("Failed building wheel for ").map(|(_, name)| name);
        uv.or(pip_list).or(pip_one).map(|r| r.trim().to_string()).filter(|r| !r.is_empty())
    });
    // pip failing before a wheel build (`Getting requirements to build wheel
    // did not run successfully`) names nothing: the last package it was
    // collecting is the one.
    named.or_else(|| {
        said.contains("did not run successfully").then_some(())?;
        said.lines().rev().map(str::trim).find_map(|line| {
            let what = line.strip_prefix("Collecting ").or_else(|| line.strip_prefix("Processing "))?;
            let what = what.split_whitespace().next()?;
            Some(what.rsplit('/').next().unwrap_or(what).to_string())
        })
    })
}

/// Runs one installer step; on failure, its status and the tail of what it said.
fn step(command: &mut Command, timeout: Duration) -> Result<Captured, StepFailure> {
    command.env("PIP_NO_INPUT", "1").env("PYTHONDONTWRITEBYTECODE", "1");
    crate::os::child_dies_with_parent(command);
    let captured = process::run_with_timeout(command, timeout)
        .map_err(|e| (InstallStatus::Failed, format!("could not run {:?}: {e}", command.get_program()), None))?;
    if captured.interrupted {
        return Err((InstallStatus::Interrupted, "ftprobe was interrupted".into(), None));
    }
    if captured.timed_out {
        return Err((InstallStatus::Timeout, format!("still running after {} s", timeout.as_secs()), None));
    }
    if !captured.status.success() {
        let mut said = captured.stderr_tail(1500);
        if said.is_empty() {
            said = process::tail_text(&captured.stdout, 1500);
        }
        // Read from all of it: uv names the failed build at the top.
        let everything =
            format!("{}\n{}", String::from_utf8_lossy(&captured.stderr), String::from_utf8_lossy(&captured.stdout));
        return Err((InstallStatus::Failed, said, Some(explain::explain(&everything))));
    }
    Ok(captured)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What uv 0.13.9 and pip 26 print when hypothesis 6.168.0's sdist
    /// (PyO3) fails to build for 3.13t.
    #[test]
    fn the_installers_name_what_failed_to_build() {
        let uv = "error: Failed to build `hypothesis==6.168.0`\n  cause: The build backend returned an error\n";
        assert_eq!(failed_to_build(uv).as_deref(), Some("hypothesis==6.168.0"));
        let pip = "  × Building wheel for hypothesis (pyproject.toml) did not run successfully.\n\
                   ERROR: Failed to build installable wheels for some pyproject.toml based projects (hypothesis)\n";
        assert_eq!(failed_to_build(pip).as_deref(), Some("hypothesis"));
        assert_eq!(failed_to_build("  ERROR: Failed building wheel for lxml\n").as_deref(), Some("lxml"));
        assert_eq!(failed_to_build("error: No solution found when resolving dependencies"), None);
        // pip 25 on the fixture package whose build refuses to start.
        let pip_early = "Looking in links: /index/files\nProcessing /index/files/ftprobe_fixture_broken-1.0.tar.gz\n  \
            Installing build dependencies: finished with status 'done'\n  error: subprocess-exited-with-error\n  \
            × Getting requirements to build wheel did not run successfully.\n  │ exit code: 1\n  \
            ╰─> [1 lines of output]\n      this package cannot be built (ftprobe fixture)\n      [end of output]\n  \
            note: This error originates from a subprocess, and is likely not a problem with pip.\n";
        assert_eq!(failed_to_build(pip_early).as_deref(), Some("ftprobe_fixture_broken-1.0.tar.gz"));
        assert_eq!(telling_line(pip_early), "this package cannot be built (ftprobe fixture)");
    }
}
