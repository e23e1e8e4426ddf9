//! `ftprobe scan` (alias `scan-wheel`): the static verdict for every extension module.

use std::process::ExitCode;

use anyhow::Result;

use crate::binscan::{GilVerdict, SubinterpreterVerdict};
use crate::cli::ScanArgs;
use crate::commands::output::{Output, emit};
use crate::diagnostic::checks::Check;
use crate::error::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::printer::{Color, Printer};
use crate::report::escape_controls;
use crate::report::table::{Cell, Table};
use crate::scan::findings::Severity;
use crate::scan::{self, Extension, Options, Target, TargetKind};

pub fn run(args: &ScanArgs, printer: &Printer) -> Result<ExitCode> {
    let inputs = scan::collect_inputs(&args.paths);
    if inputs.is_empty() {
        anyhow::bail!("no wheels or binaries found under the given paths");
    }
    let targets = scan::scan_paths(&inputs, Options { max_member_size: args.max_member_size });
    let output = Output {
        title: "static scan",
        checks: scan::report::checks(&targets),
        table: &|checks| render(&targets, checks, args, printer),
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

/// One row per extension module (and per library with --all-libraries),
/// grouped by distribution; then what could not be read, the findings, the
/// evidence (--verbose) and one summary line.
fn render(targets: &[Target], checks: &[Check], args: &ScanArgs, printer: &Printer) -> String {
    let show_libraries = args.all_libraries || args.verbose;
    let any_wheel = targets.iter().any(|t| t.kind == TargetKind::Wheel);
    let mut headers = vec!["DISTRIBUTION", "VERSION"];
    if any_wheel {
        headers.push("WHEEL TAG");
    }
    headers.extend(["MODULE", "ARCH", "GIL", "SUBINTERPRETERS", "GENERATOR"]);
    let mut rows: Vec<(Vec<String>, Vec<Cell>)> = Vec::new();
    let (mut problems, mut notes, mut evidence) = (Vec::new(), Vec::new(), Vec::new());
    for target in targets {
        let shown_path = target.path.display().to_string();
        if let Some(error) = &target.error {
            problems.push(format!("{shown_path}: {error}"));
            continue;
        }
        let (distribution, version) = match &target.distribution {
            Some(owner) => (owner.name.clone(), owner.version.clone()),
            None => ("-".to_string(), String::new()),
        };
        // Every python and ABI tag of the wheel, as its file name writes
        // them: `cp315-abi3.abi3t-...` must not read as an abi3 wheel.
        let parsed: Vec<_> = target.tags.iter().filter_map(|t| crate::model::tags::WheelTag::parse(t)).collect();
        let tag = crate::model::wheel::TagSet::from_tags(&parsed).map(|set| set.short());
        for e in &target.extensions {
            let Some(r) = &e.report else {
                problems.push(format!("{shown_path}: {}", e.error.as_deref().unwrap_or("")));
                continue;
            };
            // Not listed: libraries (unless asked), further exports no
            // import reaches, copies for another CPython (a finding says so).
            if (!r.is_extension && !show_libraries) || r.export_role.is_some() || e.never_imported.is_some() {
                continue;
            }
            let module = match (&e.import_name, r.alias) {
                (Some(name), true) => format!("{name} (alias)"),
                (Some(name), false) => name.clone(),
                (None, _) => format!("(library) {}", e.member),
            };
            let mut key = vec![distribution.clone(), version.clone()];
            let mut cells: Vec<Cell> = vec![distribution.clone().into(), version.clone().into()];
            if any_wheel {
                let tag = tag.clone().unwrap_or_default();
                key.push(tag.clone());
                cells.push(tag.into());
            }
            key.push(module.clone());
            cells.extend([
                module.clone().into(),
                crate::report::name_of(&r.arch).into(),
                gil_cell(r.gil),
                subinterpreters_text(r.subinterpreters).into(),
                generator_text(r).into(),
            ]);
            rows.push((key, cells));
            if args.verbose {
                evidence.extend(r.evidence.iter().map(|line| format!("{module}: {line}")));
            }
        }
        for finding in &target.findings {
            let label = match finding.severity {
                Severity::Error => printer.paint("error", Color::Red),
                Severity::Warning => printer.paint("warning", Color::Yellow),
            };
            // A wheel's finding names the wheel (and member); a file's, its import name.
            let import_name = finding
                .member
                .as_deref()
                .and_then(|m| target.extensions.iter().find(|e| e.member == m))
                .and_then(|e| e.import_name.clone());
            let subject = match (target.kind, &finding.member, import_name) {
                (TargetKind::File, _, Some(name)) => name,
                (TargetKind::File, _, None) => shown_path.clone(),
                (TargetKind::Wheel, Some(member), _) => format!("{} ({member})", target.file_name()),
                (TargetKind::Wheel, None, _) => target.file_name(),
            };
            let (subject, message) = (escape_controls(&subject), escape_controls(&finding.message));
            notes.push(format!("{label}[{}] {subject}: {message}", finding.code));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("no extension modules found\n");
    } else {
        let mut table = Table::new(headers);
        for (_, cells) in rows {
            table.push(cells);
        }
        out.push_str(&table.render(printer));
    }
    if !problems.is_empty() {
        out.push_str(&format!("\n{}:\n", printer.paint("could not be examined", Color::Red)));
        for problem in &problems {
            out.push_str(&format!("  {}\n", escape_controls(problem)));
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        for note in &notes {
            out.push_str(note);
            out.push('\n');
        }
    }
    if !evidence.is_empty() {
        out.push('\n');
        for line in &evidence {
            out.push_str(&format!("{}\n", escape_controls(line)));
        }
    }
    let hints = crate::report::hint_lines(checks);
    if !hints.is_empty() {
        out.push('\n');
        out.push_str(&hints);
    }
    out.push_str(&format!("\n{}\n", summary(targets, problems.len())));
    out
}

/// `N extension modules in M distributions: ...; F findings; U could not be examined`.
fn summary(targets: &[Target], unreadable: usize) -> String {
    let modules: Vec<(&Extension, &crate::binscan::BinaryReport)> =
        targets.iter().flat_map(|t| &t.extensions).filter_map(|e| e.imported_module().map(|r| (e, r))).collect();
    let mut distributions: Vec<&str> =
        targets.iter().filter_map(|t| t.distribution.as_ref().map(|d| d.name.as_str())).collect();
    distributions.sort_unstable();
    distributions.dedup();
    let count = |v: GilVerdict| modules.iter().filter(|(_, r)| r.gil == Some(v)).count();
    let mut used: Vec<&str> = modules
        .iter()
        .filter(|(_, r)| r.gil == Some(GilVerdict::Used))
        .filter_map(|(e, _)| e.import_name.as_deref())
        .collect();
    used.sort_unstable();
    used.dedup();
    let named = if used.is_empty() {
        String::new()
    } else if used.len() > 8 {
        format!(" ({}, and {} more)", used[..8].join(", "), used.len() - 8)
    } else {
        format!(" ({})", used.join(", "))
    };
    let findings: usize = targets.iter().map(|t| t.findings.len()).sum();
    let errors = targets.iter().flat_map(|t| &t.findings).filter(|f| f.severity == Severity::Error).count();
    escape_controls(&format!(
        "{} extension modules in {} distributions: {} GIL not used, {} used{named}, {} undetermined; {findings} findings ({errors} errors); {unreadable} could not be examined",
        modules.len(),
        distributions.len(),
        count(GilVerdict::NotUsed),
        count(GilVerdict::Used),
        count(GilVerdict::Undetermined),
    ))
}

fn gil_cell(gil: Option<GilVerdict>) -> Cell {
    match gil {
        Some(GilVerdict::NotUsed) => Cell::painted("not used", Color::Green),
        Some(GilVerdict::Used) => Cell::painted("USED", Color::Red),
        Some(GilVerdict::Undetermined) => Cell::painted("undetermined", Color::Yellow),
        None => Cell::default(),
    }
}

fn subinterpreters_text(verdict: Option<SubinterpreterVerdict>) -> &'static str {
    match verdict {
        Some(SubinterpreterVerdict::PerInterpreterGil) => "per-interpreter GIL",
        Some(SubinterpreterVerdict::SharedGil) => "shared GIL",
        Some(SubinterpreterVerdict::NotSupported) => "not supported",
        Some(SubinterpreterVerdict::Undetermined) => "undetermined",
        None => "",
    }
}

fn generator_text(report: &crate::binscan::BinaryReport) -> String {
    report.generator.as_ref().map_or(String::new(), |g| {
        let name = crate::report::name_of(&g.name);
        match &g.version {
            Some(v) => format!("{name} {v}"),
            None => name,
        }
    })
}
