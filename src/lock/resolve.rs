//! A `pyproject.toml` with no lock file, resolved for one target and
//! platform by `uv pip compile` and read as the requirements file uv
//! writes (its `# via` lines give the graph, its `# from` lines the index
//! each pin came from).
//!
//! uv 0.13.9 takes no `3.14t` for `--python-version`, but resolves with a
//! free-threaded interpreter's tags (`cp314t`) when one is given as
//! `--python`: a free-threaded target is resolved so when ftprobe finds a
//! free-threaded CPython, else as the default build of that version, and
//! [`Resolution`] says which. Where nothing satisfies the project with the
//! free-threaded tags, it is resolved as the default build instead: its
//! pins then show what stands in the way. A failure is one line: uv's last, as an
//! [`LockError::Unresolvable`] (no versions satisfy the requirements on that
//! target) or a [`LockError::ResolverFailed`] (uv, the network or its cache).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::install::{Choice, Selection};
use super::toml_source::TomlSource;
use super::{LockError, LockFormat, LockedSet};
use crate::model::platform::{Machine, Platform};
use crate::model::target::Target;

/// How long one resolution may take.
const TIMEOUT: Duration = Duration::from_secs(600);

/// The glibc versions uv 0.13.9 takes in `--python-platform <arch>-manylinux_2_N`.
const UV_GLIBC_MINORS: [u32; 12] = [17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40];

/// How one input's pins were resolved: what the report says about them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    /// `uv 0.13.9`.
    pub by: String,
    /// The target and platform as given (`3.14t`, `linux`): the only ones these pins answer for.
    pub target: String,
    pub platform: String,
    /// What uv was given: `--python-version` and `--python-platform`.
    pub python_version: String,
    pub python_platform: String,
    /// Whether uv resolved with a free-threaded interpreter's tags; for a
    /// free-threaded target, false when ftprobe found none to give it, or
    /// when nothing satisfied the project with them.
    pub free_threaded: bool,
    /// Why nothing satisfied the project with the free-threaded tags (uv's
    /// last line), when it was resolved as the default build instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_threaded_unresolvable: Option<String>,
    /// Where uv's output was written (the pins' locations point into it).
    pub pins: PathBuf,
}

impl Resolution {
    /// One sentence for the report: who resolved which input, for what.
    pub fn note(&self, label: &str) -> String {
        let target = self.target.parse::<Target>().ok();
        let mut note = format!(
            "{label}: pins resolved by {} for {} on {} (--python-version {} --python-platform {}",
            self.by, self.target, self.platform, self.python_version, self.python_platform
        );
        match target {
            Some(target) if target.is_free_threaded() && let Some(why) = &self.free_threaded_unresolvable => {
                note.push_str(&format!(
                    "; as the default build, since with the {} tags nothing satisfies it ({why}): the pins without a {} wheel are what stands in the way)",
                    target.abi_tag(),
                    target.abi_tag()
                ))
            }
            Some(target) if target.is_free_threaded() && !self.free_threaded => note.push_str(&format!(
                "; as the default build: uv takes no `{}` and no free-threaded interpreter was found to give it, \
                 so a release without a {} wheel or sdist may have been resolved around)",
                self.target,
                target.abi_tag()
            )),
            Some(target) if target.is_free_threaded() => {
                note.push_str(&format!(", with a free-threaded interpreter for the {} tags)", target.abi_tag()))
            }
            _ => note.push(')'),
        }
        note
    }
}

/// What uv resolves against, and where ftprobe keeps its output.
#[derive(Clone, Debug, Default)]
pub struct ResolveOptions {
    pub index_url: String,
    pub extra_index_urls: Vec<String>,
    /// uv's `--find-links`: directories of wheels and sdists beside the index.
    pub find_links: Vec<PathBuf>,
    /// uv's `--no-index`: the `find_links` directories alone.
    pub no_index: bool,
    /// uv's `--offline`: its cache alone.
    pub offline: bool,
    pub selection: Selection,
    /// Where uv's output is written, one file per project, target and platform.
    pub pins_dir: PathBuf,
}

