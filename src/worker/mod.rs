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
use protocol::{ProbeKind, RESULT_MARKER, WorkerRequest};

use crate::probes;

/// Runs the probe described by `request_json`; the exit code is 0 when the
/// probe ran (whatever it found) and 3 when it could not run.
pub fn run(request_json: &str) -> ExitCode {
    let outcome = serde_json::from_str::<WorkerRequest>(request_json)
        .map_err(|e| format!("bad worker request: {e}"))
        .and_then(|request| probe(&request, request_json));
    let _ = std::io::stdout().flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            let line = serde_json::json!({ "stage": "error", "error": message });
            println!("\n{RESULT_MARKER}{line}");
            ExitCode::from(crate::error::EXIT_COULD_NOT_RUN)
        }
    }
}

/// Python that prepares `sys` for a probe script in the current interpreter.
fn bootstrap(request: &WorkerRequest, request_json: &str, stage: &str) -> String {
    let quote = |text: &str| serde_json::to_string(text).expect("strings serialise");
    let dirs: Vec<String> = request.site_packages.iter().map(|p| quote(&p.display().to_string())).collect();
    format!(
        "import site, sys\nfor _d in [{}]:\n    site.addsitedir(_d)\nsys.executable = {}\nsys.argv = ['ftprobe-probe', {}, {}]\n",
        dirs.join(", "),
        quote(&request.executable.display().to_string()),
        quote(request_json),
        quote(stage)
    )
}

fn probe(request: &WorkerRequest, request_json: &str) -> Result<(), String> {
    let python = LibPython::open(&request.libpython).map_err(|e| e.to_string())?;
    python.initialize();
    let script = |stage: &str, source: &str| format!("{}{source}", bootstrap(request, request_json, stage));
    let run = |code: String| python.run(&code).map_err(|e| e.to_string());
    match request.probe {
        ProbeKind::FreeThreading => {
            run(script("main", probes::FREE_THREADING))?;
        }
        ProbeKind::Threads => {
            run(script("threads", probes::THREADS))?;
        }
        ProbeKind::Subinterpreter => {
            // Import in the main interpreter first: some modules refuse only a
            // second interpreter (Cython's "Interpreter change detected").
            run(script("main", probes::SUBINTERPRETER))?;
            let config = request.config.ok_or("a subinterpreter probe needs a config")?;
            let code = script("subinterpreter", probes::SUBINTERPRETER);
            match python.run_in_subinterpreter(config, request.free_threaded, &code) {
                Ok(_) => {}
                Err(e) => {
                    let line =
                        serde_json::json!({ "stage": "subinterpreter", "created": false, "error": e.to_string() });
                    println!("\n{RESULT_MARKER}{line}");
                }
            }
        }
    }
    Ok(())
}
