//! `ftprobe check`: the CI step for a package's own repository.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::check::{self, CheckReport, policy};
use crate::cli::CheckArgs;
use crate::commands::output::{Output, emit};
use crate::diagnostic::checks::{Check, Level, Outcome};
use crate::discover::Finder;
use crate::error::{EXIT_COULD_NOT_RUN, EXIT_FINDINGS, EXIT_OK};
use crate::printer::{Color, Printer};
use crate::runtime::RunOptions;

pub fn run(args: &CheckArgs, printer: &Printer) -> Result<ExitCode> {
    crate::interrupt::install();
    let config = args.config.clone().or_else(|| Some(PathBuf::from("pyproject.toml")).filter(|p| p.is_file()));
    let policy = match &config {
        Some(path) => policy::load(path)?,
        None => policy::Policy::default(),
    }
    .merged(args);
    let wheels = wheels(&args.paths)?;
    if !policy.python.is_empty() {
        super::needs_posix("check --python")?;
    }
    let interpreters = Finder::default().resolve_all(&policy.python)?;
    let options = RunOptions { submodules: 0, code: None, threads: 8, timeout: args.timeout, stall: args.timeout };
    let report = check::run(&wheels, &interpreters, policy, &options);
    let output = Output {
        title: "check",
        checks: report.checks.clone(),
        table: &|_| render(&report, printer),
        json: &|| Ok(serde_json::to_string_pretty(&report)? + "\n"),
    };
    emit(&output, args.format, args.output.as_deref(), printer)?;
    Ok(ExitCode::from(exit_code(&report.checks)))
}

/// The wheels to check: the given paths (folders are searched), else `dist/*.whl`.
fn wheels(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let given: Vec<PathBuf> = if paths.is_empty() { vec![PathBuf::from("dist")] } else { paths.to_vec() };
    for path in &given {
        if !path.exists() {
            bail!(
                "`{}` does not exist; build the wheels first (e.g. `python -m build`) or pass their paths",
                path.display()
            );
        }
    }
    let wheels: Vec<PathBuf> = crate::scan::collect_inputs(&given)
        .into_iter()
        .map(|input| input.path)
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    if wheels.is_empty() {
        let shown: Vec<String> = given.iter().map(|p| p.display().to_string()).collect();
        bail!("no wheels in {}; build them first (e.g. `python -m build`) or pass their paths", shown.join(", "));
    }
    Ok(wheels)
}

/// 130 when interrupted, 1 when an error-level check failed, 3 when
/// something could not be examined, else 0.
fn exit_code(checks: &[Check]) -> u8 {
    if crate::interrupt::requested() {
        crate::interrupt::EXIT_INTERRUPTED
    } else if checks.iter().any(Check::is_error) {
        EXIT_FINDINGS
    } else if checks.iter().any(|c| c.outcome == Outcome::Error) {
        EXIT_COULD_NOT_RUN
    } else {
        EXIT_OK
    }
}

fn render(report: &CheckReport, printer: &Printer) -> String {
    let mut out = String::new();
    for wheel in &report.wheels {
        let name = wheel.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let claim = if wheel.claims_free_threading { "claims free-threading" } else { "no free-threading claim" };
        let line = format!("{name}: {claim}; importable as {}", wheel.top_level.join(", "));
        out.push_str(&crate::report::escape_controls(&line));
        out.push('\n');
    }
    if report.probes.is_empty() {
        out.push_str(
            "runtime probes: none (pass --python, or set `python` in [tool.ftprobe], to probe the installed package)\n",
        );
    }
    out.push('\n');
    for c in report.checks.iter().filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error | Outcome::Skip)) {
        let label = match (c.outcome, c.level) {
            (Outcome::Skip, _) => "skipped".to_string(),
            (Outcome::Error, _) | (_, Level::Error) => printer.paint("error", Color::Red),
            _ => printer.paint("warning", Color::Yellow),
        };
        let rule = c.rule.map(|r| format!("[{r}]")).unwrap_or_default();
        let text = format!("{} / {}: {}", c.group, c.name, c.message.as_deref().unwrap_or(""));
        out.push_str(&format!("{label}{rule} {}\n", crate::report::escape_controls(&text)));
    }
    let hints = crate::report::hint_lines(&report.checks);
    if !hints.is_empty() {
        out.push('\n');
        out.push_str(&hints);
    }
    out.push_str(&format!("\nftprobe check: {}\n", crate::diagnostic::checks::Summary::of(&report.checks)));
    out
}
