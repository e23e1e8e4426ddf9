//! Contradictions between what a wheel says (tags, file names) and what its
//! binaries declare. Each finding has a stable code.

use serde::Serialize;

use crate::diagnostic::rules::Rule;

use super::{Target, TargetKind};
use crate::binscan::{GilVerdict, Init};
use crate::model::tags::ExtSuffix;
use crate::model::wheel::wheel_tags;

/// How bad a finding is: errors fail `scan` (exit code 1), warnings inform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, with a stable code.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub code: Rule,
    pub severity: Severity,
    pub message: String,
    /// The member it concerns, when it concerns one.
    pub member: Option<String>,
    /// What to do about it, for the generator that built the module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

pub fn check(target: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    let name = target.file_name();
    let tags = if target.kind == TargetKind::Wheel { wheel_tags(&name).unwrap_or_default() } else { Vec::new() };
    let has_ft_tag = tags.iter().any(|t| t.is_free_threaded());
    let abi3_only = !tags.is_empty() && tags.iter().all(|t| t.abi == "abi3");
    let abi3t = tags.iter().any(|t| t.abi == "abi3t");
    if abi3_only && target.extensions.iter().any(|e| e.report.as_ref().is_some_and(|r| r.is_extension)) {
        out.push(Finding {
            code: Rule::Abi3NotLoadableFreeThreaded,
            severity: Severity::Warning,
            message: "abi3 wheel: free-threaded CPython 3.13 and 3.14 cannot load abi3 extensions (3.15 adds abi3t)"
                .into(),
            member: None,
            hint: None,
        });
    }
    for extension in &target.extensions {
        let member = Some(extension.member.clone());
        let base = extension.member.rsplit('/').next().unwrap_or(&extension.member);
        // A copy for another CPython beside the file that is imported: one
        // note, and no say in the module's verdict.
        if let Some(why) = &extension.never_imported {
            if extension.report.as_ref().is_some_and(|r| r.alias) {
                continue;
            }
            out.push(Finding {
                code: Rule::SuffixTagMismatch,
                severity: Severity::Warning,
                message: format!("`{base}` is {why}"),
                member,
                hint: None,
            });
            continue;
        }
        // A further module of a file is not what `import` loads: no findings.
        let Some(report) = extension.report.as_ref().filter(|r| r.is_extension && !r.alias) else { continue };
        let suffix = ExtSuffix::parse(base);
        let module = report.module.as_deref().unwrap_or("?");
        if target.free_threaded_abi && report.gil == Some(GilVerdict::Used) {
            out.push(Finding {
                code: Rule::GilReenabled,
                severity: Severity::Error,
                message: format!("`{module}` does not declare free-threading support: importing it re-enables the GIL"),
                member: member.clone(),
                hint: Some(crate::diagnostic::hints::declare_free_threading(
                    report.generator.as_ref().map(|g| g.name),
                    report.init,
                )),
            });
        }
        if abi3t && report.init != Some(Init::ExportHook) {
            out.push(Finding {
                code: Rule::Abi3tNeedsExportHook,
                severity: Severity::Error,
                message: format!(
                    "`{module}` has no PyModExport_{module} (PEP 793), which abi3t modules must export: it was not built for abi3t"
                ),
                member: member.clone(),
                hint: None,
            });
        }
        if let Some(suffix) = suffix.as_ref().filter(|s| s.python.is_some()) {
            let disagree = tags
                .iter()
                .filter_map(|t| t.abi_version().map(|v| (v, t.is_free_threaded())))
                .find(|(v, ft)| Some(*v) != suffix.python || *ft != suffix.free_threaded);
            if let Some(((major, minor), ft)) = disagree {
                out.push(Finding {
                    code: Rule::SuffixTagMismatch,
                    severity: Severity::Error,
                    message: format!(
                        "`{base}` is named for another ABI than the wheel tag cp{major}{minor}{}: CPython will not import it",
                        if ft { "t" } else { "" }
                    ),
                    member: member.clone(),
                    hint: None,
                });
            }
        }
        if let Some(binary_ft) = report.free_threaded_build
            && !tags.is_empty()
            && tags.iter().all(|t| t.abi_version().is_some())
            && binary_ft != has_ft_tag
        {
            out.push(Finding {
                code: Rule::BinaryTagMismatch,
                severity: Severity::Error,
                message: format!(
                    "`{module}` was built for a {} CPython, but the wheel is tagged for a {} one",
                    if binary_ft { "free-threaded" } else { "default (GIL)" },
                    if has_ft_tag { "free-threaded" } else { "default (GIL)" }
                ),
                member,
                hint: None,
            });
        }
    }
    out
}
