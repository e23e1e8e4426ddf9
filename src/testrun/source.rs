//! Getting a package's test suite: a local checkout (`PATH`), a git
//! repository (cloned shallowly, at the tag of the version when one
//! matches), or a name on the index (its sdist; failing tests in it, the
//! forge repository its metadata names, at the version's tag).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::project::{self, Project};
use crate::model::name::normalize;
use crate::run::suite::{SourceKind, SuiteSource};

/// What the user named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    Path(PathBuf),
    Git(String),
    Index { name: String, version: Option<String> },
}

impl Spec {
    /// A URL (or `git+…`, or `….git`) is a repository; an existing path, or
    /// one that looks like a path, a checkout; anything else a package name.
    pub fn parse(text: &str) -> Spec {
        let text = text.trim();
        if let Some(url) = text.strip_prefix("git+") {
            return Spec::Git(url.to_string());
        }
        if text.contains("://") || text.ends_with(".git") || text.starts_with("git@") {
            return Spec::Git(text.to_string());
        }
        if Path::new(text).exists() || text.contains('/') || text.starts_with('.') {
            return Spec::Path(PathBuf::from(text));
        }
        match text.split_once("==") {
            Some((name, version)) => {
                Spec::Index { name: name.trim().to_string(), version: Some(version.trim().to_string()) }
            }
            None => Spec::Index { name: text.to_string(), version: None },
        }
    }

    /// A name for the unit before the source is read: the package, the
    /// folder's or the repository's last component.
    pub fn provisional_name(&self) -> String {
        let name = match self {
            Spec::Index { name, .. } => name.clone(),
            Spec::Path(path) => std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "package".into()),
            Spec::Git(url) => {
                url.trim_end_matches('/').trim_end_matches(".git").rsplit('/').next().unwrap_or("repo").to_string()
            }
        };
        normalize(&name)
    }
}

/// A suite ready to run: its folder, what it is, and how to install the package.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub root: PathBuf,
    pub source: SuiteSource,
    pub project: Project,
    /// The normalised project name.
    pub name: String,
    /// What the installer is given for the package itself (extras included).
    pub requirement: String,
}

/// Why a suite could not be had: one line, which becomes the unit's reason.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A path that cannot be resolved, or an archive that cannot be opened.
    #[error("{}: {reason}", path.display())]
    Path { path: PathBuf, reason: String },
    #[error("{} is not a folder: give the project's checkout", path.display())]
    NotAFolder { path: PathBuf },
    #[error(
        "{} has no project name (no pyproject.toml [project] name, setup.cfg or PKG-INFO): is it a Python project's checkout?",
        path.display()
    )]
    NoProjectName { path: PathBuf },
    #[error("{url}: the repository has no project name at its top")]
    NoProjectNameInRepository { url: String },
    #[error("--no-index: cannot read {name}'s sdist from an index; give its checkout or repository")]
    NoIndex { name: String },
    #[error(transparent)]
    Index(#[from] crate::index::ReleaseError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("the sdist {file} ships no tests, and its repository failed: {cause}")]
    RepositoryFailed { file: String, cause: Box<SourceError> },
    #[error(
        "the sdist {file} ships no tests and names no repository: give the project's checkout or git URL, or a --registry entry with `repository`"
    )]
    NoTestsNoRepository { file: String },
    #[error("cannot create {}: {reason}", path.display())]
    CreateFolder { path: PathBuf, reason: String },
    #[error("{archive} is not a zip archive: {reason}")]
    NotZip { archive: String, reason: String },
    #[error("{archive} is not a .tar.gz: {reason}")]
    NotTarGz { archive: String, reason: String },
    #[error("{archive} is damaged: {reason}")]
    Damaged { archive: String, reason: String },
    #[error("cannot unpack {archive}: {reason}")]
    Unpack { archive: String, reason: String },
    /// The unpacked folder could not be listed (the OS's words alone).
    #[error("{reason}")]
    ListUnpacked { path: PathBuf, reason: String },
}

/// Why a git command failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git ({reason}): install git")]
    CannotRun { reason: String },
    #[error("git {command} still running after {seconds} s")]
    TimedOut { command: String, seconds: u64 },
    /// Its subcommand and the last of what it printed.
    #[error("git {subcommand}: {said}")]
    Failed { subcommand: String, said: String },
}

/// Where sources come from and go.
pub struct Fetch<'a> {
    pub index_url: &'a str,
    pub no_index: bool,
    /// A registry's repository for this package, which wins over the metadata's.
    pub repository: Option<String>,
    pub work: &'a Path,
    /// The longest a git command may take.
    pub timeout: Duration,
    /// The index's client (shared by the run's units).
    pub client: &'a crate::index::http::Client,
}

