//! Application lock files read into one shape, [`LockedSet`]: which
//! distributions are pinned, where they come from, which wheels the lock
//! file lists for them, under which environment markers they install, and
//! the dependency edges between them.
//!
//! Formats: `uv.lock`, `pylock.toml` (PEP 751), requirements files as
//! pip-compile and `uv pip compile` write them, `poetry.lock` and
//! `pdm.lock`, and an installed environment ([`installed`]: a venv or a
//! site-packages folder). [`find`] tells what an input is (a lock file by
//! name, else content; a folder by what it holds; a `pyproject.toml`,
//! which pins nothing and is resolved by [`resolve`]); [`read`] reads it;
//! [`install::installed`] answers which entries a target environment would
//! install.

pub mod install;
mod installed;
pub mod markers;
mod pdm;
mod poetry;
mod pylock;
mod pyproject;
pub mod requirement;
mod requirements;
pub mod resolve;
#[cfg(test)]
pub(crate) mod test_fixtures;
mod toml_source;
mod uvlock;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use serde::Serialize;

use crate::input::InputError;
pub use install::{Choice, Selection, installed};
pub use markers::{Environment, Marker, Platform};

/// The largest lock file read, in bytes.
const MAX_LOCK_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The lock file formats ftprobe reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockFormat {
    UvLock,
    Pylock,
    Requirements,
    PoetryLock,
    PdmLock,
    /// What a venv or site-packages folder has installed.
    Installed,
}

impl LockFormat {
    /// The usual file name: `uv.lock`, `pylock.toml`, `requirements.txt`,
    /// `poetry.lock`, `pdm.lock`; `site-packages` for an installed environment.
    pub fn file_name(self) -> &'static str {
        match self {
            LockFormat::UvLock => "uv.lock",
            LockFormat::Pylock => "pylock.toml",
            LockFormat::Requirements => "requirements.txt",
            LockFormat::PoetryLock => "poetry.lock",
            LockFormat::PdmLock => "pdm.lock",
            LockFormat::Installed => "site-packages",
        }
    }
}

impl fmt::Display for LockFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}

/// Everything one lock file pins.
#[derive(Clone, Debug, Serialize)]
pub struct LockedSet {
    /// The files read: the lock file first, then included requirements
    /// files and the `pyproject.toml` the roots came from.
    #[serde(serialize_with = "serialize_paths")]
    pub files: Vec<PathBuf>,
    pub format: LockFormat,
    /// The lock file's `requires-python`, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// The environments the lock file was made for, as one marker: uv.lock's
    /// `supported-markers` (the project's `tool.uv.environments`), pylock's
    /// `environments`. uv lists no wheels for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_environments: Option<Marker>,
    /// The project's direct dependencies (with the extra or group that asks for them).
    pub roots: Vec<Dependency>,
    /// Where [`LockedSet::roots`] came from; `Unknown` when the lock file does not say.
    pub roots_from: RootsFrom,
    /// How [`install::installed`] picks entries for this format.
    pub install_rule: InstallRule,
    /// Extras the project or lock file offers (uv, pylock, pdm, poetry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    /// Dependency groups the project or lock file offers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Groups that always install (pylock `default-groups`, pdm `default`, poetry `main`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub default_groups: Vec<String>,
    /// Package indexes named by the lock file (`--index-url`, `--extra-index-url`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
    /// What the reader saw and does not act on, one sentence each (a
    /// requirements file's `--find-links` and `--no-index`), for the report's notes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// uv.lock's `conflicts`: sets of extras and groups of which at most one
    /// installs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Vec<ConflictItem>>,
    pub dists: Vec<LockedDist>,
}

/// A member of a uv.lock `conflicts` set: one project's extra or dependency group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConflictItem {
    /// Normalized (PEP 503).
    pub package: String,
    #[serde(flatten)]
    pub part: OptionalPart,
}

/// An extra or a dependency group, by its normalized name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptionalPart {
    Extra(String),
    Group(String),
}

impl ConflictItem {
    /// The name uv's markers give it (`extra-7-project-cpu`, `group-7-project-dev`).
    pub fn marker_name(&self) -> String {
        let package = &self.package;
        match &self.part {
            OptionalPart::Extra(extra) => format!("extra-{}-{package}-{extra}", package.len()),
            OptionalPart::Group(group) => format!("group-{}-{package}-{group}", package.len()),
        }
    }
}

