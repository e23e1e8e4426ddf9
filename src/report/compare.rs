//! `ftprobe compare OLD NEW`: what changed between two runs, per package and
//! interpreter. Units are matched by package, CPython release line and build
//! kind (`3.14t`), so a run on 3.14a1 compares with one on 3.14b2. Each
//! change is a regression (something newly fails), an improvement, or a
//! plain change (a new version). Test runs compare by category (its
//! transition, in [`crate::run::suite::Category::badness`] order) and pass rate.

use std::collections::BTreeMap;

use serde::Serialize;

use super::batch::{ProbeSummary, severity, summarize};
use crate::model::snake;
use crate::run::{Row, Suite};
use crate::runtime::Status;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Regression,
    Improvement,
    Change,
    Added,
    Removed,
}

/// One difference between the runs.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    pub package: String,
    pub python: String,
    pub field: String,
    pub old: String,
    pub new: String,
    pub kind: Kind,
}

/// `3.14t` for a row: what units are matched by.
fn line(row: &Row) -> String {
    let minor: Vec<&str> = row.python.version.split('.').take(2).collect();
    format!("{}{}", minor.join("."), if row.python.free_threaded { "t" } else { "" })
}

/// How bad a summarised outcome is (0 best), for the direction of a change:
/// a probe status by the order the reports keep the worst by; an install
/// as a failed import (interrupted as an interrupted probe).
fn badness(text: &str) -> u8 {
    let status = serde_json::from_value::<Status>(serde_json::Value::String(text.to_string()));
    match (status, text) {
        (Ok(status), _) => severity(status),
        (_, "-" | "") => 0,
        (_, install) if install.starts_with("ok") => 0,
        (_, "interrupted") => severity(Status::Interrupted),
        _ => severity(Status::ImportError),
    }
}

fn fields(summary: &ProbeSummary) -> [(&'static str, String); 5] {
    let install = summary.install.split_whitespace().next().unwrap_or("").to_string();
    [
        ("install", install),
        ("gil", summary.gil.clone()),
        ("subinterpreter_isolated", summary.isolated.clone()),
        ("subinterpreter_legacy", summary.legacy.clone()),
        ("fallbacks", summary.fallbacks.join(" ")),
    ]
}

pub fn compare(old: &[Row], new: &[Row]) -> Vec<Difference> {
    let (old, new) = (by_unit(old), by_unit(new));
    let mut out = Vec::new();
    for (key, before) in &old {
        let Some(after) = new.get(key) else {
            out.push(difference(key, "unit", "present".into(), "absent".into(), Kind::Removed));
            continue;
        };
        if before.version != after.version {
            let text = |r: &Row| r.version.clone().unwrap_or_else(|| "-".into());
            out.push(difference(key, "version", text(before), text(after), Kind::Change));
        }
        match (&before.suite, &after.suite) {
            (Some(was), Some(now)) => suite_differences(key, was, now, &mut out),
            _ => probe_differences(key, &summarize(before), &summarize(after), &mut out),
        }
    }
    for key in new.keys().filter(|k| !old.contains_key(*k)) {
        out.push(difference(key, "unit", "absent".into(), "present".into(), Kind::Added));
    }
    out
}

fn by_unit(rows: &[Row]) -> BTreeMap<(String, String), &Row> {
    rows.iter().map(|r| ((r.package.clone(), line(r)), r)).collect()
}

fn difference((package, python): &(String, String), field: &str, old: String, new: String, kind: Kind) -> Difference {
    Difference { package: package.clone(), python: python.clone(), field: field.to_string(), old, new, kind }
}

fn direction(was: u8, now: u8) -> Kind {
    match now.cmp(&was) {
        std::cmp::Ordering::Greater => Kind::Regression,
        std::cmp::Ordering::Less => Kind::Improvement,
        std::cmp::Ordering::Equal => Kind::Change,
    }
}

/// A batch unit's changes: install, probes, fallbacks.
fn probe_differences(key: &(String, String), before: &ProbeSummary, after: &ProbeSummary, out: &mut Vec<Difference>) {
    for ((field, was), (_, now)) in fields(before).into_iter().zip(fields(after)) {
        if was == now {
            continue;
        }
        let kind = if field == "fallbacks" {
            if now.is_empty() {
                Kind::Improvement
            } else if was.is_empty() {
                Kind::Regression
            } else {
                Kind::Change
            }
        } else {
            direction(badness(&was), badness(&now))
        };
        out.push(difference(key, field, was, now, kind));
    }
}

/// A test unit's changes: the category's transition and the pass rate.
fn suite_differences(key: &(String, String), was: &Suite, now: &Suite, out: &mut Vec<Difference>) {
    if was.category != now.category {
        let kind = direction(was.category.badness(), now.category.badness());
        out.push(difference(key, "category", snake(&was.category), snake(&now.category), kind));
    }
    let percent = |rate: f64| (rate * 100.0).round() as i64;
    if percent(was.pass_rate) != percent(now.pass_rate) {
        // A lower pass rate is a regression even within one category.
        let kind = if percent(now.pass_rate) < percent(was.pass_rate) { Kind::Regression } else { Kind::Improvement };
        out.push(difference(
            key,
            "pass_rate",
            format!("{}%", percent(was.pass_rate)),
            format!("{}%", percent(now.pass_rate)),
            kind,
        ));
    }
}

/// The closing line: how many of each kind.
pub fn totals(differences: &[Difference]) -> String {
    let count = |kind| differences.iter().filter(|d| d.kind == kind).count();
    format!(
        "{} differences: {} newly failing, {} fixed, {} other changes, {} units added, {} removed",
        differences.len(),
        count(Kind::Regression),
        count(Kind::Improvement),
        count(Kind::Change),
        count(Kind::Added),
        count(Kind::Removed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_order_from_working_to_crashing() {
        assert!(badness("ok") < badness("fallback"));
        assert!(badness("fallback") < badness("gil_enabled"));
        assert!(badness("gil_enabled") < badness("crash"));
        assert_eq!(badness("ok 1.0 (wheel)"), 0);
    }
}