/// Why uv gave no pins, in its own last line.
#[derive(Clone, Debug)]
enum UvFailure {
    /// No versions satisfy the requirements there.
    Unresolvable(String),
    /// uv, the network or its cache failed.
    Failed(String),
}

/// An interpreter uv may be given for its tags.
#[derive(Clone, Debug)]
struct Base {
    executable: PathBuf,
    version: (u32, u32),
    free_threaded: bool,
}

/// Runs `uv pip compile`, once per distinct question.
pub struct Resolver {
    uv: PathBuf,
    by: String,
    options: ResolveOptions,
    /// The CPythons ftprobe finds, looked for on first need.
    bases: OnceLock<Vec<Base>>,
    /// uv's output for each command line already run.
    outputs: Mutex<BTreeMap<Vec<OsString>, Result<String, UvFailure>>>,
}

impl Resolver {
    /// A resolver when uv is found (beside ftprobe, else on PATH); `None` when it is not.
    pub fn find(options: ResolveOptions) -> Option<Resolver> {
        let uv = crate::venv::find_uv()?;
        let by = uv_version(&uv).unwrap_or_else(|| "uv".to_string());
        Some(Resolver { uv, by, options, bases: OnceLock::new(), outputs: Mutex::new(BTreeMap::new()) })
    }

    /// Resolves `pyproject` for `target` on `platform`: the pins, and how they were resolved.
    pub fn resolve(
        &self,
        pyproject: &Path,
        target: Target,
        platform: &Platform,
    ) -> Result<(LockedSet, Resolution), LockError> {
        let (target_text, platform_text) = (target.to_string(), platform.to_string());
        let python_platform = uv_platform(&platform.machine).ok_or_else(|| LockError::Unresolvable {
            path: pyproject.to_path_buf(),
            target: target_text.clone(),
            platform: platform_text.clone(),
            reason: format!("uv has no --python-platform for {}", platform.machine.tag()),
        })?;
        let (major, minor) = target.python_version();
        let python_version = format!("{major}.{minor}");
        let mut base = self.base_of_kind(target, target.is_free_threaded());
        let common = self.common_args(pyproject)?;
        let args_with = |base: Option<&Base>| -> Vec<OsString> {
            let mut args: Vec<OsString> = vec!["pip".into(), "compile".into(), pyproject.as_os_str().to_owned()];
            let flags = ["--python-version", &python_version, "--python-platform", &python_platform];
            args.extend(flags.iter().map(OsString::from));
            if let Some(base) = base {
                args.extend(["--python".into(), base.executable.as_os_str().to_owned()]);
            }
            args.extend(common.iter().cloned());
            args
        };
        let failed = |failure: UvFailure| {
            let (path, target, platform) = (pyproject.to_path_buf(), target_text.clone(), platform_text.clone());
            match failure {
                UvFailure::Unresolvable(reason) => LockError::Unresolvable { path, target, platform, reason },
                UvFailure::Failed(reason) => LockError::ResolverFailed { path, target, platform, reason },
            }
        };
        let mut free_threaded_unresolvable = None;
        let text = match self.run(&args_with(base.as_ref()), platform) {
            // Nothing satisfies it with the free-threaded tags: resolved as
            // the default build, its pins say what stands in the way.
            Err(UvFailure::Unresolvable(why)) if base.as_ref().is_some_and(|base| base.free_threaded) => {
                let default_build = self.base_of_kind(target, false);
                match self.run(&args_with(default_build.as_ref()), platform) {
                    Ok(text) => {
                        free_threaded_unresolvable = Some(why);
                        base = default_build;
                        text
                    }
                    Err(_) => return Err(failed(UvFailure::Unresolvable(why))),
                }
            }
            outcome => outcome.map_err(failed)?,
        };
        let pins = self.pins_path(pyproject, &target_text, &python_platform);
        write_pins(&pins, &text).map_err(|problem| {
            failed(UvFailure::Failed(format!("cannot write uv's output to {}: {problem}", pins.display())))
        })?;
        let set = super::read_as(LockFormat::Requirements, &pins, &text)?;
        let free_threaded = base.as_ref().is_some_and(|base| base.free_threaded);
        let resolution = Resolution {
            by: self.by.clone(),
            target: target_text,
            platform: platform_text,
            python_version,
            python_platform,
            free_threaded,
            free_threaded_unresolvable,
            pins,
        };
        Ok((set, resolution))
    }

