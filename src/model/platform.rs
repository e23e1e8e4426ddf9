//! The wheel platform tags one machine accepts, most preferred first, in the
//! order `packaging.tags.platform_tags()` (26.4) yields them on that machine;
//! read from `--platform`, a wheel platform tag or a short name.

use std::fmt;
use std::str::FromStr;

/// The glibc a Linux short name assumes when it does not name this machine.
pub const DEFAULT_GLIBC: (u32, u32) = (2, 28);
/// The macOS `macos`, `macos-x86_64` and [`Platform::host`] on a Mac assume:
/// 14.0 (Sonoma), so wheels built for macOS 15 or later count as not installable.
pub const DEFAULT_MACOS: (u32, u32) = (14, 0);
/// The musl [`Platform::host`] assumes on a musl Linux (musllinux_1_2).
pub const DEFAULT_MUSL: (u32, u32) = (1, 2);

/// The short names `--platform` takes besides wheel platform tags.
pub const SHORT_NAMES: [&str; 5] = ["linux", "linux-aarch64", "macos", "macos-x86_64", "windows"];

/// The kind of machine and what bounds its platform tags.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Machine {
    /// Linux with glibc `(2, minor)`: `linux_<arch>`, then manylinux from that glibc down.
    Manylinux { arch: String, glibc: (u32, u32) },
    /// Linux with musl `(1, minor)`: `linux_<arch>`, then musllinux from that musl down.
    Musllinux { arch: String, musl: (u32, u32) },
    /// macOS `(major, minor)` on `arm64` or `x86_64`.
    Macos { arch: String, version: (u32, u32) },
    /// Windows, whose one tag is `win_amd64`, `win_arm64` or `win32`.
    Windows { tag: String },
}

/// One machine's platform, with the text it was given as.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Platform {
    pub machine: Machine,
    label: String,
}

/// Why a platform could not be read or found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error(
        "`{0}` is not a platform: give a wheel platform tag (manylinux_2_28_x86_64, musllinux_1_2_x86_64, \
         macosx_14_0_arm64, win_amd64) or one of {short}",
        short = SHORT_NAMES.join(", ")
    )]
    Unknown(String),
    #[error("`{0}` names no C library: give manylinux_2_N_<arch> (glibc 2.N) or musllinux_1_N_<arch> (musl 1.N)")]
    BareLinux(String),
    #[error("this machine ({os}, {arch}) has no wheel platform ftprobe knows; give --platform")]
    UnknownHost { os: &'static str, arch: &'static str },
}

impl Platform {
    /// Reads `--platform`. The short names `linux` (x86_64) and
    /// `linux-aarch64` take the glibc of `this_machine` when it is a glibc
    /// Linux of that architecture, else [`DEFAULT_GLIBC`]; `macos` (arm64)
    /// and `macos-x86_64` are macOS [`DEFAULT_MACOS`]; `windows` is `win_amd64`.
    pub fn parse(text: &str, this_machine: Option<&Platform>) -> Result<Platform, PlatformError> {
        let linux = |arch: &str| {
            let glibc = match this_machine.map(|p| &p.machine) {
                Some(Machine::Manylinux { arch: here, glibc }) if here == arch => *glibc,
                _ => DEFAULT_GLIBC,
            };
            Machine::Manylinux { arch: arch.into(), glibc }
        };
        let machine = match text {
            "linux" => linux("x86_64"),
            "linux-aarch64" => linux("aarch64"),
            "macos" => Machine::Macos { arch: "arm64".into(), version: DEFAULT_MACOS },
            "macos-x86_64" => Machine::Macos { arch: "x86_64".into(), version: DEFAULT_MACOS },
            "windows" => Machine::Windows { tag: "win_amd64".into() },
            tag if tag.starts_with("linux_") => return Err(PlatformError::BareLinux(tag.into())),
            tag => Machine::from_tag(tag).ok_or_else(|| PlatformError::Unknown(tag.into()))?,
        };
        Ok(Platform { machine, label: text.into() })
    }