impl fmt::Display for ConflictItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.part {
            OptionalPart::Extra(extra) => write!(f, "{}'s extra `{extra}`", self.package),
            OptionalPart::Group(group) => write!(f, "{}'s group `{group}`", self.package),
        }
    }
}

/// Where a lock file's roots came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootsFrom {
    /// The lock file names them (uv.lock's project package, requirements `# via -r`).
    LockFile,
    /// The neighbouring `pyproject.toml`.
    Pyproject,
    /// Every entry of a requirements file with no `# via` comments.
    EveryEntry,
    /// What nothing else installed requires.
    Installed,
    /// Nothing says which entries are direct dependencies.
    Unknown,
}

/// How to tell which entries install.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstallRule {
    /// Walk from the roots along dependency edges whose markers hold.
    WalkFromRoots,
    /// Every entry whose marker holds (and whose groups are selected), as
    /// pip does with a requirements file and PEP 751 installers do.
    EveryEntry,
}

/// One pinned distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockedDist {
    /// Normalized (PEP 503).
    pub name: String,
    /// As written; `None` for editable, path and URL requirements without a pin.
    pub version: Option<String>,
    /// The version specifier of an unpinned requirements-file entry (`>=1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub specifier: Option<String>,
    pub source: Source,
    /// The wheels the lock file lists; empty when it lists none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wheels: Vec<LockedFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdist: Option<LockedFile>,
    /// Hashes given without file names (requirements `--hash=`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    /// When this entry installs; `None` everywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<Marker>,
    /// The groups the lock file puts it in (poetry, pdm).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Edges to the entries it depends on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// Where the entry starts.
    pub location: Location,
}

/// An edge from a dependent (or the project) to a distribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// Normalized (PEP 503).
    pub name: String,
    /// Extras of the target this edge turns on.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<Marker>,
    /// The exact version (uv.lock, when several versions of a name are
    /// locked) or the version specifier the edge asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the edge applies.
    #[serde(skip_serializing_if = "Scope::is_always")]
    pub scope: Scope,
}

impl Dependency {
    /// An unconditional edge to `name`.
    pub fn to(name: &str) -> Dependency {
        Dependency { name: normalize(name), extras: Vec::new(), marker: None, version: None, scope: Scope::Always }
    }
}

/// When an edge applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Whenever the dependent installs.
    Always,
    /// Only with this extra of the dependent (`optional-dependencies`).
    Extra(String),
    /// Only with this dependency group of the project.
    Group(String),
}

impl Scope {
    fn is_always(&self) -> bool {
        *self == Scope::Always
    }
}

/// Where a distribution comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// A package index; `None` where the lock file names none (the default index).
    Registry {
        #[serde(skip_serializing_if = "Option::is_none")]
        index: Option<String>,
    },
    Git {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
    },
    /// A local directory or archive.
    Path { path: String },
    /// A local directory installed in editable mode.
    Editable { path: String },
    /// A uv project that is not itself installed.
    Virtual { path: String },
    /// A direct archive URL.
    Url { url: String },
}

impl Source {
    /// The default package index.
    pub const DEFAULT_INDEX: Source = Source::Registry { index: None };
}

/// A wheel or sdist the lock file lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockedFile {
    /// The file name (from the URL when the lock file gives none).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl LockedFile {
    /// The sha256 digest, if the lock file gives one.
    pub fn sha256(&self) -> Option<&str> {
        self.hashes.iter().find(|hash| hash.algorithm == "sha256").map(|hash| hash.digest.as_str())
    }
}

/// A file digest: `sha256` and its hex digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Hash {
    pub algorithm: String,
    pub digest: String,
}

impl Hash {
    /// Reads `sha256:abc…` (or `sha256=abc…`).
    pub fn parse(text: &str) -> Option<Hash> {
        let (algorithm, digest) = text.trim().split_once([':', '='])?;
        let valid = !algorithm.is_empty() && !digest.is_empty() && digest.bytes().all(|b| b.is_ascii_alphanumeric());
        valid.then(|| Hash { algorithm: algorithm.to_ascii_lowercase(), digest: digest.to_ascii_lowercase() })
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.digest)
    }
}

