//! The hidden `ftprobe worker` subcommand: the child side of a probe. It
//! loads the interpreter's libpython, initialises it from the environment the
//! parent prepared, runs one probe script from `probes/` (through
//! `probes/worker_stage.py`, given its data by [`program`]), prints its result
//! lines behind the result marker and exits without finalising
//! (finalisation can crash in extensions, which is not what is measured).
//!
//! An interpreter with no shared libpython runs the same scripts in its own
//! executable instead: [`executable_driver`] gives the Python program that
//! does what this worker does, subinterpreters included.

mod libpython;
mod program;
pub mod protocol;

use std::io::Write;
use std::process::ExitCode;

use libpython::LibPython;
pub use program::executable_driver;
use program::{SUBINTERPRETER_STAGE, first_stage, stage_program};
use protocol::{ProbeKind, StageResult, TOKEN_VAR, WorkerRequest, result_marker};

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

fn probe(request: &WorkerRequest, request_json: &str, marker: &str) -> Result<(), WorkerError> {
    let libpython = request.libpython.as_ref().ok_or(WorkerError::NoLibpython)?;
    let python = LibPython::open(libpython)?;
    python.initialize();
    let run = |code: String| python.run(&code);
    // Import in the main interpreter first: some modules refuse only a
    // second interpreter (Cython's "Interpreter change detected").
    run(stage_program(request, request_json, first_stage(request.probe), marker))?;
    match request.probe {
        ProbeKind::FreeThreading | ProbeKind::Threads => {}
        ProbeKind::Subinterpreter => {
            let config = request.config.ok_or(WorkerError::NoConfig)?;
            let code = stage_program(request, request_json, SUBINTERPRETER_STAGE, marker);
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
