//! `ftprobe report` renders a run directory, `ftprobe merge` joins several,
//! `ftprobe compare` sets two side by side and `ftprobe flaky` picks out a
//! test run's unstable tests; all read only run directories.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{CompareArgs, FlakyArgs, MergeArgs, ReportArgs, ReportFormat};
use crate::printer::Printer;
use crate::report::{runs, suite};
use crate::run::RunKind;

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let (meta, rows) = crate::run::read(&args.run)?;
    let printer = if args.output.is_some() { Printer::plain() } else { Printer::from_env() };
    let (grid, title) = (runs::grid(&meta, &rows), runs::title(meta.kind));
    let text = match args.format {
        ReportFormat::Table => grid.table(&printer),
        ReportFormat::Markdown => grid.markdown(title),
        ReportFormat::Html => crate::report::html::page(&meta, &rows),
        ReportFormat::Csv => grid.csv(),
        ReportFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({ "meta": meta, "results": rows }))? + "\n"
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)?,
        None => printer.out(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn merge(args: &MergeArgs, printer: &Printer) -> Result<ExitCode> {
    let (meta, rows) = crate::run::merge(&args.runs, &args.out, args.force)?;
    printer.note(&format!(
        "ftprobe: merged {} runs into {}: {rows} units{}",
        args.runs.len(),
        args.out.display(),
        if meta.completed { "" } else { " (some run was incomplete)" }
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn compare(args: &CompareArgs) -> Result<ExitCode> {
    use crate::report::compare::{self, Kind};
    let (_, old) = crate::run::read(&args.old)?;
    let (_, new) = crate::run::read(&args.new)?;
    let differences = compare::compare(&old, &new);
    let printer = if args.output.is_some() { Printer::plain() } else { Printer::from_env() };
    let cells = |d: &compare::Difference| {
        [
            d.package.clone(),
            d.python.clone(),
            d.field.clone(),
            d.old.clone(),
            d.new.clone(),
            crate::model::snake(&d.kind),
        ]
    };
    const HEADERS: [&str; 6] = ["package", "python", "what", "old", "new", "kind"];
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&differences)? + "\n",
        ReportFormat::Markdown | ReportFormat::Html => {
            let escape = |t: &str| crate::report::escape_controls(t).replace('|', "\\|");
            let mut out = format!(
                "## ftprobe compare\n\n{}\n\n| {} |\n|{}\n",
                compare::totals(&differences),
                HEADERS.join(" | "),
                "---|".repeat(6)
            );
            for d in &differences {
                let row: Vec<String> = cells(d).iter().map(|c| escape(c)).collect();
                out.push_str(&format!("| {} |\n", row.join(" | ")));
            }
            out
        }
        ReportFormat::Table | ReportFormat::Csv => {
            let mut table = crate::report::table::Table::new(HEADERS.iter().map(|h| h.to_uppercase()));
            for d in &differences {
                table.push(cells(d).map(|c| crate::report::escape_controls(&c)));
            }
            format!("{}\n{}\n", table.render(&printer), compare::totals(&differences))
        }
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)?,
        None => printer.out(&text)?,
    }
    let regressed = differences.iter().any(|d| d.kind == Kind::Regression);
    Ok(if regressed { ExitCode::from(crate::error::EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}

pub fn flaky(args: &FlakyArgs) -> Result<ExitCode> {
    let (meta, rows) = crate::run::read(&args.run)?;
    if meta.kind != RunKind::Test {
        anyhow::bail!(
            "{} is a `{}` run: `ftprobe flaky` reads runs made by `ftprobe test`",
            args.run.display(),
            meta.kind
        );
    }
    let found = suite::flakiness(&rows, args.package.as_deref());
    let printer = Printer::from_env();
    let text = match args.format {
        ReportFormat::Json => serde_json::to_string_pretty(&found)? + "\n",
        ReportFormat::Markdown | ReportFormat::Html => suite::flakiness_text(&found, &printer, true),
        ReportFormat::Table | ReportFormat::Csv => suite::flakiness_text(&found, &printer, false),
    };
    printer.out(&text)?;
    Ok(ExitCode::SUCCESS)
}
