//! `ftprobe compare OLD NEW`: what changed between two runs, per package and
//! interpreter. Units are matched by package, CPython release line and build
//! kind (`3.14t`), so a run on 3.14a1 compares with one on 3.14b2. Each
//! change is a regression (something newly fails), an improvement, or a
//! plain change (a new version).

use std::collections::BTreeMap;

use serde::Serialize;

use super::batch::{Summary, severity, summarize};
use crate::run::Row;
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

fn fields(summary: &Summary) -> [(&'static str, String); 5] {
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
    let index = |rows: &[Row]| -> BTreeMap<(String, String), Summary> {
        rows.iter().map(|r| ((r.package.clone(), line(r)), summarize(r))).collect()
    };
    let (old, new) = (index(old), index(new));
    let mut out = Vec::new();
    let difference = |(package, python): &(String, String), field: &str, old: String, new: String, kind| Difference {
        package: package.clone(),
        python: python.clone(),
        field: field.to_string(),
        old,
        new,
        kind,
    };
    for (key, before) in &old {
        let Some(after) = new.get(key) else {
            out.push(difference(key, "unit", "present".into(), "absent".into(), Kind::Removed));
            continue;
        };
        if before.version != after.version {
            out.push(difference(key, "version", before.version.clone(), after.version.clone(), Kind::Change));
        }
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
                match badness(&now).cmp(&badness(&was)) {
                    std::cmp::Ordering::Greater => Kind::Regression,
                    std::cmp::Ordering::Less => Kind::Improvement,
                    std::cmp::Ordering::Equal => Kind::Change,
                }
            };
            out.push(difference(key, field, was, now, kind));
        }
    }
    for key in new.keys().filter(|k| !old.contains_key(*k)) {
        out.push(difference(key, "unit", "absent".into(), "present".into(), Kind::Added));
    }
    out
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
