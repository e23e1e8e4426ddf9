//! Finding interpreters: enumerate candidates, query each one (in parallel,
//! cached), merge duplicates, and resolve what users pass to `--python`
//! (a path, a virtualenv directory, or a request such as `3.13t`).

pub mod interpreter;
pub mod query;
pub mod sources;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::dirs;
use crate::model::version::PythonRequest;
pub use interpreter::{Interpreter, ProbePath, Source};
use query::QueryError;
use sources::{Candidate, automatic_candidates, prefix_executable, venv_executable};

const WHAT_TO_PASS: &str = "pass an interpreter path, a virtualenv directory, or a version such as 3.13t";

/// Why `--python` could not be turned into an interpreter ftprobe can drive.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("`{0}` does not exist; {WHAT_TO_PASS}")]
    NotFound(PathBuf),
    #[error("`{path}` is not a Python interpreter: {why}; {WHAT_TO_PASS}")]
    NotPython { path: PathBuf, why: String },
    #[error(
        "`{venv}` is a broken virtualenv: its base interpreter (home = {home}) is gone; recreate it with `python3.X -m venv`"
    )]
    BrokenVenv { venv: PathBuf, home: String },
    #[error("`{path}` cannot be probed: {problem}")]
    Unusable { path: PathBuf, problem: String },
    #[error("No interpreter matches `{request}` (found: {found}); run scripts/provision-pythons or pass --python PATH")]
    NoMatch { request: String, found: String },
    #[error("`{0}` is neither an existing path nor a version request like 3.13 or 3.13t")]
    BadSpec(String),
    #[error(transparent)]
    Query(#[from] QueryError),
}

/// Every interpreter the automatic sources find, duplicates merged, in
/// source-priority order. Candidates that fail to answer are left out.
pub fn discover_all() -> Vec<Interpreter> {
    let cache = query_cache_dir();
    let found: Vec<Interpreter> = automatic_candidates()
        .into_par_iter()
        .filter_map(|c: Candidate| {
            let info = query::query(&c.executable, cache.as_deref()).ok()?;
            Some(Interpreter::from_info(c.executable, c.source, info))
        })
        .collect();
    merge_duplicates(found)
}

/// Resolves `--python` values, running the automatic discovery at most once
/// and only when something needs it.
#[derive(Default)]
pub struct Finder {
    known: OnceLock<Vec<Interpreter>>,
}

impl Finder {
    /// Everything [`discover_all`] finds (computed on first use).
    pub fn known(&self) -> &[Interpreter] {
        self.known.get_or_init(discover_all)
    }

    /// Resolves each `--python` value, tagged [`Source::Requested`].
    pub fn resolve_all(&self, specs: &[String]) -> Result<Vec<Interpreter>, DiscoverError> {
        specs.iter().map(|spec| self.resolve(spec)).collect()
    }

    /// Resolves one `--python` value: a path, a venv directory or a version request.
    pub fn resolve(&self, spec: &str) -> Result<Interpreter, DiscoverError> {
        let as_path = Path::new(spec);
        let looks_like_path = spec.contains(std::path::MAIN_SEPARATOR) || as_path.symlink_metadata().is_ok();
        if looks_like_path {
            return resolve_path(as_path);
        }
        let request: PythonRequest = spec.parse().map_err(|_| DiscoverError::BadSpec(spec.to_string()))?;
        resolve_request(&request, self.known())
    }
}

fn resolve_request(request: &PythonRequest, known: &[Interpreter]) -> Result<Interpreter, DiscoverError> {
    let mut matches: Vec<&Interpreter> =
        known.iter().filter(|i| request.matches(i.version_info, i.free_threaded)).collect();
    // Usable first, then the most trusted source, then one whose libpython
    // the worker loads (the main probe path) over one probed through its
    // executable, then the newest patch release.
    matches.sort_by_key(|i| {
        (
            !i.is_usable(),
            i.sources.first().copied(),
            i.probes_via != ProbePath::Libpython,
            std::cmp::Reverse(i.version_info),
        )
    });
    let Some(best) = matches.first() else {
        let mut lines: Vec<&Interpreter> = known.iter().collect();
        lines.sort_by_key(|i| (i.version_info[0], i.version_info[1], i.free_threaded));
        let mut found: Vec<String> = lines.iter().map(|i| i.short_name()).collect();
        found.dedup();
        return Err(DiscoverError::NoMatch {
            request: request.to_string(),
            found: if found.is_empty() { "none".into() } else { found.join(", ") },
        });
    };
    if let Some(problem) = &best.problem {
        return Err(DiscoverError::Unusable { path: best.executable.clone(), problem: problem.clone() });
    }
    let mut chosen = (*best).clone();
    chosen.sources.insert(0, Source::Requested);
    Ok(chosen)
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &fs::Metadata) -> bool {
    true
}

fn resolve_path(path: &Path) -> Result<Interpreter, DiscoverError> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let executable = executable_at(&path)?;
    let venv = enclosing_venv(&executable);
    if !executable.exists() {
        return Err(match venv {
            Some(venv) => broken_venv(&venv),
            None => DiscoverError::NotFound(executable),
        });
    }
    let meta = fs::metadata(&executable).map_err(|_| DiscoverError::NotFound(executable.clone()))?;
    if !meta.is_file() || !is_executable(&meta) {
        return Err(DiscoverError::NotPython { path: executable, why: "it is not an executable file".into() });
    }
    let info = match query::query(&executable, query_cache_dir().as_deref()) {
        Ok(info) => info,
        Err(error) => return Err(explain_query_failure(&executable, venv.as_deref(), error)),
    };
    let interpreter = Interpreter::from_info(executable, Source::Requested, info);
    match &interpreter.problem {
        Some(problem) => Err(DiscoverError::Unusable { path: interpreter.executable, problem: problem.clone() }),
        None => Ok(interpreter),
    }
}

