//! What upgrading a pin with no wheel for its target would bring: the first
//! later release with a wheel the target takes and, where that wheel is not
//! ready, the newest release with one. Each compiled wheel is scanned as a
//! pin's would be, so an upgrade counts as a fix only when its wheel is
//! ready or pure.

use std::collections::BTreeMap;

use pep440_rs::Version;

use crate::model::ranking::SupportedTags;
use crate::model::target::Target;

use super::choose::{self, Candidate};
use super::fetch;
use super::judge;
use super::result::{DepStatus, FirstReady};

/// The releases after a pin worth naming.
pub struct Upgrades {
    pub first: FirstReady,
    /// The newest release with a wheel for the target, when it is another.
    pub newest: Option<FirstReady>,
}

/// The releases after `pinned` (final releases only, unless the pin is a
/// pre-release itself) that ship a wheel the target takes: the first, and
/// the newest when it is another.
pub fn find(files: &[Candidate], pinned: &Version, supported: &SupportedTags) -> Option<Upgrades> {
    let mut later: Vec<Version> = files
        .iter()
        .filter(|f| !f.yanked)
        .filter_map(Candidate::version)
        .filter(|v| v > pinned && (pinned.any_prerelease() || !v.any_prerelease()))
        .collect();
    later.sort();
    later.dedup();
    let with_wheel = |version: &Version| {
        let release = choose::of_version(files, version);
        let wheel = choose::choose(&release, supported)?;
        let date = wheel.upload_time.as_deref().map(|t| t.chars().take(10).collect());
        let pure = wheel.is_pure_wheel();
        // A compiled wheel's status is known once it is scanned.
        let status = if pure { DepStatus::Pure } else { DepStatus::Error };
        Some(FirstReady { version: version.to_string(), date, pure, status, wheel: Some(wheel.clone()) })
    };
    let first = later.iter().find_map(with_wheel)?;
    let newest = later.iter().rev().find_map(with_wheel).filter(|newest| newest.version != first.version);
    Some(Upgrades { first, newest })
}

impl Upgrades {
    /// The first release's wheel, when it is compiled and needs scanning.
    pub fn first_to_scan(&self) -> Option<&Candidate> {
        compiled(&self.first)
    }

    /// The newest release's wheel, when the first does not fix the pin and
    /// the newest is compiled; `scans` holds the first's.
    pub fn newest_to_scan(&self, target: Target, scans: &BTreeMap<String, fetch::Scanned>) -> Option<&Candidate> {
        let (status, _) = judged(&self.first, target, scans);
        if matches!(status, DepStatus::Ready | DepStatus::Pure) { None } else { compiled(self.newest.as_ref()?) }
    }

    /// Sets each release's status from `scans` and says what upgrading
    /// brings, after "no cp314t wheel for …". The newest is dropped where
    /// the first fixes the pin.
    pub fn judge(&mut self, target: Target, scans: &BTreeMap<String, fetch::Scanned>) -> String {
        let first = &mut self.first;
        let date = dated(first);
        if first.pure {
            self.newest = None;
            return format!(
                "; {}{date} is the first release with a wheel it installs, a pure-Python one (without the compiled speed-ups)",
                first.version
            );
        }
        let mut said = format!("; {}{date} is the first release that has one", first.version);
        let why;
        (first.status, why) = judged(first, target, scans);
        if first.fixes() {
            self.newest = None;
            return said;
        }
        said.push_str(&format!(", but that wheel is not ready either ({why})"));
        if let Some(newest) = &mut self.newest {
            let why;
            (newest.status, why) = judged(newest, target, scans);
            let date = dated(newest);
            said.push_str(&match (newest.fixes(), newest.pure) {
                (true, true) => format!("; the newest, {}{date}, has a pure-Python one", newest.version),
                (true, false) => format!("; the newest, {}{date}, is ready", newest.version),
                (false, _) => format!("; nor is the newest, {}{date} ({why})", newest.version),
            });
        }
        said
    }
}

fn compiled(release: &FirstReady) -> Option<&Candidate> {
    release.wheel.as_ref().filter(|wheel| !wheel.is_pure_wheel())
}

fn dated(release: &FirstReady) -> String {
    release.date.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
}

