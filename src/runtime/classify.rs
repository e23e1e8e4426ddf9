//! Turning a finished worker into a [`ProbeResult`]: how the process ended
//! (signal, timeout, stall), then what the probe script reported, then the
//! static verdicts of the extension modules it loaded.

use std::path::PathBuf;

use serde::Serialize;

use super::supervise::WorkerRun;
use super::{Fallback, LoadedExtension, ProbeResult, ProbeSpec, PythonSummary};
use crate::binscan::GilVerdict;
use crate::process::signal_name;
use crate::worker::protocol::{ImportStage, ProbeKind, StageResult};

/// The end of the `error` of a probe whose module is not installed.
pub const NOT_INSTALLED: &str = "is not installed for this interpreter";

/// How a probe ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// The import re-enabled the GIL on a free-threaded build.
    GilEnabled,
    /// The import (or `--code`) raised.
    ImportError,
    /// The worker was killed by a signal.
    Crash,
    /// The worker printed nothing for `--stall` seconds and was killed.
    Deadlock,
    /// The worker ran past `--timeout` and was killed.
    Timeout,
    /// The probe does not apply (default build, module not installed).
    NotApplicable,
    /// ftprobe could not run the probe (libpython failed to load, ...).
    Error,
    /// ftprobe was interrupted (Ctrl-C) before the probe finished or started.
    Interrupted,
    /// The import succeeded, but an extension module refused to load and the
    /// package fell back to another implementation (a warning).
    Fallback,
}

impl Status {
    /// Whether this outcome is an incompatibility (exit code 1).
    pub fn is_problem(self) -> bool {
        matches!(self, Status::GilEnabled | Status::ImportError | Status::Crash | Status::Deadlock | Status::Timeout)
    }
}

impl ProbeResult {
    pub(super) fn into_error(mut self) -> Self {
        self.status = Status::Error;
        self
    }
}

fn base(spec: &ProbeSpec, python: PythonSummary, status: Status, error: Option<String>) -> ProbeResult {
    ProbeResult {
        module: spec.module.clone(),
        python,
        via: None,
        probe: spec.probe,
        config: spec.config,
        status,
        gil_enabled_after: None,
        gil_required_by: Vec::new(),
        error,
        import_seconds: None,
        code_ran: false,
        threads: None,
        extensions: Vec::new(),
        fallbacks: Vec::new(),
        refusals: Vec::new(),
        disagreements: Vec::new(),
        stderr_tail: None,
        environment: Default::default(),
        seconds: 0.0,
        shared_with: None,
    }
}

pub fn not_applicable(spec: &ProbeSpec, python: PythonSummary, why: &str) -> ProbeResult {
    base(spec, python, Status::NotApplicable, Some(why.to_string()))
}

pub fn interrupted(spec: &ProbeSpec, python: PythonSummary, why: &str) -> ProbeResult {
    base(spec, python, Status::Interrupted, Some(why.to_string()))
}