    /// This machine, given its glibc version where it has one (the caller
    /// reads it: `os::glibc_version`; [`DEFAULT_GLIBC`] when it is not
    /// known). On a musl Linux the C library is taken as [`DEFAULT_MUSL`], on
    /// a Mac the version as [`DEFAULT_MACOS`] (neither is detected).
    pub fn host(glibc: Option<(u32, u32)>) -> Result<Platform, PlatformError> {
        let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
        let unknown = || PlatformError::UnknownHost { os, arch };
        let machine = match os {
            "linux" if cfg!(target_env = "musl") => {
                Machine::Musllinux { arch: linux_arch(arch).ok_or_else(unknown)?.into(), musl: DEFAULT_MUSL }
            }
            "linux" => Machine::Manylinux {
                arch: linux_arch(arch).ok_or_else(unknown)?.into(),
                glibc: glibc.unwrap_or(DEFAULT_GLIBC),
            },
            "macos" => Machine::Macos { arch: mac_arch(arch).ok_or_else(unknown)?.into(), version: DEFAULT_MACOS },
            "windows" => Machine::Windows { tag: windows_tag(arch).ok_or_else(unknown)?.into() },
            _ => return Err(unknown()),
        };
        Ok(Platform { label: machine.tag(), machine })
    }

    /// The platform tags this machine accepts, most preferred first.
    pub fn tags(&self) -> Vec<String> {
        match &self.machine {
            Machine::Manylinux { arch, glibc } => {
                let mut tags = vec![format!("linux_{arch}")];
                tags.extend(manylinux_tags(arch, *glibc));
                tags
            }
            Machine::Musllinux { arch, musl: (major, minor) } => {
                let mut tags = vec![format!("linux_{arch}")];
                tags.extend((0..=*minor).rev().map(|m| format!("musllinux_{major}_{m}_{arch}")));
                tags
            }
            Machine::Macos { arch, version } => mac_tags(arch, *version),
            Machine::Windows { tag } => vec![tag.clone()],
        }
    }
}

impl FromStr for Platform {
    type Err = PlatformError;

    /// As [`Platform::parse`] with no machine to take a glibc from.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Platform::parse(text, None)
    }
}

/// The text it was given as (`linux`, `manylinux_2_28_x86_64`); for
/// [`Platform::host`], the machine's most specific tag.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl Machine {
    /// Reads one wheel platform tag as the machine it names.
    pub fn from_tag(tag: &str) -> Option<Machine> {
        if let Some(rest) = tag.strip_prefix("manylinux_") {
            let (glibc, arch) = version_and_arch(rest)?;
            return (glibc.0 == 2).then(|| Machine::Manylinux { arch: arch.into(), glibc });
        }
        for (prefix, glibc) in [("manylinux2014_", (2, 17)), ("manylinux2010_", (2, 12)), ("manylinux1_", (2, 5))] {
            if let Some(arch) = tag.strip_prefix(prefix).filter(|a| is_arch(a)) {
                return Some(Machine::Manylinux { arch: arch.into(), glibc });
            }
        }
        if let Some(rest) = tag.strip_prefix("musllinux_") {
            let (musl, arch) = version_and_arch(rest)?;
            return (musl.0 == 1).then(|| Machine::Musllinux { arch: arch.into(), musl });
        }
        if let Some(rest) = tag.strip_prefix("macosx_") {
            let (version, arch) = version_and_arch(rest)?;
            return matches!(arch, "arm64" | "x86_64").then(|| Machine::Macos { arch: arch.into(), version });
        }
        matches!(tag, "win_amd64" | "win_arm64" | "win32").then(|| Machine::Windows { tag: tag.into() })
    }

    /// The machine's own, most specific tag: `manylinux_2_36_x86_64`, `macosx_14_0_arm64`.
    pub fn tag(&self) -> String {
        match self {
            Machine::Manylinux { arch, glibc: (major, minor) } => format!("manylinux_{major}_{minor}_{arch}"),
            Machine::Musllinux { arch, musl: (major, minor) } => format!("musllinux_{major}_{minor}_{arch}"),
            Machine::Macos { arch, version: (major, minor) } => format!("macosx_{major}_{minor}_{arch}"),
            Machine::Windows { tag } => tag.clone(),
        }
    }
}

