//! `ftprobe import`: runtime probes in isolated worker processes.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::ImportArgs;
use crate::commands::output::{Output, emit};
use crate::discover::{Finder, Interpreter};
use crate::error::{CouldNotRun, EXIT_COULD_NOT_RUN, EXIT_FINDINGS, EXIT_OK};
use crate::printer::{Color, Printer};
use crate::report::table::{Cell, Table};
use crate::report::{escape_controls, escape_controls_keep_lines};
use crate::runtime::report::probe_label;
use crate::runtime::{self, ProbeResult, RunOptions, Status};
use crate::worker::protocol::ProbeKind;

pub fn run(args: &ImportArgs, printer: &Printer) -> Result<ExitCode> {
    crate::interrupt::install();
    let (interpreters, chosen_by_us) = select_interpreters(&args.pythons, printer)?;
    let specs = runtime::plan(&interpreters, &args.modules, &args.probes, args.repeat);
    let options = RunOptions {
        submodules: args.submodules,
        code: args.code.clone(),
        threads: args.threads,
        timeout: args.timeout,
        stall: args.stall,
    };
    let jobs = worker_jobs(args.jobs, specs.len(), printer);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().context("cannot start worker threads")?;
    let mut results = pool.install(|| runtime::run_all(&specs, &options));
    if chosen_by_us {
        skip_where_not_installed(&mut results, printer);
    }
    let output = Output {
        title: "runtime probes",
        checks: runtime::report::checks(&results),
        table: &|checks| {
            let hints = crate::report::hint_lines(checks);
            let hints = if hints.is_empty() { hints } else { format!("\n{hints}") };
            render(&results, printer) + &hints + &via_executable_line(&results) + &interrupted_line(&results)
        },
        json: &|| Ok(serde_json::to_string_pretty(&results)? + "\n"),
    };
    emit(&output, args.format, args.output.as_deref(), printer)?;
    Ok(ExitCode::from(exit_code(&results)))
}

/// How many workers run at once: `-j` (default: the cores), but never more
/// than there are probes or four per core; a lowered `-j` is said.
pub fn worker_jobs(requested: Option<u32>, probes: usize, printer: &Printer) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let wanted = requested.map_or(cores, |j| j as usize);
    let jobs = wanted.min(4 * cores).min(probes.max(1)).max(1);
    if requested.is_some_and(|j| j as usize > 4 * cores) {
        printer.note(&format!("ftprobe: -j {wanted} lowered to {jobs}: at most 4 workers per core ({cores} cores)"));
    }
    jobs
}

/// `--python` values; else the active virtual environment alone, as uv
/// does (`VIRTUAL_ENV`); else one usable interpreter per release line and
/// build kind. The flag says ftprobe chose them.
fn select_interpreters(specs: &[String], printer: &Printer) -> Result<(Vec<Interpreter>, bool)> {
    let finder = Finder::default();
    if !specs.is_empty() {
        return Ok((finder.resolve_all(specs)?, false));
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let venv = venv.to_string_lossy().into_owned();
        let interpreter = finder.resolve(&venv).with_context(|| {
            format!("the active virtual environment {venv} (VIRTUAL_ENV) cannot be used: pass --python to choose an interpreter")
        })?;
        printer.note(&format!("ftprobe: probing the active virtual environment {venv} (pass -p to choose others)"));
        return Ok((vec![interpreter], false));
    }
    let mut chosen: Vec<Interpreter> = Vec::new();
    for interpreter in finder.known().iter().filter(|i| i.is_usable()) {
        let line = |i: &Interpreter| (i.version_info[0], i.version_info[1], i.free_threaded);
        if !chosen.iter().any(|c| line(c) == line(interpreter)) {
            chosen.push(interpreter.clone());
        }
    }
    if chosen.is_empty() {
        return Err(CouldNotRun(
            "no usable interpreter found (CPython 3.12-3.15 with a shared libpython); run scripts/provision-pythons or pass --python".into(),
        )
        .into());
    }
    Ok((chosen, true))
}

/// Drops the interpreters (found, not asked for) where none of the modules
/// is installed, and says so in one line, unless that is all of them.
fn skip_where_not_installed(results: &mut Vec<ProbeResult>, printer: &Printer) {
    let missing_everything = |executable: &std::path::Path| {
        let mine: Vec<&ProbeResult> = results.iter().filter(|r| r.python.executable == executable).collect();
        let not_installed = |r: &&ProbeResult| r.error.as_deref().is_some_and(|e| e.ends_with(runtime::NOT_INSTALLED));
        mine.iter().all(|r| r.status == Status::NotApplicable) && mine.iter().any(not_installed)
    };
    let mut skipped: Vec<(std::path::PathBuf, String)> = Vec::new();
    for result in results.iter() {
        if !skipped.iter().any(|(e, _)| *e == result.python.executable) && missing_everything(&result.python.executable)
        {
            skipped.push((result.python.executable.clone(), result.python.label()));
        }
    }
    let probed: std::collections::BTreeSet<&std::path::Path> =
        results.iter().map(|r| r.python.executable.as_path()).collect();
    if skipped.is_empty() || skipped.len() == probed.len() {
        return;
    }
    results.retain(|r| !skipped.iter().any(|(e, _)| *e == r.python.executable));
    let labels: Vec<&str> = skipped.iter().map(|(_, l)| l.as_str()).collect();
    printer.note(&format!(
        "ftprobe: skipped {} where it is not installed (pass -p to probe an interpreter anyway)",
        labels.join(", ")
    ));
}

