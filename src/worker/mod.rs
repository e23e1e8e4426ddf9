//! The hidden `ftprobe worker` subcommand: the child side of a probe. It
//! loads the interpreter's libpython, initialises it from the environment the
//! parent prepared, runs one probe script from `probes/`, prints its result
//! lines behind the result marker and exits without finalising
//! (finalisation can crash in extensions, which is not what is measured).
//!
//! An interpreter with no shared libpython runs the same scripts in its own
//! executable instead: [`executable_driver`] is the Python program that does
//! what this worker does, subinterpreters included.

mod libpython;
pub mod protocol;

use std::io::Write;
use std::process::ExitCode;

use libpython::LibPython;
use protocol::{ProbeKind, StageResult, TOKEN_VAR, WorkerRequest, result_marker};

use crate::probes;

/// Why the worker could not run its probe: the `error` of the result line it
/// prints.
#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("bad worker request: {0}")]
    BadRequest(String),
    #[error("ftprobe exited before the worker started")]
    ParentGone,
    #[error("no libpython to load: the probe runs in the executable")]
    NoLibpython,
    #[error(transparent)]
    LibPython(#[from] libpython::LibPythonError),
    #[error("a subinterpreter probe needs a config")]
    NoConfig,
}

/// Runs the probe described by `request_json`; the exit code is 0 when the
/// probe ran (whatever it found) and 3 when it could not run.
pub fn run(request_json: &str) -> ExitCode {
    let marker = result_marker(&std::env::var(TOKEN_VAR).unwrap_or_default());
    let outcome = serde_json::from_str::<WorkerRequest>(request_json)
        .map_err(|e| WorkerError::BadRequest(e.to_string()))
        .and_then(|request| {
            if !crate::os::die_with_parent(request.parent_pid) {
                return Err(WorkerError::ParentGone);
            }
            // Whatever the probed code forks, even a daemon that calls
            // setsid, ends up a child of this process and is killed below.
            crate::os::adopt_orphans();
            crate::os::reset_signals_like_python();
            probe(&request, request_json, &marker)
        });
    let _ = std::io::stdout().flush();
    crate::os::kill_all_children();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_result(&marker, &StageResult::Error { error: error.to_string() });
            ExitCode::from(crate::error::EXIT_COULD_NOT_RUN)
        }
    }
}

/// Prints a result line the worker itself makes, behind the marker.
fn print_result(marker: &str, result: &StageResult) {
    let line = serde_json::to_string(result).expect("results serialise");
    println!("\n{marker}{line}");
}

/// `text` as a Python string literal (JSON's string syntax is valid Python).
fn python_string(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialise")
}

/// Python that prepares `sys` for a probe script in the current interpreter,
/// removes the result token from the environment and hands it to the script.
/// With `marker` None, `_FTPROBE_MARKER` is already defined (by the driver).
fn bootstrap(request: &WorkerRequest, request_json: &str, stage: &str, marker: Option<&str>) -> String {
    let dirs: Vec<String> = request.site_packages.iter().map(|p| python_string(&p.display().to_string())).collect();
    let marker = marker.map(|m| format!("_FTPROBE_MARKER = {}\n", python_string(m))).unwrap_or_default();
    format!(
        "import os, site, sys\nos.environ.pop({}, None)\n{marker}for _d in [{}]:\n    site.addsitedir(_d)\nsys.executable = {}\nsys.argv = ['ftprobe-probe', {}, {}]\n",
        python_string(TOKEN_VAR),
        dirs.join(", "),
        python_string(&request.executable.display().to_string()),
        python_string(request_json),
        python_string(stage)
    )
}

/// The Python source of one stage: the bootstrap, the extension watch, then
/// the probe script, each compiled under its own name so tracebacks point at
/// `ftprobe/probes/<name>` rather than `<string>`.
fn stage_code(request: &WorkerRequest, request_json: &str, stage: &str, marker: Option<&str>) -> String {
    // One script per probe; the stage (main interpreter or sub) is its argument.
    let (name, source) = match request.probe {
        ProbeKind::FreeThreading => ("free_threading.py", probes::FREE_THREADING),
        ProbeKind::Threads => ("threads.py", probes::THREADS),
        ProbeKind::Subinterpreter => ("subinterpreter.py", probes::SUBINTERPRETER),
    };
    let compiled = |name: &str, source: &str| {
        format!(
            "exec(compile({}, {}, 'exec'))\n",
            python_string(source),
            python_string(&format!("ftprobe/probes/{name}"))
        )
    };
    format!(
        "{}{}{}",
        bootstrap(request, request_json, stage, marker),
        compiled("extension_watch.py", probes::EXTENSION_WATCH),
        compiled(name, source)
    )
}