/// A place in one of [`LockedSet::files`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Index into [`LockedSet::files`]; 0 is the lock file itself.
    pub file: usize,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
}

impl LockedSet {
    /// `path:line:column` of an entry, for messages and SARIF.
    pub fn describe_location(&self, location: Location) -> String {
        let path = self.files.get(location.file).or(self.files.first());
        let shown = path.map(|path| path.display().to_string()).unwrap_or_default();
        format!("{shown}:{}:{}", location.line, location.column)
    }

    /// Whether the lock file's `requires-python` admits some `major.minor.*`
    /// release (poetry's `python-versions` read in poetry's syntax); `None`
    /// when it has none, or none ftprobe can read. Lock files made for a
    /// narrower range list only the wheels that range can install (uv and
    /// pdm leave out the rest).
    pub fn admits_python(&self, major: u32, minor: u32) -> Option<bool> {
        let written = self.requires_python.as_deref()?;
        let alternatives = match self.format {
            LockFormat::PoetryLock => poetry::pep440_alternatives(written)?,
            _ => vec![written.to_string()],
        };
        let specifiers: Vec<VersionSpecifiers> =
            alternatives.iter().map(|text| VersionSpecifiers::from_str(text).ok()).collect::<Option<_>>()?;
        let admitted = (0..100).any(|micro| {
            let release = Version::new([u64::from(major), u64::from(minor), micro]);
            specifiers.iter().any(|specifiers| specifiers.contains(&release))
        });
        Some(admitted)
    }

    /// Every entry of `name` (normalized or not).
    pub fn dists_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a LockedDist> + 'a {
        let wanted = normalize(name);
        self.dists.iter().filter(move |dist| dist.name == wanted)
    }
}

/// Why an input could not be read (or, for a `pyproject.toml`, resolved).
/// Every message is one line, and names `path:line:column` where the file
/// itself is at fault.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{}:{line}:{column}: {message}", path.display())]
    Malformed { path: PathBuf, line: u32, column: u32, message: String },
    #[error(
        "{}: not a lock file ftprobe reads; it reads uv.lock, pylock.toml (or pylock.NAME.toml), requirements files (*.txt, as pip-compile and uv pip compile write them), poetry.lock, pdm.lock, a venv or site-packages folder, and a pyproject.toml (resolved with uv)",
        path.display()
    )]
    UnknownFormat { path: PathBuf },
    #[error(
        "{}: a pyproject.toml pins nothing, and uv, which ftprobe resolves it with, is not installed (beside ftprobe or on PATH); install uv (pip install uv), or lock it first (uv lock, pdm lock, poetry lock, or uv pip compile pyproject.toml -o requirements.txt) and give ftprobe the lock file",
        path.display()
    )]
    NoResolver { path: PathBuf },
    #[error(
        "{}: uv cannot resolve it for {target} on {platform} (leave that target or platform out, or give ftprobe a lock file): {reason}",
        path.display()
    )]
    Unresolvable { path: PathBuf, target: String, platform: String, reason: String },
    #[error(
        "{}: uv failed resolving it for {target} on {platform} (check --index-url and the network; --offline needs uv's cache to hold everything): {reason}",
        path.display()
    )]
    ResolverFailed { path: PathBuf, target: String, platform: String, reason: String },
}

impl LockError {
    /// A `path:line:column: message` error; newlines in `message` become `; `.
    pub fn malformed(path: &Path, line: u32, column: u32, message: impl Into<String>) -> LockError {
        let message = message.into().trim().replace('\n', "; ");
        LockError::Malformed { path: path.to_path_buf(), line, column, message }
    }

    /// Whether ftprobe could not do its part (uv failed to run, the network
    /// or the cache failed it), as opposed to bad input: exit 3, not 2.
    pub fn could_not_run(&self) -> bool {
        matches!(self, LockError::ResolverFailed { .. })
    }
}

/// What an input is, as [`find`] tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A lock file (a folder's, when a folder was given).
    LockFile(PathBuf),
    /// An installed environment: its site-packages folders.
    Installed(Vec<PathBuf>),
    /// A `pyproject.toml` (a folder's, when the folder holds no lock file).
    Pyproject(PathBuf),
}

