//! Wheel file names, wheel tags and extension-module file suffixes, with
//! what they say about the target: CPython version, free-threaded ABI
//! (`cp313t`), stable ABI (`abi3`, `abi3t`).

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WheelTag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl WheelTag {
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

/// Parses a wheel file name (`name-version[-build]-py-abi-plat.whl`) into its
/// tags, expanding compressed sets (`cp315-abi3.abi3t-...`).
pub fn wheel_tags(file_name: &str) -> Option<Vec<WheelTag>> {
    let stem = file_name.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() < 5 {
        return None;
    }
    let [py, abi, plat] = [parts[parts.len() - 3], parts[parts.len() - 2], parts[parts.len() - 1]];
    let mut tags = Vec::new();
    for python in py.split('.') {
        for abi in abi.split('.') {
            for platform in plat.split('.') {
                tags.push(WheelTag { python: python.into(), abi: abi.into(), platform: platform.into() });
            }
        }
    }
    Some(tags)
}

/// The compressed tag set of expanded `python-abi-platform` tags, as a
/// wheel's file name writes it: `cp315-abi3.abi3t-manylinux2014_x86_64`.
/// Every tag's parts are kept, in the order first seen.
pub fn compressed(tags: &[String]) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let mut parts: [Vec<&str>; 3] = Default::default();
    for tag in tags {
        let mut fields = tag.splitn(3, '-');
        for part in &mut parts {
            let Some(field) = fields.next() else { break };
            if !part.contains(&field) {
                part.push(field);
            }
        }
    }
    parts.iter().map(|p| p.join(".")).collect::<Vec<_>>().join("-")
}

/// [`compressed`], with the first platform tag only and a count of the
/// others, for a table column: `cp315-abi3.abi3t-manylinux2014_x86_64 (+1)`.
pub fn compressed_short(tags: &[String]) -> String {
    let full = compressed(tags);
    let mut fields = full.splitn(3, '-');
    let (python, abi, platforms) = (fields.next(), fields.next(), fields.next().unwrap_or_default());
    let mut platforms = platforms.split('.');
    let first = platforms.next().unwrap_or_default();
    let more = platforms.count();
    let head = format!("{}-{}-{first}", python.unwrap_or_default(), abi.unwrap_or_default());
    if more == 0 { head } else { format!("{head} (+{more})") }
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
    fn compressed_tag_sets_read_as_the_file_name_writes_them() {
        let name = "hypothesis-6.170.17-cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64.whl";
        let tags: Vec<String> =
            wheel_tags(name).unwrap().iter().map(|t| format!("{}-{}-{}", t.python, t.abi, t.platform)).collect();
        assert_eq!(tags.len(), 4);
        assert_eq!(compressed(&tags), "cp315-abi3.abi3t-manylinux2014_x86_64.manylinux_2_17_x86_64");
        assert_eq!(compressed(&["py2-none-any".into(), "py3-none-any".into()]), "py2.py3-none-any");
        assert_eq!(compressed(&[]), "");
        assert_eq!(compressed_short(&tags), "cp315-abi3.abi3t-manylinux2014_x86_64 (+1)");
        assert_eq!(compressed_short(&["cp313-cp313t-win_amd64".into()]), "cp313-cp313t-win_amd64");
    }
}
