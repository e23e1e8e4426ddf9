//! Wheel tags and extension-module file suffixes, with what they say about
//! the target: CPython version, free-threaded ABI (`cp313t`), stable ABI
//! (`abi3`, `abi3t`).

use std::fmt;

use serde::Serialize;

/// What an extension module's file name says about its target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtSuffix {
    /// The import name: the file name up to the first dot.
    pub module: String,
    /// `(3, 13)` for `.cpython-313t-...so` / `.cp313t-win_amd64.pyd`.
    pub python: Option<(u32, u32)>,
    pub free_threaded: bool,
    pub abi3: bool,
    pub abi3t: bool,
}

impl ExtSuffix {
    /// Parses the file name of an extension module (`.so`, `.pyd`, `.dylib`);
    /// `None` for anything else.
    pub fn parse(file_name: &str) -> Option<ExtSuffix> {
        let stem = file_name
            .strip_suffix(".so")
            .or_else(|| file_name.strip_suffix(".pyd"))
            .or_else(|| file_name.strip_suffix(".dylib"))?;
        let (module, tag) = stem.split_once('.').unwrap_or((stem, ""));
        let mut out = ExtSuffix {
            module: module.to_string(),
            python: None,
            free_threaded: false,
            abi3: tag == "abi3",
            abi3t: tag == "abi3t",
        };
        // cpython-313t-x86_64-linux-gnu, cpython-313-darwin, cp313t-win_amd64
        let version = tag.strip_prefix("cpython-").or_else(|| tag.strip_prefix("cp"));
        if let Some(rest) = version {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.len() >= 2 {
                let minor = digits[1..].parse().ok();
                out.python = minor.map(|m| (digits[..1].parse().unwrap_or(3), m));
                out.free_threaded = rest[digits.len()..].starts_with('t');
            }
        }
        Some(out)
    }
}

/// One `python-abi-platform` tag of a wheel.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct WheelTag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl WheelTag {
    /// One `python-abi-platform` tag (not a compressed set).
    pub fn parse(text: &str) -> Option<WheelTag> {
        let parts: Vec<&str> = text.splitn(3, '-').collect();
        let [python, abi, platform] = parts[..] else { return None };
        Some(WheelTag { python: python.into(), abi: abi.into(), platform: platform.into() })
    }

    /// The same tag in lower case, as installers compare tags.
    pub fn to_lowercase(&self) -> WheelTag {
        WheelTag {
            python: self.python.to_ascii_lowercase(),
            abi: self.abi.to_ascii_lowercase(),
            platform: self.platform.to_ascii_lowercase(),
        }
    }

    /// `cp313t`, `cp314t`: a free-threaded CPython ABI.
    pub fn is_free_threaded(&self) -> bool {
        self.abi.starts_with("cp")
            && self.abi.ends_with('t')
            && self.abi[2..self.abi.len() - 1].bytes().all(|b| b.is_ascii_digit())
    }

    /// The CPython (major, minor) an ABI tag such as `cp313t` or `cp313` names.
    pub fn abi_version(&self) -> Option<(u32, u32)> {
        let digits = self.abi.strip_prefix("cp")?.trim_end_matches(['t', 'd', 'm']);
        (digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (digits[..1].parse().unwrap_or(3), digits[1..].parse().unwrap_or(0)))
    }

    /// The wheel's python tag names CPython `(major, minor)`, e.g. `cp313`.
    pub fn python_version(&self) -> Option<(u32, u32)> {
        let digits = self.python.strip_prefix("cp")?;
        (digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| (digits[..1].parse().unwrap_or(3), digits[1..].parse().unwrap_or(0)))
    }
}

/// `python-abi-platform`.
impl fmt::Display for WheelTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extension_suffixes() {
        let s = ExtSuffix::parse("_core.cpython-313t-x86_64-linux-gnu.so").unwrap();
        assert_eq!((s.module.as_str(), s.python, s.free_threaded), ("_core", Some((3, 13)), true));
        let s = ExtSuffix::parse("_core.cp313t-win_amd64.pyd").unwrap();
        assert_eq!((s.python, s.free_threaded), (Some((3, 13)), true));
        let s = ExtSuffix::parse("_core.cpython-313-darwin.so").unwrap();
        assert!(!s.free_threaded);
        assert!(ExtSuffix::parse("_speedups.abi3.so").unwrap().abi3);
        assert!(ExtSuffix::parse("_speedups.abi3t.so").unwrap().abi3t);
        let plain = ExtSuffix::parse("_core.pyd").unwrap();
        assert_eq!((plain.module.as_str(), plain.python), ("_core", None));
        assert!(ExtSuffix::parse("core.py").is_none());
    }
}
