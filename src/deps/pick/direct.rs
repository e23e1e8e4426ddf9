//! Pins that come from git, a URL or a path instead of an index, when the
//! lock file lists no wheel for them: a wheel URL or file is that wheel; a
//! git checkout, sdist URL or folder is a build, said as such (a git pin
//! whose version the index also has is left to the index's release, which
//! stands in for the checkout).

use std::str::FromStr;

use pep440_rs::Version;

use super::Choice;
use crate::deps::choose::{self, Candidate};
use crate::deps::{Question, fetch};
use crate::lock::Source;

/// What building from source takes, said of every pin an install would build.
pub(super) const BUILD_NEEDS: &str =
    "if it has extension modules, that needs a compiler, and the build may or may not support this target";

/// Why a direct reference names no first later release.
const NO_RELEASES: &str = "it does not come from an index, so there are no releases to look up";

/// A pin that comes from git, a URL or a path rather than an index, when
/// the lock file lists no wheel for it: the wheel the URL or path names,
/// or the build an install makes.
pub(super) fn direct_source(
    q: &Question<'_>,
    page: Option<&Result<Vec<Candidate>, fetch::FetchFailure>>,
) -> Option<Choice> {
    let builds = |from: String| Choice::NoWheel {
        install: format!("an install builds it from {from}: {BUILD_NEEDS}"),
        upgrades: None,
        unlooked: Some(NO_RELEASES.into()),
        sdist: None,
    };
    match &q.dist.source {
        Source::Git { url, commit, reference } => {
            // The index's release of the same version stands in for the
            // checkout when it has one (the answer says so); else the build.
            let on_index = match (page, q.dist.version.as_deref().and_then(|v| Version::from_str(v).ok())) {
                (Some(Ok(files)), Some(pinned)) => !choose::of_version(files, &pinned).is_empty(),
                _ => false,
            };
            let at = commit.as_deref().or(reference.as_deref()).map(|at| format!(" at {at}")).unwrap_or_default();
            (!on_index).then(|| builds(format!("its git repository ({url}{at})")))
        }
        Source::Url { url } if without_fragment(url).ends_with(".whl") => {
            let bare = without_fragment(url);
            let filename = crate::lock::file_name_of(url);
            let sha256 = q.dist.hashes.iter().find(|h| h.algorithm == "sha256").map(|h| h.digest.to_ascii_lowercase());
            let wheel = Candidate { url: Some(bare.to_string()), sha256, ..Candidate::named(&filename) };
            Some(direct_wheel(q, wheel, url))
        }
        Source::Url { url } => Some(builds(format!("the archive at {url}"))),
        Source::Path { path } if path.ends_with(".whl") => {
            let folder = q.input.set.files.first().and_then(|f| f.parent()).unwrap_or(std::path::Path::new("."));
            let file = folder.join(path);
            let Ok(metadata) = std::fs::metadata(&file) else {
                return Some(Choice::Error(format!(
                    "the wheel the lock file names is not at {}; run from where the lock file's paths lead",
                    file.display()
                )));
            };
            let filename = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let wheel = Candidate { size: Some(metadata.len()), path: Some(file), ..Candidate::named(&filename) };
            Some(direct_wheel(q, wheel, path))
        }
        Source::Path { path } => Some(builds(format!("the local folder or archive {path}"))),
        _ => None,
    }
}

/// The one wheel a URL or path names: taken when it fits the target.
fn direct_wheel(q: &Question<'_>, wheel: Candidate, shown: &str) -> Choice {
    if choose::choose(std::slice::from_ref(&wheel), &q.supported).is_some() {
        return Choice::Wheel { wheel, compiled_elsewhere: false, unhashed: false };
    }
    Choice::NoWheel {
        install: format!("an install fails: the wheel at {shown} does not fit this target"),
        upgrades: None,
        unlooked: Some(NO_RELEASES.into()),
        sdist: None,
    }
}

/// A URL without its `#fragment` or `?query`.
fn without_fragment(url: &str) -> &str {
    url.split(['#', '?']).next().unwrap_or(url)
}