/// The last `lines` lines of stderr.
fn tail_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn classify(spec: &ProbeSpec, python: PythonSummary, run: WorkerRun) -> ProbeResult {
    let mut result = base(spec, python, Status::Ok, None);
    result.environment = run.environment.clone();
    result.seconds = run.captured.elapsed.as_secs_f64();
    result.gil_required_by = run.gil_required_by.clone();
    let stderr = tail_lines(&run.captured.stderr_tail(64 * 1024), 20);
    let problem_tail = (!stderr.is_empty()).then(|| stderr.clone());
    if run.captured.interrupted {
        result.status = Status::Interrupted;
        result.error = Some("ftprobe was interrupted while the probe ran; its worker was killed".into());
        return result;
    }
    if run.captured.timed_out {
        let (status, why) = if run.captured.stalled {
            (Status::Deadlock, "printed nothing for the stall period and was killed (a deadlock or a hang)")
        } else {
            (Status::Timeout, "ran past --timeout and was killed")
        };
        result.status = status;
        result.error = Some(format!("the worker {why}"));
        result.stderr_tail = problem_tail;
        return result;
    }
    // A fatal error while CPython itself starts (its runtime state is not yet
    // "initialized") is a broken interpreter, not a crashing package.
    if let Some(fatal) = startup_failure(&stderr).filter(|_| run.results.is_empty()) {
        result.status = Status::Error;
        result.error = Some(format!("the interpreter failed to start: {fatal}"));
        result.stderr_tail = problem_tail;
        return result;
    }
    if let Some(signal) = run.captured.signal() {
        result.status = Status::Crash;
        result.error = Some(format!("the worker was killed by {}", signal_name(signal)));
        result.stderr_tail = problem_tail;
        return result;
    }
    // CPython printed a fatal error, yet the process lived on (a handler
    // returned): never a pass.
    if let Some(fatal) = fatal_error_line(&stderr) {
        result.status = Status::Crash;
        result.error = Some(fatal);
        result.stderr_tail = problem_tail;
        return result;
    }
    if let Some(error) = run.results.iter().find_map(|r| match r {
        StageResult::Error { error } => Some(error.clone()),
        _ => None,
    }) {
        result.status = Status::Error;
        result.error = Some(error);
        return result;
    }
    if let Some(bad) = run.malformed.first() {
        result.status = Status::Error;
        result.error = Some(format!("the worker's answer did not parse (an ftprobe bug, please report it): {bad}"));
        return result;
    }
    let outcome = match spec.probe {
        ProbeKind::FreeThreading => free_threading(&mut result, &run),
        ProbeKind::Subinterpreter => subinterpreter(&mut result, &run),
        ProbeKind::Threads => threads(&mut result, &run),
    };
    if result.status == Status::Ok && !result.fallbacks.is_empty() {
        result.status = Status::Fallback;
        let names: Vec<String> = result.fallbacks.iter().map(|f| format!("{} ({})", f.module, f.error)).collect();
        result.error = Some(format!("fell back: {}", names.join("; ")));
    }
    if outcome.is_none() {
        result.status = Status::Error;
        result.error = Some(format!("the worker gave no result ({})", run.captured.status));
    }
    if result.status != Status::Ok {
        result.stderr_tail = problem_tail;
    }
    result
}

/// The "Fatal Python error" line, when CPython reports it died before its
/// runtime was fully initialised (`Python runtime state: core initialized`).
fn startup_failure(stderr: &str) -> Option<String> {
    let state = stderr.lines().find_map(|l| l.strip_prefix("Python runtime state: "))?.trim();
    if state == "initialized" || state == "finalizing" {
        return None;
    }
    fatal_error_line(stderr)
}

/// CPython's `Fatal Python error: ...` line in a worker's stderr, trimmed.
pub(super) fn fatal_error_line(stderr: &str) -> Option<String> {
    stderr.lines().find(|l| l.starts_with("Fatal Python error: ")).map(|l| l.trim().to_string())
}

/// The import stage of that name (`main` or `subinterpreter`).
fn import_stage(run: &WorkerRun, subinterpreter: bool) -> Option<&ImportStage> {
    run.results.iter().find_map(|r| match (r, subinterpreter) {
        (StageResult::Main(stage), false) | (StageResult::Subinterpreter(stage), true) => Some(stage),
        _ => None,
    })
}

/// Sets the status from the top-level import; false when it failed.
fn top_import(result: &mut ProbeResult, stage: &ImportStage) -> bool {
    let Some(first) = stage.imports.first() else { return false };
    if first.ok {
        result.import_seconds = first.seconds;
        return true;
    }
    let error = first.error.clone().unwrap_or_else(|| "the import failed".into());
    let top = result.module.split('.').next().unwrap_or_default();
    let refusals = failures(stage);
    let missing = error.starts_with(&format!("ModuleNotFoundError: No module named '{top}'")) && refusals.is_empty();
    result.status = if missing { Status::NotApplicable } else { Status::ImportError };
    result.error = Some(if missing { format!("{top} {NOT_INSTALLED}") } else { caused_by(error, &refusals) });
    result.refusals = refusals;
    false
}

