//! One iteration of a test suite: the command in its own process group,
//! with faulthandler on, the injected pytest plugin and a JUnit file, under
//! a stall detector (stdout and stderr together) and a timeout; then what
//! it left behind read into an [`Iteration`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{self, Limits};
use crate::run::suite::{GilSetting, Iteration, IterationStatus};

/// What `--tsan` sets `TSAN_OPTIONS` to when it is unset: report, go on,
/// and leave the exit code to the tests.
pub const TSAN_OPTIONS: &str = "exitcode=0 halt_on_error=0";

/// The module name the plugin is injected under.
pub const PLUGIN_MODULE: &str = "ftprobe_pytest";

/// What every iteration of one unit shares.
pub struct Setup {
    pub env_python: PathBuf,
    /// The environment's folder (`VIRTUAL_ENV`).
    pub env_dir: PathBuf,
    /// Where the command runs: the suite's folder.
    pub root: PathBuf,
    /// The command, program first.
    pub command: Vec<String>,
    /// Passed to pytest through `PYTEST_ADDOPTS`, so a custom command gets them too.
    pub pytest_options: Vec<String>,
    /// Holds `ftprobe_pytest.py`, put on `PYTHONPATH`.
    pub plugin_dir: PathBuf,
    /// Where each iteration's JUnit and record files go.
    pub scratch: PathBuf,
    pub user_env: Vec<(String, String)>,
    pub timeout: Duration,
    pub stall: Duration,
    pub tsan: bool,
}

impl Setup {
    fn command(&self, gil: GilSetting, junit: &Path, records: &Path) -> Command {
        let mut command = Command::new(&self.command[0]);
        command.args(&self.command[1..]).current_dir(&self.root);
        crate::environment::clear_python_vars(&mut command);
        let bin = self.env_python.parent().unwrap_or(Path::new("/")).to_path_buf();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path))).unwrap_or(path);
        let mut addopts = std::env::var("PYTEST_ADDOPTS").unwrap_or_default();
        // `-p no:ftprobe`: the same plugin, installed with the ftprobe wheel
        // in this environment, stays out of the way of the injected one.
        let ours = ["-p", "no:ftprobe", "-p", PLUGIN_MODULE].map(String::from);
        let junit = format!("--junitxml={}", junit.display());
        for option in ours.iter().chain([&junit]).chain(&self.pytest_options) {
            addopts.push(' ');
            addopts.push_str(&shell_quote(option));
        }
        command
            .env("PATH", path)
            .env("VIRTUAL_ENV", &self.env_dir)
            .env("PYTHONFAULTHANDLER", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONPATH", &self.plugin_dir)
            .env("PYTEST_ADDOPTS", addopts.trim())
            .env("FTPROBE_PYTEST_RECORD", records);
        if let Some(value) = gil.env_value() {
            command.env("PYTHON_GIL", value);
        }
        // TSAN's own exit code (66) would hide the tests' result.
        if self.tsan && std::env::var_os("TSAN_OPTIONS").is_none() {
            command.env("TSAN_OPTIONS", TSAN_OPTIONS);
        }
        for (key, value) in &self.user_env {
            command.env(key, value);
        }
        crate::os::child_dies_with_parent(&mut command);
        command
    }

    /// Runs iteration `number` with `gil` and reads what it left.
    pub fn run(&self, number: u32, gil: GilSetting) -> Iteration {
        let stem = format!("{}-{number}", crate::model::snake(&gil));
        let junit = self.scratch.join(format!("{stem}.xml"));
        let records = self.scratch.join(format!("{stem}.jsonl"));
        let _ = std::fs::remove_file(&junit);
        let _ = std::fs::remove_file(&records);
        let mut iteration = Iteration {
            number,
            gil_setting: gil,
            status: IterationStatus::Error,
            exit_code: None,
            seconds: 0.0,
            signal: None,
            crash_signature: None,
            running_test: None,
            stalled: false,
            tests: Default::default(),
            failed_tests: Vec::new(),
            failure_signatures: Default::default(),
            tsan: Vec::new(),
            gil: None,
            output_tail: None,
        };
        let limits = Limits { timeout: self.timeout, stall: Some(self.stall), collect: None };
        let captured = match process::run_supervised(&mut self.command(gil, &junit, &records), limits) {
            Ok(captured) => captured,
            Err(error) => {
                iteration.output_tail = Some(format!("cannot run {}: {error}", self.command[0]));
                return iteration;
            }
        };
        let stdout = String::from_utf8_lossy(&captured.stdout);
        let stderr = String::from_utf8_lossy(&captured.stderr);
        iteration.seconds = captured.elapsed.as_secs_f64();
        iteration.exit_code = captured.status.code();
        iteration.stalled = captured.stalled;
        // pytest captures stderr during each test and shows it, with the
        // failure, on stdout: TSAN's reports can be in either or both.
        iteration.tsan = super::tsan::merge(super::tsan::parse(&stderr), super::tsan::parse(&stdout));
        iteration.crash_signature = super::crash::signature(&stderr);
        if let Ok(text) = std::fs::read_to_string(&junit)
            && let Ok(results) = super::junit::parse(&text)
        {
            iteration.tests = results.counts;
            iteration.failed_tests = results.failed_tests;
            iteration.failure_signatures = results.signatures;
        }
        let warned = super::records::warned_modules(&format!("{stdout}\n{stderr}"));
        let recorded = super::records::read(&std::fs::read_to_string(&records).unwrap_or_default(), &warned);
        iteration.gil = recorded.gil;
        let killed_by_us = captured.timed_out || captured.interrupted;
        let signal = captured.signal().filter(|_| !killed_by_us);
        iteration.signal = signal.map(process::signal_name);
        iteration.status = if captured.interrupted {
            IterationStatus::Interrupted
        } else if captured.stalled {
            IterationStatus::Deadlock
        } else if captured.timed_out {
            IterationStatus::Timeout
        } else if signal.is_some()
            || iteration.crash_signature.is_some()
            || matches!(iteration.exit_code, Some(134 | 139))
        {
            IterationStatus::Crash
        } else {
            match iteration.exit_code {
                Some(0) => IterationStatus::Passed,
                Some(1) => IterationStatus::Failed,
                _ => IterationStatus::Error,
            }
        };
        if !matches!(iteration.status, IterationStatus::Passed | IterationStatus::Failed) {
            iteration.running_test = recorded.running_test;
        }
        if iteration.status != IterationStatus::Passed {
            let tail = [process::tail_text(&captured.stdout, 2000), process::tail_text(&captured.stderr, 3000)];
            let tail = tail.into_iter().filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n--- stderr ---\n");
            iteration.output_tail = Some(tail);
        }
        iteration
    }
}

/// Quotes an option for `PYTEST_ADDOPTS` (split by shlex rules).
fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./:,@+".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\"'\"'"))
    }
}
