//! Source distribution file names, `name-version.tar.gz` (PEP 625) or a
//! legacy `.zip`, read as indexes list them: the version is what follows
//! the last `-` (a normalized version has none), the name what precedes it,
//! compared by [`super::name::normalize`].

use std::str::FromStr;

use pep440_rs::Version;

/// A parsed sdist file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdistFilename {
    /// The distribution name as written (`python-dateutil`, `markupsafe`).
    pub name: String,
    /// The version, parsed.
    pub version: Version,
}

impl SdistFilename {
    /// `name-version.tar.gz` or `name-version.zip`; None for anything else
    /// (a wheel, another archive, a version PEP 440 does not read).
    pub fn parse(file_name: &str) -> Option<SdistFilename> {
        let stem = file_name.strip_suffix(".tar.gz").or_else(|| file_name.strip_suffix(".zip"))?;
        let (name, version) = stem.rsplit_once('-')?;
        if name.is_empty() {
            return None;
        }
        Some(SdistFilename { name: name.into(), version: Version::from_str(version).ok()? })
    }

    /// The PEP 503 name (`python-dateutil`).
    pub fn normalized_name(&self) -> String {
        super::name::normalize(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdist_names_split_at_the_last_hyphen() {
        let legacy = SdistFilename::parse("python-dateutil-2.9.0.post0.tar.gz").unwrap();
        assert_eq!(
            (legacy.normalized_name().as_str(), legacy.version.to_string().as_str()),
            ("python-dateutil", "2.9.0.post0")
        );
        let zip = SdistFilename::parse("MarkupSafe-3.0.2.zip").unwrap();
        assert_eq!(zip.normalized_name(), "markupsafe");
        for not_one in
            ["six-1.17.0-py2.py3-none-any.whl", "pkg.tar.gz", "-1.0.tar.gz", "pkg-one.tar.gz", "pkg-1.0.tar.bz2"]
        {
            assert_eq!(SdistFilename::parse(not_one), None, "{not_one}");
        }
    }
}
