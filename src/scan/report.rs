//! Scan results as format-neutral checks: one per extension module (failed
//! by each finding about it), one per wheel-level finding, one per unreadable file.

use super::findings::Severity;
use super::{Target, TargetKind};
use crate::diagnostic::checks::{Check, Level, Outcome};
use crate::diagnostic::rules::Rule;

fn level(severity: Severity) -> Level {
    match severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    }
}

pub fn checks(targets: &[Target]) -> Vec<Check> {
    let mut out = Vec::new();
    for target in targets {
        let group = target.file_name();
        if let Some(error) = &target.error {
            out.push(
                Check::fail(&group, "read", Rule::Unreadable, Level::Error, error.clone())
                    .with_outcome(Outcome::Error, Some(error.clone()))
                    .at(&target.path),
            );
            continue;
        }
        for finding in target.findings.iter().filter(|f| f.member.is_none()) {
            let name = if target.kind == TargetKind::Wheel { "wheel" } else { "file" };
            out.push(
                Check::fail(&group, name, finding.code, level(finding.severity), finding.message.clone())
                    .at(&target.path),
            );
        }
        for extension in &target.extensions {
            if let Some(error) = &extension.error {
                let check = Check::fail(&group, &extension.member, Rule::Unreadable, Level::Error, error.clone());
                out.push(check.with_outcome(Outcome::Error, Some(error.clone())).at(&target.path));
                continue;
            }
            let Some(report) = extension.report.as_ref().filter(|r| r.is_extension) else { continue };
            let name = format!("{} ({})", report.module.as_deref().unwrap_or("?"), extension.member);
            let about: Vec<_> =
                target.findings.iter().filter(|f| f.member.as_deref() == Some(&extension.member)).collect();
            if about.is_empty() {
                out.push(Check::pass(&group, &name).at(&target.path));
            }
            for finding in about {
                out.push(
                    Check::fail(&group, &name, finding.code, level(finding.severity), finding.message.clone())
                        .at(&target.path)
                        .with_hints(finding.hint.clone()),
                );
            }
        }
    }
    out
}
