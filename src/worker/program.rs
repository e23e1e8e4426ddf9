//! The Python programs a probe runs and the data they are given. Their code
//! is in `probes/`: `worker_stage.py` runs one stage (the main interpreter's
//! or the subinterpreter's) and `executable_driver.py` does the worker's
//! whole job in an interpreter with no shared libpython. Nothing here writes
//! Python: values travel as JSON documents, a stage's as one string literal
//! put ahead of `worker_stage.py` (all a subinterpreter can be handed), the
//! driver's on its command line.

use serde::Serialize;

use super::protocol::{MARKER_AROUND, ProbeKind, SubinterpreterConfig, TOKEN_VAR, WorkerRequest};
use crate::probes;

/// What `probes/worker_stage.py` reads from `_FTPROBE_STAGE` (its docstring
/// says what each field is for).
#[derive(Serialize)]
struct Stage<'a> {
    token_var: &'a str,
    /// None only in the driver's job, which fills it in.
    marker: Option<&'a str>,
    site_packages: Vec<String>,
    executable: String,
    request: &'a str,
    stage: &'a str,
    /// `extension_watch.py`, then the probe's script: (file name, source).
    scripts: [(&'a str, &'a str); 2],
}

impl<'a> Stage<'a> {
    fn new(request: &'a WorkerRequest, request_json: &'a str, stage: &'a str, marker: Option<&'a str>) -> Self {
        // One script per probe; the stage (main interpreter or sub) is its argument.
        let script = match request.probe {
            ProbeKind::FreeThreading => ("free_threading.py", probes::FREE_THREADING),
            ProbeKind::Threads => ("threads.py", probes::THREADS),
            ProbeKind::Subinterpreter => ("subinterpreter.py", probes::SUBINTERPRETER),
        };
        Stage {
            token_var: TOKEN_VAR,
            marker,
            site_packages: request.site_packages.iter().map(|p| p.display().to_string()).collect(),
            executable: request.executable.display().to_string(),
            request: request_json,
            stage,
            scripts: [("extension_watch.py", probes::EXTENSION_WATCH), script],
        }
    }
}

/// What `probes/executable_driver.py` reads from its argument (its
/// docstring says what each field is for).
#[derive(Serialize)]
struct DriverJob<'a> {
    token_var: &'a str,
    marker_around: [&'a str; 2],
    free_threaded: bool,
    program: &'a str,
    stage: Stage<'a>,
    subinterpreter: Option<SubinterpreterStep<'a>>,
}

#[derive(Serialize)]
struct SubinterpreterStep<'a> {
    preset: &'a str,
    stage: &'a str,
}

/// The stage a probe starts with in the main interpreter.
pub(super) fn first_stage(probe: ProbeKind) -> &'static str {
    match probe {
        ProbeKind::Threads => "threads",
        ProbeKind::FreeThreading | ProbeKind::Subinterpreter => "main",
    }
}

/// The stage a subinterpreter probe runs in the subinterpreter.
pub(super) const SUBINTERPRETER_STAGE: &str = "subinterpreter";

/// The program that runs `stage` of the probe `request` asks for in the
/// current interpreter, its result lines behind `marker`: `worker_stage.py`
/// after one line that defines `_FTPROBE_STAGE`, the stage's document (JSON
/// text, which is also a Python string literal).
pub(super) fn stage_program(request: &WorkerRequest, request_json: &str, stage: &str, marker: &str) -> String {
    let document = serde_json::to_string(&Stage::new(request, request_json, stage, Some(marker)))
        .expect("stage documents serialise");
    let literal = serde_json::to_string(&document).expect("strings serialise");
    format!("_FTPROBE_STAGE = {literal}\n{}", probes::WORKER_STAGE)
}