pub fn prepare(spec: &Spec, fetch: &Fetch) -> Result<Prepared, SourceError> {
    match spec {
        Spec::Path(path) => {
            let root = std::fs::canonicalize(path)
                .map_err(|e| SourceError::Path { path: path.clone(), reason: e.to_string() })?;
            if !root.is_dir() {
                return Err(SourceError::NotAFolder { path: root });
            }
            let project = project::read(&root);
            let name = project.name.clone().ok_or_else(|| SourceError::NoProjectName { path: root.clone() })?;
            let revision = git(&["-C", &root.to_string_lossy(), "rev-parse", "HEAD"], fetch.timeout).ok();
            let source =
                SuiteSource { kind: SourceKind::Path, location: root.to_string_lossy().into_owned(), revision };
            Ok(local_install(root, source, project, &name))
        }
        Spec::Git(url) => clone_for_install(url, None, fetch),
        Spec::Index { name, version } => from_index(name, version.as_deref(), fetch),
    }
}

/// Installs the tree itself (built from source), with its test extras.
fn local_install(root: PathBuf, source: SuiteSource, project: Project, name: &str) -> Prepared {
    let requirement = format!("{}{} @ file://{}", name, extras(&project), root.to_string_lossy().replace(' ', "%20"));
    Prepared { root, source, name: normalize(name), requirement, project }
}

fn extras(project: &Project) -> String {
    if project.test_extras.is_empty() { String::new() } else { format!("[{}]", project.test_extras.join(",")) }
}

/// The sdist of `name` (`version`, or the latest), or its repository when
/// the sdist holds no tests. The package itself installs from the index
/// (its released wheel when there is one for the interpreter).
fn from_index(name: &str, version: Option<&str>, fetch: &Fetch) -> Result<Prepared, SourceError> {
    if fetch.no_index {
        return Err(SourceError::NoIndex { name: name.to_string() });
    }
    let sdist = crate::index::release::sdist(fetch.client, fetch.index_url, name, version)?;
    let archive = fetch.work.join(&sdist.file_name);
    crate::index::release::download(fetch.client, &sdist.url, &archive, 1 << 30)?;
    let root = unpack(&archive, &fetch.work.join("sdist"))?;
    let _ = std::fs::remove_file(&archive);
    let project = project::read(&root);
    let project_name = project.name.clone().unwrap_or_else(|| name.to_string());
    let requirement = format!("{project_name}{}=={}", extras(&project), sdist.version);
    if !project.has_tests() {
        let repository = fetch.repository.clone().or_else(|| project.repository());
        if let Some(repository) = repository {
            return clone_for_install(&repository, Some((&project_name, &sdist.version)), fetch)
                .map_err(|e| SourceError::RepositoryFailed { file: sdist.file_name.clone(), cause: Box::new(e) });
        }
        return Err(SourceError::NoTestsNoRepository { file: sdist.file_name });
    }
    Ok(Prepared {
        root,
        source: SuiteSource { kind: SourceKind::Sdist, location: sdist.file_name, revision: Some(sdist.version) },
        name: normalize(&project_name),
        requirement,
        project,
    })
}

/// Clones `url` shallowly. With a known release (`name`, `version`), at the
/// tag of that version when one exists, and the package installs from the
/// index; otherwise the default branch, installed from the clone.
fn clone_for_install(url: &str, release: Option<(&str, &str)>, fetch: &Fetch) -> Result<Prepared, SourceError> {
    let dir = fetch.work.join("git");
    let _ = std::fs::remove_dir_all(&dir);
    let tags = git(&["ls-remote", "--tags", "--refs", url], fetch.timeout)?;
    let tag = release.and_then(|(name, version)| version_tag(&tags, name, version));
    let mut args = vec!["clone", "--quiet", "--depth", "1"];
    if let Some(tag) = &tag {
        args.extend(["--branch", tag.as_str()]);
    }
    let target = dir.to_string_lossy().into_owned();
    args.extend([url, target.as_str()]);
    git(&args, fetch.timeout)?;
    let revision = git(&["-C", &target, "rev-parse", "HEAD"], fetch.timeout).ok();
    let project = project::read(&dir);
    let name = project
        .name
        .clone()
        .or_else(|| release.map(|(n, _)| n.to_string()))
        .ok_or_else(|| SourceError::NoProjectNameInRepository { url: url.to_string() })?;
    let source = SuiteSource {
        kind: SourceKind::Git,
        location: url.to_string(),
        revision: Some(match (&tag, revision) {
            (Some(tag), Some(commit)) => format!("{tag} {commit}"),
            (_, Some(commit)) => commit,
            (Some(tag), None) => tag.clone(),
            (None, None) => "?".into(),
        }),
    };
    match (release, &tag) {
        (Some((_, version)), Some(_)) => {
            let requirement = format!("{name}{}=={version}", extras(&project));
            Ok(Prepared { root: dir, source, name: normalize(&name), requirement, project })
        }
        _ => Ok(local_install(dir, source, project, &name)),
    }
}

