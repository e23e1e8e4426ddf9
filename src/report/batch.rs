//! What a batch run's row shows beside its package, version and
//! interpreter (`runs.rs` puts them together): each probe kind reduced to
//! its worst outcome over the package's import names, the static verdicts,
//! and what the latest release ships; and what a batch run adds up to.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::snake;
use crate::run::{InstallSource, InstallStatus, Row};
use crate::runtime::{ProbeResult, Status};
use crate::worker::protocol::{ProbeKind, SubinterpreterConfig};

/// A batch row's own columns, as every format shows them.
pub struct ProbeSummary {
    pub install: String,
    pub gil: String,
    pub culprits: Vec<String>,
    pub isolated: String,
    pub legacy: String,
    pub fallbacks: Vec<String>,
    pub static_verdicts: String,
    pub generators: String,
    pub wheels: String,
}

/// The headers of [`ProbeSummary::cells`].
pub const HEADERS: [&str; 9] = [
    "install",
    "gil",
    "culprits",
    "subinterpreter_isolated",
    "subinterpreter_legacy",
    "fallbacks",
    "static",
    "generator",
    "wheels",
];

/// How bad a status is, to keep the worst over several import names.
pub fn severity(status: Status) -> u8 {
    match status {
        Status::Ok | Status::NotApplicable => 0,
        Status::Fallback => 1,
        Status::Interrupted => 2,
        Status::Error => 3,
        Status::GilEnabled | Status::ImportError => 4,
        Status::Deadlock | Status::Timeout => 5,
        Status::Crash => 6,
    }
}

fn worst<'a>(probes: impl Iterator<Item = &'a ProbeResult>) -> Option<&'a ProbeResult> {
    probes.max_by_key(|p| severity(p.status))
}

fn status_text(probe: Option<&ProbeResult>) -> String {
    probe.map_or_else(|| "-".into(), |p| snake(&p.status))
}

/// The latest release, when the installer chose an older one although the
/// requirement named no version: with `--only-binary`, a resolver goes back
/// to the newest release it has a wheel for (awscli 1.11.18 of 2016 for
/// awscli on 3.13t), and the row must not pass for the latest.
pub fn passed_over_latest(row: &Row) -> Option<&str> {
    let latest = row.wheels_available.as_ref()?.version.as_deref()?;
    let installed = row.version.as_deref()?;
    let pinned = row.requirement.contains(['=', '<', '>', '~', '!', '@']);
    let same = latest.trim().eq_ignore_ascii_case(installed.trim());
    (!pinned && !same).then_some(latest)
}

pub fn summarize(row: &Row) -> ProbeSummary {
    let install = match row.install.status {
        InstallStatus::Ok => {
            let mut text = format!(
                "ok {} ({})",
                row.version.as_deref().unwrap_or("?"),
                row.install.from.map_or("?", InstallSource::as_str)
            );
            if let Some(latest) = passed_over_latest(row) {
                text.push_str(&format!(", not the latest {latest}"));
            }
            text
        }
        InstallStatus::Failed => format!("failed: {}", row.install.failure_line()),
        other => snake(&other),
    };
    let of = |kind: ProbeKind, config: Option<SubinterpreterConfig>| {
        worst(row.probes.iter().filter(move |p| p.probe == kind && p.config == config))
    };
    let gil_probe = of(ProbeKind::FreeThreading, None);
    let mut culprits: Vec<String> = row.probes.iter().flat_map(|p| p.gil_required_by.iter().cloned()).collect();
    culprits.sort();
    culprits.dedup();
    let mut fallbacks: Vec<String> =
        row.probes.iter().flat_map(|p| p.fallbacks.iter().map(|f| f.module.clone())).collect();
    fallbacks.sort();
    fallbacks.dedup();
    // What matters on this build: the GIL declaration on a free-threaded
    // one, the subinterpreter declaration on a default one.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for extension in &row.extensions {
        let verdict = if row.python.free_threaded {
            extension.gil.map(|v| snake(&v))
        } else {
            extension.subinterpreters.map(|v| snake(&v))
        };
        let shown = match verdict.as_deref() {
            Some(v) if row.python.free_threaded => format!("GIL {v}"),
            Some(v) => v.to_string(),
            None => "?".into(),
        };
        *counts.entry(shown).or_default() += 1;
    }
    let static_verdicts = if row.extensions.is_empty() {
        if row.install.status == InstallStatus::Ok { "pure Python".into() } else { "-".into() }
    } else {
        counts.iter().map(|(verdict, n)| format!("{n} {}", verdict.replace('_', " "))).collect::<Vec<_>>().join(", ")
    };
    let mut generators: Vec<String> = row.extensions.iter().filter_map(|e| e.generator.map(|g| snake(&g))).collect();
    generators.sort();
    generators.dedup();
    ProbeSummary {
        install,
        gil: if row.python.free_threaded { status_text(gil_probe) } else { "-".into() },
        culprits,
        isolated: status_text(of(ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Isolated))),
        legacy: status_text(of(ProbeKind::Subinterpreter, Some(SubinterpreterConfig::Legacy))),
        fallbacks,
        static_verdicts,
        generators: generators.join(", "),
        wheels: wheels_text(row),
    }
}

