//! From iterations to a verdict: the category (decided in
//! [`Category::ORDER`]), the pass rate, the flaky tests, and, with the GIL
//! comparison, which failures belong to free-threading.

use std::collections::{BTreeMap, BTreeSet};

use crate::binscan::GilVerdict;
use crate::run::suite::{Category, FlakyTest, GilComparison, Iteration, IterationStatus};

/// Passed iterations over the iterations that ran to an end.
pub fn pass_rate(iterations: &[Iteration]) -> f64 {
    let ran: Vec<&Iteration> = iterations.iter().filter(|i| i.status != IterationStatus::Interrupted).collect();
    if ran.is_empty() {
        return 0.0;
    }
    ran.iter().filter(|i| i.status == IterationStatus::Passed).count() as f64 / ran.len() as f64
}

/// What failed in an iteration: its failed tests, or the way it ended.
fn failures(iteration: &Iteration) -> Vec<String> {
    let mut out = iteration.failed_tests.clone();
    match iteration.status {
        IterationStatus::Crash => out.push("(crash)".into()),
        IterationStatus::Deadlock => out.push("(deadlock)".into()),
        _ => {}
    }
    out
}

/// Tests that failed in some iterations but not all.
pub fn flaky(iterations: &[Iteration]) -> Vec<FlakyTest> {
    let ran: Vec<&Iteration> =
        iterations.iter().filter(|i| matches!(i.status, IterationStatus::Passed | IterationStatus::Failed)).collect();
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for iteration in &ran {
        for test in &iteration.failed_tests {
            *counts.entry(test).or_default() += 1;
        }
    }
    let of = ran.len() as u32;
    counts
        .into_iter()
        .filter(|(_, failed)| *failed < of)
        .map(|(test, failed)| FlakyTest { test: test.to_string(), failed, of })
        .collect()
}

/// The comparison of GIL-off iterations with the same iterations run with `PYTHON_GIL=1`.
pub fn compare_with_gil(off: &[Iteration], on: Vec<Iteration>) -> GilComparison {
    let failing_on: BTreeSet<String> = on.iter().flat_map(failures).collect();
    let failing_off: BTreeSet<String> = off.iter().flat_map(failures).collect();
    GilComparison {
        pass_rate: pass_rate(&on),
        free_threading_specific: failing_off.difference(&failing_on).cloned().collect(),
        pre_existing: failing_off.intersection(&failing_on).cloned().collect(),
        iterations: on,
    }
}

