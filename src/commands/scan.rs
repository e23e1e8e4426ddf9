//! `ftprobe scan` (alias `scan-wheel`): the static verdict for every extension module.

use std::process::ExitCode;

use anyhow::Result;

use crate::binscan::{GilVerdict, SubinterpreterVerdict};
use crate::cli::ScanArgs;
use crate::commands::output::{Output, emit};
use crate::error::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::printer::{Color, Printer};
use crate::report::escape_controls;
use crate::report::table::{Cell, Table};
use crate::scan::findings::Severity;
use crate::scan::{self, Extension, Options, Target};

pub fn run(args: &ScanArgs, printer: &Printer) -> Result<ExitCode> {
    let inputs = scan::collect_inputs(&args.paths);
    if inputs.is_empty() {
        anyhow::bail!("no wheels or binaries found under the given paths");
    }
    let targets = scan::scan_paths(&inputs, Options { max_member_size: args.max_member_size });
    let output = Output {
        title: "static scan",
        checks: scan::report::checks(&targets),
        table: &|| render(&targets, args, printer),
        json: &|| Ok(serde_json::to_string_pretty(&targets)? + "\n"),
    };
    emit(&output, args.format, args.output.as_deref(), printer)?;
    Ok(ExitCode::from(exit_code(&targets)))
}

/// 1 when an error-severity finding exists, 2 when a file or a member could
/// not be examined (it must not look like a clean pass), else 0.
fn exit_code(targets: &[Target]) -> u8 {
    if targets.iter().flat_map(|t| &t.findings).any(|f| f.severity == Severity::Error) {
        EXIT_FINDINGS
    } else if targets.iter().any(|t| t.error.is_some() || t.extensions.iter().any(|e| e.error.is_some())) {
        EXIT_USAGE
    } else {
        EXIT_OK
    }
}

fn render(targets: &[Target], args: &ScanArgs, printer: &Printer) -> String {
    let mut out = String::new();
    for target in targets {
        let tags = if target.tags.is_empty() { String::new() } else { format!("  [{}]", target.tags.join(", ")) };
        out.push_str(&escape_controls(&format!("{}{tags}", target.path.display())));
        out.push('\n');
        if let Some(error) = &target.error {
            out.push_str(&format!("  {}: {}\n\n", printer.paint("error", Color::Red), escape_controls(error)));
            continue;
        }
        let shown: Vec<&Extension> = target
            .extensions
            .iter()
            .filter(|e| args.all_libraries || e.error.is_some() || e.report.as_ref().is_some_and(|r| r.is_extension))
            .collect();
        if shown.is_empty() {
            out.push_str("  no extension modules\n");
        } else {
            out.push_str(&indent(&extension_table(&shown, printer, args.verbose)));
        }
        for finding in &target.findings {
            let label = match finding.severity {
                Severity::Error => printer.paint("error", Color::Red),
                Severity::Warning => printer.paint("warning", Color::Yellow),
            };
            out.push_str(&format!("  {label}[{}]: {}\n", finding.code, escape_controls(&finding.message)));
        }
        out.push('\n');
    }
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn extension_table(extensions: &[&Extension], printer: &Printer, verbose: bool) -> String {
    let mut table = Table::new(["MODULE", "ARCH", "INIT", "GIL", "SUBINTERPRETERS", "GENERATOR", "MEMBER"]);
    let mut notes = Vec::new();
    for e in extensions {
        let Some(r) = &e.report else {
            table.push(["-", "", "", "", "", "", e.member.as_str()]);
            notes.push(format!("{}: {}", e.member, e.error.as_deref().unwrap_or("")));
            continue;
        };
        let module = match (&r.module, r.alias) {
            (Some(m), true) => format!("{m} (alias)"),
            (Some(m), false) => m.clone(),
            (None, _) => "(not an extension)".into(),
        };
        let gil = match r.gil {
            Some(GilVerdict::NotUsed) => Cell::painted("not used", Color::Green),
            Some(GilVerdict::Used) => Cell::painted("USED", Color::Red),
            Some(GilVerdict::Undetermined) => Cell::painted("undetermined", Color::Yellow),
            None => Cell::default(),
        };
        let sub = match r.subinterpreters {
            Some(SubinterpreterVerdict::PerInterpreterGil) => "per-interpreter GIL",
            Some(SubinterpreterVerdict::SharedGil) => "shared GIL",
            Some(SubinterpreterVerdict::NotSupported) => "not supported",
            Some(SubinterpreterVerdict::Undetermined) => "undetermined",
            None => "",
        };
        let generator = r.generator.as_ref().map_or(String::new(), |g| {
            let name = crate::report::name_of(&g.name);
            match &g.version {
                Some(v) => format!("{name} {v}"),
                None => name,
            }
        });
        let init = r.init.map(|i| crate::report::name_of(&i));
        let arch = crate::report::name_of(&r.arch);
        table.push::<_, Cell>([
            module.into(),
            arch.into(),
            init.unwrap_or_default().into(),
            gil,
            sub.into(),
            generator.into(),
            e.member.clone().into(),
        ]);
        if verbose {
            notes.extend(r.evidence.iter().map(|line| format!("{}: {line}", r.module.as_deref().unwrap_or(&e.member))));
        }
    }
    let mut out = table.render(printer);
    for note in notes {
        out.push_str(&format!("  {}\n", escape_controls(&note)));
    }
    out
}