/// Tells what `path` is. A file named `pyproject.toml` is a project; any
/// other file is a lock file. A folder is a venv when it holds
/// `pyvenv.cfg`; else it is searched for `uv.lock`, `pylock.toml`,
/// `poetry.lock`, `pdm.lock`, `requirements.txt`, in that order; else it is
/// an installed environment when it has a site-packages folder (or holds
/// `*.dist-info` itself); else a project when it holds a `pyproject.toml`.
pub fn find(path: &Path) -> Result<InputKind, LockError> {
    if !path.is_dir() {
        if path.file_name().is_some_and(|name| name == "pyproject.toml") {
            // Opened now, so a missing one is not told it pins nothing.
            crate::input::open_regular(path)?;
            return Ok(InputKind::Pyproject(path.to_path_buf()));
        }
        return Ok(InputKind::LockFile(path.to_path_buf()));
    }
    let site_packages = installed::site_packages_of(path);
    if path.join("pyvenv.cfg").is_file() {
        if site_packages.is_empty() {
            return Err(LockError::malformed(
                &path.join("pyvenv.cfg"),
                1,
                1,
                "a venv without lib/python3.*/site-packages or Lib/site-packages; recreate it (python -m venv)",
            ));
        }
        return Ok(InputKind::Installed(site_packages));
    }
    if let Some(lock) = find_in_directory(path) {
        return Ok(InputKind::LockFile(lock));
    }
    if !site_packages.is_empty() {
        return Ok(InputKind::Installed(site_packages));
    }
    let pyproject = path.join("pyproject.toml");
    if pyproject.is_file() {
        return Ok(InputKind::Pyproject(pyproject));
    }
    Err(LockError::UnknownFormat { path: path.to_path_buf() })
}

/// Reads a lock file or an installed environment, as [`find`] tells them
/// apart; a lock file's format is told from its name and then its content.
/// A `pyproject.toml` is refused: it pins nothing ([`resolve`] resolves it).
pub fn read(path: &Path) -> Result<LockedSet, LockError> {
    match find(path)? {
        InputKind::LockFile(path) => {
            let text = crate::input::read_text_limited(&path, MAX_LOCK_FILE_BYTES, "")?;
            let format = detect(&path, &text).ok_or_else(|| LockError::UnknownFormat { path: path.clone() })?;
            read_as(format, &path, &text)
        }
        InputKind::Installed(site_packages) => installed::read(path, &site_packages),
        InputKind::Pyproject(path) => Err(LockError::NoResolver { path }),
    }
}

/// Reads `text`, the content of `path`, as `format`.
pub fn read_as(format: LockFormat, path: &Path, text: &str) -> Result<LockedSet, LockError> {
    match format {
        LockFormat::UvLock => uvlock::read(path, text),
        LockFormat::Pylock => pylock::read(path, text),
        LockFormat::Requirements => requirements::read(path, text),
        LockFormat::PoetryLock => poetry::read(path, text),
        LockFormat::PdmLock => pdm::read(path, text),
        LockFormat::Installed => {
            Err(LockError::malformed(path, 1, 1, "an installed environment is a folder, not a file; pass the venv"))
        }
    }
}

fn find_in_directory(directory: &Path) -> Option<PathBuf> {
    let names = ["uv.lock", "pylock.toml", "poetry.lock", "pdm.lock", "requirements.txt"];
    names.iter().map(|name| directory.join(name)).find(|candidate| candidate.is_file())
}

/// The format of a lock file, from its name, else from its content.
pub fn detect(path: &Path, text: &str) -> Option<LockFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let by_name = match name.as_str() {
        "uv.lock" => Some(LockFormat::UvLock),
        "poetry.lock" => Some(LockFormat::PoetryLock),
        "pdm.lock" => Some(LockFormat::PdmLock),
        "pylock.toml" => Some(LockFormat::Pylock),
        _ if name.starts_with("pylock.") && name.ends_with(".toml") => Some(LockFormat::Pylock),
        _ => None,
    };
    by_name.or_else(|| detect_by_content(&name, text))
}

