//! What ftprobe knows about one interpreter: the facts the query script
//! reported, where its shared libpython is, and whether ftprobe can drive it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::model::version::{MAX_SUPPORTED_MINOR, MIN_SUPPORTED_MINOR, is_supported};

/// The facts `probes/interpreter_info.py` prints, as it prints them.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct InterpreterInfo {
    pub implementation: String,
    pub version: [u32; 3],
    pub release_level: String,
    pub version_string: String,
    pub executable: PathBuf,
    pub base_executable: Option<PathBuf>,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub gil_disabled: bool,
    pub abiflags: String,
    pub soabi: Option<String>,
    pub ext_suffix: Option<String>,
    pub enable_shared: bool,
    pub ldlibrary: Option<String>,
    pub instsoname: Option<String>,
    pub libdir: Option<PathBuf>,
    /// Debian's `x86_64-linux-gnu`: where its `libpython3.X` package puts the library.
    #[serde(default)]
    pub multiarch: Option<String>,
    pub framework_prefix: Option<PathBuf>,
    pub platform: String,
    pub os_name: String,
    pub pointer_bits: u32,
    pub stdlib: Option<PathBuf>,
    pub purelib: Option<PathBuf>,
    pub platlib: Option<PathBuf>,
    pub site_packages: Vec<PathBuf>,
}

/// Where an interpreter was found. One interpreter may be found in several places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Named with `--python`.
    Requested,
    /// `$VIRTUAL_ENV`.
    ActiveVenv,
    /// `$CONDA_PREFIX`.
    Conda,
    /// `python3*` on `$PATH`.
    Path,
    /// Built by `scripts/provision-pythons` (`$FTPROBE_PYTHONS`).
    Provisioned,
    /// `$PYENV_ROOT/versions`.
    Pyenv,
    /// uv-managed (`$UV_PYTHON_INSTALL_DIR`).
    Uv,
}

/// Where a probe's Python code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbePath {
    /// ftprobe's worker loads the shared libpython (subinterpreters made
    /// with `Py_NewInterpreterFromConfig`).
    Libpython,
    /// `python -s -P` runs the probe scripts (subinterpreters made with the
    /// interpreter's own `_interpreters` module, `_xxsubinterpreters` on 3.12).
    Executable,
}

/// An interpreter as ftprobe reports it (`ftprobe pythons --format json`).
#[derive(Clone, Debug, Serialize)]
pub struct Interpreter {
    /// The path ftprobe runs (as found; not resolved through symlinks).
    pub executable: PathBuf,
    pub sources: Vec<Source>,
    pub implementation: String,
    /// `major.minor.micro`, e.g. `3.13.5`.
    pub version: String,
    pub version_info: [u32; 3],
    /// Built with `--disable-gil` (`Py_GIL_DISABLED`).
    pub free_threaded: bool,
    pub abiflags: String,
    pub soabi: Option<String>,
    pub ext_suffix: Option<String>,
    /// The shared libpython a worker loads; `null` when there is none.
    pub libpython: Option<PathBuf>,
    /// How probes run: in ftprobe's worker with the libpython loaded, or,
    /// with no shared libpython (a static build), in the interpreter's own
    /// executable.
    pub probes_via: ProbePath,
    pub is_venv: bool,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    /// The interpreter a venv was made from.
    pub base_executable: Option<PathBuf>,
    pub site_packages: Vec<PathBuf>,
    pub platform: String,
    pub pointer_bits: u32,
    /// Why ftprobe cannot drive this interpreter; `null` when it can.
    pub problem: Option<String>,
}

impl Interpreter {
    /// Combines the query result with the location of libpython.
    pub fn from_info(executable: PathBuf, source: Source, info: InterpreterInfo) -> Self {
        let libpython = locate_libpython(&info);
        let problem = problem_with(&info);
        let [major, minor, micro] = info.version;
        Interpreter {
            executable,
            sources: vec![source],
            implementation: info.implementation,
            version: format!("{major}.{minor}.{micro}"),
            version_info: info.version,
            free_threaded: info.gil_disabled,
            abiflags: info.abiflags,
            soabi: info.soabi,
            ext_suffix: info.ext_suffix,
            probes_via: if libpython.is_some() { ProbePath::Libpython } else { ProbePath::Executable },
            libpython,
            is_venv: info.prefix != info.base_prefix,
            prefix: info.prefix,
            base_prefix: info.base_prefix,
            base_executable: info.base_executable,
            site_packages: info.site_packages,
            platform: info.platform,
            pointer_bits: info.pointer_bits,
            problem,
        }
    }

    /// `3.13t` or `3.13`: the release line and build kind.
    pub fn short_name(&self) -> String {
        let [major, minor, _] = self.version_info;
        let t = if self.free_threaded { "t" } else { "" };
        format!("{major}.{minor}{t}")
    }

    pub fn is_usable(&self) -> bool {
        self.problem.is_none()
    }
}

