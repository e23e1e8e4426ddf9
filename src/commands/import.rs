//! `ftprobe import`: runtime probes in isolated worker processes.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::ImportArgs;
use crate::commands::output::{Output, emit};
use crate::discover::{Finder, Interpreter};
use crate::error::{CouldNotRun, EXIT_COULD_NOT_RUN, EXIT_FINDINGS, EXIT_OK};
use crate::printer::{Color, Printer};
use crate::report::table::Table;
use crate::runtime::report::probe_label;
use crate::runtime::{self, ProbeResult, RunOptions, Status};
use crate::worker::protocol::ProbeKind;

pub fn run(args: &ImportArgs, printer: &Printer) -> Result<ExitCode> {
    if !(args.timeout > 0.0 && args.stall > 0.0) {
        bail!("--timeout and --stall must be positive numbers of seconds");
    }
    let interpreters = select_interpreters(&args.pythons)?;
    let specs = runtime::plan(&interpreters, &args.modules, &args.probes, args.repeat);
    let options = RunOptions {
        submodules: args.submodules,
        code: args.code.clone(),
        threads: args.threads,
        timeout: Duration::from_secs_f64(args.timeout),
        stall: Duration::from_secs_f64(args.stall),
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().context("cannot start worker threads")?;
    let results = pool.install(|| runtime::run_all(&specs, &options));
    let output = Output {
        title: "runtime probes",
        checks: runtime::report::checks(&results),
        table: &|| render(&results, printer),
        json: &|| Ok(serde_json::to_string_pretty(&results)? + "\n"),
    };
    emit(&output, args.format, args.output.as_deref(), printer)?;
    Ok(ExitCode::from(exit_code(&results)))
}

/// `--python` values, or one usable interpreter per release line and build kind.
fn select_interpreters(specs: &[String]) -> Result<Vec<Interpreter>> {
    let finder = Finder::default();
    if !specs.is_empty() {
        return Ok(finder.resolve_all(specs)?);
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
    Ok(chosen)
}

/// 1 when a probe found an incompatibility, 3 when one could not run, else 0.
fn exit_code(results: &[ProbeResult]) -> u8 {
    if results.iter().any(|r| r.status.is_problem() || !r.disagreements.is_empty()) {
        EXIT_FINDINGS
    } else if results.iter().any(|r| r.status == Status::Error) {
        EXIT_COULD_NOT_RUN
    } else {
        EXIT_OK
    }
}

fn status_text(status: Status, printer: &Printer) -> String {
    let text = crate::report::name_of(&status);
    match status {
        Status::Ok => printer.paint(&text, Color::Green),
        Status::NotApplicable => text,
        Status::Error => printer.paint(&text, Color::Yellow),
        _ => printer.paint(&text, Color::Red),
    }
}

/// The line of a long error that says what happened: numpy and pandas wrap
/// the real cause ("Original error was: ...") in paragraphs of advice.
fn telling_line(error: &str) -> String {
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
        let python = format!("{}{}", r.python.version, if r.python.free_threaded { "t" } else { "" });
        let details = if !r.gil_required_by.is_empty() {
            format!("GIL required by: {}", r.gil_required_by.join(", "))
        } else if r.status == Status::Ok && r.probe == ProbeKind::FreeThreading {
            let seconds = r.import_seconds.map_or(String::new(), |s| format!(" (import {:.0} ms)", s * 1000.0));
            format!("GIL stayed disabled{seconds}")
        } else {
            telling_line(r.error.as_deref().unwrap_or_default())
        };
        table.push([r.module.clone(), python, probe_label(r), status_text(r.status, printer), details]);
        for d in &r.disagreements {
            notes.push(format!("{} on {}: static and runtime disagree: {d}", r.module, r.python.version));
        }
        if let Some(tail) =
            r.stderr_tail.as_ref().filter(|_| matches!(r.status, Status::Crash | Status::Deadlock | Status::Timeout))
        {
            notes.push(format!(
                "{} on {} ({}), last stderr lines:\n    {}",
                r.module,
                r.python.version,
                probe_label(r),
                tail.replace('\n', "\n    ")
            ));
        }
    }
    let mut out = table.render();
    for note in notes {
        out.push_str(&format!("\n{note}\n"));
    }
    out
}
