//! `ftprobe check`: the CI step. Scans the package's wheels, reads their
//! `Free Threading` classifiers, probes the installed package where it
//! claims support, and turns every contradiction into a check with a stable
//! code. The policy (`[tool.ftprobe]`) decides what is tolerated.

pub mod policy;

use std::path::PathBuf;

use crate::binscan::{GilVerdict, SubinterpreterVerdict};
use crate::diagnostic::checks::{Check, Level, Outcome};
use crate::diagnostic::rules::Rule;
use crate::discover::Interpreter;
use crate::runtime::{self, ProbeResult, ProbeSpec, RunOptions, Status};
use crate::scan::{self, Options, Target, dotted_module, wheel};
use crate::worker::protocol::{ProbeKind, SubinterpreterConfig};
use policy::Policy;

const FREE_THREADING_CLASSIFIER: &str = "Programming Language :: Python :: Free Threading ::";

/// Everything one check run found.
#[derive(Debug, serde::Serialize)]
pub struct CheckReport {
    pub policy: Policy,
    pub wheels: Vec<WheelFacts>,
    pub probes: Vec<ProbeResult>,
    pub checks: Vec<Check>,
}

/// What a wheel says about itself.
#[derive(Debug, serde::Serialize)]
pub struct WheelFacts {
    #[serde(serialize_with = "crate::model::paths::lossy")]
    pub path: PathBuf,
    pub free_threaded_abi: bool,
    /// `Programming Language :: Python :: Free Threading :: ...` classifiers in METADATA.
    pub classifiers: Vec<String>,
    /// A Free Threading classifier above `1 - Unstable`.
    pub claims_free_threading: bool,
    pub top_level: Vec<String>,
    /// Why METADATA could not be read (nothing is claimed or probed then).
    pub error: Option<String>,
}

/// Runs the whole check.
pub fn run(wheels: &[PathBuf], interpreters: &[Interpreter], policy: Policy, options: &RunOptions) -> CheckReport {
    let inputs: Vec<scan::Input> = wheels.iter().cloned().map(scan::Input::found).collect();
    let targets = scan::scan_paths(&inputs, Options::default());
    let facts: Vec<WheelFacts> = targets.iter().map(wheel_facts).collect();
    let mut checks = scan::report::checks(&targets);
    checks.extend(metadata_checks(&targets, &facts));
    checks.extend(policy_checks(&targets, &policy));
    let specs = probe_plan(&targets, &facts, interpreters);
    let probes = runtime::run_all(&specs, options);
    let already_flagged = checks.iter().any(|c| c.rule == Some(Rule::ClassifierButGilEnabled));
    checks.extend(runtime_checks(&probes, &facts, already_flagged));
    let checks = apply_policy(checks, &policy);
    CheckReport { policy, wheels: facts, probes, checks }
}

/// METADATA and the top-level names of a wheel, or why they could not be read.
// The reason is text: it is only the report's `error` for the wheel.
fn read_wheel(path: &std::path::Path) -> Result<(String, Vec<String>), String> {
    let wheel = wheel::Wheel::open(path).map_err(|e| e.to_string())?;
    let metadata = wheel
        .dist_info_file("METADATA")
        .map_err(|e| format!("METADATA could not be read: {e}"))?
        .ok_or("the wheel has no *.dist-info/METADATA; it is not a valid wheel, build it again")?;
    let top_level = wheel.top_level_names().map_err(|e| e.to_string())?;
    Ok((metadata, top_level))
}