/// The files that may hold the shared libpython, most specific first.
pub fn libpython_candidates(info: &InterpreterInfo) -> Vec<PathBuf> {
    let [major, minor, _] = info.version;
    if info.os_name == "nt" {
        let t = if info.gil_disabled { "t" } else { "" };
        let dll = format!("python{major}{minor}{t}.dll");
        return vec![info.base_prefix.join(&dll), info.base_prefix.join("DLLs").join(dll)];
    }
    let mut candidates = Vec::new();
    let names = [info.instsoname.as_deref(), info.ldlibrary.as_deref()];
    for name in names.into_iter().flatten() {
        if name.contains(".framework/") {
            if let Some(prefix) = &info.framework_prefix {
                candidates.push(prefix.join(name));
            }
        } else if name.contains(".so") || name.ends_with(".dylib") {
            if let Some(libdir) = &info.libdir {
                candidates.push(libdir.join(name));
            }
            candidates.push(info.base_prefix.join("lib").join(name));
        }
    }
    // Debian: `libpython3.X.so.1.0` (package libpython3.X) under the
    // multiarch folder, whatever the interpreter's own build says.
    if let Some(multiarch) = &info.multiarch {
        let t = if info.gil_disabled { "t" } else { "" };
        let [major, minor, _] = info.version;
        for dir in [PathBuf::from("/usr/lib").join(multiarch), info.base_prefix.join("lib").join(multiarch)] {
            if let Some(name) = info.instsoname.as_deref().filter(|n| n.contains(".so")) {
                candidates.push(dir.join(name));
            }
            candidates.push(dir.join(format!("libpython{major}.{minor}{t}.so.1.0")));
        }
    }
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.clone()));
    candidates
}

/// The first candidate that exists on disk.
pub fn locate_libpython(info: &InterpreterInfo) -> Option<PathBuf> {
    libpython_candidates(info).into_iter().find(|p| p.is_file())
}

/// Why ftprobe cannot drive this interpreter, with what to do about it.
fn problem_with(info: &InterpreterInfo) -> Option<String> {
    let [major, minor, _] = info.version;
    if info.implementation != "cpython" {
        return Some(format!(
            "{} is not CPython; ftprobe probes CPython {major}.{MIN_SUPPORTED_MINOR} to {major}.{MAX_SUPPORTED_MINOR} only",
            info.implementation
        ));
    }
    if !is_supported(major, minor) {
        return Some(format!(
            "CPython {major}.{minor} is outside the range ftprobe supports (3.{MIN_SUPPORTED_MINOR} to 3.{MAX_SUPPORTED_MINOR}); use a newer interpreter"
        ));
    }
    // Without a shared libpython (a static build, or Debian's python3.X
    // without its libpython3.X package) the probes run in the executable.
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample_info() -> InterpreterInfo {
        InterpreterInfo {
            implementation: "cpython".into(),
            version: [3, 13, 5],
            release_level: "final".into(),
            version_string: "3.13.5".into(),
            executable: "/opt/py/bin/python3.13t".into(),
            base_executable: None,
            prefix: "/opt/py".into(),
            base_prefix: "/opt/py".into(),
            gil_disabled: true,
            abiflags: "t".into(),
            soabi: Some("cpython-313t-x86_64-linux-gnu".into()),
            ext_suffix: Some(".cpython-313t-x86_64-linux-gnu.so".into()),
            enable_shared: true,
            ldlibrary: Some("libpython3.13t.so".into()),
            instsoname: Some("libpython3.13t.so.1.0".into()),
            libdir: Some("/opt/py/lib".into()),
            multiarch: None,
            framework_prefix: None,
            platform: "linux-x86_64".into(),
            os_name: "posix".into(),
            pointer_bits: 64,
            stdlib: None,
            purelib: None,
            platlib: None,
            site_packages: vec![],
        }
    }

    #[test]
    fn posix_candidates_prefer_the_soname() {
        let got = libpython_candidates(&sample_info());
        assert_eq!(got[0], PathBuf::from("/opt/py/lib/libpython3.13t.so.1.0"));
        assert!(got.contains(&PathBuf::from("/opt/py/lib/libpython3.13t.so")));
    }

    #[test]
    fn static_archives_are_not_candidates() {
        let mut info = sample_info();
        info.enable_shared = false;
        info.ldlibrary = Some("libpython3.13t.a".into());
        info.instsoname = Some("libpython3.13t.a".into());
        assert!(libpython_candidates(&info).is_empty());
        assert_eq!(problem_with(&info), None, "usable through its executable");
        info.multiarch = Some("x86_64-linux-gnu".into());
        assert!(
            libpython_candidates(&info).contains(&PathBuf::from("/usr/lib/x86_64-linux-gnu/libpython3.13t.so.1.0"))
        );
    }

    #[test]
    fn windows_dll_name_carries_the_t() {
        let mut info = sample_info();
        info.os_name = "nt".into();
        info.base_prefix = "C:/Python313".into();
        assert_eq!(libpython_candidates(&info)[0], PathBuf::from("C:/Python313/python313t.dll"));
    }

    #[test]
    fn old_versions_are_flagged_before_libpython() {
        let mut info = sample_info();
        info.version = [3, 11, 7];
        assert!(problem_with(&info).unwrap().contains("outside the range"));
    }
}
