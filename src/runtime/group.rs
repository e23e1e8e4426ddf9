//! Many import names, one worker per probe: a distribution such as
//! googleapis-common-protos has dozens of import names, and a worker per
//! name and probe costs a process start-up, a libpython load and the import
//! of everything the names share, each time. Here the names probed the same
//! way in the same interpreter go to one worker. Each of its stages (the
//! main interpreter; then one subinterpreter, for a subinterpreter probe)
//! imports the names one after another and prints a line per name with
//! what that name's import depends on, including modules an earlier name
//! loaded (the probe scripts record the import graph). Each name's lines
//! are classified exactly as those of a worker of its own.
//!
//! A worker that crashes or hangs costs no answer: the names it did not
//! finish, with the last one it did, get a worker each, as before, so the
//! crash or hang is attributed to its own module. So do the names after one
//! whose import turned the GIL on without CPython naming a module, which
//! the import graph cannot attribute.

use std::time::Duration;

use rayon::prelude::*;

use super::supervise::{self, WorkerRun};
use super::{ProbeResult, ProbeSpec, PythonSummary, RunOptions, classify, probe_path, run_one, worker_request};
use crate::discover::ProbePath;
use crate::process::Captured;
use crate::worker::protocol::{ImportStage, ProbeKind, StageResult};

/// Splits the plan into groups of spec indices: specs that can share a
/// worker (same interpreter, probe, configuration and round, no code to run
/// after the imports, probed through libpython) together, in plan order;
/// every other spec alone.
pub(super) fn plan(specs: &[ProbeSpec], options: &RunOptions) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        let joins = shareable(spec, options).then(|| {
            groups.iter_mut().find(|group| {
                let first = &specs[group[0]];
                shareable(first, options) && same_worker(first, spec)
            })
        });
        match joins.flatten() {
            Some(group) => group.push(index),
            None => groups.push(vec![index]),
        }
    }
    groups
}

/// Whether a spec may share its worker with others.
fn shareable(spec: &ProbeSpec, options: &RunOptions) -> bool {
    let kind = match spec.probe {
        ProbeKind::FreeThreading => spec.interpreter.free_threaded,
        ProbeKind::Subinterpreter => true,
        // The threads probe races imports; it stays one name per worker.
        ProbeKind::Threads => false,
    };
    kind && super::extra_code(spec, options).is_none()
        && probe_path(&spec.interpreter) == ProbePath::Libpython
        && spec.interpreter.libpython.is_some()
}

fn same_worker(a: &ProbeSpec, b: &ProbeSpec) -> bool {
    a.interpreter.executable == b.interpreter.executable
        && a.interpreter.site_packages == b.interpreter.site_packages
        && (a.probe, a.config, a.round) == (b.probe, b.config, b.round)
}

/// Runs one group: its results, each with its index in the plan.
pub(super) fn run(members: &[usize], specs: &[ProbeSpec], options: &RunOptions) -> Vec<(usize, ProbeResult)> {
    let one_each = |indices: &[usize]| -> Vec<(usize, ProbeResult)> {
        indices.par_iter().map(|&i| (i, run_one(&specs[i], options))).collect()
    };
    if members.len() < 2 || crate::interrupt::requested() {
        return one_each(members);
    }
    let first = &specs[members[0]];
    let modules: Vec<String> = members.iter().map(|&i| specs[i].module.clone()).collect();
    let (request, _) = worker_request(first, options, modules, true);
    // The worker probes every name: each may take the time one worker may.
    let timeout = options.timeout.checked_mul(members.len() as u32).unwrap_or(Duration::MAX);
    let Ok(run) = supervise::run_worker(&request, &first.interpreter, timeout, options.stall) else {
        return one_each(members);
    };
    let parts = split(&run.results, &request.modules, first.probe);
    let mut finished = parts.iter().take_while(|part| part.is_some()).count();
    if !ended_normally(&run, members.len(), finished) {
        // The last name it finished may have caused what came after.
        finished = finished.saturating_sub(1);
    }
    let mut out = Vec::new();
    let mut again = Vec::new();
    let mut trusted = true;
    for (position, &index) in members.iter().enumerate() {
        let spec = &specs[index];
        match parts[position].as_ref().filter(|_| trusted && position < finished) {
            Some(part) => {
                let mut result = classify_part(spec, &run, part);
                result.shared_with = Some(members.len() as u32);
                trusted = !unattributed_gil(part);
                out.push((index, result));
            }
            None => again.push(index),
        }
    }
    // The name in progress when Ctrl-C killed the worker was interrupted
    // while it ran; the rest never started.
    if run.captured.interrupted
        && let Some((&index, rest)) = again.split_first()
    {
        let spec = &specs[index];
        out.push((index, classify::classify(spec, PythonSummary::of(&spec.interpreter), run)));
        out.extend(one_each(rest));
        return out;
    }
    out.extend(one_each(&again));
    out
}

