//! Which wheel an installer chooses: the tags a CPython target accepts on a
//! platform, in the order `packaging.tags.sys_tags()` (26.4) gives them
//! there, and the choice among a release's wheels by that order.

use std::collections::HashMap;

use super::platform::Platform;
use super::tags::WheelTag;
use super::target::Target;
use super::wheel::WheelFilename;

/// Every tag `target` accepts on `platform`, most preferred first: packaging's
/// `cpython_tags` then `compatible_tags`. For [`Target::Abi3t`], the tags of
/// free-threaded 3.15 whose ABI is `abi3t` or `none`.
pub fn supported_tags(target: Target, platform: &Platform) -> Vec<WheelTag> {
    let platforms = platform.tags();
    let mut tags = cpython_tags(target, &platforms);
    tags.extend(compatible_tags(target, &platforms));
    tags.retain(|tag| target.admits_abi(&tag.abi));
    tags
}

fn tag(python: &str, abi: &str, platform: &str) -> WheelTag {
    WheelTag { python: python.into(), abi: abi.into(), platform: platform.into() }
}

/// The interpreter's own ABI on each platform, then the stable ABI (`abi3` on
/// a default build, `abi3t` on a free-threaded one, never both), then `none`;
/// then the stable ABI of every older minor version down to 3.2.
fn cpython_tags(target: Target, platforms: &[String]) -> Vec<WheelTag> {
    let (major, minor) = target.python_version();
    let interpreter = target.interpreter_tag();
    let stable_abi = if target.is_free_threaded() { "abi3t" } else { "abi3" };
    let mut tags = Vec::new();
    for abi in [target.abi_tag().as_str(), stable_abi, "none"] {
        tags.extend(platforms.iter().map(|p| tag(&interpreter, abi, p)));
    }
    for older in (2..minor).rev() {
        tags.extend(platforms.iter().map(|p| tag(&format!("cp{major}{older}"), stable_abi, p)));
    }
    tags
}

/// Pure-Python tags: `py3XY`, `py3`, `py3(Y-1)` … `py30` on each platform,
/// then `cp3XY-none-any`, then the same python tags on `any`.
fn compatible_tags(target: Target, platforms: &[String]) -> Vec<WheelTag> {
    let (major, minor) = target.python_version();
    let mut pythons = vec![format!("py{major}{minor}"), format!("py{major}")];
    pythons.extend((0..minor).rev().map(|m| format!("py{major}{m}")));
    let mut tags = Vec::new();
    for python in &pythons {
        tags.extend(platforms.iter().map(|p| tag(python, "none", p)));
    }
    tags.push(tag(&target.interpreter_tag(), "none", "any"));
    tags.extend(pythons.iter().map(|python| tag(python, "none", "any")));
    tags
}

/// The tags a target accepts on a platform, each with its rank (0 is the most
/// preferred), to rank wheels by.
#[derive(Clone, Debug)]
pub struct SupportedTags {
    tags: Vec<WheelTag>,
    ranks: HashMap<WheelTag, usize>,
}

impl SupportedTags {
    pub fn new(target: Target, platform: &Platform) -> SupportedTags {
        SupportedTags::from_tags(supported_tags(target, platform))
    }

    /// From tags in order of preference; a repeated tag keeps its first rank.
    pub fn from_tags(tags: Vec<WheelTag>) -> SupportedTags {
        let mut ranks = HashMap::with_capacity(tags.len());
        for (rank, tag) in tags.iter().enumerate() {
            ranks.entry(tag.to_lowercase()).or_insert(rank);
        }
        SupportedTags { tags, ranks }
    }

    pub fn tags(&self) -> &[WheelTag] {
        &self.tags
    }

    /// The best rank among a wheel's tags (lower is preferred); None when the
    /// target cannot install the wheel here. Tags compare case-insensitively.
    pub fn rank(&self, wheel_tags: &[WheelTag]) -> Option<usize> {
        wheel_tags.iter().filter_map(|tag| self.ranks.get(&tag.to_lowercase()).copied()).min()
    }

    /// [`SupportedTags::rank`] of a wheel file name's tags.
    pub fn rank_wheel(&self, wheel: &WheelFilename) -> Option<usize> {
        self.rank(&wheel.tags.expand())
    }

