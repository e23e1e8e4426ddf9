//! What `ftprobe test` records for one package on one interpreter: where its
//! test suite came from, every iteration of it, and the category those
//! iterations add up to. Part of a [`super::Row`], so `report`, `compare`
//! and `merge` read test runs and batch runs from one format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::binscan::GilVerdict;
use crate::binscan::generator::GeneratorKind;

/// A suite's verdict, decided in the priority order [`Category::ORDER`] lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The package (or its test dependencies) could not be installed.
    InstallFailure,
    /// It installed, but importing it failed.
    ImportFailure,
    /// An iteration printed nothing for the stall period and was killed.
    Deadlock,
    /// An iteration died of a signal or a fatal Python error.
    Crash,
    /// ThreadSanitizer reported races (`--tsan`).
    TsanWarnings,
    /// Every iteration failed.
    Incompatible,
    /// Some iterations failed and some passed.
    Intermittent,
    /// Every iteration passed, but the GIL was re-enabled on the way.
    CompatibleGilFallback,
    /// Every iteration passed with the GIL off.
    Compatible,
    /// Nothing could be decided: no tests ran, pytest could not start, a plain timeout.
    Unknown,
}

impl Category {
    /// The order categories are decided in: the first that applies wins.
    /// Install and import come first (nothing else could run); then the
    /// failures that stop a process (a hang, a crash), then the races TSAN
    /// saw, then test failures, then a pass that needed the GIL, then a pass.
    pub const ORDER: [Category; 10] = [
        Category::InstallFailure,
        Category::ImportFailure,
        Category::Deadlock,
        Category::Crash,
        Category::TsanWarnings,
        Category::Incompatible,
        Category::Intermittent,
        Category::CompatibleGilFallback,
        Category::Compatible,
        Category::Unknown,
    ];

    /// How bad it is for a user (0 best), for `compare`'s direction of change.
    pub fn badness(self) -> u8 {
        match self {
            Category::Compatible => 0,
            Category::CompatibleGilFallback => 1,
            Category::Unknown => 2,
            Category::Intermittent => 3,
            Category::TsanWarnings => 4,
            Category::Incompatible => 5,
            Category::ImportFailure | Category::InstallFailure => 6,
            Category::Deadlock | Category::Crash => 7,
        }
    }
}

/// How one iteration ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IterationStatus {
    Passed,
    /// Tests failed or errored (pytest exit 1).
    Failed,
    /// Killed by a signal, or a fatal Python error.
    Crash,
    /// Silent for the stall period; the process group was killed.
    Deadlock,
    /// Still running (and printing) at the timeout.
    Timeout,
    /// pytest could not run the suite (exit 2 to 5: interrupted, internal
    /// error, usage error, no tests collected), or the command could not start.
    Error,
    /// ftprobe was interrupted.
    Interrupted,
}

/// How `PYTHON_GIL` was set for an iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilSetting {
    /// Left unset: a module that needs the GIL turns it back on, and that shows.
    #[default]
    Unset,
    /// `PYTHON_GIL=0`: kept off even when a module needs it.
    Off,
    /// `PYTHON_GIL=1`: the comparison iterations.
    On,
}

impl GilSetting {
    pub fn env_value(self) -> Option<&'static str> {
        match self {
            GilSetting::Unset => None,
            GilSetting::Off => Some("0"),
            GilSetting::On => Some("1"),
        }
    }
}

/// Test outcomes counted from the iteration's JUnit XML.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCounts {
    pub passed: u32,
    pub failed: u32,
    pub error: u32,
    pub skipped: u32,
}

/// One ThreadSanitizer report kind, deduplicated by its `SUMMARY:` line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TsanWarning {
    /// `data race`, `heap-use-after-free`, `lock-order-inversion (potential deadlock)`, ...
    pub kind: String,
    pub summary: String,
    /// The first frames of the first stack (`#0 function file:line`).
    pub frames: Vec<String>,
    /// How many reports in the iteration had this summary.
    pub count: u32,
}

