//! Writing a command's result in the chosen format, to stdout or `--output`,
//! plus GitHub annotations when running under GitHub Actions.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::Format;
use crate::diagnostic::checks::Check;
use crate::printer::Printer;
use crate::report::{github, junit, markdown, sarif};

/// What a command hands over to be written.
pub struct Output<'a> {
    pub title: &'a str,
    pub checks: Vec<Check>,
    /// The table for people, given the checks (for the closing `hint:` lines).
    pub table: &'a dyn Fn(&[Check]) -> String,
    pub json: &'a dyn Fn() -> Result<String>,
}

pub fn emit(output: &Output<'_>, format: Format, file: Option<&Path>, printer: &Printer) -> Result<()> {
    let text = match format {
        Format::Table => (output.table)(&output.checks),
        Format::Json => (output.json)()?,
        Format::Markdown => markdown::render(output.title, &output.checks),
        Format::Junit => junit::render(&output.checks),
        Format::Sarif => sarif::render(&output.checks),
    };
    write(&text, file, printer)?;
    if github::enabled() {
        append_step_summary(output)?;
        let annotations = github::render(&output.checks);
        // Keep machine-readable stdout clean; annotations work on either stream.
        if file.is_some() || format == Format::Table {
            printer.out(&annotations).context("cannot write annotations to standard output")?;
        } else {
            printer.err(&annotations);
        }
    }
    Ok(())
}

/// Writes a report to `file`, or to stdout.
pub fn write(text: &str, file: Option<&Path>, printer: &Printer) -> Result<()> {
    match file {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display())),
        None => printer.out(text).context("cannot write the report to standard output; use --output FILE"),
    }
}

/// Under GitHub Actions, the Markdown summary is appended to the job summary
/// (`$GITHUB_STEP_SUMMARY`) whatever `--format` is.
fn append_step_summary(output: &Output<'_>) -> Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else { return Ok(()) };
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open $GITHUB_STEP_SUMMARY `{}`", Path::new(&path).display()))?;
    file.write_all(markdown::render(output.title, &output.checks).as_bytes())?;
    Ok(())
}
