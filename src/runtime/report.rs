//! Probe results as format-neutral checks: one per probe, plus one per
//! static/runtime disagreement.

use super::{ProbeResult, Status};
use crate::diagnostic::checks::{Check, Level, Outcome};
use crate::diagnostic::rules::Rule;
use crate::worker::protocol::{ProbeKind, SubinterpreterConfig};

/// `numpy on 3.13.5t`.
pub fn group(result: &ProbeResult) -> String {
    format!("{} on {}", result.module, result.python.label())
}

/// `free-threading`, `subinterpreter (isolated)`, ...
pub fn probe_label(result: &ProbeResult) -> String {
    match (result.probe, result.config) {
        (ProbeKind::FreeThreading, _) => "free-threading".into(),
        (ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Isolated)) => "subinterpreter (isolated)".into(),
        (ProbeKind::Subinterpreter, _) => "subinterpreter (legacy)".into(),
        (ProbeKind::Threads, _) => "threads".into(),
    }
}

pub fn check(result: &ProbeResult) -> Check {
    let (group, name) = (group(result), probe_label(result));
    let message = result.error.clone();
    let check = match result.status {
        Status::Ok => Check::pass(&group, &name),
        Status::NotApplicable | Status::Interrupted => Check::pass(&group, &name).with_outcome(Outcome::Skip, message),
        Status::Error => {
            Check::fail(&group, &name, Rule::ProbeError, Level::Error, message.clone().unwrap_or_default())
                .with_outcome(Outcome::Error, message)
        }
        Status::GilEnabled => Check::fail(
            &group,
            &name,
            Rule::GilEnabledAtRuntime,
            Level::Error,
            format!("GIL required by: {}", result.gil_required_by.join(", ")),
        ),
        Status::ImportError => {
            let rule = if result.probe == ProbeKind::Subinterpreter {
                Rule::SubinterpreterRefused
            } else {
                Rule::ImportFailed
            };
            Check::fail(&group, &name, rule, Level::Error, message.unwrap_or_default())
        }
        Status::Crash => Check::fail(&group, &name, Rule::Crash, Level::Error, message.unwrap_or_default()),
        Status::Deadlock => Check::fail(&group, &name, Rule::Deadlock, Level::Error, message.unwrap_or_default()),
        Status::Timeout => Check::fail(&group, &name, Rule::Timeout, Level::Error, message.unwrap_or_default()),
        Status::Fallback => {
            Check::fail(&group, &name, Rule::FallbackToPurePython, Level::Warning, message.unwrap_or_default())
        }
    };
    check.about(&result.module).with_hints(hints(result))
}

/// What to do about a failed probe: the fixes of the modules that needed
/// the GIL, or how to support subinterpreters.
fn hints(result: &ProbeResult) -> Vec<String> {
    match result.status {
        Status::GilEnabled => result.extensions.iter().filter_map(|e| e.fix.clone()).collect(),
        Status::ImportError if result.probe == ProbeKind::Subinterpreter => {
            vec![crate::diagnostic::hints::support_subinterpreters()]
        }
        Status::Fallback => crate::diagnostic::hints::rule_help(Rule::FallbackToPurePython).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// One failed check per static/runtime disagreement of a probe.
pub fn disagreement_checks(result: &ProbeResult) -> impl Iterator<Item = Check> + '_ {
    result.disagreements.iter().map(move |d| {
        Check::fail(&group(result), "static vs runtime", Rule::StaticRuntimeDisagreement, Level::Error, d.clone())
            .about(&result.module)
    })
}

pub fn checks(results: &[ProbeResult]) -> Vec<Check> {
    let mut out = Vec::new();
    for result in results {
        out.push(check(result));
        out.extend(disagreement_checks(result));
    }
    out
}
