//! Which file answers for one pin on one target and platform: the lock
//! file's own wheel (located on the index's page when the lock file names
//! it without a URL), else the pinned release's files on the index and in
//! the `--find-links` directories, checked against the pin's hashes; a
//! direct reference's own; or, with no wheel, what an install would do,
//! its sdist, and the later releases to look at.

mod direct;

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;

use super::choose::{self, Candidate};
use super::{Options, Question, fetch, local, upgrade};
use crate::lock::{LockedDist, Source};

/// The lock file's own files of a pin, as candidates.
pub(super) fn locked_candidates(dist: &LockedDist) -> Vec<Candidate> {
    dist.wheels
        .iter()
        .chain(dist.sdist.iter())
        .map(|file| Candidate {
            filename: file.name.clone(),
            url: file.url.clone(),
            sha256: file.sha256().map(str::to_ascii_lowercase),
            size: file.size,
            upload_time: None,
            yanked: false,
            path: None,
        })
        .collect()
}

/// The index a pin comes from.
pub(super) fn index_of<'a>(dist: &'a LockedDist, options: &'a Options) -> &'a str {
    match &dist.source {
        Source::Registry { index: Some(index) } => index.as_str(),
        _ => options.index_url.as_str(),
    }
}

/// What a pin installs on its target.
pub(super) enum Choice {
    NotNeeded,
    Wheel {
        wheel: Candidate,
        compiled_elsewhere: bool,
        /// The index's wheel for the target, whose sha256 the pin's `--hash`
        /// values leave out (they were taken for other Pythons, or before
        /// it was uploaded): pip checking them builds the sdist instead.
        unhashed: bool,
    },
    /// `unlooked`: what was not searched for a later release with a wheel, when the index was not.
    NoWheel {
        install: String,
        upgrades: Option<Box<upgrade::Upgrades>>,
        unlooked: Option<String>,
        /// The release's sdist, to read for what building it makes.
        sdist: Option<Candidate>,
    },
    Error(String),
}