/// What follows `python -s -P -c` for a probe of an interpreter that has no
/// shared libpython: `probes/executable_driver.py`, the worker's work in
/// Python, and its one argument, the job as JSON. The result token is not in
/// it: the driver takes it from the environment.
pub fn executable_driver(request: &WorkerRequest) -> [String; 2] {
    let request_json = serde_json::to_string(request).expect("requests serialise");
    let subinterpreter = match (request.probe, request.config) {
        (ProbeKind::Subinterpreter, Some(config)) => Some(SubinterpreterStep {
            preset: match config {
                SubinterpreterConfig::Isolated => "isolated",
                SubinterpreterConfig::Legacy => "legacy",
            },
            stage: SUBINTERPRETER_STAGE,
        }),
        _ => None,
    };
    let job = DriverJob {
        token_var: TOKEN_VAR,
        marker_around: MARKER_AROUND,
        free_threaded: request.free_threaded,
        program: probes::WORKER_STAGE,
        stage: Stage::new(request, &request_json, first_stage(request.probe), None),
        subinterpreter,
    };
    [probes::EXECUTABLE_DRIVER.to_string(), serde_json::to_string(&job).expect("driver jobs serialise")]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::result_marker;

    fn request(probe: ProbeKind, config: Option<SubinterpreterConfig>) -> WorkerRequest {
        WorkerRequest {
            libpython: None,
            executable: "/py/bin/python3.13t".into(),
            free_threaded: true,
            site_packages: vec!["/venv/lib/python3.13t/site-packages".into()],
            probe,
            config,
            modules: vec!["m\"'\n".into()],
            one_by_one: false,
            submodules: 0,
            code: Some("print('{}')".into()),
            threads: 4,
            parent_pid: 1,
        }
    }

    #[test]
    fn a_stage_program_is_the_stage_file_after_its_document() {
        let request = request(ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Legacy));
        let request_json = serde_json::to_string(&request).unwrap();
        let program = stage_program(&request, &request_json, "subinterpreter", "@@m@@ ");
        let (first, rest) = program.split_once('\n').unwrap();
        assert_eq!(rest, probes::WORKER_STAGE);
        let literal = first.strip_prefix("_FTPROBE_STAGE = ").unwrap();
        let text: String = serde_json::from_str(literal).unwrap();
        let document: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(document["token_var"], TOKEN_VAR);
        assert_eq!(document["marker"], "@@m@@ ");
        assert_eq!(document["request"], request_json.as_str());
        assert_eq!(document["stage"], "subinterpreter");
        assert_eq!(document["site_packages"][0], "/venv/lib/python3.13t/site-packages");
        assert_eq!(document["executable"], "/py/bin/python3.13t");
        assert_eq!(document["scripts"][0][0], "extension_watch.py");
        assert_eq!(document["scripts"][1][0], "subinterpreter.py");
        assert_eq!(document["scripts"][1][1], probes::SUBINTERPRETER);
    }

    #[test]
    fn the_driver_gets_a_job_without_the_token() {
        let [program, job] = executable_driver(&request(ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Legacy)));
        assert_eq!(program, probes::EXECUTABLE_DRIVER);
        let job: serde_json::Value = serde_json::from_str(&job).unwrap();
        let [before, after] = [&job["marker_around"][0], &job["marker_around"][1]].map(|v| v.as_str().unwrap());
        assert_eq!(format!("{before}abc{after}"), result_marker("abc"));
        assert_eq!(job["token_var"], TOKEN_VAR);
        assert_eq!(job["stage"]["marker"], serde_json::Value::Null);
        assert_eq!(job["stage"]["stage"], "main");
        assert_eq!(job["subinterpreter"]["preset"], "legacy");
        assert_eq!(job["subinterpreter"]["stage"], "subinterpreter");
        assert_eq!(job["program"], probes::WORKER_STAGE);

        let [_, job] = executable_driver(&request(ProbeKind::Threads, None));
        let job: serde_json::Value = serde_json::from_str(&job).unwrap();
        assert_eq!(job["stage"]["stage"], "threads");
        assert_eq!(job["stage"]["scripts"][1][0], "threads.py");
        assert_eq!(job["subinterpreter"], serde_json::Value::Null);
    }
}