fn wheel_facts(target: &Target) -> WheelFacts {
    let (metadata, top_level, error) = match read_wheel(&target.path) {
        Ok((metadata, top_level)) => (metadata, top_level, None),
        Err(error) => (String::new(), Vec::new(), Some(error)),
    };
    let classifiers: Vec<String> = metadata
        .lines()
        .filter_map(|l| l.strip_prefix("Classifier:"))
        .map(str::trim)
        .filter(|c| c.starts_with(FREE_THREADING_CLASSIFIER))
        .map(str::to_string)
        .collect();
    let claims_free_threading = classifiers.iter().any(|c| !c.ends_with("1 - Unstable"));
    WheelFacts {
        path: target.path.clone(),
        free_threaded_abi: target.free_threaded_abi,
        classifiers,
        claims_free_threading,
        top_level,
        error,
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Extension modules (dotted name, static verdicts) of the wheels matching `free_threaded`.
fn extensions(targets: &[Target], free_threaded: Option<bool>) -> Vec<(String, GilVerdict, SubinterpreterVerdict)> {
    let mut out: Vec<(String, GilVerdict, SubinterpreterVerdict)> = Vec::new();
    for target in targets.iter().filter(|t| free_threaded.is_none_or(|ft| t.free_threaded_abi == ft)) {
        for e in &target.extensions {
            let Some(r) = e.imported_module() else { continue };
            let (Some(gil), Some(sub)) = (r.gil, r.subinterpreters) else { continue };
            let module = dotted_module(&e.member);
            if !out.iter().any(|(m, _, _)| *m == module) {
                out.push((module, gil, sub));
            }
        }
    }
    out
}

fn metadata_checks(targets: &[Target], facts: &[WheelFacts]) -> Vec<Check> {
    let mut out = Vec::new();
    let any_ft_wheel = facts.iter().any(|f| f.free_threaded_abi);
    for (target, f) in targets.iter().zip(facts) {
        let group = file_name(&f.path);
        // An unreadable wheel is already an error from the scan.
        if let Some(error) = f.error.as_ref().filter(|_| target.error.is_none()) {
            let message = format!("cannot tell what this wheel claims: {error}");
            let check = Check::fail(&group, "metadata", Rule::Unreadable, Level::Error, message.clone());
            out.push(check.with_outcome(Outcome::Error, Some(message)).at(&f.path));
        }
        if f.claims_free_threading && !any_ft_wheel {
            out.push(Check::fail(&group, "classifiers", Rule::ClassifierWithoutFreeThreadedWheel, Level::Error,
                format!("METADATA declares `{}`, but none of the wheels targets a free-threaded ABI (cp313t, cp314t, abi3t)", f.classifiers.join("`, `"))).at(&f.path));
        }
        if f.free_threaded_abi && f.classifiers.is_empty() {
            out.push(
                Check::fail(
                    &group,
                    "classifiers",
                    Rule::FreeThreadedWheelWithoutClassifier,
                    Level::Warning,
                    format!("a free-threaded wheel whose METADATA has no `{FREE_THREADING_CLASSIFIER} ...` classifier"),
                )
                .at(&f.path),
            );
        }
        if f.claims_free_threading {
            let reenabling: Vec<String> = target
                .findings
                .iter()
                .filter(|x| x.code == Rule::GilReenabled)
                .filter_map(|x| x.member.as_deref().map(dotted_module))
                .collect();
            if !reenabling.is_empty() {
                out.push(
                    Check::fail(
                        &group,
                        "classifiers",
                        Rule::ClassifierButGilEnabled,
                        Level::Error,
                        format!(
                            "METADATA declares free-threading support, yet these modules re-enable the GIL: {}",
                            reenabling.join(", ")
                        ),
                    )
                    .at(&f.path),
                );
            }
        }
    }
    out
}

fn policy_checks(targets: &[Target], policy: &Policy) -> Vec<Check> {
    let mut out = Vec::new();
    if policy.require_free_threading && !targets.iter().any(|t| t.free_threaded_abi) {
        out.push(Check::fail(
            "policy",
            "require-free-threading",
            Rule::FreeThreadingRequired,
            Level::Error,
            "no wheel targets a free-threaded ABI (cp313t, cp314t, abi3t)".into(),
        ));
    }
    if policy.require_isolated_subinterpreters {
        for (module, _, sub) in extensions(targets, None) {
            if sub != SubinterpreterVerdict::PerInterpreterGil {
                let verdict = crate::report::name_of(&sub);
                let check = Check::fail(
                    "policy",
                    &module,
                    Rule::IsolatedSubinterpretersRequired,
                    Level::Error,
                    format!("{module} does not declare per-interpreter GIL support (it declares: {verdict})"),
                );
                out.push(check.about(&module));
            }
        }
    }
    out
}

/// Free-threading probes of the top-level names and of every extension module
/// (a package need not import its extensions) on free-threaded interpreters,
/// and subinterpreter probes of every module that declares support.
fn probe_plan(targets: &[Target], facts: &[WheelFacts], interpreters: &[Interpreter]) -> Vec<ProbeSpec> {
    let mut top: Vec<String> = facts.iter().flat_map(|f| f.top_level.iter().cloned()).collect();
    top.extend(extensions(targets, Some(true)).into_iter().map(|(module, _, _)| module));
    top.sort();
    top.dedup();
    let mut specs = Vec::new();
    for interpreter in interpreters {
        let spec = |module: &str, probe, config| ProbeSpec {
            interpreter: interpreter.clone(),
            module: module.into(),
            probe,
            config,
            round: 0,
        };
        if interpreter.free_threaded {
            specs.extend(top.iter().map(|m| spec(m, ProbeKind::FreeThreading, None)));
        }
        let matching = extensions(targets, Some(interpreter.free_threaded));
        let declared = if matching.is_empty() { extensions(targets, None) } else { matching };
        for (module, _, sub) in declared {
            match sub {
                SubinterpreterVerdict::PerInterpreterGil => {
                    specs.push(spec(&module, ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Isolated)));
                    specs.push(spec(&module, ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Legacy)));
                }
                SubinterpreterVerdict::SharedGil => {
                    specs.push(spec(&module, ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Legacy)));
                }
                _ => {}
            }
        }
    }
    specs
}