/// The category and one line saying why.
pub fn decide(iterations: &[Iteration], comparison: Option<&GilComparison>) -> (Category, String) {
    let total = iterations.len();
    let at = |i: &Iteration| format!("iteration {} of {total}", i.number);
    let during = |i: &Iteration| i.running_test.as_deref().map(|t| format!(" during {t}")).unwrap_or_default();
    if let Some(stalled) = iterations.iter().find(|i| i.status == IterationStatus::Deadlock) {
        let count = iterations.iter().filter(|i| i.status == IterationStatus::Deadlock).count();
        return (
            Category::Deadlock,
            format!(
                "{count} of {total} iterations stopped printing and were killed; first {}{}",
                at(stalled),
                during(stalled)
            ),
        );
    }
    if let Some(crashed) = iterations.iter().find(|i| i.status == IterationStatus::Crash) {
        let count = iterations.iter().filter(|i| i.status == IterationStatus::Crash).count();
        let how = [crashed.signal.clone(), crashed.crash_signature.clone()].into_iter().flatten().collect::<Vec<_>>();
        return (
            Category::Crash,
            format!(
                "{count} of {total} iterations crashed; first {}{}: {}",
                at(crashed),
                during(crashed),
                how.join(", ")
            ),
        );
    }
    if let Some(warned) = iterations.iter().find(|i| !i.tsan.is_empty()) {
        let kinds: BTreeSet<&str> = iterations.iter().flat_map(|i| i.tsan.iter().map(|t| t.kind.as_str())).collect();
        return (
            Category::TsanWarnings,
            format!(
                "ThreadSanitizer reported {} (first in {}: {})",
                kinds.into_iter().collect::<Vec<_>>().join(", "),
                at(warned),
                warned.tsan.first().map(|t| t.summary.as_str()).unwrap_or("")
            ),
        );
    }
    let pre_existing: BTreeSet<&str> =
        comparison.map(|c| c.pre_existing.iter().map(String::as_str).collect()).unwrap_or_default();
    let completed: Vec<&Iteration> =
        iterations.iter().filter(|i| matches!(i.status, IterationStatus::Passed | IterationStatus::Failed)).collect();
    if completed.is_empty() {
        let why = iterations
            .iter()
            .find(|i| i.status != IterationStatus::Interrupted)
            .map(|i| format!("{}: {}", crate::model::snake(&i.status), tail_line(i)))
            .unwrap_or_else(|| "no iteration ran".into());
        return (Category::Unknown, format!("no iteration ran the suite to its end ({why})"));
    }
    let all_skipped = |i: &&Iteration| i.tests.passed + i.tests.failed + i.tests.error == 0 && i.tests.skipped > 0;
    if completed.iter().all(all_skipped) {
        return (Category::Unknown, "every test was skipped".into());
    }
    // With the comparison, an iteration whose only failures also fail with
    // the GIL is not a free-threading failure.
    let failed: Vec<&&Iteration> = completed
        .iter()
        .filter(|i| {
            i.status == IterationStatus::Failed
                && (i.failed_tests.is_empty() || i.failed_tests.iter().any(|t| !pre_existing.contains(t.as_str())))
        })
        .collect();
    let note = if pre_existing.is_empty() {
        String::new()
    } else {
        format!("; {} failing with the GIL too, not counted", pre_existing.len())
    };
    let failing_tests: BTreeSet<&str> = failed
        .iter()
        .flat_map(|i| i.failed_tests.iter().map(String::as_str))
        .filter(|t| !pre_existing.contains(t))
        .collect();
    let named = || {
        let mut list: Vec<&str> = failing_tests.iter().copied().take(3).collect();
        if failing_tests.len() > 3 {
            list.push("…");
        }
        list.join(", ")
    };
    if !failed.is_empty() && failed.len() == completed.len() {
        return (Category::Incompatible, format!("all {} iterations failed: {}{note}", completed.len(), named()));
    }
    if !failed.is_empty() {
        return (
            Category::Intermittent,
            format!("{} of {} iterations failed: {}{note}", failed.len(), completed.len(), named()),
        );
    }
    let fallback =
        completed.iter().find_map(|i| i.gil.as_ref().filter(|g| g.at_end == Some(true) && g.enabled_during.is_some()));
    if let Some(gil) = fallback {
        let culprits: Vec<String> = gil
            .culprits
            .iter()
            .filter(|c| c.named_by_warning || c.verdict != Some(GilVerdict::NotUsed))
            .map(|c| match c.verdict {
                Some(v) => format!("{} (static: GIL {})", c.module, crate::model::snake(&v).replace('_', " ")),
                None => c.module.clone(),
            })
            .collect();
        let place = match gil.enabled_during.as_deref() {
            Some("start") => "before the tests were collected".to_string(),
            Some("collection") => "during collection".to_string(),
            Some(test) => format!("during {test}"),
            None => "at some point".to_string(),
        };
        let by = if culprits.is_empty() { "an unnamed module".to_string() } else { culprits.join(", ") };
        return (Category::CompatibleGilFallback, format!("passed, but the GIL was re-enabled {place} by {by}{note}"));
    }
    (Category::Compatible, format!("all {} iterations passed{note}", completed.len()))
}

fn tail_line(iteration: &Iteration) -> String {
    iteration
        .output_tail
        .as_deref()
        .and_then(|t| t.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim()
        .to_string()
}
