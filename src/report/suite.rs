//! What a test run's row (`ftprobe test`) shows beside its package,
//! version and interpreter (`runs.rs` puts them together): its category,
//! pass rate, flaky tests and who turned the GIL back on; what a test run
//! adds up to; and `ftprobe flaky`'s view of the same rows.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::binscan::GilVerdict;
use crate::model::snake;
use crate::model::tags::WheelTag;
use crate::run::suite::{Category, Iteration, IterationStatus, Suite};
use crate::run::{InstallSource, Row};

/// A test row's own columns, as every format shows them.
pub struct SuiteSummary {
    pub source: String,
    /// What the tests ran against: see [`installed_build`].
    pub tested: String,
    pub category: String,
    pub pass_rate: String,
    pub iterations: String,
    pub flaky: String,
    pub gil: String,
    pub gil_comparison: String,
    pub reason: String,
}

/// The headers of [`SuiteSummary::cells`].
pub const HEADERS: [&str; 9] =
    ["source", "tested", "category", "pass_rate", "iterations", "flaky", "gil_reenabled_by", "with_gil", "reason"];

/// What the tests ran against: `wheel cp313t`, `pure-Python wheel` (a
/// package whose latest release ships compiled wheels for other builds only
/// may install its universal wheel: its extensions were not tested), or
/// `built here` from source.
pub fn installed_build(row: &Row) -> String {
    if row.install.status != crate::run::InstallStatus::Ok {
        return "-".into();
    }
    match row.install.from {
        Some(InstallSource::Wheel) if row.install.wheel_tags.iter().all(|t| t.ends_with("-none-any")) => {
            "pure-Python wheel".into()
        }
        Some(InstallSource::Wheel) => {
            let mut abis: Vec<String> =
                row.install.wheel_tags.iter().filter_map(|t| WheelTag::parse(t)).map(|t| t.abi).collect();
            abis.dedup();
            format!("wheel {}", abis.join(" "))
        }
        Some(InstallSource::Sdist) => "built here".into(),
        None => "-".into(),
    }
}