/// A release's wheel judged from its scan, as a pin's would be.
fn judged(release: &FirstReady, target: Target, scans: &BTreeMap<String, fetch::Scanned>) -> (DepStatus, String) {
    if release.pure {
        return (DepStatus::Pure, "a pure-Python wheel".into());
    }
    match release.wheel.as_ref().and_then(|wheel| scans.get(&wheel.filename)) {
        Some(Ok(scanned)) => judge::judge(target, &scanned.modules),
        Some(Err(error)) => (DepStatus::Error, format!("its wheel could not be read ({error})")),
        None => (DepStatus::Error, "its wheel was not read".into()),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::deps::choose::tests::{files, numpy_files, supported};

    #[test]
    fn the_first_later_release_with_a_wheel_for_the_target_is_found() {
        let pinned = Version::from_str("1.26.4").unwrap();
        let upgrades = find(&numpy_files(), &pinned, &supported("3.13t")).unwrap();
        let first = &upgrades.first;
        assert_eq!((first.version.as_str(), first.date.as_deref()), ("2.3.2", Some("2025-07-24")));
        assert!(!first.pure);
        assert!(upgrades.first_to_scan().is_some(), "a compiled wheel is scanned");
        assert!(upgrades.newest.is_none(), "2.3.2 is also the newest");
    }

    /// The newest release is named only where it is another than the first,
    /// and scanned only where the first's wheel does not fix the pin.
    #[test]
    fn the_newest_release_is_scanned_only_where_the_first_does_not_help() {
        let mut project = numpy_files();
        project.extend(files(&[(
            "numpy-2.5.2-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
            "2026-08-09T00:00:00Z",
        )]));
        let upgrades = find(&project, &Version::from_str("1.26.4").unwrap(), &supported("3.13t")).unwrap();
        assert_eq!(upgrades.newest.as_ref().map(|n| n.version.as_str()), Some("2.5.2"));
        let target: Target = "3.13t".parse().unwrap();
        let first = upgrades.first_to_scan().unwrap().filename.clone();
        let scanned = |gil| -> fetch::Scanned {
            let module = super::super::result::ModuleVerdict {
                import_name: "numpy._core._multiarray_umath".into(),
                file: "numpy/_core/_multiarray_umath.so".into(),
                gil: Some(gil),
                subinterpreters: None,
                generator: None,
            };
            Ok(fetch::ScannedWheel { modules: vec![module], range_ignored: false })
        };
        let ready: BTreeMap<String, fetch::Scanned> =
            [(first.clone(), scanned(crate::binscan::GilVerdict::NotUsed))].into();
        assert!(upgrades.newest_to_scan(target, &ready).is_none());
        let mut needs_gil: BTreeMap<String, fetch::Scanned> =
            [(first, scanned(crate::binscan::GilVerdict::Used))].into();
        let newest = upgrades.newest_to_scan(target, &needs_gil).unwrap().filename.clone();
        assert!(newest.starts_with("numpy-2.5.2-"), "{newest}");

        // What the reason says, and which releases are kept, once both are scanned.
        let mut fixed_by_newest = find(&project, &Version::from_str("1.26.4").unwrap(), &supported("3.13t")).unwrap();
        needs_gil.insert(newest, scanned(crate::binscan::GilVerdict::NotUsed));
        assert_eq!(
            fixed_by_newest.judge(target, &needs_gil),
            "; 2.3.2 (2025-07-24) is the first release that has one, but that wheel is not ready either \
             (re-enables the GIL on import: numpy._core._multiarray_umath); the newest, 2.5.2 (2026-08-09), is ready"
        );
        assert_eq!(fixed_by_newest.first.status, DepStatus::GilRequired);
        assert!(fixed_by_newest.newest.as_ref().is_some_and(FirstReady::fixes));
        let mut fixed_by_first = find(&project, &Version::from_str("1.26.4").unwrap(), &supported("3.13t")).unwrap();
        assert_eq!(fixed_by_first.judge(target, &ready), "; 2.3.2 (2025-07-24) is the first release that has one");
        assert!(fixed_by_first.newest.is_none(), "the newest is not named where the first fixes the pin");
    }

    /// aiohttp's real files: 3.13.1 ships compiled wheels for default builds
    /// and cp314t only; 3.14.4 adds `py3-none-any`, which 3.13t installs,
    /// without its speed-ups.
    #[test]
    fn a_later_pure_wheel_is_said_to_be_pure() {
        let project = files(&[
            (
                "aiohttp-3.13.1-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "2025-10-17",
            ),
            (
                "aiohttp-3.13.1-cp314-cp314t-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "2025-10-17",
            ),
            ("aiohttp-3.13.1.tar.gz", "2025-10-17"),
            (
                "aiohttp-3.14.4-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
                "2026-10-05",
            ),
            ("aiohttp-3.14.4-py3-none-any.whl", "2026-10-05"),
        ]);
        let pinned = Version::from_str("3.13.1").unwrap();
        let ready = find(&project, &pinned, &supported("3.13t")).unwrap().first;
        assert_eq!((ready.version.as_str(), ready.pure), ("3.14.4", true));
        let on_314t = find(&project, &Version::from_str("3.13.0").unwrap(), &supported("3.14t")).unwrap().first;
        assert_eq!((on_314t.version.as_str(), on_314t.pure), ("3.13.1", false));
    }
}