    /// The wheel an installer picks among one release's wheels: the best
    /// rank, then the highest build tag (a wheel without one loses), then
    /// the first listed, as pip does. None when none is installable.
    pub fn pick<'a>(&self, wheels: &'a [WheelFilename]) -> Option<&'a WheelFilename> {
        self.best(wheels.iter().enumerate()).map(|index| &wheels[index])
    }

    /// [`SupportedTags::pick`] among file names; names that are not valid
    /// wheel names (sdists, say) are passed over.
    pub fn pick_file<'a>(&self, file_names: &[&'a str]) -> Option<&'a str> {
        let wheels: Vec<Option<WheelFilename>> = file_names.iter().map(|n| WheelFilename::parse(n).ok()).collect();
        let parsed = wheels.iter().enumerate().filter_map(|(index, wheel)| Some((index, wheel.as_ref()?)));
        self.best(parsed).map(|index| file_names[index])
    }

    /// The index of the installable wheel with the best rank, then build tag.
    fn best<'w>(&self, wheels: impl IntoIterator<Item = (usize, &'w WheelFilename)>) -> Option<usize> {
        let mut best: Option<(usize, &WheelFilename, usize)> = None;
        for (index, wheel) in wheels {
            let Some(rank) = self.rank_wheel(wheel) else { continue };
            let better = best.is_none_or(|(best_rank, chosen, _)| {
                rank < best_rank || (rank == best_rank && wheel.build > chosen.build)
            });
            if better {
                best = Some((rank, wheel, index));
            }
        }
        best.map(|(_, _, index)| index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supported(target: &str, platform: &str) -> SupportedTags {
        SupportedTags::new(target.parse().unwrap(), &platform.parse().unwrap())
    }

    fn texts(tags: &[WheelTag]) -> Vec<String> {
        tags.iter().map(ToString::to_string).collect()
    }

    fn position(tags: &[String], wanted: &str) -> usize {
        tags.iter().position(|t| t == wanted).unwrap_or_else(|| panic!("no {wanted}"))
    }

    /// fixtures/tags holds what packaging 26.4 gives (scripts/generate-tag-fixtures).
    #[test]
    fn the_order_is_packagings() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tags");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (what, platform) = name.split_once('@').unwrap();
            let expected: Vec<String> = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|line| !line.starts_with('#'))
                .map(String::from)
                .collect();
            let platform: Platform = platform.parse().unwrap();
            let found = match what {
                "platform" => platform.tags(),
                target => texts(&supported_tags(target.parse().unwrap(), &platform)),
            };
            assert_eq!(found, expected, "{name}");
            checked += 1;
        }
        assert!(checked >= 18, "{checked} fixtures");
    }

    #[test]
    fn free_threaded_313_takes_its_own_abi_first_and_never_abi3() {
        let tags = texts(supported("3.13t", "manylinux_2_36_x86_64").tags());
        assert_eq!(
            tags[..3],
            ["cp313-cp313t-linux_x86_64", "cp313-cp313t-manylinux_2_36_x86_64", "cp313-cp313t-manylinux_2_35_x86_64"]
        );
        assert!(!tags.iter().any(|t| t.contains("-abi3-")));
        assert_eq!(tags.last().map(String::as_str), Some("py30-none-any"));
    }

    #[test]
    fn a_default_build_takes_abi3_after_its_own_abi_and_none() {
        let tags = texts(supported("3.13", "manylinux_2_36_x86_64").tags());
        let last_own = tags.iter().rposition(|t| t.starts_with("cp313-cp313-")).unwrap();
        assert_eq!(position(&tags, "cp313-abi3-linux_x86_64"), last_own + 1);
        assert!(position(&tags, "cp312-abi3-linux_x86_64") > position(&tags, "cp313-none-manylinux1_x86_64"));
        assert!(!tags.iter().any(|t| t.contains("-abi3t-") || t.contains("cp313t")));
    }

    #[test]
    fn free_threaded_315_takes_abi3t_and_not_abi3() {
        let tags = texts(supported("3.15t", "manylinux_2_36_x86_64").tags());
        assert!(
            position(&tags, "cp315-abi3t-manylinux_2_36_x86_64") > position(&tags, "cp315-cp315t-manylinux1_x86_64")
        );
        assert!(tags.iter().any(|t| t.starts_with("cp311-abi3t-")));
        assert!(!tags.iter().any(|t| t.contains("-abi3-")));
        let abi3t = texts(supported("abi3t", "manylinux_2_36_x86_64").tags());
        assert_eq!(abi3t[0], "cp315-abi3t-linux_x86_64");
        assert!(abi3t.iter().all(|t| t.contains("-abi3t-") || t.contains("-none-")));
    }

    /// Files of real releases on PyPI, and what pip 26.3 chose among all of a
    /// release's files (`pip install --dry-run --report` with `--platform`,
    /// `--python-version` and `--abi`).
    #[test]
    fn picks_what_pip_picked() {
        let numpy = [
            "numpy-2.3.2-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
            "numpy-2.3.2-cp313-cp313t-macosx_14_0_arm64.whl",
            "numpy-2.3.2-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
            "numpy-2.3.2-cp313-cp313t-musllinux_1_2_x86_64.whl",
            "numpy-2.3.2-cp313-cp313t-win_amd64.whl",
            "numpy-2.3.2.tar.gz",
        ];
        let charset = [
            "charset_normalizer-3.5.2-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
            "charset_normalizer-3.5.2-cp314-cp314t-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
            "charset_normalizer-3.5.2-cp37-abi3-manylinux1_x86_64.manylinux_2_28_x86_64.manylinux_2_5_x86_64.whl",
            "charset_normalizer-3.5.2-py3-none-any.whl",
        ];
        let cryptography = [
            "cryptography-46.0.3-cp311-abi3-manylinux_2_28_x86_64.whl",
            "cryptography-46.0.3-cp311-abi3-manylinux_2_34_x86_64.whl",
            "cryptography-46.0.3-cp314-cp314t-macosx_10_9_universal2.whl",
            "cryptography-46.0.3-cp314-cp314t-manylinux_2_34_x86_64.whl",
            "cryptography-46.0.3-cp38-abi3-manylinux_2_34_x86_64.whl",
            "cryptography-46.0.3-pp311-pypy311_pp73-manylinux_2_34_x86_64.whl",
        ];
        let linux = "manylinux_2_36_x86_64";
        let cases: [(&str, &str, &[&str], Option<&str>); 8] = [
            ("3.13t", linux, &numpy, Some(numpy[2])),
            ("3.13t", "macosx_14_0_arm64", &numpy, Some(numpy[1])),
            ("3.13t", linux, &charset, Some(charset[3])),
            ("3.13", linux, &charset, Some(charset[0])),
            ("3.13", linux, &cryptography, Some(cryptography[1])),
            ("3.14t", linux, &cryptography, Some(cryptography[3])),
            ("3.14t", "macosx_14_0_arm64", &cryptography, Some(cryptography[2])),
            ("3.13t", linux, &cryptography, None),
        ];
        for (target, platform, files, expected) in cases {
            assert_eq!(supported(target, platform).pick_file(files), expected, "{target} on {platform}");
        }
    }

    #[test]
    fn refuses_wheels_for_another_build_or_platform() {
        let wheel = |name: &str| WheelFilename::parse(name).unwrap();
        let linux = supported("3.13t", "linux");
        assert_eq!(
            linux.rank_wheel(&wheel("numpy-2.3.2-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl")),
            None
        );
        let numpy = wheel("numpy-2.3.2-cp313-cp313t-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl");
        let pure = wheel("charset_normalizer-3.5.2-py3-none-any.whl");
        assert!(linux.rank_wheel(&numpy).unwrap() < linux.rank_wheel(&pure).unwrap());
        let windows = supported("3.13", "windows");
        assert_eq!(windows.rank_wheel(&wheel("pywin32-311-cp313-cp313-win_amd64.whl")), Some(0));
        assert_eq!(windows.rank_wheel(&wheel("pywin32-311-cp313-cp313-win_arm64.whl")), None);
        assert_eq!(supported("3.13", "linux").rank_wheel(&wheel("pywin32-311-cp313-cp313-win_amd64.whl")), None);
    }

    #[test]
    fn abi3_abi3t_serves_both_builds_of_315_and_abi3t_alone_only_the_free_threaded() {
        let rank =
            |target: &str, name: &str| supported(target, "linux").rank_wheel(&WheelFilename::parse(name).unwrap());
        let both = "hypothesis-6.168.0-cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
        for target in ["3.15t", "3.15", "abi3t"] {
            assert!(rank(target, both).is_some(), "{target}");
        }
        for target in ["3.14t", "3.14", "3.13t"] {
            assert!(rank(target, both).is_none(), "{target}");
        }
        let alone = "pkg-1.0-cp315-abi3t-manylinux_2_28_x86_64.whl";
        assert!(rank("3.15t", alone).is_some() && rank("abi3t", alone).is_some() && rank("3.15", alone).is_none());
        assert!(rank("abi3t", "pkg-1.0-cp315-cp315t-manylinux_2_28_x86_64.whl").is_none());
        assert!(rank("abi3t", "charset_normalizer-3.5.2-py3-none-any.whl").is_some());
        assert!(rank("abi3t", "charset_normalizer-3.5.2-cp37-abi3-manylinux_2_28_x86_64.whl").is_none());
    }

    #[test]
    fn ties_go_to_the_higher_build_then_the_first_listed() {
        let tags = supported("3.13t", "windows");
        let plain = "pkg-1.0-cp313-cp313t-win_amd64.whl";
        let second = "pkg-1.0-2-cp313-cp313t-win_amd64.whl";
        let tenth = "pkg-1.0-10-cp313-cp313t-win_amd64.whl";
        assert_eq!(tags.pick_file(&[plain, tenth, second]), Some(tenth));
        assert_eq!(tags.pick_file(&[second, plain]), Some(second));
        let pure = "pkg-1.0-7-py3-none-any.whl";
        assert_eq!(tags.pick_file(&[pure, plain]), Some(plain), "rank first, build after");
        let same = "pkg-1.0-cp313-cp313t-win_amd64.win_arm64.whl";
        assert_eq!(tags.pick_file(&[same, plain]), Some(same));
        assert_eq!(tags.pick_file(&["pkg-1.0.tar.gz"]), None);
    }
}
