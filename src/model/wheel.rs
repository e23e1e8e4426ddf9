//! Wheel file names, `name-version[-build]-python-abi-platform.whl`, read as
//! the wheel specification and installers (`packaging.utils.parse_wheel_filename`)
//! read them, with the compressed tag sets kept as written.

use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;

use super::tags::WheelTag;

/// A parsed wheel file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelFilename {
    /// The distribution name as written: escaped (`python_dateutil`), case kept (`MarkupSafe`).
    pub name: String,
    /// The version as written.
    pub version: String,
    /// The version, parsed.
    pub pep440: Version,
    pub build: Option<BuildTag>,
    pub tags: TagSet,
}

/// The optional build tag (`-1-`, `-2abc-`): installers prefer the higher
/// one among wheels that are otherwise equal, comparing its leading number,
/// then the rest as text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BuildTag {
    pub number: u64,
    pub suffix: String,
}

/// The three compressed tag sets of a wheel file name (`cp315`, `abi3.abi3t`,
/// `manylinux2014_x86_64.manylinux_2_17_x86_64`), each in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagSet {
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

/// Why a file name is not a wheel's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WheelNameError {
    #[error("`{0}` is not a wheel file name (it does not end in `.whl`)")]
    NotAWheel(String),
    #[error("`{0}` is not a wheel file name (expected name-version[-build]-python-abi-platform.whl)")]
    WrongNumberOfParts(String),
    #[error("`{0}` has no valid distribution name (letters, digits, `_` and `.`, no `__`)")]
    InvalidName(String),
    #[error("`{0}` has no valid PEP 440 version")]
    InvalidVersion(String),
    #[error("`{0}` has a build tag that does not start with a digit")]
    InvalidBuild(String),
    #[error("`{0}` has an empty or invalid tag")]
    InvalidTag(String),
}

impl WheelFilename {
    /// Parses `name-version[-build]-python-abi-platform.whl`.
    pub fn parse(file_name: &str) -> Result<WheelFilename, WheelNameError> {
        let stem = file_name.strip_suffix(".whl").ok_or_else(|| WheelNameError::NotAWheel(file_name.into()))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, tags) = match parts[..] {
            [name, version, python, abi, platform] => (name, version, None, [python, abi, platform]),
            [name, version, build, python, abi, platform] => (name, version, Some(build), [python, abi, platform]),
            _ => return Err(WheelNameError::WrongNumberOfParts(file_name.into())),
        };
        if !is_escaped_name(name) {
            return Err(WheelNameError::InvalidName(file_name.into()));
        }
        let pep440 = Version::from_str(version).map_err(|_| WheelNameError::InvalidVersion(file_name.into()))?;
        let build = match build {
            Some(text) => Some(BuildTag::parse(text).ok_or_else(|| WheelNameError::InvalidBuild(file_name.into()))?),
            None => None,
        };
        let tags = TagSet::from_parts(tags).ok_or_else(|| WheelNameError::InvalidTag(file_name.into()))?;
        Ok(WheelFilename { name: name.into(), version: version.into(), pep440, build, tags })
    }

    /// The PEP 503 name (`python-dateutil`).
    pub fn normalized_name(&self) -> String {
        super::name::normalize(&self.name)
    }
}

impl FromStr for WheelFilename {
    type Err = WheelNameError;

    fn from_str(file_name: &str) -> Result<Self, Self::Err> {
        WheelFilename::parse(file_name)
    }
}

/// The file name, as it was written.
impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name, self.version)?;
        if let Some(build) = &self.build {
            write!(f, "-{build}")?;
        }
        write!(f, "-{}.whl", self.tags)
    }
}

/// The tags of a wheel file name (`name-version[-build]-py-abi-plat.whl`),
/// compressed sets (`cp315-abi3.abi3t-...`) expanded; None when the name is
/// not a wheel's (see [`WheelFilename::parse`]).
pub fn wheel_tags(file_name: &str) -> Option<Vec<WheelTag>> {
    WheelFilename::parse(file_name).ok().map(|wheel| wheel.tags.expand())
}

/// The release a distribution file's name names: a wheel's version, or an
/// sdist's (`name-1.0.tar.gz`, `name-1.0.zip`); None for any other name.
pub fn release_of(file_name: &str) -> Option<Version> {
    if file_name.ends_with(".whl") {
        return WheelFilename::parse(file_name).ok().map(|wheel| wheel.pep440);
    }
    super::sdist::SdistFilename::parse(file_name).map(|sdist| sdist.version)
}