/// `2_28_x86_64` → `((2, 28), "x86_64")`.
fn version_and_arch(text: &str) -> Option<((u32, u32), &str)> {
    let (major, rest) = text.split_once('_')?;
    let (minor, arch) = rest.split_once('_')?;
    let number = |n: &str| n.bytes().all(|b| b.is_ascii_digit()).then(|| n.parse().ok()).flatten();
    Some(((number(major)?, number(minor)?), arch)).filter(|_| is_arch(arch))
}

/// A wheel tag's architecture: lower-case letters, digits and `_`.
fn is_arch(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// glibc 2.N down to the oldest manylinux knows for the architecture (2.5
/// on x86, 2.17 elsewhere), each legacy alias right after its glibc.
fn manylinux_tags(arch: &str, (major, minor): (u32, u32)) -> Vec<String> {
    let oldest = if matches!(arch, "x86_64" | "i686") { 5 } else { 17 };
    let mut tags = Vec::new();
    for m in (oldest..=minor).rev() {
        tags.push(format!("manylinux_{major}_{m}_{arch}"));
        let legacy = match m {
            17 => Some("manylinux2014"),
            12 => Some("manylinux2010"),
            5 => Some("manylinux1"),
            _ => None,
        };
        tags.extend(legacy.map(|name| format!("{name}_{arch}")));
    }
    tags
}

/// packaging's `mac_platforms`: from this release down to 11.0, then the
/// 10.x releases (whose `universal2` binaries also run on Apple silicon).
fn mac_tags(arch: &str, (major, minor): (u32, u32)) -> Vec<String> {
    let mut tags = Vec::new();
    let mut push = |version: (u32, u32), formats: &[&str]| {
        tags.extend(formats.iter().map(|f| format!("macosx_{}_{}_{f}", version.0, version.1)));
    };
    if major == 10 {
        for m in (0..=minor).rev() {
            push((10, m), &mac_binary_formats((10, m), arch));
        }
    }
    if major >= 11 {
        for release in (11..=major).rev() {
            push((release, 0), &mac_binary_formats((release, 0), arch));
        }
        for m in (4..=16).rev() {
            let formats = if arch == "x86_64" { mac_binary_formats((10, m), arch) } else { vec!["universal2"] };
            push((10, m), &formats);
        }
    }
    tags
}

/// The binary formats a Mac of `arch` runs at a macOS version.
fn mac_binary_formats(version: (u32, u32), arch: &str) -> Vec<&str> {
    match arch {
        "x86_64" if version < (10, 4) => Vec::new(),
        "x86_64" => vec![arch, "intel", "fat64", "fat3", "universal2", "universal"],
        _ => vec![arch, "universal2"],
    }
}

/// Rust's name for this architecture as Linux wheel tags write it.
fn linux_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        "x86" => "i686",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "arm" => "armv7l",
        "loongarch64" => "loongarch64",
        _ => return None,
    })
}

fn mac_arch(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "aarch64" => "arm64",
        "x86_64" => "x86_64",
        _ => return None,
    })
}