/// An import's error, with the extension modules that refused to load
/// before it named as its cause.
fn caused_by(error: String, refusals: &[Fallback]) -> String {
    if refusals.is_empty() {
        return error;
    }
    let named: Vec<String> = refusals.iter().map(|f| format!("{} refused to load ({})", f.module, f.error)).collect();
    format!("{}, then {error}", named.join("; "))
}

/// Records what `--code` did; an error makes the probe an import error.
fn code_outcome(result: &mut ProbeResult, stage: &ImportStage) {
    result.code_ran = stage.code_ran;
    if let Some(error) = stage.code_error.as_ref().filter(|_| result.status == Status::Ok) {
        result.status = Status::ImportError;
        result.error = Some(format!("--code raised {error}"));
    }
}

fn free_threading(result: &mut ProbeResult, run: &WorkerRun) -> Option<()> {
    let main = import_stage(run, false)?;
    if !top_import(result, main) {
        return Some(());
    }
    let before = main.gil_enabled_before.unwrap_or(false);
    result.gil_enabled_after = main.gil_enabled_after;
    if main.gil_enabled_after == Some(true) && !before || !result.gil_required_by.is_empty() {
        result.status = Status::GilEnabled;
        if result.gil_required_by.is_empty() {
            result.error = Some("the GIL was enabled, but CPython named no module".into());
        }
    }
    if let Some(error) = &main.code_error {
        result.status = Status::ImportError;
        result.error = Some(format!("--code raised {error}"));
    }
    result.code_ran = main.code_ran;
    cross_check(result, &main.extensions);
    result.fallbacks = failures(main);
    Some(())
}

/// The extension modules a stage says raised while loading.
fn failures(stage: &ImportStage) -> Vec<Fallback> {
    stage
        .failed_extensions
        .iter()
        .map(|f| Fallback {
            module: f.module.clone(),
            file: f.file.as_ref().map(PathBuf::from),
            error: f.error.clone(),
        })
        .collect()
}

/// Fallbacks in a subinterpreter: modules that raised there, and modules
/// the same import loaded in the main interpreter but not there.
fn subinterpreter_fallbacks(main: &ImportStage, sub: &ImportStage) -> Vec<Fallback> {
    // What failed in the main interpreter too is not about subinterpreters.
    let failed_in_main = failures(main);
    let mut out: Vec<Fallback> =
        failures(sub).into_iter().filter(|f| !failed_in_main.iter().any(|m| m.module == f.module)).collect();
    for (module, file) in &main.extensions {
        if !sub.extensions.contains_key(module) && !out.iter().any(|f| f.module == *module) {
            out.push(Fallback {
                module: module.clone(),
                file: Some(PathBuf::from(file)),
                error: "loaded by the same import in the main interpreter, but not in the subinterpreter".into(),
            });
        }
    }
    one_name_per_file(out)
}

/// One fallback per extension file: a package that re-exports modules under
/// other names (`requests.packages.chardet.cd` is `charset_normalizer.cd`)
/// shows the file once, under its own name (the fewest dots, then the shortest).
fn one_name_per_file(fallbacks: Vec<Fallback>) -> Vec<Fallback> {
    let rank = |f: &Fallback| (f.module.matches('.').count(), f.module.len(), f.module.clone());
    let mut kept: Vec<Fallback> = Vec::new();
    for fallback in fallbacks {
        match kept.iter_mut().find(|k| k.file.is_some() && k.file == fallback.file) {
            Some(existing) if rank(&fallback) < rank(existing) => *existing = fallback,
            Some(_) => {}
            None => kept.push(fallback),
        }
    }
    kept
}