/// The tag naming `version`: `v{version}`, `{version}` or `{name}-{version}`.
fn version_tag(ls_remote: &str, name: &str, version: &str) -> Option<String> {
    let tags: Vec<&str> =
        ls_remote.lines().filter_map(|l| l.split_whitespace().nth(1)?.strip_prefix("refs/tags/")).collect();
    let wanted = [
        format!("v{version}"),
        version.to_string(),
        format!("{name}-{version}"),
        format!("{}-{version}", normalize(name)),
    ];
    wanted.into_iter().find(|w| tags.contains(&w.as_str()))
}

/// Runs git with a deadline; its stdout, or what it said on failure.
fn git(args: &[&str], timeout: Duration) -> Result<String, GitError> {
    let mut command = Command::new("git");
    command.args(args).env("GIT_TERMINAL_PROMPT", "0");
    crate::os::child_dies_with_parent(&mut command);
    let captured = crate::process::run_with_timeout(&mut command, timeout)
        .map_err(|e| GitError::CannotRun { reason: e.to_string() })?;
    if captured.timed_out {
        return Err(GitError::TimedOut { command: args.join(" "), seconds: timeout.as_secs() });
    }
    if !captured.status.success() {
        return Err(GitError::Failed {
            subcommand: args.first().unwrap_or(&"").to_string(),
            said: captured.stderr_tail(600),
        });
    }
    Ok(String::from_utf8_lossy(&captured.stdout).trim().to_string())
}

/// Copies the tree at `from` to `to`, leaving out the top-level entries
/// named in `skip` (the package's own folders, so that its tests import the
/// installed package) and version-control and build litter.
pub fn copy_without(from: &Path, to: &Path, skip: &[String]) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(to);
    copy_tree(from, to, skip, true)
}

fn copy_tree(from: &Path, to: &Path, skip: &[String], top: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let litter = [".git", ".hg", ".tox", ".nox", ".venv", "build", "__pycache__", ".pytest_cache"];
        if litter.contains(&name.as_str()) || (top && skip.iter().any(|s| *s == name || format!("{s}.py") == name)) {
            continue;
        }
        let kind = entry.file_type()?;
        let target = to.join(&name);
        if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
            #[cfg(not(unix))]
            std::fs::copy(entry.path(), &target)?;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target, skip, false)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Unpacks an sdist (`.tar.gz` or `.zip`) into `into`; gives its top folder.