/// An extension module that was newly loaded when the GIL turned on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilCulprit {
    pub module: String,
    pub file: Option<String>,
    /// The scanner's `gil` verdict for the file.
    pub verdict: Option<GilVerdict>,
    pub generator: Option<GeneratorKind>,
    /// CPython's own warning named it (`The global interpreter lock (GIL) has been enabled to load module ...`).
    pub named_by_warning: bool,
}

/// Whether the GIL was on, as the injected pytest plugin saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GilRecord {
    pub at_start: Option<bool>,
    pub after_collection: Option<bool>,
    pub at_end: Option<bool>,
    /// Where it turned on: `start` (before pytest's session), `collection`,
    /// or the test's node id.
    pub enabled_during: Option<String>,
    pub culprits: Vec<GilCulprit>,
}

/// One run of the test command.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Iteration {
    pub number: u32,
    pub gil_setting: GilSetting,
    pub status: IterationStatus,
    pub exit_code: Option<i32>,
    pub seconds: f64,
    /// The signal that ended it (`SIGSEGV`).
    pub signal: Option<String>,
    /// The fatal error and the crashing thread's top frames from
    /// faulthandler, without addresses or line numbers, so equal races group.
    pub crash_signature: Option<String>,
    /// The test that was running when it crashed, stalled or timed out.
    pub running_test: Option<String>,
    pub stalled: bool,
    pub tests: TestCounts,
    pub failed_tests: Vec<String>,
    /// Each failed test's signature: exception type and message shape, last frame.
    #[serde(default)]
    pub failure_signatures: BTreeMap<String, String>,
    pub tsan: Vec<TsanWarning>,
    pub gil: Option<GilRecord>,
    /// The last lines of output when it did not pass.
    pub output_tail: Option<String>,
}

/// What kind of place a suite came from (`source.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A folder: the user's checkout.
    Path,
    /// The sdist on the index.
    Sdist,
    /// A git repository, cloned.
    Git,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Path => "path",
            SourceKind::Sdist => "sdist",
            SourceKind::Git => "git",
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the suite came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuiteSource {
    pub kind: SourceKind,
    /// The folder, the sdist's file name or the repository URL.
    pub location: String,
    /// The commit (git, or a path inside a git checkout) or the sdist's version.
    pub revision: Option<String>,
}

/// A test that failed in some iterations but not all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlakyTest {
    pub test: String,
    pub failed: u32,
    pub of: u32,
}

/// The same iterations with `PYTHON_GIL=1` (`--compare-with-gil`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GilComparison {
    pub iterations: Vec<Iteration>,
    pub pass_rate: f64,
    /// Tests (and `crash` / `deadlock`) failing only with the GIL off.
    pub free_threading_specific: Vec<String>,
    /// Tests failing with the GIL on as well: not free-threading failures.
    pub pre_existing: Vec<String>,
}

/// A package's test suite on one interpreter.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Suite {
    pub source: SuiteSource,
    pub category: Category,
    /// One line: why this category.
    pub reason: String,
    /// Passed iterations / iterations run.
    pub pass_rate: f64,
    pub gil_setting: GilSetting,
    /// What ran, from the suite's folder.
    pub test_command: Vec<String>,
    /// Where the test dependencies came from (`dependency-groups.test`, `extra test`, a file).
    pub test_dependencies: Vec<String>,
    pub iterations: Vec<Iteration>,
    pub flaky_tests: Vec<FlakyTest>,
    pub gil_comparison: Option<GilComparison>,
}

impl Suite {
    /// An iteration was cut short by Ctrl-C: `--resume` runs the unit again.
    pub fn interrupted(&self) -> bool {
        let compared = self.gil_comparison.iter().flat_map(|c| &c.iterations);
        self.iterations.iter().chain(compared).any(|i| i.status == IterationStatus::Interrupted)
    }
}
