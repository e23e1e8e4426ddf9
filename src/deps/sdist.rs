//! Whether a release that has no wheel for a target would compile anything
//! when an install builds its sdist: the archive's file list (a `.tar.gz`
//! or `.zip`, the formats PyPI takes) and its top-level build files are read
//! for sources a compiler builds (C, C++, Cython,
//! Rust, Fortran, CUDA, SWIG), their build files (`Cargo.toml`,
//! `CMakeLists.txt`, `meson.build`) and build steps that compile Python
//! (`ext_modules`, cffi's `cffi_modules`, mypyc, Cython's `cythonize`,
//! setuptools-rust, maturin, scikit-build, meson-python, hatch's mypyc hook).
//! An sdist with none of these builds a pure-Python wheel: a pure package,
//! not a blocker. Anything it cannot tell stays a build that may compile.

use std::io::Read;
use std::path::Path;

use super::remembered::Remembered;

/// What building an sdist would make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdistKind {
    /// No source a compiler builds and no build step that compiles.
    Pure,
    /// The first sign of a compiled build: `src/markupsafe/_speedups.c`,
    /// `setup.py names ext_modules`.
    Compiled(String),
}

/// The most an sdist may hold, in bytes, for it to be read.
pub const MOST_BYTES: u64 = 20 << 20;

/// File endings of sources a compiler builds.
const COMPILED_SOURCES: &[&str] = &[
    ".c", ".cc", ".cpp", ".cxx", ".c++", ".pyx", ".rs", ".f", ".f90", ".f95", ".for", ".cu", ".m", ".mm", ".swg", ".i",
];

/// Build files of a compiled build, by name.
const COMPILED_BUILD_FILES: &[&str] = &["Cargo.toml", "CMakeLists.txt", "meson.build", "binding.gyp", "SConstruct"];

/// The files whose text names the build steps.
const BUILD_SCRIPTS: &[&str] = &["setup.py", "setup.cfg", "pyproject.toml", "build.py", "hatch_build.py"];

/// Words in a build script that mean something is compiled.
const COMPILING_WORDS: &[&str] = &[
    "ext_modules",
    "Extension(",
    "cffi_modules",
    "mypyc",
    "cythonize",
    "setuptools_rust",
    "setuptools-rust",
    "RustExtension",
    "maturin",
    "scikit_build",
    "scikit-build",
    "mesonpy",
    "meson-python",
    "pybind11",
    "nanobind",
    "build_ext",
];

/// What earlier runs found, one small file per sdist's sha256
/// (`sdist-kinds/<code digest>/<sha256>`): `pure`, or `compiled` and why.
pub struct KindCache {
    remembered: Remembered,
}

impl KindCache {
    pub fn new(cache_dir: &Path) -> KindCache {
        KindCache { remembered: Remembered::new(cache_dir, "sdist-kinds") }
    }

    pub fn get(&self, sha256: &str) -> Option<SdistKind> {
        let text = self.remembered.get(sha256)?;
        match text.split_once('\n') {
            Some(("pure", _)) => Some(SdistKind::Pure),
            Some(("compiled", why)) => Some(SdistKind::Compiled(why.trim_end().to_string())),
            _ => None,
        }
    }

    /// Remembers `kind`; a cache that cannot be written is only slower.
    pub fn put(&self, sha256: &str, kind: &SdistKind) {
        let text = match kind {
            SdistKind::Pure => "pure\n".to_string(),
            SdistKind::Compiled(why) => format!("compiled\n{why}\n"),
        };
        self.remembered.put(sha256, &text);
    }
}

/// Why an sdist's archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SdistError {
    #[error("{name} is not a .tar.gz or .zip sdist")]
    UnknownFormat { name: String },
    #[error("{name} holds no file")]
    Empty { name: String },
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
    /// The gzip stream or the tar archive.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A build script that could not be read as text.
    #[error("{member}: {source}")]
    Member { member: String, source: std::io::Error },
}

