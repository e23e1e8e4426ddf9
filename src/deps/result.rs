//! What `ftprobe deps` says: one [`PackageResult`] per pinned distribution,
//! target and platform, with a status from a fixed set, and a summary per
//! target. This is the JSON README documents; every other format renders it.

use serde::{Deserialize, Serialize};

use crate::binscan::{GilVerdict, SubinterpreterVerdict};
use crate::lock::LockFormat;
use crate::lock::resolve::Resolution;

/// What installing one pin on one target would give.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepStatus {
    /// A wheel whose modules re-enable the GIL on a free-threaded target.
    GilRequired,
    /// No wheel for the target: an install builds the sdist, or fails.
    NoWheel,
    /// A wheel whose modules isolated subinterpreters refuse (default-build targets).
    SubinterpretersRefused,
    /// The index, the network, a hash or the wheel itself failed.
    Error,
    /// The scanner could not decide a module.
    Undetermined,
    /// Every extension module keeps the GIL off (free-threaded target) or
    /// loads in isolated subinterpreters (default-build target).
    Ready,
    /// A wheel with no extension modules.
    Pure,
    /// The environment markers leave it out on this target and platform.
    NotNeeded,
}

impl DepStatus {
    /// Stands in the way of moving to the target: the statuses the table
    /// lists first and traces to a direct dependency.
    pub fn is_blocker(self) -> bool {
        matches!(
            self,
            DepStatus::GilRequired
                | DepStatus::NoWheel
                | DepStatus::SubinterpretersRefused
                | DepStatus::Error
                | DepStatus::Undetermined
        )
    }

    /// The words the table and summary use.
    pub fn label(self) -> &'static str {
        match self {
            DepStatus::GilRequired => "needs the GIL",
            DepStatus::NoWheel => "no wheel",
            DepStatus::SubinterpretersRefused => "refused by subinterpreters",
            DepStatus::Error => "could not be examined",
            DepStatus::Undetermined => "undetermined",
            DepStatus::Ready => "ready",
            DepStatus::Pure => "pure Python",
            DepStatus::NotNeeded => "not needed",
        }
    }
}

/// One extension module of the chosen wheel, as `ftprobe scan` words it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleVerdict {
    pub import_name: String,
    /// The member of the wheel.
    pub file: String,
    pub gil: Option<GilVerdict>,
    pub subinterpreters: Option<SubinterpreterVerdict>,
    /// The binding generator, with its version when the binary records it (`pyo3 0.30.1`).
    pub generator: Option<String>,
}

/// The first release after the pin that ships a wheel for the target.
#[derive(Clone, Debug, Serialize)]
pub struct FirstReady {
    pub version: String,
    /// The upload date of that wheel (`2025-07-24`), when the index says.
    pub date: Option<String>,
    /// Its wheel for the target is pure Python (`py3-none-any`): it installs
    /// without the compiled speed-ups other builds get.
    pub pure: bool,
    /// That wheel's own status on the target (`ready`, `pure`,
    /// `gil_required`, ...), from scanning it as the pin's would be; `error`
    /// when it could not be read.
    pub status: DepStatus,
    /// The wheel, for scanning.
    #[serde(skip)]
    pub wheel: Option<super::choose::Candidate>,
}

impl FirstReady {
    /// Upgrading to it removes the blocker: its wheel is ready or pure.
    pub fn fixes(&self) -> bool {
        matches!(self.status, DepStatus::Ready | DepStatus::Pure)
    }
}

/// Where a pin is written in the input, for SARIF and error lines.
#[derive(Clone, Debug, Serialize)]
pub struct InputLocation {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One pinned distribution on one target and platform.
#[derive(Clone, Debug, Serialize)]
pub struct PackageResult {
    pub name: String,
    pub version: Option<String>,
    /// The target exactly as given (`3.14t`).
    pub target: String,
    /// The platform as given (`linux`, or a wheel platform tag).
    pub platform: String,
    pub status: DepStatus,
    /// The wheel an installer would choose.
    pub wheel: Option<String>,
    pub modules: Vec<ModuleVerdict>,
    /// For `no_wheel`: what an install would do instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install: Option<String>,
    pub first_ready_version: Option<FirstReady>,
    /// For `no_wheel`, where the first release with a wheel is not ready:
    /// the newest release with one, and its status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_release: Option<FirstReady>,
    /// A pure wheel where the release also ships compiled wheels for other
    /// builds: the compiled speed-ups are not used on this target.
    pub compiled_elsewhere: bool,
    /// Chains from a direct dependency to this pin (`[root, ..., name]`);
    /// empty for a direct dependency or where the input has no graph.
    pub required_by: Vec<Vec<String>>,
    /// One sentence: why this status.
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<InputLocation>,
}

/// The counts for one target and platform.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TargetSummary {
    pub target: String,
    pub platform: String,
    /// Pins installed there (everything but `not_needed`).
    pub packages: usize,
    pub ready: usize,
    pub pure: usize,
    pub gil_required: usize,
    pub no_wheel: usize,
    /// Of those without a wheel: a later release ships one.
    pub fixed_by_upgrading: usize,
    pub subinterpreters_refused: usize,
    pub undetermined: usize,
    pub error: usize,
    pub not_needed: usize,
}

/// What the index traffic cost, for the closing line and BENCHMARKS.md.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Traffic {
    pub requests: u64,
    pub bytes: u64,
    /// Wheels whose scan came from the cache alone.
    pub wheels_from_cache: usize,
}