pub(super) fn choice(
    q: &Question<'_>,
    options: &Options,
    pages: &BTreeMap<(&str, &str), Result<Vec<Candidate>, fetch::FetchFailure>>,
) -> Choice {
    if !q.installed {
        return Choice::NotNeeded;
    }
    let page = pages.get(&(index_of(q.dist, options), q.dist.name.as_str()));
    let index_asked = asks_index(q.dist, options);
    // A git, URL or path source is its own pin, with or without a version.
    if q.locked_wheel.is_none()
        && let Some(direct) = direct::direct_source(q, page)
    {
        return direct;
    }
    let Some(version) = q.dist.version.as_deref() else {
        return Choice::Error(format!(
            "not pinned to a version ({}); only exact pins can be answered for",
            q.dist.specifier.as_deref().unwrap_or("no version")
        ));
    };
    if let Some(wheel) = &q.locked_wheel {
        let compiled_elsewhere = wheel.is_pure_wheel() && choose::compiled_elsewhere(&locked_candidates(q.dist));
        let wheel = if let Some(copy) = local_copy(q, wheel, options) {
            copy
        } else if wheel.is_pure_wheel() {
            wheel.clone()
        } else if options.no_index || found_in_directory(q.dist) {
            // The lock file's own URL is fetched, as an installer would, unless
            // --no-index or a local registry leaves it nowhere to come from.
            return Choice::Error(local_only_reason(&wheel.filename, q.dist, options));
        } else if unlocated(wheel) {
            match located(wheel, page) {
                Ok(wheel) => wheel,
                Err(why) => return Choice::Error(why),
            }
        } else {
            wheel.clone()
        };
        return Choice::Wheel { wheel, compiled_elsewhere, unhashed: false };
    }
    let pinned = Version::from_str(version).ok();
    // The --find-links directories' files of the project, and of the pinned release.
    let in_dirs = options.find_links.files_of(&q.dist.name);
    let in_dirs_pinned: Vec<Candidate> = pinned.as_ref().map(|p| choose::of_version(&in_dirs, p)).unwrap_or_default();
    // The index's files of the pinned release, when the index was asked.
    let on_index: Option<Vec<Candidate>> = match (page, &pinned) {
        (Some(Ok(files)), Some(pinned)) => Some(choose::of_version(files, pinned)),
        _ => None,
    };
    let release: Vec<Candidate> = if !q.dist.wheels.is_empty() && (q.lists_every_file || !index_asked) {
        locked_candidates(q.dist)
    } else {
        let from_index = match (page, &on_index) {
            (_, Some(files)) => files.clone(),
            _ if !index_asked => Vec::new(),
            // A project the index does not have, as for pip: no files there.
            (Some(Err(error)), _) if is_unknown_project(error) && !in_dirs_pinned.is_empty() => Vec::new(),
            (Some(Err(error)), _) if is_unknown_project(error) && !options.find_links.is_empty() => {
                return Choice::Error(format!(
                    "{error}; no --find-links directory holds {}=={version} either",
                    q.dist.name
                ));
            }
            (Some(Err(error)), _) => return Choice::Error(error.to_string()),
            _ => return Choice::Error(format!("the index could not be asked about {}=={version}", q.dist.name)),
        };
        // A lock file that lists the release's sdist and no wheel has said
        // there is none; otherwise, without the index, nothing is known.
        if !index_asked && in_dirs_pinned.is_empty() && (q.dist.sdist.is_none() || !q.lists_every_file) {
            let what = format!("{}=={version}", q.dist.name);
            return Choice::Error(local_only_reason(&what, q.dist, options));
        }
        // Local files first: of two files of one name, the one at hand is read.
        let files = hashed(q.dist, in_dirs_pinned.clone(), &options.find_links).into_iter().chain(from_index);
        match with_hashes(q.dist, files.collect()) {
            Ok(release) => release,
            Err(why) => return Choice::Error(why),
        }
    };
    let supported = &q.supported;
    if let Some(wheel) = choose::choose(&release, supported) {
        let compiled_elsewhere = wheel.is_pure_wheel() && choose::compiled_elsewhere(&release);
        return Choice::Wheel { wheel: wheel.clone(), compiled_elsewhere, unhashed: false };
    }
    if !q.dist.hashes.is_empty()
        && let Some(files) = &on_index
        && let Some(wheel) = choose::choose(files, supported)
    {
        let compiled_elsewhere = wheel.is_pure_wheel() && choose::compiled_elsewhere(files);
        return Choice::Wheel { wheel: wheel.clone(), compiled_elsewhere, unhashed: true };
    }
    if !q.lists_every_file && !index_asked {
        // The lock file's list leaves the target out, and nothing else may be asked.
        let what = format!("{}=={version} on {}", q.dist.name, q.target.text);
        return Choice::Error(local_only_reason(&what, q.dist, options));
    }
    let sdists = || release.iter().chain(on_index.iter().flatten()).chain(&in_dirs_pinned).filter(|f| !f.is_wheel());
    let has_sdist = sdists().next().is_some() || q.dist.sdist.is_some();
    // Read in place, or from the index when it may be asked.
    let readable = |f: &&Candidate| f.path.is_some() || (f.url.is_some() && index_asked);
    let sdist = sdists().filter(|f| f.sha256.is_some()).find(readable).cloned();
    let install = if has_sdist {
        format!("an install builds the sdist: {}", direct::BUILD_NEEDS)
    } else {
        "an install fails: there is no sdist to build from".into()
    };
    // Later releases: the index's files (with their upload dates) and the directories'.
    let on_page: &[Candidate] = match page {
        Some(Ok(files)) => files,
        _ => &[],
    };
    let upgrades = pinned.as_ref().and_then(|pinned| {
        if in_dirs.is_empty() {
            upgrade::find(on_page, pinned, supported)
        } else {
            upgrade::find(&[on_page, &in_dirs].concat(), pinned, supported)
        }
        .map(Box::new)
    });
    // Without the index's page, "no later release has one" would be a guess.
    let unasked = if options.no_index {
        "--no-index kept the index from being asked"
    } else {
        "the lock file names a local folder for it, not an index"
    };
    let unlooked = match page {
        Some(Ok(_)) => None,
        _ if !index_asked && in_dirs.is_empty() => Some(format!("later releases were not looked up: {unasked}")),
        _ if !index_asked => Some(format!("no later release in the --find-links directories has one, and {unasked}")),
        Some(Err(error)) => {
            Some(format!("later releases were not looked up: the index's page could not be read ({error})"))
        }
        None => Some("later releases were not looked up: the index's page was not read".into()),
    };
    Choice::NoWheel { install, upgrades, unlooked, sdist }
}