fn windows_tag(arch: &str) -> Option<&'static str> {
    Some(match arch {
        "x86_64" => "win_amd64",
        "aarch64" => "win_arm64",
        "x86" => "win32",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> Vec<String> {
        text.parse::<Platform>().unwrap_or_else(|e| panic!("{e}")).tags()
    }

    #[test]
    fn manylinux_runs_from_the_glibc_down_with_the_legacy_aliases() {
        let linux = tags("manylinux_2_36_x86_64");
        assert_eq!(linux[..3], ["linux_x86_64", "manylinux_2_36_x86_64", "manylinux_2_35_x86_64"]);
        let at = |tag: &str| linux.iter().position(|t| t == tag).unwrap();
        assert_eq!(at("manylinux2014_x86_64"), at("manylinux_2_17_x86_64") + 1);
        assert_eq!(at("manylinux2010_x86_64"), at("manylinux_2_12_x86_64") + 1);
        assert_eq!(linux.last().map(String::as_str), Some("manylinux1_x86_64"));
        assert_eq!(linux.len(), 1 + 32 + 3);
        let arm = tags("manylinux2014_aarch64");
        assert_eq!(arm, ["linux_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"]);
        assert!(!linux.iter().any(|t| t.starts_with("musllinux")));
    }

    #[test]
    fn musllinux_macos_and_windows() {
        assert_eq!(
            tags("musllinux_1_2_x86_64"),
            ["linux_x86_64", "musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64"]
        );
        let mac = tags("macos");
        assert_eq!(
            mac[..4],
            ["macosx_14_0_arm64", "macosx_14_0_universal2", "macosx_13_0_arm64", "macosx_13_0_universal2"]
        );
        assert_eq!(mac.len(), 4 * 2 + 13);
        assert_eq!(mac.last().map(String::as_str), Some("macosx_10_4_universal2"));
        let intel = tags("macos-x86_64");
        assert_eq!(
            intel[..6],
            [
                "macosx_14_0_x86_64",
                "macosx_14_0_intel",
                "macosx_14_0_fat64",
                "macosx_14_0_fat3",
                "macosx_14_0_universal2",
                "macosx_14_0_universal"
            ]
        );
        assert_eq!(intel.len(), (4 + 13) * 6);
        assert_eq!(tags("windows"), ["win_amd64"]);
        assert_eq!(tags("win_arm64"), ["win_arm64"]);
    }

    #[test]
    fn short_names_take_this_machines_glibc_only_when_it_is_that_machine() {
        let here = Platform::parse("manylinux_2_39_x86_64", None).unwrap();
        let linux = Platform::parse("linux", Some(&here)).unwrap();
        assert_eq!(linux.machine, Machine::Manylinux { arch: "x86_64".into(), glibc: (2, 39) });
        assert_eq!(linux.to_string(), "linux");
        let arm = Platform::parse("linux-aarch64", Some(&here)).unwrap();
        assert_eq!(arm.machine, Machine::Manylinux { arch: "aarch64".into(), glibc: DEFAULT_GLIBC });
        let elsewhere = Platform::parse("linux", Some(&"macos".parse().unwrap())).unwrap();
        assert_eq!(elsewhere.machine.tag(), "manylinux_2_28_x86_64");
    }

    #[test]
    fn refuses_what_names_no_machine() {
        for bad in
            ["", "any", "manylinux_2_x_x86_64", "manylinux_3_1_x86_64", "macosx_11_0_universal2", "win_x", "Linux"]
        {
            assert!(matches!(bad.parse::<Platform>(), Err(PlatformError::Unknown(_))), "{bad:?} parsed");
        }
        assert!(matches!("linux_x86_64".parse::<Platform>(), Err(PlatformError::BareLinux(_))));
        let error = "solaris".parse::<Platform>().unwrap_err().to_string();
        assert!(error.ends_with("linux, linux-aarch64, macos, macos-x86_64, windows"), "{error}");
    }

    #[test]
    fn this_machine_is_a_platform() {
        let host = Platform::host(Some((2, 41))).unwrap();
        assert_eq!(host.to_string(), host.machine.tag());
        #[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
        assert_eq!(host.machine, Machine::Manylinux { arch: "x86_64".into(), glibc: (2, 41) });
    }
}