/// The result lines of one name.
struct Part {
    seconds: f64,
    lines: Vec<StageResult>,
}

/// Each name's lines, in the order of `names`: None for a name the worker
/// did not finish (no main-interpreter line, or, for a subinterpreter probe,
/// no subinterpreter line and no word that the subinterpreter failed).
fn split(results: &[StageResult], names: &[String], probe: ProbeKind) -> Vec<Option<Part>> {
    let about = |name: &str, subinterpreter: bool| {
        results.iter().find_map(|line| match (line, subinterpreter) {
            (StageResult::Main(stage), false) | (StageResult::Subinterpreter(stage), true)
                if stage.module.as_deref() == Some(name) =>
            {
                Some(stage.clone())
            }
            _ => None,
        })
    };
    let failed = results.iter().find(|line| matches!(line, StageResult::SubinterpreterFailed { .. }));
    names
        .iter()
        .map(|name| {
            let main = about(name, false)?;
            let mut seconds = main.seconds.unwrap_or_default();
            let mut lines = vec![StageResult::Main(main)];
            if probe == ProbeKind::Subinterpreter {
                match (about(name, true), failed) {
                    (Some(sub), _) => {
                        seconds += sub.seconds.unwrap_or_default();
                        lines.push(StageResult::Subinterpreter(sub));
                    }
                    (None, Some(failed)) => lines.push(failed.clone()),
                    (None, None) => return None,
                }
            }
            Some(Part { seconds, lines })
        })
        .collect()
}

/// The worker finished every name and exited cleanly, with nothing
/// alarming on stderr and no line of its own saying it could not run.
fn ended_normally(run: &WorkerRun, names: usize, finished: usize) -> bool {
    let captured = &run.captured;
    let stderr = captured.stderr_tail(64 * 1024);
    finished == names
        && captured.status.success()
        && !captured.timed_out
        && !captured.interrupted
        && run.malformed.is_empty()
        && super::classify::fatal_error_line(&stderr).is_none()
        && !run.results.iter().any(|r| matches!(r, StageResult::Error { .. }))
}

/// One name's lines, classified as the result of a worker that probed it
/// alone and exited cleanly. The modules CPython named as requiring the
/// GIL are the ones the probe saw while this name was imported.
fn classify_part(spec: &ProbeSpec, run: &WorkerRun, part: &Part) -> ProbeResult {
    let gil_required_by = main_stage(part).map(|stage| stage.gil_required_by.clone()).unwrap_or_default();
    let one = WorkerRun {
        captured: Captured {
            status: Default::default(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            timed_out: false,
            stalled: false,
            interrupted: false,
            collected: Vec::new(),
            elapsed: Duration::from_secs_f64(part.seconds.max(0.0)),
        },
        results: part.lines.clone(),
        malformed: Vec::new(),
        gil_required_by,
        environment: run.environment.clone(),
    };
    let mut result = classify::classify(spec, PythonSummary::of(&spec.interpreter), one);
    result.via = Some(ProbePath::Libpython);
    result
}

fn main_stage(part: &Part) -> Option<&ImportStage> {
    part.lines.iter().find_map(|line| match line {
        StageResult::Main(stage) => Some(stage),
        _ => None,
    })
}

/// The GIL came on during this name's import with no module named for it:
/// the names after it cannot tell whether it was theirs too.
fn unattributed_gil(part: &Part) -> bool {
    main_stage(part).is_some_and(|main| main.gil_enabled_after == Some(true) && main.gil_required_by.is_empty())
}
