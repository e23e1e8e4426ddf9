//! Python versions and version requests such as `3.13t`.
//!
//! A request names a CPython release line and a build kind: `3.13` asks for a
//! default (GIL) build, `3.13t` for a free-threaded one.

use std::fmt;
use std::str::FromStr;

/// Oldest CPython minor version whose libpython ftprobe can drive
/// (`Py_NewInterpreterFromConfig` is 3.12+).
pub const MIN_SUPPORTED_MINOR: u32 = 12;
/// Newest CPython minor version whose slot numbers and APIs ftprobe knows.
pub const MAX_SUPPORTED_MINOR: u32 = 15;

/// Whether ftprobe's runtime probes can drive this CPython version.
pub fn is_supported(major: u32, minor: u32) -> bool {
    major == 3 && (MIN_SUPPORTED_MINOR..=MAX_SUPPORTED_MINOR).contains(&minor)
}

/// A version request: `3`, `3.13`, `3.13t`, `3.13.5`, `3.13.5t`, optionally
/// prefixed with `python` or `cpython`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PythonRequest {
    pub major: u32,
    pub minor: Option<u32>,
    pub micro: Option<u32>,
    pub free_threaded: bool,
}

/// Why a string is not a version request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a version request (expected something like `3.13` or `3.13t`)")]
pub struct RequestParseError(pub String);

impl FromStr for PythonRequest {
    type Err = RequestParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || RequestParseError(text.to_string());
        let body = text.strip_prefix("cpython").or_else(|| text.strip_prefix("python")).unwrap_or(text);
        let (body, free_threaded) = match body.strip_suffix('t') {
            Some(rest) => (rest, true),
            None => (body, false),
        };
        let mut parts = body.split('.');
        let mut number = |required: bool| -> Result<Option<u32>, RequestParseError> {
            match parts.next() {
                None if !required => Ok(None),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 4 => {
                    p.parse().map(Some).map_err(|_| error())
                }
                _ => Err(error()),
            }
        };
        let major = number(true)?.ok_or_else(error)?;
        let minor = number(false)?;
        let micro = number(false)?;
        if parts.next().is_some() || (free_threaded && minor.is_none()) {
            return Err(error());
        }
        Ok(PythonRequest { major, minor, micro, free_threaded })
    }
}

impl PythonRequest {
    /// Whether an interpreter of `version` (major, minor, micro) and build kind satisfies the request.
    pub fn matches(&self, version: [u32; 3], free_threaded: bool) -> bool {
        self.major == version[0]
            && self.minor.is_none_or(|m| m == version[1])
            && self.micro.is_none_or(|m| m == version[2])
            && self.free_threaded == free_threaded
    }
}

impl fmt::Display for PythonRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.major)?;
        if let Some(minor) = self.minor {
            write!(f, ".{minor}")?;
        }
        if let Some(micro) = self.micro {
            write!(f, ".{micro}")?;
        }
        if self.free_threaded {
            f.write_str("t")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(text: &str) -> PythonRequest {
        text.parse().unwrap()
    }

    #[test]
    fn parses_release_lines_and_build_kinds() {
        assert_eq!(req("3.13t"), PythonRequest { major: 3, minor: Some(13), micro: None, free_threaded: true });
        assert_eq!(req("python3.14"), PythonRequest { major: 3, minor: Some(14), micro: None, free_threaded: false });
        assert_eq!(req("cpython3.13.5t").micro, Some(5));
        assert_eq!(req("3").minor, None);
    }

    #[test]
    fn rejects_what_is_not_a_request() {
        for bad in ["", "t", "3t", "3.", "3.x", "3.13.5.1", "numpy", "/usr/bin/python3", "3.13tt", "99999.1"] {
            assert!(bad.parse::<PythonRequest>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn matching_respects_build_kind() {
        assert!(req("3.13t").matches([3, 13, 5], true));
        assert!(!req("3.13t").matches([3, 13, 5], false));
        assert!(!req("3.13").matches([3, 13, 5], true));
        assert!(req("3.13.5").matches([3, 13, 5], false));
        assert!(!req("3.13.4").matches([3, 13, 5], false));
        assert!(req("3").matches([3, 12, 1], false));
        assert_eq!(req("3.13.5t").to_string(), "3.13.5t");
    }

    #[test]
    fn supported_range_is_312_to_315() {
        assert!(!is_supported(3, 11));
        assert!(is_supported(3, 12));
        assert!(is_supported(3, 15));
        assert!(!is_supported(3, 16));
        assert!(!is_supported(2, 13));
    }
}
