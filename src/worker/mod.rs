//! The hidden `ftprobe worker` subcommand: the child side of a probe. It
//! loads the interpreter's libpython, initialises it from the environment the
//! parent prepared, runs one probe script from `probes/`, prints its result
//! lines behind [`protocol::RESULT_MARKER`] and exits without finalising
//! (finalisation can crash in extensions, which is not what is measured).

mod libpython;
pub mod protocol;

use std::io::Write;
use std::process::ExitCode;

use libpython::LibPython;
use protocol::{ProbeKind, StageResult, TOKEN_VAR, WorkerRequest, result_marker};

use crate::probes;

/// Runs the probe described by `request_json`; the exit code is 0 when the
/// probe ran (whatever it found) and 3 when it could not run.
pub fn run(request_json: &str) -> ExitCode {
    let marker = result_marker(&std::env::var(TOKEN_VAR).unwrap_or_default());
    let outcome = serde_json::from_str::<WorkerRequest>(request_json)
        .map_err(|e| format!("bad worker request: {e}"))
        .and_then(|request| {
            if !crate::os::die_with_parent(request.parent_pid) {
                return Err("ftprobe exited before the worker started".to_string());
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
        Err(message) => {
            print_result(&marker, &StageResult::Error { error: message });
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
fn bootstrap(request: &WorkerRequest, request_json: &str, stage: &str, marker: &str) -> String {
    let dirs: Vec<String> = request.site_packages.iter().map(|p| python_string(&p.display().to_string())).collect();
    format!(
        "import os, site, sys\nos.environ.pop({}, None)\n_FTPROBE_MARKER = {}\nfor _d in [{}]:\n    site.addsitedir(_d)\nsys.executable = {}\nsys.argv = ['ftprobe-probe', {}, {}]\n",
        python_string(TOKEN_VAR),
        python_string(marker),
        dirs.join(", "),
        python_string(&request.executable.display().to_string()),
        python_string(request_json),
        python_string(stage)
    )
}

fn probe(request: &WorkerRequest, request_json: &str, marker: &str) -> Result<(), String> {
    let python = LibPython::open(&request.libpython).map_err(|e| e.to_string())?;
    python.initialize();
    // Each script is compiled under its own name, so tracebacks point at
    // `ftprobe/probes/<name>` rather than `<string>`.
    let compiled = |name: &str, source: &str| {
        format!(
            "exec(compile({}, {}, 'exec'))\n",
            python_string(source),
            python_string(&format!("ftprobe/probes/{name}"))
        )
    };
    let script = |stage: &str, name: &str, source: &str| {
        format!(
            "{}{}{}",
            bootstrap(request, request_json, stage, marker),
            compiled("extension_watch.py", probes::EXTENSION_WATCH),
            compiled(name, source)
        )
    };
    let run = |code: String| python.run(&code).map_err(|e| e.to_string());
    match request.probe {
        ProbeKind::FreeThreading => {
            run(script("main", "free_threading.py", probes::FREE_THREADING))?;
        }
        ProbeKind::Threads => {
            run(script("threads", "threads.py", probes::THREADS))?;
        }
        ProbeKind::Subinterpreter => {
            // Import in the main interpreter first: some modules refuse only a
            // second interpreter (Cython's "Interpreter change detected").
            run(script("main", "subinterpreter.py", probes::SUBINTERPRETER))?;
            let config = request.config.ok_or("a subinterpreter probe needs a config")?;
            let code = script("subinterpreter", "subinterpreter.py", probes::SUBINTERPRETER);
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
