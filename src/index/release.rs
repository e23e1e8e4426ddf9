//! What a project's releases offer, read from its page on the index
//! (`project.rs`): which kinds of wheels its latest release ships
//! (free-threaded `cp313t`, `cp314t`, `cp315t`; `abi3t`, which free-threaded
//! 3.15 loads; `abi3` only; pure Python), and where a release's sdist is.
//! `batch` records the first in each row; `test` downloads the second.
//! Nothing is installed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use serde::{Deserialize, Serialize};

use super::error::IndexError;
use super::http::Client;
use super::project::{ProjectFile, project_page};
use crate::model::wheel::{WheelFilename, release_of};

/// Why a release's files could not be had: one line each.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("{page}: the index lists no release of {project}")]
    NoRelease { page: String, project: String },
    #[error("{version} is not a version: {reason}")]
    NotAVersion { version: String, reason: String },
    #[error("{page}: {project} {version} has no sdist")]
    NoSdist { page: String, project: String, version: String },
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: PathBuf, reason: String },
}

/// What the latest release of a project ships.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// The latest release (final releases first; a pre-release only when there is nothing else).
    pub version: Option<String>,
    /// Free-threaded wheels, by CPython version: `cp313t`, `cp314t`, `cp315t`.
    pub free_threaded: Vec<String>,
    /// A wheel tagged `abi3t` (free-threaded stable ABI, 3.15+). `abi3.abi3t` counts.
    pub abi3t: bool,
    /// A wheel tagged `abi3` alone, which free-threaded builds cannot load.
    pub abi3: bool,
    /// Only `none`-ABI wheels (pure Python).
    pub pure: bool,
    pub wheels: usize,
    pub sdist: bool,
}

impl Availability {
    /// Any wheel a free-threaded CPython can load.
    pub fn ships_free_threaded(&self) -> bool {
        !self.free_threaded.is_empty() || self.abi3t
    }
}

/// Reads the page of `project` from the index at `index_url` (its simple
/// API root) and what its latest release ships.
pub fn availability(client: &Client, index_url: &str, project: &str) -> Result<Availability, ReleaseError> {
    Ok(latest(&project_page(client, index_url, project)?.files))
}

/// A release's source distribution: its file name, where to download it
/// from, and its version (the one asked for, or the latest release's).
pub struct Sdist {
    pub file_name: String,
    pub url: String,
    pub version: String,
}

/// Finds the sdist of `version` (or of the latest release) of `project`.
pub fn sdist(client: &Client, index_url: &str, project: &str, version: Option<&str>) -> Result<Sdist, ReleaseError> {
    let page = project_page(client, index_url, project)?;
    let version = match version {
        Some(v) => v.to_string(),
        None => latest(&page.files)
            .version
            .ok_or_else(|| ReleaseError::NoRelease { page: page.url.clone(), project: project.to_string() })?,
    };
    let wanted = Version::from_str(&version)
        .map_err(|e| ReleaseError::NotAVersion { version: version.clone(), reason: e.to_string() })?;
    let found = page
        .files
        .iter()
        .filter(|f| !f.yanked.is_yanked() && !f.filename.ends_with(".whl"))
        .find(|f| release_of(&f.filename).is_some_and(|v| v == wanted))
        .ok_or_else(|| ReleaseError::NoSdist {
            page: page.url.clone(),
            project: project.to_string(),
            version: version.clone(),
        })?;
    Ok(Sdist { file_name: found.filename.clone(), url: found.url.clone(), version })
}

/// Downloads `url` into `to` (at most `limit` bytes).
pub fn download(client: &Client, url: &str, to: &Path, limit: u64) -> Result<(), ReleaseError> {
    let bytes = client.get_bytes(url, limit)?;
    std::fs::write(to, bytes).map_err(|e| ReleaseError::Write { path: to.to_path_buf(), reason: e.to_string() })
}

/// A file's release and, for a wheel, its ABI tags.
fn release_and_abis(name: &str) -> Option<(Version, Option<Vec<String>>)> {
    if name.ends_with(".whl") {
        let wheel = WheelFilename::parse(name).ok()?;
        return Some((wheel.pep440, Some(wheel.tags.abi)));
    }
    Some((release_of(name)?, None))
}