/// The interpreter to run for a path that may be a venv or an install prefix.
fn executable_at(path: &Path) -> Result<PathBuf, DiscoverError> {
    if path.symlink_metadata().is_err() {
        return Err(DiscoverError::NotFound(path.to_path_buf()));
    }
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    if path.join("pyvenv.cfg").is_file() {
        return venv_executable(path).ok_or_else(|| broken_venv(path));
    }
    prefix_executable(path).ok_or_else(|| DiscoverError::NotPython {
        path: path.to_path_buf(),
        why: "it is a directory with neither a pyvenv.cfg nor a bin/python3".into(),
    })
}

fn explain_query_failure(executable: &Path, venv: Option<&Path>, error: QueryError) -> DiscoverError {
    if let Some(venv) = venv
        && !venv_home(venv).is_some_and(|home| Path::new(&home).is_dir())
    {
        return broken_venv(venv);
    }
    match error {
        QueryError::NotPython { output, .. } => DiscoverError::NotPython {
            path: executable.to_path_buf(),
            why: if output.is_empty() {
                "it printed nothing when asked to describe itself".into()
            } else {
                format!("it answered {:?} when asked to describe itself", shorten(last_line(&output), 80))
            },
        },
        QueryError::Failed { stderr, .. } => DiscoverError::NotPython {
            path: executable.to_path_buf(),
            why: format!("it failed when asked to describe itself: {}", last_line(&stderr)),
        },
        other => other.into(),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_string() } else { text.chars().take(max).collect::<String>() + "..." }
}

/// The last non-blank line: where a traceback says what went wrong.
fn last_line(text: &str) -> &str {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
}

/// The venv directory an executable lives in (`<venv>/bin/python`).
fn enclosing_venv(executable: &Path) -> Option<PathBuf> {
    let venv = executable.parent()?.parent()?;
    venv.join("pyvenv.cfg").is_file().then(|| venv.to_path_buf())
}

/// The `home` key of a venv's `pyvenv.cfg`.
fn venv_home(venv: &Path) -> Option<String> {
    let text = fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "home").then(|| value.trim().to_string())
    })
}

fn broken_venv(venv: &Path) -> DiscoverError {
    DiscoverError::BrokenVenv {
        venv: venv.to_path_buf(),
        home: venv_home(venv).unwrap_or_else(|| "not recorded in pyvenv.cfg".into()),
    }
}

fn query_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("interpreters"))
}

/// One entry per (executable file, prefix): a venv and its base stay apart,
/// while symlinks and hard links to one binary (`python3`, `python3.13t`)
/// merge, their sources combined.
pub fn merge_duplicates(found: Vec<Interpreter>) -> Vec<Interpreter> {
    let mut out: Vec<Interpreter> = Vec::new();
    let mut index: HashMap<(FileId, PathBuf), usize> = HashMap::new();
    for interpreter in found {
        let key = (FileId::of(&interpreter.executable), interpreter.prefix.clone());
        match index.get(&key) {
            Some(&i) => {
                for source in interpreter.sources {
                    if !out[i].sources.contains(&source) {
                        out[i].sources.push(source);
                    }
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(interpreter);
            }
        }
    }
    out
}

/// A file's identity: (device, inode) when it can be read, else its path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

impl FileId {
    #[cfg(unix)]
    fn of(path: &Path) -> FileId {
        use std::os::unix::fs::MetadataExt;
        match fs::metadata(path) {
            Ok(meta) => FileId::Inode(meta.dev(), meta.ino()),
            Err(_) => FileId::Path(path.to_path_buf()),
        }
    }

    #[cfg(not(unix))]
    fn of(path: &Path) -> FileId {
        FileId::Path(fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::interpreter::tests::sample_info;

    /// `-p 3.13t` with a static and a shared 3.13t from the same source picks
    /// the shared one, whatever order discovery found them in.
    #[test]
    fn a_version_request_prefers_the_interpreter_whose_libpython_loads() {
        // No file at these paths: both come out probed via the executable.
        let static_build =
            Interpreter::from_info("/opt/static/bin/python3.13t".into(), Source::Provisioned, sample_info());
        assert_eq!(static_build.probes_via, ProbePath::Executable);
        let mut shared =
            Interpreter::from_info("/opt/shared/bin/python3.13t".into(), Source::Provisioned, sample_info());
        shared.libpython = Some("/opt/shared/lib/libpython3.13t.so.1.0".into());
        shared.probes_via = ProbePath::Libpython;
        let request: PythonRequest = "3.13t".parse().unwrap();
        for known in [vec![static_build.clone(), shared.clone()], vec![shared.clone(), static_build.clone()]] {
            let chosen = resolve_request(&request, &known).unwrap();
            assert_eq!(chosen.executable, shared.executable);
            assert_eq!(chosen.sources[0], Source::Requested);
        }
    }
}