/// Reads the archive `name` (its file name tells the format) from `bytes`.
pub fn classify(name: &str, bytes: &[u8]) -> Result<SdistKind, SdistError> {
    let mut files = Files::default();
    if name.ends_with(".zip") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index)?;
            let path = entry.name()?.into_owned();
            files.see(&path, &mut entry)?;
        }
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = entry.path()?.to_string_lossy().into_owned();
            files.see(&path, &mut entry)?;
        }
    } else {
        return Err(SdistError::UnknownFormat { name: name.to_string() });
    }
    if files.seen == 0 {
        return Err(SdistError::Empty { name: name.to_string() });
    }
    Ok(files.source.or(files.build_step).map_or(SdistKind::Pure, SdistKind::Compiled))
}

/// What the archive's members showed so far.
#[derive(Default)]
struct Files {
    seen: usize,
    /// The source a compiler builds, or build file of one, that the answer
    /// names first: the shallowest, outside docs, demos, tests and examples.
    source: Option<String>,
    /// The first build script that names a compiling step.
    build_step: Option<String>,
}

impl Files {
    fn see(&mut self, path: &str, content: &mut impl Read) -> Result<(), SdistError> {
        self.seen += 1;
        // Below the archive's top folder (`name-1.0/`).
        let inner = path.split_once('/').map_or(path, |(_, rest)| rest);
        let file_name = inner.rsplit('/').next().unwrap_or(inner);
        let lower = file_name.to_ascii_lowercase();
        if COMPILED_SOURCES.iter().any(|ending| lower.ends_with(ending)) || COMPILED_BUILD_FILES.contains(&file_name) {
            if self.source.as_deref().is_none_or(|named| rank(inner) < rank(named)) {
                self.source = Some(inner.to_string());
            }
        } else if self.build_step.is_none() && BUILD_SCRIPTS.contains(&file_name) && !inner.contains('/') {
            let mut text = String::new();
            content
                .take(1 << 20)
                .read_to_string(&mut text)
                .map_err(|source| SdistError::Member { member: inner.to_string(), source })?;
            if let Some(word) = COMPILING_WORDS.iter().find(|word| text.contains(*word)) {
                self.build_step = Some(format!("{inner} names {word}"));
            }
        }
        Ok(())
    }
}