/// The stage a probe starts with in the main interpreter.
fn first_stage(probe: ProbeKind) -> &'static str {
    match probe {
        ProbeKind::Threads => "threads",
        ProbeKind::FreeThreading | ProbeKind::Subinterpreter => "main",
    }
}

/// The program `python -s -P` runs for a probe of an interpreter that has no
/// shared libpython: the worker's work in Python. It takes the result token
/// from the environment (never from its command line), runs the main stage,
/// and for a subinterpreter probe makes the subinterpreter with the
/// interpreter's own module, `_interpreters` on 3.13+ (`new_config` with the
/// `isolated` or `legacy` preset; a free-threaded legacy one keeps
/// `check_multi_interp_extensions` on, as CPython's preset does) or
/// `_xxsubinterpreters` on 3.12, runs the subinterpreter stage there, and
/// exits without finalising.
pub fn executable_driver(request: &WorkerRequest) -> String {
    let request_json = serde_json::to_string(request).expect("requests serialise");
    let main = stage_code(request, &request_json, first_stage(request.probe), None);
    let mut driver = format!(
        "import os as _os, sys as _sys\n_FTPROBE_MARKER = '@@ftprobe-result-%s@@ ' % _os.environ.pop({}, '')\n\
         _FTPROBE_FREE_THREADED = {}\n",
        python_string(TOKEN_VAR),
        if request.free_threaded { "True" } else { "False" }
    );
    driver.push_str(&format!("exec(compile({}, 'ftprobe/worker', 'exec'))\n", python_string(&main)));
    if let (ProbeKind::Subinterpreter, Some(config)) = (request.probe, request.config) {
        let sub = stage_code(request, &request_json, "subinterpreter", None);
        let preset = match config {
            protocol::SubinterpreterConfig::Isolated => "isolated",
            protocol::SubinterpreterConfig::Legacy => "legacy",
        };
        driver.push_str(&format!(
            "_FTPROBE_SUB = {}\n_FTPROBE_PRESET = {}\n",
            python_string(&sub),
            python_string(preset)
        ));
        driver.push_str(probes::SUBINTERPRETER_DRIVER);
    }
    driver.push_str("_sys.stdout.flush()\n_sys.stderr.flush()\n_os._exit(0)\n");
    driver
}

fn probe(request: &WorkerRequest, request_json: &str, marker: &str) -> Result<(), WorkerError> {
    let libpython = request.libpython.as_ref().ok_or(WorkerError::NoLibpython)?;
    let python = LibPython::open(libpython)?;
    python.initialize();
    let run = |code: String| python.run(&code);
    // Import in the main interpreter first: some modules refuse only a
    // second interpreter (Cython's "Interpreter change detected").
    run(stage_code(request, request_json, first_stage(request.probe), Some(marker)))?;
    match request.probe {
        ProbeKind::FreeThreading | ProbeKind::Threads => {}
        ProbeKind::Subinterpreter => {
            let config = request.config.ok_or(WorkerError::NoConfig)?;
            let code = stage_code(request, request_json, "subinterpreter", Some(marker));
            match python.run_in_subinterpreter(config, request.free_threaded, &code) {
                Ok(_) => {}
                Err(e) => {
                    print_result(marker, &StageResult::SubinterpreterFailed { error: e.to_string() });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `error` of the result line a worker that could not run prints.
    #[test]
    fn a_worker_that_cannot_run_says_why() {
        let bad = serde_json::from_str::<WorkerRequest>("{").unwrap_err();
        let cases = [
            (WorkerError::BadRequest(bad.to_string()), format!("bad worker request: {bad}")),
            (WorkerError::ParentGone, "ftprobe exited before the worker started".into()),
            (WorkerError::NoLibpython, "no libpython to load: the probe runs in the executable".into()),
            (WorkerError::NoConfig, "a subinterpreter probe needs a config".into()),
            (
                libpython::LibPythonError::Load { path: "/l.so".into(), reason: "gone".into() }.into(),
                "cannot load `/l.so`: gone".into(),
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
