//! What `ftprobe deps --target` names: a CPython release line and build
//! kind (`3.14t`, `3.14`), or `abi3t`, the question whether one
//! free-threaded stable-ABI build covers a package.

use std::fmt;
use std::str::FromStr;

/// The interpreter a wheel is chosen for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// CPython 3.`minor`, free-threaded (`3.13t`, ABI `cp313t`) or a default
    /// build (`3.13`, ABI `cp313`).
    Cpython { minor: u32, free_threaded: bool },
    /// A free-threaded CPython 3.15 that takes only the wheels a single
    /// free-threaded stable-ABI build would be: those tagged `abi3t` (alone or
    /// as `abi3.abi3t`) and pure-Python ones (ABI `none`). A package has a
    /// wheel for it when one abi3t build (or no build at all) covers every
    /// free-threaded CPython from 3.15 on.
    Abi3t,
}

/// The text `--target` accepts, in the order help and errors list it.
pub const ACCEPTED: [&str; 8] = ["3.13t", "3.14t", "3.15t", "abi3t", "3.12", "3.13", "3.14", "3.15"];

/// Why a `--target` value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a target; expected one of {list}", list = ACCEPTED.join(", "))]
pub struct TargetParseError(pub String);

impl Target {
    /// Every target, in the order of [`ACCEPTED`].
    pub fn all() -> Vec<Target> {
        ACCEPTED.iter().filter_map(|text| text.parse().ok()).collect()
    }

    /// The CPython `(major, minor)` whose interpreter the target is (`abi3t`: 3.15).
    pub fn python_version(self) -> (u32, u32) {
        match self {
            Target::Cpython { minor, .. } => (3, minor),
            Target::Abi3t => (3, 15),
        }
    }

    pub fn is_free_threaded(self) -> bool {
        match self {
            Target::Cpython { free_threaded, .. } => free_threaded,
            Target::Abi3t => true,
        }
    }

    /// The python tag of the interpreter: `cp313`.
    pub fn interpreter_tag(self) -> String {
        let (major, minor) = self.python_version();
        format!("cp{major}{minor}")
    }

    /// The interpreter's own ABI tag: `cp313t` free-threaded, `cp313` otherwise.
    pub fn abi_tag(self) -> String {
        let thread = if self.is_free_threaded() { "t" } else { "" };
        format!("{}{thread}", self.interpreter_tag())
    }

    /// Whether a wheel tag with this ABI may be chosen at all: every ABI the
    /// interpreter loads, except that `abi3t` admits only `abi3t` and `none`.
    pub fn admits_abi(self, abi: &str) -> bool {
        match self {
            Target::Cpython { .. } => true,
            Target::Abi3t => abi.eq_ignore_ascii_case("abi3t") || abi.eq_ignore_ascii_case("none"),
        }
    }
}

impl FromStr for Target {
    type Err = TargetParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refused = || TargetParseError(text.to_string());
        if text == "abi3t" {
            return Ok(Target::Abi3t);
        }
        let (version, free_threaded) = match text.strip_suffix('t') {
            Some(version) => (version, true),
            None => (text, false),
        };
        let minor = match version {
            "3.12" if !free_threaded => 12,
            "3.13" => 13,
            "3.14" => 14,
            "3.15" => 15,
            _ => return Err(refused()),
        };
        Ok(Target::Cpython { minor, free_threaded })
    }
}

/// The text `--target` took: `3.14t`, `3.14`, `abi3t`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Cpython { minor, free_threaded } => {
                write!(f, "3.{minor}{}", if *free_threaded { "t" } else { "" })
            }
            Target::Abi3t => f.write_str("abi3t"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accepted_text_comes_back_as_given() {
        for text in ACCEPTED {
            assert_eq!(text.parse::<Target>().unwrap().to_string(), text);
        }
        assert_eq!(Target::all().len(), ACCEPTED.len());
    }

    #[test]
    fn names_the_interpreter_and_its_abi() {
        let target: Target = "3.14t".parse().unwrap();
        assert_eq!((target.interpreter_tag(), target.abi_tag()), ("cp314".into(), "cp314t".into()));
        let target: Target = "3.13".parse().unwrap();
        assert_eq!((target.abi_tag().as_str(), target.is_free_threaded()), ("cp313", false));
        assert_eq!((Target::Abi3t.abi_tag().as_str(), Target::Abi3t.python_version()), ("cp315t", (3, 15)));
        assert!(Target::Abi3t.admits_abi("abi3t") && Target::Abi3t.admits_abi("none"));
        assert!(!Target::Abi3t.admits_abi("cp315t") && !Target::Abi3t.admits_abi("abi3"));
    }

    #[test]
    fn refuses_other_text_and_lists_what_it_takes() {
        for bad in ["3.12t", "3.16t", "3.11", "313t", "cp313t", "3.13T", "ABI3T", " 3.13t", "abi3", ""] {
            assert!(bad.parse::<Target>().is_err(), "{bad:?} parsed");
        }
        let error = "3.16t".parse::<Target>().unwrap_err().to_string();
        assert_eq!(
            error,
            "`3.16t` is not a target; expected one of 3.13t, 3.14t, 3.15t, abi3t, 3.12, 3.13, 3.14, 3.15"
        );
    }
}