/// How well a path shows what is built: outside docs, demos, tests and
/// examples first, then the shallowest, then one whose name is not for one
/// other system or CPU (`_psutil_aix.c`, `range2-neon.c`).
fn rank(path: &str) -> (bool, usize, bool) {
    const ASIDE: &[&str] =
        &["doc", "docs", "demo", "demos", "test", "tests", "testing", "example", "examples", "benchmarks"];
    const ONE_PLATFORMS: &[&str] = &[
        "aix", "bsd", "freebsd", "openbsd", "netbsd", "osx", "darwin", "macos", "win", "win32", "windows", "sunos",
        "solaris", "cygwin", "haiku", "neon", "arm", "arm64", "aarch64", "ppc", "ppc64", "s390x", "riscv", "wasm",
    ];
    let aside = path.split('/').any(|part| ASIDE.contains(&part.to_ascii_lowercase().as_str()));
    let file_name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let one_platform = file_name.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| ONE_PLATFORMS.contains(&word));
    (aside, path.matches('/').count(), one_platform)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (path, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, text.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn zip(files: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, text) in files {
            writer.start_file(*path, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(text.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn an_sdist_of_python_alone_is_pure() {
        let files = [
            ("crontab-1.0.1/PKG-INFO", "Name: crontab"),
            ("crontab-1.0.1/setup.py", "from setuptools import setup\nsetup(name='crontab', py_modules=['crontab'])\n"),
            ("crontab-1.0.1/crontab/_crontab.py", "x = 1"),
            ("crontab-1.0.1/README.md", "mentions C sources in prose: no matter"),
        ];
        assert_eq!(classify("crontab-1.0.1.tar.gz", &tar_gz(&files)).ok(), Some(SdistKind::Pure));
        assert_eq!(classify("crontab-1.0.1.zip", &zip(&files)).ok(), Some(SdistKind::Pure));
    }

    #[test]
    fn sources_build_files_and_compiling_build_steps_mean_a_compiled_build() {
        let with =
            |file: (&str, &str)| classify("p-1.0.tar.gz", &tar_gz(&[("p-1.0/PKG-INFO", "Name: p"), file])).unwrap();
        let compiled = |evidence: &str| SdistKind::Compiled(evidence.to_string());
        assert_eq!(with(("p-1.0/src/p/_speedups.c", "")), compiled("src/p/_speedups.c"));
        assert_eq!(with(("p-1.0/p/fast.pyx", "")), compiled("p/fast.pyx"));
        assert_eq!(with(("p-1.0/rust/Cargo.toml", "")), compiled("rust/Cargo.toml"));
        let setup = "from mypyc.build import mypycify\nsetup(ext_modules=mypycify(['p']))";
        assert_eq!(with(("p-1.0/setup.py", setup)), compiled("setup.py names ext_modules"));
        let maturin = "[build-system]\nbuild-backend = \"maturin\"\n";
        assert_eq!(with(("p-1.0/pyproject.toml", maturin)), compiled("pyproject.toml names maturin"));
        // A source is named before a build script that names a step, whatever their order.
        let both = tar_gz(&[
            ("p-1.0/setup.py", "setup(ext_modules=[Extension('p._s', ['src/p/_s.c'])])"),
            ("p-1.0/src/p/_s.c", ""),
        ]);
        assert_eq!(classify("p-1.0.tar.gz", &both).ok(), Some(compiled("src/p/_s.c")));
        // The shallowest source outside docs, demos and tests is the one named.
        let sources = tar_gz(&[("p-1.0/demo/x.c", ""), ("p-1.0/src/p/deep/y.c", ""), ("p-1.0/src/p/z.c", "")]);
        assert_eq!(classify("p-1.0.tar.gz", &sources).ok(), Some(compiled("src/p/z.c")));
        // Of equally shallow ones, one not named for another system (psutil's layout).
        let psutil = tar_gz(&[("p-1.0/p/_p_aix.c", ""), ("p-1.0/p/_p_windows.c", ""), ("p-1.0/p/_p_linux.c", "")]);
        assert_eq!(classify("p-1.0.tar.gz", &psutil).ok(), Some(compiled("p/_p_linux.c")));
        let cffi = "setup(cffi_modules=['build.py:ffi'])";
        assert_eq!(with(("p-1.0/setup.py", cffi)), compiled("setup.py names cffi_modules"));
    }

    #[test]
    fn what_is_not_an_sdist_is_an_error() {
        assert!(classify("p-1.0.tar.gz", b"an sdist").is_err());
        assert!(classify("p-1.0.zip", b"an sdist").is_err());
        let said = |name: &str, bytes: &[u8]| classify(name, bytes).unwrap_err().to_string();
        assert_eq!(said("p-1.0.tar.bz2", b""), "p-1.0.tar.bz2 is not a .tar.gz or .zip sdist");
        assert_eq!(said("p-1.0.tar.gz", &tar_gz(&[])), "p-1.0.tar.gz holds no file");
    }

    #[test]
    fn kinds_are_remembered_by_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let cache = KindCache::new(dir.path());
        let sha = "AB".repeat(32);
        assert_eq!(cache.get(&sha), None);
        cache.put(&sha, &SdistKind::Compiled("src/p/_speedups.c".into()));
        assert_eq!(cache.get(&sha.to_ascii_lowercase()), Some(SdistKind::Compiled("src/p/_speedups.c".into())));
        cache.put(&sha, &SdistKind::Pure);
        assert_eq!(cache.get(&sha), Some(SdistKind::Pure));
    }
}