fn detect_by_content(name: &str, text: &str) -> Option<LockFormat> {
    let head: String = text.lines().take(40).collect::<Vec<_>>().join("\n");
    if head.contains("@generated by Poetry") {
        return Some(LockFormat::PoetryLock);
    }
    if head.contains("@generated by PDM") {
        return Some(LockFormat::PdmLock);
    }
    if let Ok(table) = toml::from_str::<toml::Table>(text) {
        if table.contains_key("lock-version") && table.contains_key("packages") {
            return Some(LockFormat::Pylock);
        }
        let metadata = table.get("metadata").and_then(toml::Value::as_table);
        if metadata.is_some_and(|metadata| metadata.contains_key("lock_version")) {
            return Some(LockFormat::PdmLock);
        }
        if metadata.is_some_and(|metadata| metadata.contains_key("content-hash")) {
            return Some(LockFormat::PoetryLock);
        }
        if table.get("version").and_then(toml::Value::as_integer).is_some() && table.contains_key("package") {
            return Some(LockFormat::UvLock);
        }
        return None;
    }
    let looks_like_requirements = name.ends_with(".txt")
        || name.ends_with(".in")
        || name.contains("requirements")
        || name.contains("constraints")
        || head.contains("autogenerated by pip-compile")
        || head.contains("autogenerated by uv");
    looks_like_requirements.then_some(LockFormat::Requirements)
}

pub(crate) use crate::model::name::normalize;

/// The 1-based line and character column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (u32::try_from(line).unwrap_or(u32::MAX), u32::try_from(column).unwrap_or(u32::MAX))
}

fn serialize_paths<S: serde::Serializer>(paths: &[PathBuf], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = serializer.serialize_seq(Some(paths.len()))?;
    for path in paths {
        seq.serialize_element(&path.to_string_lossy())?;
    }
    seq.end()
}