/// Checks from the probes. A runtime `classifier-but-gil-enabled` is added
/// only when the static scan did not already report the classifier.
fn runtime_checks(probes: &[ProbeResult], facts: &[WheelFacts], already_flagged: bool) -> Vec<Check> {
    let claims = facts.iter().any(|f| f.claims_free_threading) && !already_flagged;
    let mut out = Vec::new();
    for p in probes {
        let mut check = runtime::report::check(p);
        match (p.probe, p.status) {
            (ProbeKind::Subinterpreter, Status::ImportError) => {
                check.rule = Some(Rule::DeclaredSubinterpretersRefused);
                check.message = Some(format!(
                    "{} declares subinterpreter support, but: {}",
                    p.module,
                    check.message.unwrap_or_default()
                ));
            }
            (_, Status::NotApplicable) if p.error.as_deref().is_some_and(|e| e.ends_with(runtime::NOT_INSTALLED)) => {
                let message = format!(
                    "the package is not installed for {}: install it there before `ftprobe check`",
                    p.python.executable.display()
                );
                check = Check::fail(&check.group, &check.name, Rule::ProbeError, Level::Error, message.clone())
                    .with_outcome(Outcome::Error, Some(message))
                    .about(&p.module);
            }
            (ProbeKind::FreeThreading, Status::GilEnabled) if claims => {
                let message = format!(
                    "METADATA declares free-threading support, yet importing {} enabled the GIL (required by: {})",
                    p.module,
                    p.gil_required_by.join(", ")
                );
                out.push(
                    Check::fail(&check.group, "classifiers", Rule::ClassifierButGilEnabled, Level::Error, message)
                        .about(&p.module),
                );
            }
            _ => {}
        }
        out.push(check);
        out.extend(runtime::report::disagreement_checks(p));
    }
    out
}

/// Failures the policy tolerates become skipped checks that say why.
fn apply_policy(checks: Vec<Check>, policy: &Policy) -> Vec<Check> {
    checks
        .into_iter()
        .map(|check| {
            if check.outcome != Outcome::Fail {
                return check;
            }
            let Some(rule) = check.rule else { return check };
            if policy.ignore.contains(&rule) {
                let message = format!("ignored by policy: {rule}");
                return check.with_outcome(Outcome::Skip, Some(message));
            }
            if check.module.as_deref().is_some_and(|m| policy.allows(m)) {
                let message = format!("allowed by policy ({rule}): {}", check.message.clone().unwrap_or_default());
                return check.with_outcome(Outcome::Skip, Some(message));
            }
            check
        })
        .collect()
}
