//! `ftprobe import`'s engine: plan one worker per (interpreter, module,
//! probe), run them in parallel with rayon, and classify each outcome. A
//! crashing or hanging worker becomes a result; the parent goes on. A
//! distribution's many import names can share one worker per probe
//! ([`run_grouped`], [`group`]).

mod classify;
mod group;
pub mod report;
mod supervise;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::discover::Interpreter;
use crate::worker::protocol::{ProbeKind, SubinterpreterConfig, WorkerRequest};
pub use classify::{NOT_INSTALLED, Status};

/// One probe to run.
#[derive(Clone, Debug)]
pub struct ProbeSpec {
    pub interpreter: Interpreter,
    pub module: String,
    pub probe: ProbeKind,
    pub config: Option<SubinterpreterConfig>,
    /// For repeated thread probes: which repetition.
    pub round: u32,
}

/// Options shared by every probe of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub submodules: u32,
    pub code: Option<String>,
    pub threads: u32,
    pub timeout: Duration,
    pub stall: Duration,
}

/// The interpreter a result is about.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PythonSummary {
    pub version: String,
    pub free_threaded: bool,
    #[serde(serialize_with = "crate::model::paths::lossy")]
    pub executable: PathBuf,
}

impl PythonSummary {
    pub fn of(interpreter: &Interpreter) -> Self {
        PythonSummary {
            version: interpreter.version.clone(),
            free_threaded: interpreter.free_threaded,
            executable: interpreter.executable.clone(),
        }
    }

    /// `3.13.5t`: the version, with `t` for a free-threaded build.
    pub fn label(&self) -> String {
        format!("{}{}", self.version, if self.free_threaded { "t" } else { "" })
    }
}

/// A loaded extension module, with its static verdict next to what happened.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoadedExtension {
    pub module: String,
    #[serde(serialize_with = "crate::model::paths::lossy")]
    pub file: PathBuf,
    /// What the binary declares (from the scanner), if it could be read.
    pub static_gil: Option<crate::binscan::GilVerdict>,
    /// Whether CPython said this module requires the GIL.
    pub runtime_requires_gil: bool,
    /// How to declare free-threading support, for the generator that built
    /// it (when it required the GIL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// An extension module that refused to load where the probe ran while the
/// package still imported: it fell back to another implementation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fallback {
    pub module: String,
    #[serde(serialize_with = "crate::model::paths::lossy_option")]
    pub file: Option<PathBuf>,
    /// The exception, or why it counts as missing.
    pub error: String,
}

/// The outcome of one probe (`ftprobe import --format json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProbeResult {
    pub module: String,
    pub python: PythonSummary,
    /// How the probe ran: in ftprobe's worker with libpython loaded, or in
    /// the interpreter's own executable (no shared libpython). None when it
    /// did not run.
    #[serde(default)]
    pub via: Option<crate::discover::ProbePath>,
    pub probe: ProbeKind,
    pub config: Option<SubinterpreterConfig>,
    pub status: Status,
    pub gil_enabled_after: Option<bool>,
    /// Every module CPython named as requiring the GIL.
    pub gil_required_by: Vec<String>,
    pub error: Option<String>,
    pub import_seconds: Option<f64>,
    /// Extra code ran after the imports (`--code`, `probes/specific/`).
    pub code_ran: bool,
    /// For the threads probe: how many threads imported at once.
    pub threads: Option<u32>,
    /// Extension modules loaded by a free-threading probe, with their static verdicts.
    pub extensions: Vec<LoadedExtension>,
    /// Extension modules that refused to load where the probe ran while the
    /// import still succeeded (the package fell back, often to pure Python).
    pub fallbacks: Vec<Fallback>,
    /// Extension modules that refused to load during an import that then
    /// failed: the cause, whatever exception surfaced (a shim that raises
    /// `ModuleNotFoundError` once its accelerator refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Fallback>,
    /// Static and runtime verdicts that disagree, one sentence each.
    pub disagreements: Vec<String>,
    /// The last lines of the worker's stderr when something went wrong.
    pub stderr_tail: Option<String>,
    /// The variables set for the worker (PYTHON_GIL, PYTHONPATH and similar are removed).
    pub environment: BTreeMap<String, String>,
    pub seconds: f64,
    /// How many import names the worker probed one after another, this one
    /// among them (`batch`); absent for a worker of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<u32>,
}

/// Which probes to run, by default: the GIL on free-threaded builds, and both
/// subinterpreter configurations everywhere.
pub fn plan(interpreters: &[Interpreter], modules: &[String], probes: &[ProbeKind], repeat: u32) -> Vec<ProbeSpec> {
    let kinds: Vec<ProbeKind> =
        if probes.is_empty() { vec![ProbeKind::FreeThreading, ProbeKind::Subinterpreter] } else { probes.to_vec() };
    let mut specs = Vec::new();
    for interpreter in interpreters {
        for module in modules {
            for kind in &kinds {
                let spec = |config, round| ProbeSpec {
                    interpreter: interpreter.clone(),
                    module: module.clone(),
                    probe: *kind,
                    config,
                    round,
                };
                match kind {
                    ProbeKind::Subinterpreter => {
                        specs.push(spec(Some(SubinterpreterConfig::Isolated), 0));
                        specs.push(spec(Some(SubinterpreterConfig::Legacy), 0));
                    }
                    ProbeKind::Threads => specs.extend((0..repeat.max(1)).map(|r| spec(None, r))),
                    ProbeKind::FreeThreading => specs.push(spec(None, 0)),
                }
            }
        }
    }
    specs
}