/// The index answered that it has no such project (404).
fn is_unknown_project(error: &fetch::FetchFailure) -> bool {
    matches!(error, fetch::FetchFailure::Index(crate::index::error::IndexError::NoSuchProject { .. }))
}

/// Whether the index is asked about `dist`: not with `--no-index`, nor
/// for a pin uv found in a `--find-links` directory (its `# from
/// file:///...` annotation), whose files are the directories' alone.
/// Whether the pin's files come from an index this run may ask: not for
/// --no-index, a local registry, or a URL or path source.
pub(super) fn asks_index(dist: &LockedDist, options: &Options) -> bool {
    let from_index = match &dist.source {
        Source::Registry { .. } => !found_in_directory(dist),
        // Asked for the same version, which stands in for the checkout.
        Source::Git { .. } => dist.version.is_some(),
        _ => false,
    };
    !options.no_index && from_index
}

/// The lock file says the pin came from a local directory (`file://`, or
/// uv.lock's relative `registry = "../wheels"`), not an index.
pub(super) fn found_in_directory(dist: &LockedDist) -> bool {
    matches!(&dist.source, Source::Registry { index: Some(index) } if index.starts_with("file:") || !index.contains("://"))
}

/// Why a pin the index is not asked about has nothing to answer with.
fn local_only_reason(what: &str, dist: &LockedDist, options: &Options) -> String {
    match &dist.source {
        Source::Registry { index: Some(index) } if !options.no_index && found_in_directory(dist) => format!(
            "{what}: uv found it in {index}, and no --find-links directory given holds it; pass that directory with --find-links"
        ),
        _ => local::no_index_reason(what, &options.find_links),
    }
}

/// The lock file's `wheel` read from a `--find-links` directory that
/// holds a file of that name: in place, checked against the lock file's
/// sha256 when it gives one.
pub(super) fn local_copy(q: &Question<'_>, wheel: &Candidate, options: &Options) -> Option<Candidate> {
    let found = options.find_links.file_named(&q.dist.name, &wheel.filename)?;
    Some(Candidate { url: None, size: found.size, path: found.path, ..wheel.clone() })
}

/// Local files with their sha256 when the pin has `--hash` values to
/// check them against (as the index's files are); left as they are otherwise.
fn hashed(dist: &LockedDist, files: Vec<Candidate>, find_links: &local::FindLinks) -> Vec<Candidate> {
    if dist.hashes.iter().any(|h| h.algorithm == "sha256") {
        files.into_iter().map(|file| find_links.with_sha256(file)).collect()
    } else {
        files
    }
}

/// A compiled wheel the lock file names without its URL or sha256
/// (poetry.lock and pdm.lock list file names and hashes only): it is
/// read from where the index's page says.
pub(super) fn unlocated(wheel: &Candidate) -> bool {
    !wheel.is_pure_wheel() && (wheel.url.is_none() || wheel.sha256.is_none())
}