/// The file name at the end of a URL or path, without query or fragment.
pub(crate) fn file_name_of(url: &str) -> String {
    let without_fragment = url.split(['#', '?']).next().unwrap_or(url);
    without_fragment.rsplit(['/', '\\']).next().unwrap_or(without_fragment).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 10), (2, 4));
    }

    #[test]
    fn requires_python_admits_a_minor_release_when_any_micro_of_it_satisfies_it() {
        let mut set = test_fixtures::read("uv/mitmproxy/uv.lock");
        let admits = |set: &LockedSet| {
            [(3, 12), (3, 13), (3, 14), (3, 15)].map(|(major, minor)| set.admits_python(major, minor))
        };
        set.requires_python = Some("==3.12.*".into());
        assert_eq!(admits(&set), [Some(true), Some(false), Some(false), Some(false)]);
        set.requires_python = Some(">=3.10, <3.14".into());
        assert_eq!(admits(&set), [Some(true), Some(true), Some(false), Some(false)]);
        // A range that starts inside 3.14 still takes some 3.14 release.
        set.requires_python = Some(">=3.14.2".into());
        assert_eq!(admits(&set), [Some(false), Some(false), Some(true), Some(true)]);
        // Poetry's own syntax is read in a poetry.lock only.
        set.requires_python = Some("^3.10".into());
        assert_eq!(admits(&set), [None; 4]);
        set.format = LockFormat::PoetryLock;
        set.requires_python = Some("~3.12 || ~3.14".into());
        assert_eq!(admits(&set), [Some(true), Some(false), Some(true), Some(false)]);
        set.requires_python = Some("^3.10".into());
        assert_eq!(admits(&set), [Some(true); 4]);
        set.requires_python = None;
        assert_eq!(admits(&set), [None; 4]);
    }

    #[test]
    fn formats_are_told_by_name_then_content() {
        let detect_named = |name: &str, text: &str| detect(Path::new(name), text);
        assert_eq!(detect_named("x/uv.lock", ""), Some(LockFormat::UvLock));
        assert_eq!(detect_named("pylock.dev.toml", ""), Some(LockFormat::Pylock));
        assert_eq!(detect_named("requirements/main.txt", "foo==1\n"), Some(LockFormat::Requirements));
        assert_eq!(detect_named("lock", "# This file is @generated by PDM.\n[metadata]\n"), Some(LockFormat::PdmLock));
        assert_eq!(detect_named("lock", "version = 1\n[[package]]\nname = \"a\"\n"), Some(LockFormat::UvLock));
        assert_eq!(
            detect_named("lock", "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\n"),
            Some(LockFormat::Pylock)
        );
        assert_eq!(detect_named("notes.md", "hello"), None);
    }

    #[test]
    fn an_unknown_format_names_the_accepted_ones() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("Cargo.lock");
        std::fs::write(&path, "# cargo\n[[package]]\nname = \"a\"\n").unwrap();
        let message = read(&path).unwrap_err().to_string();
        assert!(message.contains("Cargo.lock: not a lock file ftprobe reads"), "{message}");
        assert!(message.contains("uv.lock, pylock.toml"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn a_directory_is_searched_for_its_lock_file() {
        let directory = test_fixtures::path("pdm/pdm");
        let set = read(&directory).unwrap();
        assert_eq!(set.format, LockFormat::PdmLock);
        assert!(set.files[0].ends_with("pdm.lock"));
    }

    #[test]
    fn inputs_are_told_apart_by_what_a_folder_holds() {
        let root = tempfile::tempdir().unwrap();
        let folder = |name: &str| {
            let path = root.path().join(name);
            std::fs::create_dir_all(&path).unwrap();
            path
        };
        let venv = folder("venv");
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        std::fs::write(venv.join("requirements.txt"), "six==1.17.0\n").unwrap();
        let site = venv.join("lib/python3.13t/site-packages");
        std::fs::create_dir_all(site.join("six-1.17.0.dist-info")).unwrap();
        assert_eq!(find(&venv).unwrap(), InputKind::Installed(vec![site.clone()]), "pyvenv.cfg wins");
        assert_eq!(find(&site).unwrap(), InputKind::Installed(vec![site.clone()]));
        let project = folder("project");
        std::fs::write(project.join("pyproject.toml"), "[project]\nname = \"p\"\n").unwrap();
        assert_eq!(find(&project).unwrap(), InputKind::Pyproject(project.join("pyproject.toml")));
        std::fs::write(project.join("uv.lock"), "version = 1\n").unwrap();
        assert_eq!(find(&project).unwrap(), InputKind::LockFile(project.join("uv.lock")), "a lock file wins");
        let missing = root.path().join("gone/pyproject.toml");
        assert!(find(&missing).unwrap_err().to_string().contains("does not exist"));
        let empty_venv = folder("empty-venv");
        std::fs::write(empty_venv.join("pyvenv.cfg"), "").unwrap();
        assert!(find(&empty_venv).unwrap_err().to_string().contains("recreate it"));
        assert!(matches!(find(&folder("nothing")), Err(LockError::UnknownFormat { .. })));
    }

    #[test]
    fn cut_off_and_mixed_up_files_are_errors_not_panics() {
        let root = test_fixtures::path("");
        let samples = [
            "uv/mitmproxy/uv.lock",
            "pylock/comfy-cli/pylock.toml",
            "requirements/warehouse/main.txt",
            "requirements/mypy/test-requirements.txt",
            "poetry/poetry/poetry.lock",
            "pdm/pdm/pdm.lock",
        ];
        let formats = [
            LockFormat::UvLock,
            LockFormat::Pylock,
            LockFormat::Requirements,
            LockFormat::PoetryLock,
            LockFormat::PdmLock,
        ];
        for sample in samples {
            let text = std::fs::read_to_string(root.join(sample)).unwrap();
            for cut in (1..8).map(|eighth| text.len() * eighth / 8) {
                let mut cut = cut;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                for format in formats {
                    // Any result will do; what matters is that it returns.
                    let _ = read_as(format, Path::new("/nonexistent/lock"), &text[..cut]);
                }
            }
        }
    }

    #[test]
    fn serializes_for_json_output() {
        let set = test_fixtures::read("requirements/mypy/test-requirements.txt");
        let json = serde_json::to_value(&set).unwrap();
        assert_eq!(json["format"], "requirements");
        assert_eq!(json["roots_from"], "lock-file");
        let librt = json["dists"].as_array().unwrap().iter().find(|dist| dist["name"] == "librt").unwrap();
        assert_eq!(librt["marker"], "platform_python_implementation != \"PyPy\"");
        assert_eq!(librt["source"]["kind"], "registry");
        assert_eq!(librt["location"]["line"], 28);
    }

    #[test]
    fn hashes_parse_with_either_separator() {
        assert_eq!(Hash::parse("sha256:ABC").unwrap().to_string(), "sha256:abc");
        assert_eq!(Hash::parse("sha256=abc").unwrap().digest, "abc");
        assert!(Hash::parse("abc").is_none());
    }
}