/// Runs every probe, in parallel, one worker process each; results follow the plan's order.
pub fn run_all(specs: &[ProbeSpec], options: &RunOptions) -> Vec<ProbeResult> {
    specs.par_iter().map(|spec| run_one(spec, options)).collect()
}

/// Runs every probe, in parallel; the names probed the same way in the same
/// interpreter share one worker, which imports them one after another
/// ([`group`]). Each name still gets its own result, the same as from its
/// own worker; results follow the plan's order.
/// `FTPROBE_ONE_WORKER_PER_NAME=1` turns the sharing off (to compare).
pub fn run_grouped(specs: &[ProbeSpec], options: &RunOptions) -> Vec<ProbeResult> {
    let groups = if std::env::var("FTPROBE_ONE_WORKER_PER_NAME").is_ok_and(|v| v == "1") {
        (0..specs.len()).map(|i| vec![i]).collect()
    } else {
        group::plan(specs, options)
    };
    // One task per group, so that two large groups never queue on one thread.
    let mut numbered: Vec<(usize, ProbeResult)> =
        groups.par_iter().with_max_len(1).flat_map(|members| group::run(members, specs, options)).collect();
    numbered.sort_by_key(|(index, _)| *index);
    numbered.into_iter().map(|(_, result)| result).collect()
}

/// How the probe runs: in ftprobe's worker with libpython loaded, or in the
/// interpreter's executable. `FTPROBE_PROBES_VIA=executable` forces the
/// executable even where a libpython exists (to compare the two paths, or
/// to work around a library that will not load).
fn probe_path(interpreter: &Interpreter) -> crate::discover::ProbePath {
    let forced = std::env::var("FTPROBE_PROBES_VIA").is_ok_and(|v| v == "executable");
    if forced { crate::discover::ProbePath::Executable } else { interpreter.probes_via }
}

/// The code run after the imports: the package's own extra check
/// (`probes/specific/`), then `--code`.
fn extra_code(spec: &ProbeSpec, options: &RunOptions) -> Option<String> {
    let specific = crate::probes::specific(&spec.module, probe_name(spec.probe));
    match (specific, &options.code) {
        (Some(s), Some(user)) => Some(format!("{s}\n{user}")),
        (Some(s), None) => Some(s.to_string()),
        (None, user) => user.clone(),
    }
}

/// The worker's job for `spec`'s probe of `modules`.
/// What a worker is asked to do for `spec`, and the way it reaches the
/// interpreter (its libpython, or its executable).
fn worker_request(
    spec: &ProbeSpec,
    options: &RunOptions,
    modules: Vec<String>,
    one_by_one: bool,
) -> (WorkerRequest, crate::discover::ProbePath) {
    let via = probe_path(&spec.interpreter);
    let request = WorkerRequest {
        libpython: spec.interpreter.libpython.clone().filter(|_| via == crate::discover::ProbePath::Libpython),
        executable: spec.interpreter.executable.clone(),
        free_threaded: spec.interpreter.free_threaded,
        site_packages: spec.interpreter.site_packages.clone(),
        probe: spec.probe,
        config: spec.config,
        modules,
        one_by_one,
        submodules: options.submodules,
        code: extra_code(spec, options),
        threads: options.threads,
        parent_pid: std::process::id(),
    };
    (request, via)
}

fn run_one(spec: &ProbeSpec, options: &RunOptions) -> ProbeResult {
    let python = PythonSummary::of(&spec.interpreter);
    if crate::interrupt::requested() {
        return classify::interrupted(spec, python, "not run: ftprobe was interrupted first");
    }
    if spec.probe == ProbeKind::FreeThreading && !spec.interpreter.free_threaded {
        return classify::not_applicable(spec, python, "not a free-threaded build: the GIL is always on");
    }
    let (request, via) = worker_request(spec, options, vec![spec.module.clone()], false);
    let mut result = match supervise::run_worker(&request, &spec.interpreter, options.timeout, options.stall) {
        Ok(run) => classify::classify(spec, python, run),
        Err(e) => classify::not_applicable(spec, python, &format!("could not start a worker: {e}")).into_error(),
    };
    result.via = Some(via);
    result
}

/// The name used in `probes/specific/<module>_<probe>.py`.
pub fn probe_name(kind: ProbeKind) -> &'static str {
    match kind {
        ProbeKind::FreeThreading => "freethreading",
        ProbeKind::Subinterpreter => "subinterpreters",
        ProbeKind::Threads => "threads",
    }
}