/// Scans each loaded extension file once and compares its declaration with
/// what CPython did. One file may sit in `sys.modules` under several names
/// (Cython also registers the name it was compiled as), so names are grouped
/// by file and the dotted one is shown.
fn cross_check(result: &mut ProbeResult, files: &std::collections::BTreeMap<String, String>) {
    let mut by_file: std::collections::BTreeMap<PathBuf, Vec<String>> = Default::default();
    for (module, file) in files {
        by_file.entry(PathBuf::from(file)).or_default().push(module.clone());
    }
    // All at once through the scanner: stub modules are read in the library
    // they jump to, once per library.
    let inputs: Vec<crate::scan::Input> = by_file.keys().map(|f| crate::scan::Input::found(f.clone())).collect();
    let targets = crate::scan::scan_paths(&inputs, crate::scan::Options::default());
    for ((file, names), target) in by_file.into_iter().zip(targets) {
        let module = names.iter().max_by_key(|n| n.matches('.').count()).cloned().unwrap_or_default();
        let report = target.extensions.into_iter().find_map(|e| e.report.filter(|r| r.is_extension && !r.alias));
        let static_gil = report.as_ref().and_then(|r| r.gil);
        let runtime_requires_gil = result.gil_required_by.iter().any(|m| names.contains(m));
        match (static_gil, runtime_requires_gil) {
            (Some(GilVerdict::NotUsed), true) => result
                .disagreements
                .push(format!("{module}: the binary declares Py_MOD_GIL_NOT_USED, yet CPython enabled the GIL for it")),
            (Some(GilVerdict::Used), false) => result.disagreements.push(format!(
                "{module}: the binary does not declare free-threading support, yet the GIL stayed off for it"
            )),
            _ => {}
        }
        let fix = runtime_requires_gil.then(|| {
            let generator = report.as_ref().and_then(|r| r.generator.as_ref().map(|g| g.name));
            crate::diagnostic::hints::declare_free_threading(generator, report.as_ref().and_then(|r| r.init))
        });
        result.extensions.push(LoadedExtension { module, file, static_gil, runtime_requires_gil, fix });
    }
}

fn subinterpreter(result: &mut ProbeResult, run: &WorkerRun) -> Option<()> {
    let main = import_stage(run, false)?;
    if !top_import(result, main) {
        // A module that cannot be imported at all says nothing about subinterpreters.
        return Some(());
    }
    if let Some(error) = run.results.iter().find_map(|r| match r {
        StageResult::SubinterpreterFailed { error } => Some(error),
        _ => None,
    }) {
        result.status = Status::Error;
        result.error = Some(format!("could not create the subinterpreter: {error}"));
        return Some(());
    }
    let sub = import_stage(run, true)?;
    match sub.imports.first() {
        Some(first) if first.ok => result.fallbacks = subinterpreter_fallbacks(main, sub),
        first => {
            // What refused here, and not in the main interpreter, caused it.
            let failed_in_main = failures(main);
            let refusals: Vec<Fallback> =
                failures(sub).into_iter().filter(|f| !failed_in_main.iter().any(|m| m.module == f.module)).collect();
            let error = first.and_then(|f| f.error.clone()).unwrap_or_else(|| "the import failed".into());
            result.status = Status::ImportError;
            result.error = Some(caused_by(error, &refusals));
            result.refusals = refusals;
        }
    }
    code_outcome(result, sub);
    Some(())
}

fn threads(result: &mut ProbeResult, run: &WorkerRun) -> Option<()> {
    let outcome = run.results.iter().find_map(|r| match r {
        StageResult::Threads(stage) => Some(stage),
        _ => None,
    })?;
    result.gil_enabled_after = outcome.gil_enabled_after;
    result.threads = Some(outcome.threads);
    result.code_ran = outcome.code_ran;
    if let Some(first) = outcome.errors.first() {
        result.status = Status::ImportError;
        result.error = Some(format!("{} thread(s) raised; first: {first}", outcome.errors.len()));
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_re_exported_under_other_names_falls_back_once() {
        let fallback = |module: &str, file: Option<&str>| Fallback {
            module: module.into(),
            file: file.map(PathBuf::from),
            error: "refused".into(),
        };
        let kept = one_name_per_file(vec![
            fallback("requests.packages.chardet.cd", Some("/site/charset_normalizer/cd.so")),
            fallback("charset_normalizer.cd", Some("/site/charset_normalizer/cd.so")),
            fallback("requests.packages.charset_normalizer.cd", Some("/site/charset_normalizer/cd.so")),
            fallback("other._speedups", None),
        ]);
        let names: Vec<&str> = kept.iter().map(|f| f.module.as_str()).collect();
        assert_eq!(names, ["charset_normalizer.cd", "other._speedups"]);
    }
}
