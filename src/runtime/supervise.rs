//! Starting one worker process for one probe and collecting what it left:
//! the result lines, the GIL lines CPython printed, the stderr tail, and how
//! the process ended. The worker's environment is built here. The worker is
//! ftprobe itself (`ftprobe worker`, loading libpython), or, for an
//! interpreter without a shared libpython, that interpreter's executable
//! running [`crate::worker::executable_driver`].

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use crate::discover::Interpreter;
use crate::process::{Captured, Limits, run_supervised};
use crate::worker::protocol::{ProbeKind, StageResult, TOKEN_VAR, WorkerRequest, new_token, result_marker};

/// The text CPython's verbose mode prints for each module that needs the GIL.
pub const GIL_LINE: &str = "which requires the GIL";

/// What one worker left behind.
pub struct WorkerRun {
    pub captured: Captured,
    /// Result lines, in order.
    pub results: Vec<StageResult>,
    /// Result lines (behind the right marker) that did not parse: a bug in
    /// ftprobe, reported as an error rather than read as defaults.
    pub malformed: Vec<String>,
    /// Modules CPython named in "# loading module 'X', which requires the GIL".
    pub gil_required_by: Vec<String>,
    /// The variables set for the worker (recorded in the report).
    pub environment: BTreeMap<String, String>,
}

/// The environment a worker gets on top of the parent's, minus everything in
/// [`crate::environment::PYTHON_VARS_TO_CLEAR`] (`PYTHON_GIL=0` would hide the GIL coming back).
pub fn worker_environment(interpreter: &Interpreter, request: &WorkerRequest) -> BTreeMap<String, String> {
    let probe = request.probe;
    let mut env = BTreeMap::new();
    // A loaded libpython does not know where it lives; an executable does.
    if request.libpython.is_some() {
        env.insert("PYTHONHOME".into(), interpreter.base_prefix.display().to_string());
    }
    env.insert("PYTHONNOUSERSITE".into(), "1".into());
    env.insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
    env.insert("PYTHONFAULTHANDLER".into(), "1".into());
    env.insert("PYTHONIOENCODING".into(), "utf-8".into());
    if probe == ProbeKind::FreeThreading {
        // Makes CPython name every module that re-enables the GIL, not just the first.
        env.insert("PYTHONVERBOSE".into(), "1".into());
    }
    env
}

pub fn run_worker(
    request: &WorkerRequest,
    interpreter: &Interpreter,
    timeout: Duration,
    stall: Duration,
) -> std::io::Result<WorkerRun> {
    let environment = worker_environment(interpreter, request);
    let mut command = if request.libpython.is_some() {
        let mut command = Command::new(own_executable()?);
        command.arg("worker").arg("--request").arg(serde_json::to_string(request).expect("requests serialise"));
        command
    } else {
        // No libpython: the interpreter runs the probe itself. -s: no user
        // site; -P: nothing from the current folder.
        let mut command = Command::new(&interpreter.executable);
        command.args(["-s", "-P", "-c"]).args(crate::worker::executable_driver(request));
        crate::os::child_dies_with_parent(&mut command);
        command
    };
    crate::environment::clear_python_vars(&mut command);
    let token = new_token();
    command.envs(&environment).env(TOKEN_VAR, &token).current_dir(std::env::temp_dir());
    let limits = Limits { timeout, stall: Some(stall), collect: Some(GIL_LINE) };
    let captured = run_supervised(&mut command, limits)?;
    let stdout = String::from_utf8_lossy(&captured.stdout);
    let marker = result_marker(&token);
    let (mut results, mut malformed) = (Vec::new(), Vec::new());
    for line in stdout.lines().filter_map(|l| l.strip_prefix(&marker)) {
        match serde_json::from_str::<StageResult>(line) {
            Ok(result) => results.push(result),
            Err(e) => malformed.push(format!("{e}: {}", crate::process::tail_text(line.as_bytes(), 300))),
        }
    }
    let gil_required_by = captured
        .collected
        .iter()
        .filter_map(|l| l.strip_prefix("# loading module '")?.split_once('\'').map(|(m, _)| m.to_string()))
        .collect();
    Ok(WorkerRun { captured, results, malformed, gil_required_by, environment })
}

/// This very binary, to start workers from. On Linux `/proc/self/exe`, which
/// still reaches it after the file was replaced or deleted (ftprobe upgraded
/// or rebuilt during a long batch run): its path would then name nothing.
fn own_executable() -> std::io::Result<std::path::PathBuf> {
    let magic = std::path::Path::new("/proc/self/exe");
    if cfg!(target_os = "linux") && magic.exists() {
        return Ok(magic.to_path_buf());
    }
    std::env::current_exe()
}
