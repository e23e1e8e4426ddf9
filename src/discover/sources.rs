//! Where interpreters are looked for, without running any of them: the
//! active venv, conda, `$PATH`, the provisioned cache, pyenv and uv.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use super::interpreter::Source;
use crate::dirs;

/// A path worth querying and where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub executable: PathBuf,
    pub source: Source,
}

/// Every candidate from every automatic source, in priority order.
pub fn automatic_candidates() -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut push = |source: Source, paths: Vec<PathBuf>| {
        out.extend(paths.into_iter().map(|executable| Candidate { executable, source }));
    };
    if let Some(venv) = env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        push(Source::ActiveVenv, venv_executable(Path::new(&venv)).into_iter().collect());
    }
    if let Some(conda) = env::var_os("CONDA_PREFIX").filter(|v| !v.is_empty()) {
        push(Source::Conda, prefix_executable(Path::new(&conda)).into_iter().collect());
    }
    push(Source::Path, path_executables());
    if let Some(dir) = dirs::provisioned_pythons() {
        push(Source::Provisioned, installs_under(&dir));
    }
    if let Some(dir) = pyenv_root() {
        push(Source::Pyenv, installs_under(&dir.join("versions")));
    }
    if let Some(dir) = uv_python_dir() {
        push(Source::Uv, installs_under(&dir));
    }
    out
}

/// The interpreter of a virtualenv directory (one holding `pyvenv.cfg`).
pub fn venv_executable(venv: &Path) -> Option<PathBuf> {
    ["bin/python3", "bin/python", "Scripts/python.exe"]
        .iter()
        .map(|rel| venv.join(rel))
        .find(|p| p.symlink_metadata().is_ok())
}

/// The interpreter of an installation prefix (`<prefix>/bin/python3`).
pub fn prefix_executable(prefix: &Path) -> Option<PathBuf> {
    let bin = prefix.join("bin");
    ["python3", "python"].iter().map(|n| bin.join(n)).find(|p| p.is_file()).or_else(|| {
        // Free-threaded installs may carry only python3.13t.
        let mut names: Vec<PathBuf> = read_dir_sorted(&bin).into_iter().filter(|p| is_python_name(p)).collect();
        names.pop()
    })
}

/// `python3`, `python3.13`, `python3.13t` (not `python3-config`, not `python3.13-dbg`).
pub fn is_python_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let Some(rest) = name.strip_prefix("python3") else { return false };
    let rest = rest.strip_suffix(".exe").unwrap_or(rest);
    if rest.is_empty() {
        return true;
    }
    let Some(minor) = rest.strip_prefix('.') else { return false };
    let minor = minor.strip_suffix('t').unwrap_or(minor);
    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
}

fn path_executables() -> Vec<PathBuf> {
    let Some(path) = env::var_os("PATH") else { return Vec::new() };
    let shims = pyenv_root().map(|r| r.join("shims"));
    env::split_paths(&path)
        // pyenv shims start whichever version is selected today; pyenv's
        // versions are listed directly instead.
        .filter(|dir| Some(dir) != shims.as_ref())
        .flat_map(|dir| read_dir_sorted(&dir))
        .filter(|p| is_python_name(p) && p.is_file())
        .collect()
}

/// `<dir>/*/bin/python3*`: one interpreter per installation folder.
fn installs_under(dir: &Path) -> Vec<PathBuf> {
    read_dir_sorted(dir).iter().filter(|p| p.is_dir()).filter_map(|p| prefix_executable(p)).collect()
}

fn pyenv_root() -> Option<PathBuf> {
    env::var_os("PYENV_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home().map(|h| h.join(".pyenv")))
}

fn uv_python_dir() -> Option<PathBuf> {
    if let Some(dir) = env::var_os("UV_PYTHON_INSTALL_DIR").filter(|v| !v.is_empty()) {
        return Some(dir.into());
    }
    let data = env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home().map(|h| h.join(".local").join("share")))?;
    Some(data.join("uv").join("python"))
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> =
        fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    entries.sort();
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_interpreter_names() {
        for good in ["python3", "python3.13", "python3.13t", "python3.exe"] {
            assert!(is_python_name(Path::new(good)), "{good}");
        }
        for bad in ["python3-config", "python3.13-config", "python3.13t-dbg", "python2.7", "python", "python3."] {
            assert!(!is_python_name(Path::new(bad)), "{bad}");
        }
    }
}