/// What the latest release among `files` ships.
fn latest(files: &[ProjectFile]) -> Availability {
    let mut releases: BTreeMap<Version, Vec<Option<Vec<String>>>> = BTreeMap::new();
    for file in files.iter().filter(|f| !f.yanked.is_yanked()) {
        if let Some((version, abis)) = release_and_abis(&file.filename) {
            releases.entry(version).or_default().push(abis);
        }
    }
    let newest_final = releases.keys().rev().find(|v| !v.any_prerelease()).cloned();
    let Some(version) = newest_final.or_else(|| releases.keys().next_back().cloned()) else {
        return Availability::default();
    };
    let mut out = Availability { version: Some(version.to_string()), ..Default::default() };
    let mut only_none = true;
    for abis in &releases[&version] {
        let Some(abis) = abis else {
            out.sdist = true;
            continue;
        };
        out.wheels += 1;
        for abi in abis {
            if abi.starts_with("cp3") && abi.ends_with('t') && !out.free_threaded.contains(abi) {
                out.free_threaded.push(abi.clone());
            }
        }
        if abis.iter().any(|a| a == "abi3t") {
            out.abi3t = true;
        } else if abis.iter().any(|a| a == "abi3") {
            out.abi3 = true;
        }
        only_none &= abis.iter().all(|a| a == "none");
    }
    out.free_threaded.sort();
    out.pure = out.wheels > 0 && only_none;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::project::parse_html;

    #[test]
    fn failures_name_the_page_in_one_line() {
        let url = || "http://127.0.0.1:8/simple/a/".to_string();
        let cases = [
            (
                ReleaseError::NoRelease { page: url(), project: "a".into() },
                "http://127.0.0.1:8/simple/a/: the index lists no release of a",
            ),
            (ReleaseError::NotAVersion { version: "x".into(), reason: "bad".into() }, "x is not a version: bad"),
            (
                ReleaseError::NoSdist { page: url(), project: "a".into(), version: "1.0".into() },
                "http://127.0.0.1:8/simple/a/: a 1.0 has no sdist",
            ),
            (
                ReleaseError::Write { path: "/t/a.tar.gz".into(), reason: "full".into() },
                "cannot write /t/a.tar.gz: full",
            ),
            (
                ReleaseError::Index(IndexError::NoSuchProject { url: url(), project: "a".into() }),
                "http://127.0.0.1:8/simple/a/: the index has no project `a` (404); check the name and --index-url",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    fn files(names: &[&str]) -> Vec<ProjectFile> {
        let anchors: String = names.iter().map(|n| format!("<a href=\"{n}\">{n}</a>\n")).collect();
        parse_html("https://example.org/simple/pkg/", &anchors)
    }

    #[test]
    fn the_latest_final_release_decides_and_abi3t_counts_as_free_threaded() {
        let found = latest(&files(&[
            "pkg-1.0.tar.gz",
            "pkg-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl",
            "pkg-2.0-cp312-abi3-manylinux_2_17_x86_64.whl",
            "pkg-2.0-cp315-abi3.abi3t-manylinux_2_17_x86_64.whl",
            "pkg-2.0-cp314-cp314t-win_amd64.whl",
            "pkg-2.0.tar.gz",
            "pkg-3.0rc1-cp315-cp315t-win_amd64.whl",
        ]));
        assert_eq!(found.version.as_deref(), Some("2.0"));
        assert_eq!(found.free_threaded, vec!["cp314t".to_string()]);
        assert!(found.abi3t && found.abi3 && found.sdist && !found.pure && found.ships_free_threaded());
        let abi3_only = latest(&files(&["x-1-cp39-abi3-win_amd64.whl"]));
        assert!(abi3_only.abi3 && !abi3_only.ships_free_threaded());
        let pure = latest(&files(&["six-1.17.0-py2.py3-none-any.whl"]));
        assert!(pure.pure && pure.wheels == 1);
    }

    #[test]
    fn a_yanked_release_does_not_count() {
        let page = "<a href=\"../f/a-1.0.tar.gz#sha256=00\">a-1.0.tar.gz</a><br>\n\
                    <a href=\"x\" data-yanked=\"\">a-2.0-py3-none-any.whl</a>";
        assert_eq!(latest(&parse_html("http://127.0.0.1:8/simple/a/", page)).version.as_deref(), Some("1.0"));
    }
}