/// The wheel spec's escaped name: word characters and dots, no `__`.
fn is_escaped_name(name: &str) -> bool {
    !name.is_empty() && !name.contains("__") && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
}

impl BuildTag {
    /// `1`, `2abc`; None when it does not start with a digit.
    pub fn parse(text: &str) -> Option<BuildTag> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let number = text[..digits].parse().ok()?;
        Some(BuildTag { number, suffix: text[digits..].into() })
    }
}

impl fmt::Display for BuildTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.number, self.suffix)
    }
}

impl TagSet {
    /// `python-abi-platform`, each part a dot-separated set.
    pub fn parse(text: &str) -> Option<TagSet> {
        let parts: Vec<&str> = text.split('-').collect();
        let [python, abi, platform] = parts[..] else { return None };
        TagSet::from_parts([python, abi, platform])
    }

    fn from_parts([python, abi, platform]: [&str; 3]) -> Option<TagSet> {
        let split = |part: &str| -> Option<Vec<String>> {
            let values: Vec<String> = part.split('.').map(String::from).collect();
            (!values.iter().any(String::is_empty)).then_some(values)
        };
        let set = TagSet { python: split(python)?, abi: split(abi)?, platform: split(platform)? };
        set.python.iter().all(|p| is_identifier(p)).then_some(set)
    }

    /// The compressed set of these tags: each part's values in the order
    /// they first appear (a WHEEL file's `Tag:` lines, for instance).
    pub fn from_tags(tags: &[WheelTag]) -> Option<TagSet> {
        let mut set = TagSet { python: Vec::new(), abi: Vec::new(), platform: Vec::new() };
        for tag in tags {
            for (values, value) in
                [(&mut set.python, &tag.python), (&mut set.abi, &tag.abi), (&mut set.platform, &tag.platform)]
            {
                if !values.contains(value) {
                    values.push(value.clone());
                }
            }
        }
        (!set.python.is_empty()).then_some(set)
    }

    /// The set with its first platform only and a count of the others, for
    /// a table column: `cp315-abi3.abi3t-manylinux2014_x86_64 (+1)`. Every
    /// python and ABI tag is kept: `abi3.abi3t` must not read as `abi3`.
    pub fn short(&self) -> String {
        let first = self.platform.first().map_or("", String::as_str);
        let head = format!("{}-{}-{first}", self.python.join("."), self.abi.join("."));
        match self.platform.len() {
            0 | 1 => head,
            n => format!("{head} (+{})", n - 1),
        }
    }

    /// Every `python-abi-platform` combination the set stands for, python
    /// values outermost, platforms innermost.
    pub fn expand(&self) -> Vec<WheelTag> {
        let mut tags = Vec::with_capacity(self.python.len() * self.abi.len() * self.platform.len());
        for python in &self.python {
            for abi in &self.abi {
                for platform in &self.platform {
                    tags.push(WheelTag { python: python.clone(), abi: abi.clone(), platform: platform.clone() });
                }
            }
        }
        tags
    }
}