/// Which interpreters were probed through their executable (no shared
/// libpython), so a reader knows what the results rest on.
fn via_executable_line(results: &[ProbeResult]) -> String {
    let mut labels: Vec<String> = results
        .iter()
        .filter(|r| r.via == Some(crate::discover::ProbePath::Executable))
        .map(|r| r.python.label())
        .collect();
    labels.sort();
    labels.dedup();
    if labels.is_empty() {
        return String::new();
    }
    format!("\nprobed through the interpreter's own executable (no shared libpython to load): {}\n", labels.join(", "))
}

/// The closing line of an interrupted run's table ("" when not interrupted).
fn interrupted_line(results: &[ProbeResult]) -> String {
    let cut = results.iter().filter(|r| r.status == Status::Interrupted).count();
    if cut == 0 {
        return String::new();
    }
    format!("\nftprobe was interrupted: {} of {} probes finished\n", results.len() - cut, results.len())
}

/// 130 when interrupted, 1 when a probe found an incompatibility, 3 when
/// one could not run, else 0.
fn exit_code(results: &[ProbeResult]) -> u8 {
    if crate::interrupt::requested() {
        crate::interrupt::EXIT_INTERRUPTED
    } else if results.iter().any(|r| r.status.is_problem() || !r.disagreements.is_empty()) {
        EXIT_FINDINGS
    } else if results.iter().any(|r| r.status == Status::Error) {
        EXIT_COULD_NOT_RUN
    } else {
        EXIT_OK
    }
}

fn status_cell(status: Status) -> Cell {
    let text = crate::report::name_of(&status);
    match status {
        Status::Ok => Cell::painted(text, Color::Green),
        Status::NotApplicable => text.into(),
        Status::Error | Status::Fallback => Cell::painted(text, Color::Yellow),
        _ => Cell::painted(text, Color::Red),
    }
}

/// The line of a long error that says what happened: numpy and pandas wrap
/// the real cause ("Original error was: ...") in paragraphs of advice.
fn error_gist(error: &str) -> String {
    let lines: Vec<&str> = error.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.as_slice() {
        [] => String::new(),
        [only] => only.to_string(),
        [first, .., last] => format!("{} ... {last}", first.trim_end_matches(':')),
    }
}

fn render(results: &[ProbeResult], printer: &Printer) -> String {
    let mut table = Table::new(["MODULE", "PYTHON", "PROBE", "STATUS", "DETAILS"]);
    let mut notes = Vec::new();
    for r in results {
        let python = r.python.label();
        let details = if !r.gil_required_by.is_empty() {
            format!("GIL required by: {}", r.gil_required_by.join(", "))
        } else if r.status == Status::Ok && r.probe == ProbeKind::Threads {
            let processes = results
                .iter()
                .filter(|o| {
                    o.probe == ProbeKind::Threads && o.module == r.module && o.python.executable == r.python.executable
                })
                .count();
            let code = if r.code_ran { ", then --code in each" } else { "" };
            format!("{} threads imported at once{code}, in each of {processes} processes", r.threads.unwrap_or(0))
        } else if r.status == Status::Ok && r.probe == ProbeKind::FreeThreading {
            let seconds = r.import_seconds.map_or(String::new(), |s| format!(" (import {:.0} ms)", s * 1000.0));
            format!("GIL stayed disabled{seconds}")
        } else {
            error_gist(r.error.as_deref().unwrap_or_default())
        };
        table.push::<_, Cell>([
            r.module.clone().into(),
            python.into(),
            probe_label(r).into(),
            status_cell(r.status),
            details.into(),
        ]);
        for d in &r.disagreements {
            notes.push(escape_controls(&format!(
                "{} on {}: static and runtime disagree: {d}",
                r.module, r.python.version
            )));
        }
        if let Some(tail) =
            r.stderr_tail.as_ref().filter(|_| matches!(r.status, Status::Crash | Status::Deadlock | Status::Timeout))
        {
            notes.push(format!(
                "{} on {} ({}), last stderr lines:\n    {}",
                r.module,
                r.python.version,
                probe_label(r),
                escape_controls_keep_lines(tail).replace('\n', "\n    ")
            ));
        }
    }
    let mut out = table.render(printer);
    for note in notes {
        out.push_str(&format!("\n{note}\n"));
    }
    out
}
