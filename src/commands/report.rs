//! `ftprobe report` renders a run directory and `ftprobe merge` joins
//! several; both read only run directories.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{MergeArgs, ReportArgs, ReportFormat};
use crate::printer::Printer;
use crate::report::batch;

pub fn run(args: &ReportArgs) -> Result<ExitCode> {
    let (meta, rows) = crate::run::read(&args.run)?;
    let printer = if args.output.is_some() { Printer::plain() } else { Printer::from_env() };
    let text = match args.format {
        ReportFormat::Table => batch::table(&meta, &rows, &printer),
        ReportFormat::Markdown => batch::markdown(&meta, &rows),
        ReportFormat::Html => crate::report::html::page(&meta, &rows),
        ReportFormat::Csv => batch::csv(&rows),
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