    /// Index, cache, extras and groups: the same for every target.
    fn common_args(&self, pyproject: &Path) -> Result<Vec<OsString>, LockError> {
        let options = &self.options;
        let mut args: Vec<String> = ["--no-header", "--no-progress", "--color", "never", "--no-python-downloads"]
            .iter()
            .map(|arg| arg.to_string())
            .collect();
        args.push("--emit-index-annotation".into());
        let index = crate::venv::IndexOptions {
            index_url: Some(options.index_url.clone()),
            extra_index_urls: options.extra_index_urls.clone(),
            find_links: options.find_links.clone(),
            no_index: options.no_index,
            only_binary: false,
        };
        args.extend(index.args());
        if options.offline {
            args.push("--offline".into());
        }
        match &options.selection.extras {
            Choice::All => args.push("--all-extras".into()),
            Choice::Only(names) => names.iter().for_each(|name| args.extend(["--extra".into(), name.clone()])),
        }
        for group in dependency_groups(pyproject)? {
            if options.selection.wants_group(&group) {
                args.extend(["--group".into(), format!("{}:{group}", pyproject.display())]);
            }
        }
        Ok(args.into_iter().map(OsString::from).collect())
    }

    /// uv's output for `args`, running it unless it already ran.
    fn run(&self, args: &[OsString], platform: &Platform) -> Result<String, UvFailure> {
        let mut outputs = self.outputs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(done) = outputs.get(args) {
            return done.clone();
        }
        let mut command = Command::new(&self.uv);
        command.args(args);
        if let Machine::Macos { version: (major, minor), .. } = platform.machine {
            // uv's `--python-platform` macOS version (13.0 unless told).
            command.env("MACOSX_DEPLOYMENT_TARGET", format!("{major}.{minor}"));
        }
        let outcome = match crate::process::run_with_timeout(&mut command, TIMEOUT) {
            Err(problem) => Err(UvFailure::Failed(format!("could not run {}: {problem}", self.uv.display()))),
            Ok(run) if run.interrupted => Err(UvFailure::Failed("interrupted".into())),
            Ok(run) if run.timed_out => Err(UvFailure::Failed(format!("uv did not finish in {} s", TIMEOUT.as_secs()))),
            Ok(run) if !run.status.success() => {
                let said = String::from_utf8_lossy(&run.stderr);
                Err(failure(&said).unwrap_or_else(|| UvFailure::Failed(format!("uv exited with {}", run.status))))
            }
            Ok(run) => Ok(String::from_utf8_lossy(&run.stdout).into_owned()),
        };
        outputs.insert(args.to_vec(), outcome.clone());
        outcome
    }

    /// A CPython built with or without `--disable-gil`, for uv's tags: the
    /// target's version if ftprobe finds one, else the newest of that kind.
    fn base_of_kind(&self, target: Target, free_threaded: bool) -> Option<Base> {
        let bases = self.bases.get_or_init(|| {
            crate::discover::discover_all()
                .into_iter()
                .filter(|found| found.implementation == "cpython")
                .map(|found| Base {
                    executable: found.executable,
                    version: (found.version_info[0], found.version_info[1]),
                    free_threaded: found.free_threaded,
                })
                .collect()
        });
        let kind: Vec<&Base> = bases.iter().filter(|base| base.free_threaded == free_threaded).collect();
        let exact = kind.iter().find(|base| base.version == target.python_version());
        exact.or_else(|| kind.iter().max_by_key(|base| base.version)).map(|base| (*base).clone())
    }

    /// `<pins_dir>/<folder>-<digest of the path>-<target>-<platform>.txt`.
    fn pins_path(&self, pyproject: &Path, target: &str, python_platform: &str) -> PathBuf {
        let absolute = pyproject.canonicalize().unwrap_or_else(|_| pyproject.to_path_buf());
        let digest = Sha256::digest(absolute.to_string_lossy().as_bytes());
        let short: String = digest.iter().take(6).map(|byte| format!("{byte:02x}")).collect();
        let folder = absolute.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
        let name = format!("{}-{short}-{target}-{python_platform}.txt", folder.unwrap_or_else(|| "project".into()));
        self.options.pins_dir.join(name)
    }
}