/// What the latest release ships: its free-threaded wheels, or why none.
pub fn wheels_text(row: &Row) -> String {
    let Some(found) = &row.wheels_available else { return "?".into() };
    let mut kinds = found.free_threaded.clone();
    if found.abi3t {
        kinds.push("abi3t".into());
    }
    if !kinds.is_empty() {
        return kinds.join(" ");
    }
    if found.pure {
        "pure Python".into()
    } else if found.abi3 {
        "abi3 only".into()
    } else if found.wheels > 0 {
        "no free-threaded wheel".into()
    } else {
        "sdist only".into()
    }
}

impl ProbeSummary {
    pub fn cells(&self) -> [String; 9] {
        [
            self.install.clone(),
            self.gil.clone(),
            self.culprits.join(" "),
            self.isolated.clone(),
            self.legacy.clone(),
            self.fallbacks.join(" "),
            self.static_verdicts.clone(),
            self.generators.clone(),
            self.wheels.clone(),
        ]
    }
}

/// One line for the progress output.
pub fn unit_summary(row: &Row) -> String {
    let s = summarize(row);
    if row.install.status != InstallStatus::Ok {
        return format!("install {}", crate::report::escape_controls(&s.install));
    }
    let version = row.version.as_deref().unwrap_or("-");
    let mut text = format!("{version} {}, import names {}", s.install, row.import_names.join(" "));
    if row.python.free_threaded {
        write!(text, "; gil {}", s.gil).ok();
    }
    write!(text, "; subinterpreters {} / {}", s.isolated, s.legacy).ok();
    text
}

/// What a run adds up to, for every format's summary.
pub struct Totals {
    pub units: usize,
    pub installed: usize,
    pub free_threaded_installed: usize,
    /// Free-threaded units whose GIL probe was `ok`.
    pub gil_off: usize,
    /// Units whose isolated subinterpreter probe was `ok`.
    pub isolated: usize,
    /// Installed units that got an older release than the latest.
    pub older_than_latest: usize,
}

impl Totals {
    pub fn of(rows: &[Row]) -> Totals {
        let mut totals = Totals {
            units: rows.len(),
            installed: 0,
            free_threaded_installed: 0,
            gil_off: 0,
            isolated: 0,
            older_than_latest: 0,
        };
        for row in rows {
            let installed = row.install.status == InstallStatus::Ok;
            let summary = summarize(row);
            totals.installed += usize::from(installed);
            totals.free_threaded_installed += usize::from(installed && row.python.free_threaded);
            totals.gil_off += usize::from(row.python.free_threaded && summary.gil == "ok");
            totals.isolated += usize::from(summary.isolated == "ok");
            totals.older_than_latest += usize::from(installed && passed_over_latest(row).is_some());
        }
        totals
    }
}

/// Totals for the closing line and the Markdown header.
pub fn totals(rows: &[Row]) -> String {
    let t = Totals::of(rows);
    let mut text = format!(
        "{} units: {} installed; GIL stayed off in {} of {} on free-threaded builds; {} loaded in isolated subinterpreters",
        t.units, t.installed, t.gil_off, t.free_threaded_installed, t.isolated
    );
    if t.older_than_latest > 0 {
        text.push_str(&format!("; {} got an older release than the latest", t.older_than_latest));
    }
    let causes = failure_causes(rows);
    if !causes.is_empty() {
        let failed: usize = causes.iter().map(|(_, n)| n).sum();
        let each: Vec<String> = causes.iter().map(|(cause, n)| format!("{n} because {cause}")).collect();
        text.push_str(&format!("; {failed} failed to install: {}", each.join(", ")));
    }
    text
}

/// Failed installs counted by cause (the distribution that failed and why),
/// most frequent first: `3 because cffi==2.1.1: CFFI does not support ...`.
pub fn failure_causes(rows: &[Row]) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for row in rows.iter().filter(|r| r.install.status == InstallStatus::Failed) {
        *counts.entry(row.install.failure_cause()).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(requirement: &str, installed: &str, latest: &str) -> Row {
        let python = crate::runtime::PythonSummary {
            version: "3.13.5".into(),
            free_threaded: true,
            executable: "/p/python3".into(),
        };
        let mut row = Row::new(&crate::batch::requirement_name(requirement), requirement, python);
        row.install.status = InstallStatus::Ok;
        row.install.from = Some(InstallSource::Wheel);
        row.version = Some(installed.into());
        row.wheels_available = Some(crate::index::Availability { version: Some(latest.into()), ..Default::default() });
        row
    }

    /// awscli on 3.13t with --only-binary, as a real batch installed it.
    #[test]
    fn an_older_release_than_the_latest_is_said() {
        let old = row("awscli", "1.11.18", "1.46.3");
        assert_eq!(summarize(&old).install, "ok 1.11.18 (wheel), not the latest 1.46.3");
        assert!(totals(std::slice::from_ref(&old)).ends_with("; 1 got an older release than the latest"));
        // What was asked for, or the latest: nothing to say.
        assert_eq!(summarize(&row("awscli==1.11.18", "1.11.18", "1.46.3")).install, "ok 1.11.18 (wheel)");
        let latest = row("markupsafe", "3.0.2", "3.0.2");
        assert_eq!(summarize(&latest).install, "ok 3.0.2 (wheel)");
        assert!(!totals(&[latest]).contains("older release"));
    }
}