/// An [`unlocated`] wheel with the URL (and size, and sha256 when the lock
/// file gives none) of the file of that name on the index's page; a file
/// whose sha256 differs from the locked one is an error, as in
/// [`with_hashes`].
// The error is the result's reason text (`Choice::Error`), as `with_hashes`'s.
fn located(wheel: &Candidate, page: Option<&Result<Vec<Candidate>, fetch::FetchFailure>>) -> Result<Candidate, String> {
    let files = match page {
        Some(Ok(files)) => files,
        Some(Err(error)) => return Err(error.to_string()),
        None => return Err(format!("{}: the lock file gives no URL, and the index was not asked", wheel.filename)),
    };
    let Some(found) = files.iter().find(|f| f.filename == wheel.filename) else {
        return Err(format!("{}: the lock file gives no URL, and the index does not list the file", wheel.filename));
    };
    if let (Some(locked), Some(served)) = (&wheel.sha256, &found.sha256)
        && locked != served
    {
        return Err(format!(
            "hash mismatch: the index's {} has sha256 {served}, the lock file pins {locked}; \
             the index serves other bytes than were locked (lock again, or check the index)",
            wheel.filename
        ));
    }
    Ok(Candidate {
        url: wheel.url.clone().or_else(|| found.url.clone()),
        sha256: wheel.sha256.clone().or_else(|| found.sha256.clone()),
        size: wheel.size.or(found.size),
        ..wheel.clone()
    })
}

/// Files from the index and the `--find-links` directories, checked
/// against the hashes a requirements file pins (`--hash`): a file whose
/// sha256 is not among them is dropped, as pip's hash-checking mode would
/// refuse it; when none is left, they hold other bytes than were locked,
/// which is an error, not a verdict.
// The error is the result's reason text (`Choice::Error`), nothing else reads it.
fn with_hashes(dist: &LockedDist, files: Vec<Candidate>) -> Result<Vec<Candidate>, String> {
    let allowed: Vec<String> =
        dist.hashes.iter().filter(|h| h.algorithm == "sha256").map(|h| h.digest.to_ascii_lowercase()).collect();
    if allowed.is_empty() || files.is_empty() {
        return Ok(files);
    }
    let (local, remote) = (files.iter().any(|f| f.path.is_some()), files.iter().any(|f| f.path.is_none()));
    let kept: Vec<Candidate> =
        files.into_iter().filter(|f| f.sha256.as_ref().is_some_and(|s| allowed.contains(s))).collect();
    if kept.is_empty() {
        let pin = format!("{}=={}", dist.name, dist.version.as_deref().unwrap_or("?"));
        return Err(match (local, remote) {
            (false, _) => format!(
                "hash mismatch: none of the index's files of {pin} has a sha256 the lock file pins; the index serves other bytes than were locked (lock again, or check the index)"
            ),
            (true, false) => format!(
                "hash mismatch: none of the --find-links directories' files of {pin} has a sha256 the lock file pins; they hold other bytes than were locked (lock again, or replace the files)"
            ),
            (true, true) => format!(
                "hash mismatch: none of the files of {pin} on the index or in the --find-links directories has a sha256 the lock file pins; they hold other bytes than were locked (lock again, or check them)"
            ),
        });
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compiled_wheel_locked_without_its_url_is_read_from_where_the_index_says() {
        let name = "coverage-7.13.5-cp313-cp313t-manylinux_2_28_x86_64.whl";
        let locked = Candidate { sha256: Some("ab".repeat(32)), ..Candidate::named(name) };
        assert!(unlocated(&locked));
        assert!(!unlocated(&Candidate::named("six-1.17.0-py2.py3-none-any.whl")));
        let served = Candidate {
            url: Some(format!("https://files.example/{name}")),
            sha256: Some("ab".repeat(32)),
            size: Some(250_000),
            ..Candidate::named(name)
        };
        let page = Ok(vec![Candidate::named("coverage-7.13.5.tar.gz"), served.clone()]);
        let found = located(&locked, Some(&page)).unwrap();
        assert_eq!((found.url.as_deref(), found.size), (served.url.as_deref(), Some(250_000)));
        assert!(!unlocated(&found));
        // Other bytes than were locked, a file the index lacks, no page.
        let other = Ok(vec![Candidate { sha256: Some("cd".repeat(32)), ..served }]);
        assert!(located(&locked, Some(&other)).unwrap_err().starts_with("hash mismatch"));
        assert!(located(&locked, Some(&Ok(Vec::new()))).unwrap_err().contains("does not list the file"));
        let offline = fetch::FetchFailure::PageNotCached { url: "https://pypi.org/simple/coverage/".into() };
        let said = offline.to_string();
        assert_eq!(located(&locked, Some(&Err(offline))).unwrap_err(), said);
    }
}
