//! Which file an installer would take for a pin on a target: the lock
//! file's own wheel list where it has one, else the index's files of that
//! exact version, ranked by `model::ranking` (the `sys_tags` order). With
//! no wheel, what an install would do and the first later release that
//! ships one.

use std::path::PathBuf;

use pep440_rs::Version;

use crate::model::ranking::SupportedTags;
use crate::model::wheel::WheelFilename;

/// One file a pin could install from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    pub filename: String,
    pub url: Option<String>,
    /// Lowercase hex, from the lock file or the index.
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// When the index says (PEP 700): `2025-07-24T10:00:00Z`.
    pub upload_time: Option<String>,
    pub yanked: bool,
    /// A file in a `--find-links` directory (`url` is then None): read in
    /// place. Never remembered with an index's page.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl Candidate {
    pub fn named(filename: &str) -> Candidate {
        Candidate {
            filename: filename.into(),
            url: None,
            sha256: None,
            size: None,
            upload_time: None,
            yanked: false,
            path: None,
        }
    }

    /// The release a wheel or sdist file name names.
    pub fn version(&self) -> Option<Version> {
        crate::model::wheel::release_of(&self.filename)
    }

    pub fn is_wheel(&self) -> bool {
        self.filename.ends_with(".whl")
    }

    /// A wheel for any Python and any platform with no compiled ABI (`none`).
    pub fn is_pure_wheel(&self) -> bool {
        WheelFilename::parse(&self.filename).is_ok_and(|w| w.tags.abi.iter().all(|abi| abi == "none"))
    }
}

/// The files of one release: the wheel an installer takes on the target, if any.
pub fn choose<'a>(files: &'a [Candidate], supported: &SupportedTags) -> Option<&'a Candidate> {
    let names: Vec<&str> = files.iter().filter(|f| f.is_wheel() && !f.yanked).map(|f| f.filename.as_str()).collect();
    let picked = supported.pick_file(&names)?;
    files.iter().find(|f| f.filename == picked)
}

/// The files of `version` among a project's files.
pub fn of_version(files: &[Candidate], version: &Version) -> Vec<Candidate> {
    files.iter().filter(|f| f.version().as_ref() == Some(version)).cloned().collect()
}

/// A pure wheel chosen where the same release ships compiled wheels for
/// other builds (charset-normalizer 3.4.4 on 3.13t).
pub fn compiled_elsewhere(release: &[Candidate]) -> bool {
    release.iter().any(|f| f.is_wheel() && !f.is_pure_wheel())
}

#[cfg(test)]
pub(super) mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::model::platform::Platform;
    use crate::model::target::Target;

    pub(in crate::deps) fn supported(target: &str) -> SupportedTags {
        SupportedTags::new(target.parse::<Target>().unwrap(), &"manylinux_2_36_x86_64".parse::<Platform>().unwrap())
    }

    pub(in crate::deps) fn files(names: &[(&str, &str)]) -> Vec<Candidate> {
        names
            .iter()
            .map(|(name, uploaded)| Candidate { upload_time: Some(uploaded.to_string()), ..Candidate::named(name) })
            .collect()
    }

    /// numpy's real files: 1.26.4 has no cp313t wheel, 2.3.2 has one
    /// (2.1.0 was the first for cp313t; 2.3.2 here to check the order).
    pub(in crate::deps) fn numpy_files() -> Vec<Candidate> {
        files(&[
            ("numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "2024-02-05T23:00:00Z"),
            ("numpy-1.26.4.tar.gz", "2024-02-05T23:00:00Z"),
            ("numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "2024-06-16T00:00:00Z"),
            ("numpy-2.3.2rc1-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "2025-07-01T00:00:00Z"),
            ("numpy-2.3.2-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "2025-07-24T10:00:00Z"),
            ("numpy-2.3.2-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "2025-07-24T10:00:00Z"),
        ])
    }

    #[test]
    fn a_release_without_a_wheel_for_the_target_has_none_chosen() {
        let project = numpy_files();
        let release = of_version(&project, &Version::from_str("1.26.4").unwrap());
        assert_eq!(release.len(), 2);
        assert!(choose(&release, &supported("3.13t")).is_none());
        let release = of_version(&project, &Version::from_str("2.3.2").unwrap());
        let chosen = choose(&release, &supported("3.13")).unwrap();
        assert!(chosen.filename.contains("-cp313-cp313-"), "{}", chosen.filename);
    }

    /// charset-normalizer 3.4.4 on 3.13t installs its pure wheel; the release
    /// ships compiled ones for other builds.
    #[test]
    fn a_pure_wheel_is_noticed_beside_compiled_ones() {
        let release = files(&[
            ("charset_normalizer-3.4.4-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", "x"),
            ("charset_normalizer-3.4.4-py3-none-any.whl", "x"),
        ]);
        let chosen = choose(&release, &supported("3.13t")).unwrap();
        assert!(chosen.is_pure_wheel());
        assert!(compiled_elsewhere(&release));
        assert!(!compiled_elsewhere(&release[1..]));
    }
}