fn write_pins(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)
}

/// `uv 0.13.9`, from `uv --version`.
fn uv_version(uv: &Path) -> Option<String> {
    let run = crate::process::run_with_timeout(Command::new(uv).arg("--version"), Duration::from_secs(30)).ok()?;
    let said = String::from_utf8_lossy(&run.stdout).into_owned();
    let words: Vec<&str> = said.split_whitespace().take(2).collect();
    (run.status.success() && words.len() == 2).then(|| words.join(" "))
}

/// What uv's stderr says went wrong, in its last line; `None` when it said nothing.
fn failure(said: &str) -> Option<UvFailure> {
    let line = last_line(said)?;
    // Offline, uv calls what its cache lacks unsatisfiable: a cache miss, not bad input.
    let offline_miss = said.contains("because the network was disabled");
    if said.contains("No solution found when resolving dependencies") && !offline_miss {
        Some(UvFailure::Unresolvable(line))
    } else {
        Some(UvFailure::Failed(line))
    }
}

/// The last line with something on it.
fn last_line(text: &str) -> Option<String> {
    text.lines().map(str::trim).rfind(|line| !line.is_empty()).map(str::to_string)
}

/// The `--python-platform` uv 0.13.9 takes for a machine: its glibc rounded
/// down to one uv knows (2.17 at least); `None` where uv has none.
fn uv_platform(machine: &Machine) -> Option<String> {
    let uv_arch = |arch: &str| match arch {
        "x86_64" => Some("x86_64"),
        "aarch64" | "arm64" => Some("aarch64"),
        _ => None,
    };
    match machine {
        Machine::Manylinux { arch, glibc: (_, minor) } => {
            let known = UV_GLIBC_MINORS.iter().rev().find(|known| *known <= minor).unwrap_or(&UV_GLIBC_MINORS[0]);
            Some(format!("{}-manylinux_2_{known}", uv_arch(arch)?))
        }
        Machine::Musllinux { arch, .. } => Some(format!("{}-unknown-linux-musl", uv_arch(arch)?)),
        Machine::Macos { arch, .. } => Some(format!("{}-apple-darwin", uv_arch(arch)?)),
        Machine::Windows { tag } => match tag.as_str() {
            "win_amd64" => Some("x86_64-pc-windows-msvc".into()),
            "win_arm64" => Some("aarch64-pc-windows-msvc".into()),
            "win32" => Some("i686-pc-windows-msvc".into()),
            _ => None,
        },
    }
}