/// One input as it was read.
#[derive(Clone, Debug, Serialize)]
pub struct InputEntry {
    /// The path as given.
    pub path: String,
    /// What it was read as (`uv.lock`, ..., `installed` for a venv or
    /// site-packages folder; `requirements` for the pins uv resolved).
    pub format: LockFormat,
    /// For a `pyproject.toml`: how uv resolved it, for which target and platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Resolution>,
}

/// Everything one `ftprobe deps` run found.
#[derive(Clone, Debug, Serialize)]
pub struct DepsReport {
    /// One entry per input; a `pyproject.toml` has one per target and platform uv resolved it for.
    pub inputs: Vec<InputEntry>,
    pub targets: Vec<String>,
    pub platforms: Vec<String>,
    /// The platform tags each platform stood for, most preferred first.
    pub platform_tags: Vec<(String, Vec<String>)>,
    pub packages: Vec<PackageResult>,
    pub summary: Vec<TargetSummary>,
    /// Things said once (no graph in the input, a server that ignores Range).
    pub notes: Vec<String>,
    pub traffic: Traffic,
}

impl DepsReport {
    /// Counts each target and platform's statuses.
    pub fn summarize(&mut self) {
        let mut out: Vec<TargetSummary> = Vec::new();
        for package in &self.packages {
            let index = match out.iter().position(|s| s.target == package.target && s.platform == package.platform) {
                Some(index) => index,
                None => {
                    out.push(TargetSummary {
                        target: package.target.clone(),
                        platform: package.platform.clone(),
                        ..TargetSummary::default()
                    });
                    out.len() - 1
                }
            };
            let summary = &mut out[index];
            if package.status != DepStatus::NotNeeded {
                summary.packages += 1;
            }
            match package.status {
                DepStatus::Ready => summary.ready += 1,
                DepStatus::Pure => summary.pure += 1,
                DepStatus::GilRequired => summary.gil_required += 1,
                DepStatus::NoWheel => {
                    summary.no_wheel += 1;
                    let fixes = |release: &Option<FirstReady>| release.as_ref().is_some_and(FirstReady::fixes);
                    summary.fixed_by_upgrading +=
                        usize::from(fixes(&package.first_ready_version) || fixes(&package.newest_release));
                }
                DepStatus::SubinterpretersRefused => summary.subinterpreters_refused += 1,
                DepStatus::Undetermined => summary.undetermined += 1,
                DepStatus::Error => summary.error += 1,
                DepStatus::NotNeeded => summary.not_needed += 1,
            }
        }
        self.summary = out;
    }
}

impl TargetSummary {
    /// `140 packages on 3.14t (linux): 120 pure, 14 ready, 1 needs the GIL,
    /// 5 have no wheel (2 fixed by upgrading)`.
    pub fn line(&self) -> String {
        let verb = if self.no_wheel == 1 { "has" } else { "have" };
        let no_wheel = format!("{verb} no wheel ({} fixed by upgrading)", self.fixed_by_upgrading);
        let counted = [
            (self.gil_required, if self.gil_required == 1 { "needs the GIL" } else { "need the GIL" }),
            (self.no_wheel, no_wheel.as_str()),
            (self.subinterpreters_refused, "refused by isolated subinterpreters"),
            (self.undetermined, "undetermined"),
            (self.error, "could not be examined"),
        ];
        let mut parts = vec![format!("{} pure", self.pure), format!("{} ready", self.ready)];
        parts.extend(counted.iter().filter(|(n, _)| *n > 0).map(|(n, text)| format!("{n} {text}")));
        format!("{} packages on {} ({}): {}", self.packages, self.target, self.platform, parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(status: DepStatus, fixed: bool) -> PackageResult {
        PackageResult {
            name: "x".into(),
            version: Some("1".into()),
            target: "3.14t".into(),
            platform: "linux".into(),
            status,
            wheel: None,
            modules: Vec::new(),
            install: None,
            first_ready_version: fixed.then(|| FirstReady {
                version: "2".into(),
                date: None,
                pure: false,
                status: DepStatus::Ready,
                wheel: None,
            }),
            newest_release: None,
            compiled_elsewhere: false,
            required_by: Vec::new(),
            reason: None,
            location: None,
        }
    }

    #[test]
    fn the_summary_line_counts_each_status() {
        let mut report = DepsReport {
            inputs: Vec::new(),
            targets: Vec::new(),
            platforms: Vec::new(),
            platform_tags: Vec::new(),
            packages: vec![
                package(DepStatus::Pure, false),
                package(DepStatus::Pure, false),
                package(DepStatus::Ready, false),
                package(DepStatus::GilRequired, false),
                package(DepStatus::NoWheel, true),
                package(DepStatus::NoWheel, false),
                package(DepStatus::NotNeeded, false),
            ],
            summary: Vec::new(),
            notes: Vec::new(),
            traffic: Traffic::default(),
        };
        report.summarize();
        assert_eq!(
            report.summary[0].line(),
            "6 packages on 3.14t (linux): 2 pure, 1 ready, 1 needs the GIL, 2 have no wheel (1 fixed by upgrading)"
        );
        assert!(DepStatus::NoWheel.is_blocker() && !DepStatus::Pure.is_blocker());
        assert_eq!(crate::model::snake(&DepStatus::SubinterpretersRefused), "subinterpreters_refused");
    }
}