/// A Python identifier (a letter or `_`, then letters, digits or `_`): what packaging requires of a python tag.
fn is_identifier(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// The tag text as a wheel file name writes it: `cp315-abi3.abi3t-manylinux_2_17_x86_64`.
impl fmt::Display for TagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python.join("."), self.abi.join("."), self.platform.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_tag_set_keeps_every_abi() {
        let name = "hypothesis-6.170.17-cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
        let tags = wheel(name).tags;
        assert_eq!(tags.to_string(), "cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64");
        assert_eq!(TagSet::from_tags(&tags.expand()).unwrap().short(), "cp315-abi3.abi3t-manylinux2014_x86_64 (+1)");
        assert_eq!(TagSet::parse("cp313-cp313t-win_amd64").unwrap().short(), "cp313-cp313t-win_amd64");
    }

    fn wheel(name: &str) -> WheelFilename {
        WheelFilename::parse(name).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_real_wheel_names() {
        let numpy = wheel("numpy-2.3.2-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl");
        assert_eq!((numpy.name.as_str(), numpy.version.as_str(), &numpy.build), ("numpy", "2.3.2", &None));
        assert_eq!(numpy.pep440, Version::from_str("2.3.2").unwrap());
        assert_eq!(numpy.tags.abi, ["cp313t"]);
        assert_eq!(numpy.tags.expand().len(), 2);

        let hypothesis = wheel("hypothesis-6.168.0-cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64.whl");
        assert_eq!(hypothesis.tags.to_string(), "cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64");
        let expanded: Vec<String> = hypothesis.tags.expand().iter().map(ToString::to_string).collect();
        assert_eq!(
            expanded,
            [
                "cp315-abi3-manylinux2014_x86_64",
                "cp315-abi3-manylinux_2_17_x86_64",
                "cp315-abi3t-manylinux2014_x86_64",
                "cp315-abi3t-manylinux_2_17_x86_64"
            ]
        );

        let dateutil = wheel("python_dateutil-2.9.0.post0-py2.py3-none-any.whl");
        assert_eq!(dateutil.normalized_name(), "python-dateutil");
        assert_eq!(dateutil.tags.python, ["py2", "py3"]);
    }

    #[test]
    fn reads_build_tags_and_writes_names_back() {
        let built = wheel("foo-1.0-2abc-cp313-cp313-win_amd64.whl");
        assert_eq!(built.build, Some(BuildTag { number: 2, suffix: "abc".into() }));
        assert!(BuildTag::parse("10").unwrap() > BuildTag::parse("9z").unwrap());
        for name in [
            "foo-1.0-2abc-cp313-cp313-win_amd64.whl",
            "MarkupSafe-3.0.2-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "cryptography-46.0.3-cp311-abi3-manylinux_2_34_x86_64.whl",
        ] {
            assert_eq!(wheel(name).to_string(), name);
        }
    }

    #[test]
    fn refuses_what_installers_refuse() {
        let error = |name: &str| WheelFilename::parse(name).unwrap_err();
        assert!(matches!(error("numpy-2.3.2.tar.gz"), WheelNameError::NotAWheel(_)));
        assert!(matches!(error("too-few.whl"), WheelNameError::WrongNumberOfParts(_)));
        assert!(matches!(error("a-b-1.0-1-py3-none-any.whl"), WheelNameError::WrongNumberOfParts(_)));
        assert!(matches!(error("foo-1.0-x1-py3-none-any.whl"), WheelNameError::InvalidBuild(_)));
        assert!(matches!(error("foo-one-py3-none-any.whl"), WheelNameError::InvalidVersion(_)));
        assert!(matches!(error("foo__bar-1.0-py3-none-any.whl"), WheelNameError::InvalidName(_)));
        assert!(matches!(error("foo-1.0-py3.-none-any.whl"), WheelNameError::InvalidTag(_)));
        assert!(matches!(error("foo-1.0-3-none-any.whl"), WheelNameError::InvalidTag(_)));
        assert!(error("foo-1.0-py3-none-any.whl.zip").to_string().contains("does not end in `.whl`"));
    }

    #[test]
    fn compresses_tags_in_the_order_they_come() {
        let tags: Vec<WheelTag> = ["cp313-cp313t-manylinux_2_17_x86_64", "cp313-cp313t-manylinux2014_x86_64"]
            .iter()
            .filter_map(|t| WheelTag::parse(t))
            .collect();
        let set = TagSet::from_tags(&tags).unwrap();
        assert_eq!(set.to_string(), "cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64");
        assert_eq!(TagSet::parse(&set.to_string()), Some(set));
        assert_eq!(TagSet::from_tags(&[]), None);
    }

    #[test]
    fn parses_wheel_tags() {
        let tags = wheel_tags("numpy-2.3.0-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl").unwrap();
        assert_eq!(tags.len(), 2);
        assert!(tags.iter().all(WheelTag::is_free_threaded));
        assert_eq!(tags[0].abi_version(), Some((3, 13)));
        let tags = wheel_tags("foo-1.0-cp315-abi3.abi3t-manylinux_2_28_x86_64.whl").unwrap();
        assert_eq!(tags.iter().map(|t| t.abi.as_str()).collect::<Vec<_>>(), ["abi3", "abi3t"]);
        assert!(!tags[0].is_free_threaded());
        assert!(wheel_tags("foo-1.0-1-cp313-cp313-win_amd64.whl").unwrap()[0].abi == "cp313");
        assert!(wheel_tags("not-a-wheel.zip").is_none());
        assert!(wheel_tags("too-few.whl").is_none());
    }

    #[test]
    fn a_release_is_read_from_wheel_and_sdist_names() {
        let release = |name: &str| release_of(name).map(|v| v.to_string());
        assert_eq!(release("numpy-2.3.2-cp313-cp313t-manylinux_2_28_x86_64.whl").as_deref(), Some("2.3.2"));
        assert_eq!(release("numpy-1.26.4.tar.gz").as_deref(), Some("1.26.4"));
        assert_eq!(release("python-dateutil-2.9.0.post0.zip").as_deref(), Some("2.9.0.post0"));
        assert_eq!(release("numpy-1.26.4.egg"), None);
        assert_eq!(release("numpy-latest.tar.gz"), None);
    }
}