/// The modules that re-enabled the GIL in any iteration.
pub fn gil_culprits(suite: &Suite) -> Vec<String> {
    let mut names: Vec<String> = suite
        .iterations
        .iter()
        .filter_map(|i| i.gil.as_ref())
        .filter(|g| g.at_end == Some(true))
        .flat_map(|g| {
            g.culprits
                .iter()
                .filter(|c| c.named_by_warning || c.verdict != Some(GilVerdict::NotUsed))
                .map(|c| c.module.clone())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `5/5 passed` or `2 passed, 2 failed, 1 crash`.
pub fn iterations_text(iterations: &[Iteration]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for iteration in iterations {
        *counts.entry(snake(&iteration.status)).or_default() += 1;
    }
    if counts.len() == 1 && counts.contains_key("passed") {
        return format!("{0}/{0} passed", iterations.len());
    }
    counts.iter().map(|(status, n)| format!("{n} {status}")).collect::<Vec<_>>().join(", ")
}

pub fn summarize(row: &Row) -> SuiteSummary {
    let suite = row.suite.as_ref();
    let source = suite
        .map(|s| match &s.source.revision {
            Some(revision) => format!("{} {}", s.source.kind, revision.chars().take(20).collect::<String>()),
            None => s.source.kind.to_string(),
        })
        .unwrap_or_default();
    SuiteSummary {
        source,
        tested: installed_build(row),
        category: suite.map(|s| snake(&s.category)).unwrap_or_else(|| "interrupted".into()),
        pass_rate: suite
            .filter(|s| !s.iterations.is_empty())
            .map(|s| format!("{:.0}%", s.pass_rate * 100.0))
            .unwrap_or_else(|| "-".into()),
        iterations: suite.map(|s| iterations_text(&s.iterations)).unwrap_or_default(),
        flaky: suite.map(|s| s.flaky_tests.len().to_string()).unwrap_or_default(),
        gil: suite.map(|s| gil_culprits(s).join(" ")).unwrap_or_default(),
        gil_comparison: suite
            .and_then(|s| s.gil_comparison.as_ref())
            .map(|c| {
                format!(
                    "{:.0}% pass; {} free-threading-specific, {} pre-existing",
                    c.pass_rate * 100.0,
                    c.free_threading_specific.len(),
                    c.pre_existing.len()
                )
            })
            .unwrap_or_default(),
        reason: suite.map(|s| s.reason.clone()).or_else(|| row.install.error.clone()).unwrap_or_default(),
    }
}

impl SuiteSummary {
    pub fn cells(&self) -> [String; 9] {
        [
            self.source.clone(),
            self.tested.clone(),
            self.category.clone(),
            self.pass_rate.clone(),
            self.iterations.clone(),
            self.flaky.clone(),
            self.gil.clone(),
            self.gil_comparison.clone(),
            self.reason.clone(),
        ]
    }
}

/// One line for the progress output.
pub fn unit_summary(row: &Row) -> String {
    let s = summarize(row);
    let version = row.version.as_deref().map(|v| format!("{v} ")).unwrap_or_default();
    let tested = if s.tested == "-" { String::new() } else { format!(" ({})", s.tested) };
    format!("{version}{}{tested}: {}", s.category, crate::report::escape_controls(&s.reason))
}

/// How many rows fall in each category (rows without a suite left out).
pub fn counts_by_category(rows: &[Row]) -> BTreeMap<Category, usize> {
    let mut counts: BTreeMap<Category, usize> = BTreeMap::new();
    for suite in rows.iter().filter_map(|r| r.suite.as_ref()) {
        *counts.entry(suite.category).or_default() += 1;
    }
    counts
}

/// `2 compatible, 1 crash` over the rows, in the categories' order.
pub fn category_counts(rows: &[Row]) -> String {
    let counts = counts_by_category(rows);
    let interrupted = rows.iter().filter(|r| r.suite.is_none()).count();
    let mut parts: Vec<String> =
        Category::ORDER.iter().filter_map(|c| counts.get(c).map(|n| format!("{n} {}", snake(c)))).collect();
    if interrupted > 0 {
        parts.push(format!("{interrupted} interrupted"));
    }
    if parts.is_empty() { "no results".into() } else { parts.join(", ") }
}

/// One flaky test of `ftprobe flaky`.
#[derive(Serialize)]
pub struct FlakyLine {
    pub package: String,
    pub python: String,
    pub test: String,
    pub failed: u32,
    pub of: u32,
    /// Its failure signatures, each with the number of iterations it showed in.
    pub signatures: Vec<(String, u32)>,
}

/// The crashes of one unit, grouped by signature.
#[derive(Serialize)]
pub struct CrashGroup {
    pub package: String,
    pub python: String,
    pub signatures: Vec<(String, u32)>,
    /// One signature: one race, most likely. Several: several bugs, or one with several faces.
    pub agree: bool,
}

#[derive(Serialize)]
pub struct Flakiness {
    pub flaky: Vec<FlakyLine>,
    pub crashes: Vec<CrashGroup>,
}

/// What `ftprobe flaky` shows: flaky tests with their signatures, and crash signatures grouped.
pub fn flakiness(rows: &[Row], package: Option<&str>) -> Flakiness {
    let mut out = Flakiness { flaky: Vec::new(), crashes: Vec::new() };
    let wanted = package.map(crate::model::name::normalize);
    for row in rows {
        let Some(suite) = &row.suite else { continue };
        if wanted.as_ref().is_some_and(|w| *w != row.package) {
            continue;
        }
        for test in &suite.flaky_tests {
            let mut signatures: BTreeMap<&str, u32> = BTreeMap::new();
            for iteration in &suite.iterations {
                if let Some(signature) = iteration.failure_signatures.get(&test.test) {
                    *signatures.entry(signature).or_default() += 1;
                }
            }
            out.flaky.push(FlakyLine {
                package: row.package.clone(),
                python: row.python.label(),
                test: test.test.clone(),
                failed: test.failed,
                of: test.of,
                signatures: signatures.into_iter().map(|(s, n)| (s.to_string(), n)).collect(),
            });
        }
        let mut crashes: BTreeMap<String, u32> = BTreeMap::new();
        for iteration in suite.iterations.iter().filter(|i| i.status == IterationStatus::Crash) {
            let signature = iteration
                .crash_signature
                .clone()
                .or_else(|| iteration.signal.clone())
                .unwrap_or_else(|| format!("exit code {}", iteration.exit_code.unwrap_or(-1)));
            *crashes.entry(signature).or_default() += 1;
        }
        if !crashes.is_empty() {
            out.crashes.push(CrashGroup {
                package: row.package.clone(),
                python: row.python.label(),
                agree: crashes.len() == 1,
                signatures: crashes.into_iter().collect(),
            });
        }
    }
    out
}

/// `ftprobe flaky` as text (table or Markdown lists).
pub fn flakiness_text(found: &Flakiness, printer: &crate::printer::Printer, markdown: bool) -> String {
    let mut out = String::new();
    let bullet = if markdown { "- " } else { "  " };
    if found.flaky.is_empty() {
        out.push_str("No flaky tests: every test that failed, failed in every iteration.\n");
    } else {
        out.push_str(if markdown {
            "## Flaky tests\n\n"
        } else {
            "Flaky tests (failed in some iterations, not all):\n"
        });
        let mut table = crate::report::table::Table::new(["PACKAGE", "PYTHON", "TEST", "FAILED"].map(String::from));
        for line in &found.flaky {
            table.push(
                [line.package.clone(), line.python.clone(), line.test.clone(), format!("{}/{}", line.failed, line.of)]
                    .map(|c| crate::report::escape_controls(&c)),
            );
        }
        if markdown {
            for line in &found.flaky {
                out.push_str(&format!(
                    "- `{}` on {} ({}): failed {}/{}\n",
                    line.test, line.python, line.package, line.failed, line.of
                ));
                for (signature, n) in &line.signatures {
                    out.push_str(&format!("  - {n}× `{}`\n", crate::report::escape_controls(signature)));
                }
            }
        } else {
            out.push_str(&table.render(printer));
            out.push('\n');
            out.push_str("Failure signatures:\n");
            for line in &found.flaky {
                for (signature, n) in &line.signatures {
                    out.push_str(&format!(
                        "{bullet}{} ({}): {n}× {}\n",
                        line.test,
                        line.python,
                        crate::report::escape_controls(signature)
                    ));
                }
            }
        }
    }
    for group in &found.crashes {
        out.push_str(&format!(
            "\n{}Crashes of {} on {}: {}\n",
            if markdown { "### " } else { "" },
            group.package,
            group.python,
            if group.agree {
                "one signature in every crash (one race, most likely)"
            } else {
                "different signatures (several bugs, or one race with several faces)"
            }
        ));
        for (signature, n) in &group.signatures {
            out.push_str(&format!("{bullet}{n}× {}\n", crate::report::escape_controls(signature)));
        }
    }
    out
}