fn unpack(archive: &Path, into: &Path) -> Result<PathBuf, SourceError> {
    let _ = std::fs::remove_dir_all(into);
    std::fs::create_dir_all(into)
        .map_err(|e| SourceError::CreateFolder { path: into.to_path_buf(), reason: e.to_string() })?;
    let file = std::fs::File::open(archive)
        .map_err(|e| SourceError::Path { path: archive.to_path_buf(), reason: e.to_string() })?;
    let name = archive.to_string_lossy().into_owned();
    if name.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| SourceError::NotZip { archive: name.clone(), reason: e.to_string() })?;
        zip.extract(into).map_err(|e| SourceError::Unpack { archive: name.clone(), reason: e.to_string() })?;
    } else {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        tar.set_preserve_permissions(false);
        let entries =
            tar.entries().map_err(|e| SourceError::NotTarGz { archive: name.clone(), reason: e.to_string() })?;
        for entry in entries {
            let mut entry = entry.map_err(|e| SourceError::Damaged { archive: name.clone(), reason: e.to_string() })?;
            // unpack_in refuses paths outside `into` (`..`, absolute).
            entry.unpack_in(into).map_err(|e| SourceError::Unpack { archive: name.clone(), reason: e.to_string() })?;
        }
    }
    let mut tops = std::fs::read_dir(into)
        .map_err(|e| SourceError::ListUnpacked { path: into.to_path_buf(), reason: e.to_string() })?
        .filter_map(|e| e.ok())
        .map(|e| e.path());
    match (tops.next(), tops.next()) {
        (Some(top), None) if top.is_dir() => Ok(top),
        _ => Ok(into.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_one_line_each() {
        let path = || PathBuf::from("/src/demo");
        let git = GitError::Failed { subcommand: "clone".into(), said: "fatal: not found".into() };
        let cases = [
            (SourceError::Path { path: path(), reason: "No such file".into() }, "/src/demo: No such file"),
            (SourceError::NotAFolder { path: path() }, "/src/demo is not a folder: give the project's checkout"),
            (
                SourceError::NoProjectName { path: path() },
                "/src/demo has no project name (no pyproject.toml [project] name, setup.cfg or PKG-INFO): is it a Python project's checkout?",
            ),
            (
                SourceError::NoProjectNameInRepository { url: "https://x/r".into() },
                "https://x/r: the repository has no project name at its top",
            ),
            (
                SourceError::NoIndex { name: "demo".into() },
                "--no-index: cannot read demo's sdist from an index; give its checkout or repository",
            ),
            (
                SourceError::RepositoryFailed { file: "demo-1.0.tar.gz".into(), cause: Box::new(git.into()) },
                "the sdist demo-1.0.tar.gz ships no tests, and its repository failed: git clone: fatal: not found",
            ),
            (
                SourceError::NoTestsNoRepository { file: "demo-1.0.tar.gz".into() },
                "the sdist demo-1.0.tar.gz ships no tests and names no repository: give the project's checkout or git URL, or a --registry entry with `repository`",
            ),
            (SourceError::CreateFolder { path: path(), reason: "denied".into() }, "cannot create /src/demo: denied"),
            (SourceError::NotZip { archive: "a.zip".into(), reason: "bad".into() }, "a.zip is not a zip archive: bad"),
            (
                SourceError::NotTarGz { archive: "a.tar.gz".into(), reason: "bad".into() },
                "a.tar.gz is not a .tar.gz: bad",
            ),
            (SourceError::Damaged { archive: "a.tar.gz".into(), reason: "bad".into() }, "a.tar.gz is damaged: bad"),
            (SourceError::Unpack { archive: "a.tar.gz".into(), reason: "bad".into() }, "cannot unpack a.tar.gz: bad"),
            (SourceError::ListUnpacked { path: path(), reason: "denied".into() }, "denied"),
            (
                GitError::CannotRun { reason: "No such file".into() }.into(),
                "cannot run git (No such file): install git",
            ),
            (
                GitError::TimedOut { command: "ls-remote --tags".into(), seconds: 600 }.into(),
                "git ls-remote --tags still running after 600 s",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn specs_are_told_apart() {
        assert_eq!(Spec::parse("markupsafe"), Spec::Index { name: "markupsafe".into(), version: None });
        assert_eq!(Spec::parse("six==1.17.0"), Spec::Index { name: "six".into(), version: Some("1.17.0".into()) });
        assert_eq!(Spec::parse("."), Spec::Path(".".into()));
        assert_eq!(Spec::parse("git+https://x/o/r"), Spec::Git("https://x/o/r".into()));
        assert_eq!(Spec::parse("https://github.com/o/r.git").provisional_name(), "r");
    }

    #[test]
    fn a_copy_leaves_out_the_package_folder_and_litter() {
        let from = tempfile::tempdir().unwrap();
        for path in ["pkg/__init__.py", "tests/test_a.py", "tests/pkg/keep.py", ".git/HEAD", "conftest.py", "mod.py"] {
            let path = from.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let to = tempfile::tempdir().unwrap();
        copy_without(from.path(), to.path(), &["pkg".into(), "mod".into()]).unwrap();
        let t = to.path();
        assert!(!t.join("pkg").exists() && !t.join(".git").exists() && !t.join("mod.py").exists());
        assert!(
            t.join("tests/test_a.py").exists()
                && t.join("tests/pkg/keep.py").exists()
                && t.join("conftest.py").exists()
        );
    }

    #[test]
    fn the_release_tag_is_found_in_its_usual_spellings() {
        let refs = "aa\trefs/tags/v1.0\nbb\trefs/tags/2.0\ncc\trefs/tags/demo-3.0\n";
        assert_eq!(version_tag(refs, "demo", "1.0").as_deref(), Some("v1.0"));
        assert_eq!(version_tag(refs, "demo", "2.0").as_deref(), Some("2.0"));
        assert_eq!(version_tag(refs, "Demo", "3.0").as_deref(), Some("demo-3.0"));
        assert_eq!(version_tag(refs, "demo", "4.0"), None);
    }
}
