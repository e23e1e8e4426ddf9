//! `ftprobe pythons`: list the interpreters ftprobe can use.

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::PythonsArgs;
use crate::commands::output::{Output, emit};
use crate::diagnostic::checks::{Check, Outcome};
use crate::discover::{self, Interpreter, Source};
use crate::printer::{Color, Printer};
use crate::report::escape_controls;
use crate::report::table::{Cell, Table};

pub fn run(args: &PythonsArgs, printer: &Printer) -> Result<ExitCode> {
    let finder = discover::Finder::default();
    let requested = finder.resolve_all(&args.pythons)?;
    let listed = if args.only {
        discover::merge_duplicates(requested)
    } else {
        discover::merge_duplicates(requested.into_iter().chain(finder.known().iter().cloned()).collect())
    };
    let output = Output {
        title: "interpreters",
        checks: checks(&listed),
        table: &|_| render_table(&listed, printer),
        json: &|| Ok(serde_json::to_string_pretty(&listed)? + "\n"),
    };
    emit(&output, args.format, args.output.as_deref(), printer)?;
    Ok(ExitCode::SUCCESS)
}

/// One check per interpreter: usable passes, unusable is skipped with the reason.
fn checks(interpreters: &[Interpreter]) -> Vec<Check> {
    interpreters
        .iter()
        .map(|i| {
            let name = format!("{} ({})", i.short_name(), i.executable.display());
            let check = Check::pass("interpreters", &name).at(&i.executable);
            match &i.problem {
                Some(problem) => check.with_outcome(Outcome::Skip, Some(problem.clone())),
                None => check,
            }
        })
        .collect()
}

fn render_table(interpreters: &[Interpreter], printer: &Printer) -> String {
    if interpreters.is_empty() {
        return "No Python interpreters found. Run scripts/provision-pythons or pass --python PATH.\n".into();
    }
    let mut sorted: Vec<&Interpreter> = interpreters.iter().collect();
    sorted.sort_by_key(|i| (std::cmp::Reverse(i.version_info), !i.free_threaded, i.sources.first().copied()));
    let mut table = Table::new(["PYTHON", "VERSION", "BUILD", "LIBPYTHON", "FOUND IN", "EXECUTABLE"]);
    let mut problems = Vec::new();
    for i in sorted {
        let build = if i.free_threaded { Cell::painted("free-threaded", Color::Green) } else { "default".into() };
        let libpython = match (&i.libpython, &i.problem) {
            (Some(lib), None) => lib.display().to_string().into(),
            (None, None) => Cell::painted("none: probes run in the executable", Color::Yellow),
            _ => {
                problems.push(escape_controls(&format!(
                    "  {}: {}",
                    i.executable.display(),
                    i.problem.as_deref().unwrap_or("")
                )));
                Cell::painted("unusable, see below", Color::Red)
            }
        };
        let venv = if i.is_venv { " (venv)" } else { "" };
        table.push::<_, Cell>([
            i.short_name().into(),
            i.version.clone().into(),
            build,
            libpython,
            sources_text(&i.sources).into(),
            format!("{}{venv}", i.executable.display()).into(),
        ]);
    }
    let mut out = table.render(printer);
    if !problems.is_empty() {
        out.push_str("\nNot usable by ftprobe:\n");
        out.push_str(&problems.join("\n"));
        out.push('\n');
    }
    out
}

fn sources_text(sources: &[Source]) -> String {
    let names: Vec<String> = sources.iter().map(crate::report::name_of).collect();
    names.join(",")
}
