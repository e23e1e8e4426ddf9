//! `ftprobe deps`' report for people (a table per target and platform,
//! blockers first, each with the chain that pulls it in), as Markdown for a
//! pull-request comment, and as checks for JUnit and SARIF (one testcase per
//! package and target; a SARIF result at the lock file line of each blocker).

use std::fmt::Write as _;

use crate::deps::result::{DepStatus, DepsReport, FirstReady, PackageResult};
use crate::printer::{Color, Printer};

use crate::diagnostic::checks::{Check, Level, Outcome};
use crate::diagnostic::rules::Rule;

/// The statuses in the order the table shows them.
const ORDER: [DepStatus; 8] = [
    DepStatus::GilRequired,
    DepStatus::NoWheel,
    DepStatus::SubinterpretersRefused,
    DepStatus::Error,
    DepStatus::Undetermined,
    DepStatus::Ready,
    DepStatus::Pure,
    DepStatus::NotNeeded,
];

fn name_version(p: &PackageResult) -> String {
    format!("{} {}", p.name, p.version.as_deref().unwrap_or("(unpinned)"))
}

/// `myapp[all] → some-client → some-core`.
fn chain_text(chain: &[String]) -> String {
    chain.join(" → ")
}

/// The groups of one target and platform, in report order.
fn sections(report: &DepsReport) -> Vec<(String, String, Vec<&PackageResult>)> {
    let mut out: Vec<(String, String, Vec<&PackageResult>)> = Vec::new();
    for p in &report.packages {
        match out.iter_mut().find(|(t, pl, _)| *t == p.target && *pl == p.platform) {
            Some((_, _, members)) => members.push(p),
            None => out.push((p.target.clone(), p.platform.clone(), vec![p])),
        }
    }
    out
}

pub fn table(report: &DepsReport, printer: &Printer) -> String {
    let mut out = String::new();
    for (target, platform, members) in sections(report) {
        let _ = writeln!(out, "{target} on {platform}");
        for status in ORDER {
            let group: Vec<&&PackageResult> = members.iter().filter(|p| p.status == status).collect();
            if group.is_empty() {
                continue;
            }
            if !status.is_blocker() {
                let names: Vec<String> = group.iter().map(|p| name_version(p)).collect();
                let mut line = format!("  {} ({}): {}", status.label(), group.len(), names.join(", "));
                if status == DepStatus::Pure {
                    let slower: Vec<&str> =
                        group.iter().filter(|p| p.compiled_elsewhere).map(|p| p.name.as_str()).collect();
                    if !slower.is_empty() {
                        let _ = write!(
                            line,
                            "\n    without the compiled speed-ups other builds get: {}",
                            slower.join(", ")
                        );
                    }
                }
                let _ = writeln!(out, "{}", crate::report::escape_controls_keep_lines(&line));
                continue;
            }
            let color = if status == DepStatus::Undetermined { Color::Yellow } else { Color::Red };
            let _ = writeln!(out, "  {}", printer.paint(status.label(), color));
            for p in group {
                let line = format!("    {}: {}", name_version(p), p.reason.as_deref().unwrap_or(""));
                let _ = writeln!(out, "{}", crate::report::escape_controls(&line));
                if let Some(install) = &p.install {
                    let _ = writeln!(out, "      {}", crate::report::escape_controls(install));
                }
                for chain in &p.required_by {
                    let _ = writeln!(out, "      via {}", crate::report::escape_controls(&chain_text(chain)));
                }
            }
        }
        out.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {}", crate::report::escape_controls(note));
    }
    for summary in &report.summary {
        let _ = writeln!(out, "{}", summary.line());
    }
    out
}