/// The names of a pyproject.toml's PEP 735 `[dependency-groups]`, as written.
fn dependency_groups(pyproject: &Path) -> Result<Vec<String>, LockError> {
    #[derive(Deserialize)]
    struct Groups {
        #[serde(default, rename = "dependency-groups")]
        dependency_groups: BTreeMap<String, toml::Value>,
    }
    let text = crate::input::read_text_limited(pyproject, super::MAX_LOCK_FILE_BYTES, "")?;
    let groups: Groups = TomlSource::new(pyproject, &text).parse()?;
    Ok(groups.dependency_groups.into_keys().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_map_to_what_uv_takes() {
        let platform = |text: &str| uv_platform(&Platform::parse(text, None).unwrap().machine);
        assert_eq!(platform("manylinux_2_36_x86_64").as_deref(), Some("x86_64-manylinux_2_36"));
        assert_eq!(platform("manylinux_2_29_aarch64").as_deref(), Some("aarch64-manylinux_2_28"));
        assert_eq!(platform("manylinux_2_41_x86_64").as_deref(), Some("x86_64-manylinux_2_40"));
        assert_eq!(platform("manylinux2014_x86_64").as_deref(), Some("x86_64-manylinux_2_17"));
        assert_eq!(platform("musllinux_1_2_x86_64").as_deref(), Some("x86_64-unknown-linux-musl"));
        assert_eq!(platform("macos").as_deref(), Some("aarch64-apple-darwin"));
        assert_eq!(platform("macosx_13_0_x86_64").as_deref(), Some("x86_64-apple-darwin"));
        assert_eq!(platform("windows").as_deref(), Some("x86_64-pc-windows-msvc"));
        assert_eq!(platform("win32").as_deref(), Some("i686-pc-windows-msvc"));
        assert_eq!(platform("manylinux_2_17_ppc64le"), None);
    }

    #[test]
    fn the_note_says_how_a_free_threaded_target_was_resolved() {
        let resolution = Resolution {
            by: "uv 0.13.9".into(),
            target: "3.14t".into(),
            platform: "linux".into(),
            python_version: "3.14".into(),
            python_platform: "x86_64-manylinux_2_36".into(),
            free_threaded: true,
            free_threaded_unresolvable: None,
            pins: PathBuf::from("/cache/p.txt"),
        };
        let note = resolution.note("pyproject.toml");
        assert!(note.starts_with("pyproject.toml: pins resolved by uv 0.13.9 for 3.14t on linux"), "{note}");
        assert!(note.contains("with a free-threaded interpreter for the cp314t tags"), "{note}");
        let as_default = Resolution { free_threaded: false, ..resolution.clone() }.note("p");
        assert!(as_default.contains("as the default build: uv takes no `3.14t`"), "{as_default}");
        let why = Some("hint: no cp314t wheel for `psycopg-binary`".to_string());
        let fell_back = Resolution { free_threaded: false, free_threaded_unresolvable: why, ..resolution.clone() };
        let fell_back = fell_back.note("p");
        assert!(
            fell_back.contains("as the default build, since with the cp314t tags nothing satisfies it (hint: no cp314t wheel for `psycopg-binary`)"),
            "{fell_back}"
        );
        let default_build = Resolution { target: "3.14".into(), free_threaded: false, ..resolution }.note("p");
        assert!(default_build.ends_with("--python-platform x86_64-manylinux_2_36)"), "{default_build}");
    }

    #[test]
    fn groups_come_from_pep_735_tables() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("pyproject.toml");
        std::fs::write(&path, "[project]\nname = \"x\"\n[dependency-groups]\ndev = [\"pytest\"]\nDocs = []\n").unwrap();
        assert_eq!(dependency_groups(&path).unwrap(), ["Docs", "dev"]);
        std::fs::write(&path, "[project]\nname = \n").unwrap();
        let message = dependency_groups(&path).unwrap_err().to_string();
        assert!(message.contains("pyproject.toml:2:"), "{message}");
    }

    /// What uv 0.13.9 printed: requirements no wheel or sdist satisfies, an
    /// offline run whose cache lacked a page, an index that is down.
    #[test]
    fn a_failure_is_uvs_last_line_and_says_whose_fault() {
        let unsatisfiable = "error: No solution found when resolving dependencies\n  cause: Because ftfix==1.0 has no wheels with a free-threading compatible ABI tag [...]\n\nhint: You require free-threaded CPython 3.14 (`cp314t`), but we only found wheels for `ftfix` (v1.0) with the following Python ABI tags: `cp313`, `cp313t`\n";
        let Some(UvFailure::Unresolvable(line)) = failure(unsatisfiable) else { panic!("{unsatisfiable}") };
        assert!(line.starts_with("hint: You require free-threaded CPython 3.14"), "{line}");
        let offline = "error: No solution found when resolving dependencies\n  cause: Because ftfix was not found in the cache [...]\n\nhint: Packages were unavailable because the network was disabled. When the network is disabled, registry packages may only be read from the cache.\n";
        assert!(matches!(failure(offline), Some(UvFailure::Failed(_))), "a cache miss is not bad input");
        let down = "error: Request failed after 3 retries in 5.5s\n  cause: Failed to fetch: http://127.0.0.1:8799/simple/ftfix/\n  cause: tcp connect error\n  cause: Connection refused (os error 111)\n";
        let Some(UvFailure::Failed(line)) = failure(down) else { panic!("{down}") };
        assert_eq!(line, "cause: Connection refused (os error 111)");
        assert!(failure("\n \n").is_none());
    }
}