pub fn markdown(report: &DepsReport) -> String {
    let mut out = String::from("## ftprobe deps\n\n");
    for summary in &report.summary {
        let _ = writeln!(out, "- {}", summary.line());
    }
    out.push('\n');
    let blockers: Vec<&PackageResult> = report.packages.iter().filter(|p| p.status.is_blocker()).collect();
    if blockers.is_empty() {
        out.push_str("Nothing stands in the way.\n");
    } else {
        out.push_str("| package | target | status | why | pulled in by |\n|---|---|---|---|---|\n");
        for p in &blockers {
            let via = p.required_by.first().map(|c| chain_text(c)).unwrap_or_else(|| "direct".into());
            let _ = writeln!(
                out,
                "| {} | {} ({}) | {} | {} | {} |",
                cell(&name_version(p)),
                cell(&p.target),
                cell(&p.platform),
                p.status.label(),
                cell(p.reason.as_deref().unwrap_or("")),
                cell(&via)
            );
        }
    }
    let mut upgrades: Vec<String> = report
        .packages
        .iter()
        .filter_map(|p| {
            let first = p.first_ready_version.as_ref()?;
            let wheel = |release: &FirstReady| if release.pure { "pure-Python".to_string() } else { p.target.clone() };
            let pinned = p.version.as_deref()?;
            Some(match &p.newest_release {
                _ if first.fixes() => {
                    format!("- `{}`: {pinned} → {} (has a {} wheel)", p.name, first.version, wheel(first))
                }
                Some(newest) if newest.fixes() => format!(
                    "- `{}`: {pinned} → {} (has a {} wheel; {}, the first with one, is not ready: {})",
                    p.name,
                    newest.version,
                    wheel(newest),
                    first.version,
                    first.status.label()
                ),
                _ => format!(
                    "- `{}`: {pinned} → {} (has a {} wheel, not ready: {})",
                    p.name,
                    first.version,
                    wheel(first),
                    first.status.label()
                ),
            })
        })
        .collect();
    upgrades.sort();
    upgrades.dedup();
    if !upgrades.is_empty() {
        out.push_str("\n### Upgrades that bring a wheel\n\n");
        for line in upgrades {
            let _ = writeln!(out, "{}", escape_markdown(&line));
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "\n> {}", escape_markdown(note));
    }
    out
}

fn escape_markdown(text: &str) -> String {
    super::escape_markup(text, None)
}

fn cell(text: &str) -> String {
    escape_markdown(text).replace('|', "\\|")
}

/// One check per package, target and platform (JUnit's testcases; SARIF's
/// results are the failed ones, at the pin's line).
pub fn checks(report: &DepsReport) -> Vec<Check> {
    report
        .packages
        .iter()
        .map(|p| {
            let group = format!("deps {} ({})", p.target, p.platform);
            let name = name_version(p);
            let mut message = p.reason.clone().unwrap_or_default();
            if let Some(chain) = p.required_by.first() {
                let _ = write!(message, " (via {})", chain_text(chain));
            }
            let check = match p.status {
                DepStatus::Ready | DepStatus::Pure => Check::pass(&group, &name),
                DepStatus::NotNeeded => Check::pass(&group, &name).with_outcome(Outcome::Skip, p.reason.clone()),
                DepStatus::GilRequired => Check::fail(&group, &name, Rule::GilReenabled, Level::Error, message),
                DepStatus::NoWheel => Check::fail(&group, &name, Rule::NoWheelForTarget, Level::Error, message),
                DepStatus::SubinterpretersRefused => {
                    Check::fail(&group, &name, Rule::SubinterpreterRefused, Level::Error, message)
                }
                DepStatus::Undetermined => {
                    Check::fail(&group, &name, Rule::VerdictUndetermined, Level::Warning, message)
                }
                DepStatus::Error => Check::fail(&group, &name, Rule::Unreadable, Level::Error, message)
                    .with_outcome(Outcome::Error, p.reason.clone()),
            };
            match &p.location {
                Some(at) if p.status.is_blocker() => check.at_line(&at.file, at.line),
                _ => check,
            }
            .about(p.name.clone())
        })
        .collect()
}
