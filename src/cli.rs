//! Command-line definitions (clap derive). Behaviour lives in `commands/`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::run::options::GilChoice;

/// The longest duration any option takes: one week.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// Why a command-line value was refused; clap prints it after
/// `invalid value '...' for '--option <VALUE>': `.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("`{text}` is not a number of seconds")]
    NotSeconds { text: String },
    #[error("give a number of seconds above 0 and at most {} (one week), not `{text}`", MAX_SECONDS)]
    SecondsOutOfRange { text: String },
    #[error("`{}` is not a module name; give a dotted name such as numpy or PIL._imaging", text.escape_debug())]
    NotModuleName { text: String },
    #[error("give KEY=VALUE, not `{text}`")]
    NotKeyValue { text: String },
    #[error("--shard takes I/N with 0 <= I < N (for example 0/4), not `{text}`")]
    NotShard { text: String },
}

/// A number of seconds: positive, finite and at most [`MAX_SECONDS`].
pub fn parse_seconds(text: &str) -> Result<Duration, ArgError> {
    let seconds: f64 = text.trim().parse().map_err(|_| ArgError::NotSeconds { text: text.to_string() })?;
    if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        return Err(ArgError::SecondsOutOfRange { text: text.to_string() });
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Does this compiled Python package really work on free-threaded CPython and
/// in subinterpreters?
#[derive(Debug, Parser)]
#[command(name = "ftprobe", version, long_version = env!("FTPROBE_LONG_VERSION"), about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Leave out progress and informational lines on stderr (errors still show).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the Python interpreters ftprobe can use, and why others cannot be used.
    Pythons(PythonsArgs),
    /// Statically scan wheels, folders, installed trees or .so/.pyd files for what each
    /// extension module declares about the GIL and subinterpreters.
    #[command(visible_alias = "scan-wheel")]
    Scan(ScanArgs),
    /// Import modules in real interpreters, in isolated worker processes: does the GIL
    /// stay off on free-threaded builds, and do subinterpreters load them?
    Import(ImportArgs),
    /// One step for a package's CI: scan its wheels, probe the installed package, and
    /// fail when free-threading or subinterpreter support is broken or misdeclared.
    Check(CheckArgs),
    /// Probe many packages, each installed fresh in its own environment per interpreter,
    /// into a run directory (meta.json + results.jsonl) that `ftprobe report` renders.
    Batch(BatchArgs),
    /// Run packages' own test suites many times on each interpreter, each in a fresh
    /// environment, and classify what breaks (compatible, intermittent, crash, deadlock,
    /// GIL fallback ...) into a run directory that `ftprobe report` renders.
    Test(TestArgs),
    /// Will a project's dependencies work on free-threaded CPython (3.13t, 3.14t, 3.15t) or in
    /// isolated subinterpreters? Answered at exact pins (a lock file's, a venv's, or uv's
    /// resolution of a pyproject.toml) from the wheels' own modules, without installing anything.
    Deps(DepsArgs),
    /// Render a run directory made by `ftprobe batch` or `ftprobe test`.
    Report(ReportArgs),
    /// The tests of a `ftprobe test` run that failed in some iterations but not all,
    /// their failure signatures, and whether its crashes share one signature.
    Flaky(FlakyArgs),
    /// Join run directories (the shards of one run) into one.
    Merge(MergeArgs),
    /// What changed between two runs, per package and interpreter (exit 1 when
    /// something newly fails).
    Compare(CompareArgs),
    /// Print a shell completion script: `ftprobe completions bash > /etc/bash_completion.d/ftprobe`,
    /// `ftprobe completions zsh > "${fpath[1]}/_ftprobe"`, `ftprobe completions fish > ~/.config/fish/completions/ftprobe.fish`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Internal: run one probe inside a worker process (not for people).
    #[command(hide = true)]
    Worker {
        /// The request, as JSON.
        #[arg(long)]
        request: String,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Modules to import (e.g. numpy, PIL._imaging).
    #[arg(required = true, value_name = "MODULE", value_parser = parse_module_name)]
    pub modules: Vec<String>,

    /// Interpreters to probe: paths, venv directories, or versions such as 3.13t (repeatable).
    /// Default: one usable interpreter per version and build kind that ftprobe finds.
    #[arg(long = "python", short = 'p', value_name = "PYTHON")]
    pub pythons: Vec<String>,

    /// Probes to run (repeatable). Default: free-threading and subinterpreter.
    #[arg(long = "probe", value_enum)]
    pub probes: Vec<crate::worker::protocol::ProbeKind>,

    /// Also import up to this many submodules of each package (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub submodules: u32,

    /// Python code to run after the imports (in every probe).
    #[arg(long, value_name = "CODE")]
    pub code: Option<String>,

    /// Threads for the threads probe.
    #[arg(long, default_value_t = 8)]
    pub threads: u32,

    /// Repeat the threads probe in this many fresh processes.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,

    /// Seconds a probe may take before it is killed (status `timeout`).
    #[arg(long, default_value = "120", value_parser = parse_seconds, value_name = "SECS")]
    pub timeout: Duration,

    /// Seconds without any output after which a probe counts as deadlocked (status `deadlock`).
    #[arg(long, default_value = "60", value_parser = parse_seconds, value_name = "SECS")]
    pub stall: Duration,

    /// Worker processes at once (default: the number of cores; at most 4 per core).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Wheels, folders (of wheels, or installed trees such as site-packages) and single binaries.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Refuse wheel members that inflate to more than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::scan::DEFAULT_MAX_MEMBER_SIZE)]
    pub max_member_size: u64,

    /// List shared libraries that are not extension modules too (vendored .libs).
    #[arg(long)]
    pub all_libraries: bool,

    /// Show how each verdict was reached.
    #[arg(long, short)]
    pub verbose: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct PythonsArgs {
    /// An interpreter to include: a path, a virtualenv directory, or a version such as 3.13t or 3.13 (repeatable).
    #[arg(long = "python", short = 'p', value_name = "PYTHON")]
    pub pythons: Vec<String>,

    /// Show only the interpreters given with --python.
    #[arg(long, requires = "pythons")]
    pub only: bool,

    /// Output format (in markdown, junit and sarif each interpreter is a check:
    /// usable passes, unusable is skipped with the reason).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Wheels or folders of wheels (default: dist/*.whl).
    #[arg(value_name = "PATH")]
    pub paths: Vec<std::path::PathBuf>,

    /// Interpreters (or venvs) where the package is installed, for the runtime
    /// probes (repeatable; default: `python` in [tool.ftprobe], else none).
    #[arg(long = "python", short = 'p', value_name = "PYTHON")]
    pub pythons: Vec<String>,

    /// The pyproject.toml whose [tool.ftprobe] table sets the policy (default: ./pyproject.toml if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,

    /// Fail unless the package ships free-threaded wheels whose modules keep the GIL off.
    #[arg(long)]
    pub require_free_threading: bool,

    /// Fail unless every extension module supports isolated (own-GIL) subinterpreters.
    #[arg(long)]
    pub require_isolated_subinterpreters: bool,

    /// Modules whose problems are tolerated (repeatable).
    #[arg(long, value_name = "MODULE")]
    pub allow: Vec<String>,

    /// Rule codes to ignore (repeatable).
    #[arg(long, value_name = "CODE", value_parser = crate::diagnostic::rules::Rule::parse)]
    pub ignore: Vec<crate::diagnostic::rules::Rule>,

    /// Seconds a probe may take before it is killed.
    #[arg(long, default_value = "120", value_parser = parse_seconds, value_name = "SECS")]
    pub timeout: Duration,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// A dotted Python module name (`numpy`, `PIL._imaging`), nothing else: the
/// name reaches an `import` statement.
pub fn parse_module_name(text: &str) -> Result<String, ArgError> {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c == '_' || c.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric())
    };
    if text.split('.').all(identifier) {
        Ok(text.to_string())
    } else {
        Err(ArgError::NotModuleName { text: text.to_string() })
    }
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON, with the fields documented in README.
    Json,
    /// A Markdown summary (pull-request comments, $GITHUB_STEP_SUMMARY).
    Markdown,
    /// JUnit XML: one testcase per module or probe.
    Junit,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_be_positive_finite_and_sane() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["0", "-1", "nan", "inf", "1e30", "x", ""] {
            assert!(parse_seconds(bad).is_err(), "{bad}");
        }
    }

    /// The words clap prints after `invalid value ... for ...:`.
    #[test]
    fn refusals_say_what_to_give() {
        let said = |error: ArgError| error.to_string();
        assert_eq!(said(parse_seconds("x").unwrap_err()), "`x` is not a number of seconds");
        assert_eq!(
            said(parse_seconds("0").unwrap_err()),
            "give a number of seconds above 0 and at most 604800 (one week), not `0`"
        );
        assert_eq!(
            said(parse_module_name("x\n").unwrap_err()),
            "`x\\n` is not a module name; give a dotted name such as numpy or PIL._imaging"
        );
        assert_eq!(said(parse_key_value("=1").unwrap_err()), "give KEY=VALUE, not `=1`");
        assert_eq!(
            said(parse_shard("4/4").unwrap_err()),
            "--shard takes I/N with 0 <= I < N (for example 0/4), not `4/4`"
        );
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert!(parse_shard("x").is_err() && parse_shard("0/0").is_err());
    }

    #[test]
    fn module_names_are_dotted_identifiers() {
        for good in ["numpy", "PIL._imaging", "_ctypes", "ünïcode.mod2"] {
            assert!(parse_module_name(good).is_ok(), "{good}");
        }
        for bad in ["os; x", "a..b", ".a", "a.", "1abc", "a-b", "", "x\n"] {
            assert!(parse_module_name(bad).is_err(), "{bad}");
        }
    }
}

#[derive(Debug, Args)]
pub struct DepsArgs {
    /// Lock files: uv.lock, pylock.toml, a compiled requirements file (pip-compile,
    /// uv pip compile), poetry.lock or pdm.lock; a folder is searched for one. Also a venv
    /// or site-packages folder (what is installed there, asked about each target), and a
    /// pyproject.toml without a lock file (resolved by uv for each target and platform).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<std::path::PathBuf>,

    /// Targets: 3.13t, 3.14t, 3.15t (free-threaded), abi3t, or 3.12, 3.13, 3.14, 3.15
    /// (default builds: isolated subinterpreters). Repeatable; default: 3.13t, 3.14t, 3.15t.
    #[arg(long = "target", short = 't', value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Platforms: a wheel platform tag (manylinux_2_28_x86_64, macosx_14_0_arm64, win_amd64)
    /// or linux, linux-aarch64, macos, macos-x86_64, windows. Repeatable; default: this machine.
    #[arg(long = "platform", value_name = "PLATFORM")]
    pub platforms: Vec<String>,

    /// The package index for pins whose lock entry names none (simple API).
    #[arg(long, value_name = "URL", default_value = crate::index::PYPI_SIMPLE)]
    pub index_url: String,

    /// Further indexes uv resolves a pyproject.toml against (repeatable); each pin is then
    /// looked up on the index uv found it on.
    #[arg(long = "extra-index-url", value_name = "URL")]
    pub extra_index_urls: Vec<String>,

    /// A flat directory of wheels and sdists that counts as one more source of files for
    /// every pin, beside the index, as for pip (repeatable). Its wheels are read in place.
    #[arg(long = "find-links", short = 'f', value_name = "DIR")]
    pub find_links: Vec<std::path::PathBuf>,

    /// Ask no index: only the --find-links directories (and the lock file's own lists) answer.
    #[arg(long)]
    pub no_index: bool,

    /// Use only what earlier runs cached (index pages and wheel bytes; uv's cache when it
    /// resolves a pyproject.toml); say what is missing.
    #[arg(long)]
    pub offline: bool,

    /// Ask the `keyring` command for the password of a user that --index-url names without
    /// one (`https://__token__@host/simple/`), as pip and uv do: disabled or subprocess.
    #[arg(long, value_enum, env = "FTPROBE_KEYRING_PROVIDER", default_value = "disabled", value_name = "PROVIDER")]
    pub keyring_provider: crate::index::keyring::KeyringProvider,

    /// Download each compiled wheel whole and check it against its sha256, instead of
    /// reading only its directory and extension modules (checked against its RECORD).
    #[arg(long)]
    pub verify_full: bool,

    /// Only these extras of the project (repeatable; default: all of them).
    #[arg(long = "extra", value_name = "EXTRA")]
    pub extras: Vec<String>,

    /// Only these dependency groups (repeatable; default: all of them).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,

    /// Leave out the `dev` group.
    #[arg(long)]
    pub no_dev: bool,

    /// When to exit with status 1: blocker (a pin that needs the GIL or has no wheel on a
    /// free-threaded target, or that isolated subinterpreters refuse on a default-build one),
    /// gil (needs the GIL), any (anything not ready, pure or not needed), never.
    #[arg(long, value_enum, default_value_t = FailOn::Blocker)]
    pub fail_on: FailOn,

    /// Index requests and wheel reads at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 16)]
    pub jobs: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// When `ftprobe deps` fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Blocker,
    Gil,
    Any,
    Never,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Packages to probe, each a name or `name==version`.
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,

    /// A TOML list of packages: `[[package]]` tables with `name`, and optionally
    /// `import_names` (instead of those read from the install), `extra` (packages
    /// installed alongside), `probes` (instead of the run's) and `skip` (a reason).
    #[arg(long = "from", value_name = "FILE")]
    pub from: Option<std::path::PathBuf>,

    /// The N most downloaded packages of a top-pypi-packages JSON dump (`--top-list`).
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// The top-pypi-packages dump (`{"rows": [{"project": ...}]}`) that `--top` reads:
    /// a file or a URL. Default: the dump hugovk publishes.
    #[arg(long, value_name = "FILE|URL", requires = "top")]
    pub top_list: Option<String>,

    /// Interpreters to use (repeatable): paths or versions such as 3.13t.
    #[arg(long = "python", short = 'p', value_name = "PYTHON", required = true)]
    pub pythons: Vec<String>,

    #[command(flatten)]
    pub run: RunDirArgs,

    #[command(flatten)]
    pub index: InstallArgs,

    /// Install wheels only, never build from an sdist.
    #[arg(long)]
    pub only_binary: bool,

    /// Probes to run (repeatable). Default: free-threading and subinterpreter.
    #[arg(long = "probe", value_enum)]
    pub probes: Vec<crate::worker::protocol::ProbeKind>,

    /// Also import up to this many submodules of each import name (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub submodules: u32,

    /// Run only shard I of N (0 <= I < N): a stable partition of the packages by a
    /// hash of the normalised name, so N machines split one run.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Seconds an install may take (status `timeout`).
    #[arg(long, default_value = "600", value_parser = parse_seconds, value_name = "SECS")]
    pub install_timeout: Duration,

    /// Seconds a probe may take before it is killed (status `timeout`).
    #[arg(long, default_value = "120", value_parser = parse_seconds, value_name = "SECS")]
    pub timeout: Duration,

    /// Seconds without any output after which a probe counts as deadlocked.
    #[arg(long, default_value = "60", value_parser = parse_seconds, value_name = "SECS")]
    pub stall: Duration,
}

/// Where a run goes and how many units run at once (`batch`, `test`).
#[derive(Debug, Args)]
pub struct RunDirArgs {
    /// Units run at once (default: the number of cores).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,

    /// The run directory to create.
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "resume")]
    pub out: Option<std::path::PathBuf>,

    /// Go on with the run in this directory, skipping what it already holds.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<std::path::PathBuf>,
}

/// Where packages come from and what installs them (`batch`, `test`).
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The package index (for sdists, and passed to the installer).
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,

    /// Further package indexes (repeatable).
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,

    /// Folders of wheels and sdists to install from (repeatable).
    #[arg(long, value_name = "DIR")]
    pub find_links: Vec<std::path::PathBuf>,

    /// Use no index: only --find-links.
    #[arg(long)]
    pub no_index: bool,

    /// Make environments with `python -m venv` and pip even when uv is on PATH.
    #[arg(long)]
    pub pip: bool,
}

impl InstallArgs {
    /// The options passed to the installer.
    pub fn options(&self, only_binary: bool) -> crate::venv::IndexOptions {
        crate::venv::IndexOptions {
            index_url: self.index_url.clone(),
            extra_index_urls: self.extra_index_url.clone(),
            find_links: self.find_links.clone(),
            no_index: self.no_index,
            only_binary,
        }
    }
}

/// Parses `I/N` (0 <= I < N).
pub fn parse_shard(text: &str) -> Result<(u32, u32), ArgError> {
    let bad = || ArgError::NotShard { text: text.to_string() };
    let (index, count) = text.split_once('/').ok_or_else(bad)?;
    let (index, count): (u32, u32) =
        (index.trim().parse().map_err(|_| bad())?, count.trim().parse().map_err(|_| bad())?);
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok((index, count))
}

/// `KEY=VALUE`.
fn parse_key_value(text: &str) -> Result<(String, String), ArgError> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(ArgError::NotKeyValue { text: text.to_string() }),
    }
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// What to test: a project's checkout (`.`), a git URL (cloned at the tag of its
    /// version when one matches), or a package name (`markupsafe`, `six==1.17.0`: its
    /// sdist's tests, or the repository its metadata names).
    #[arg(value_name = "PACKAGE|PATH|GIT_URL", required = true)]
    pub targets: Vec<String>,

    /// Interpreters to use (repeatable): paths or versions such as 3.13t.
    #[arg(long = "python", short = 'p', value_name = "PYTHON", required = true)]
    pub pythons: Vec<String>,

    /// Runs of the test command per interpreter.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub iterations: u32,

    /// Stop a unit's iterations at the first that passes.
    #[arg(long)]
    pub stop_on_first_pass: bool,

    /// Also run the iterations with PYTHON_GIL=1, to tell free-threading failures from
    /// failures that happen with the GIL too.
    #[arg(long)]
    pub compare_with_gil: bool,

    /// PYTHON_GIL for the iterations: `default` leaves it unset (a GIL fallback shows and
    /// is named), `0` forces the GIL off.
    #[arg(long, value_enum, default_value_t = GilChoice::Default)]
    pub gil: GilChoice,

    /// Install pytest-run-parallel and run each test in N threads at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel_threads: Option<u32>,

    /// The interpreter is built with ThreadSanitizer: collect its reports (and set
    /// TSAN_OPTIONS=exitcode=0 unless it is set).
    #[arg(long)]
    pub tsan: bool,

    /// Seconds an iteration may take.
    #[arg(long, default_value = "600", value_parser = parse_seconds, value_name = "SECS")]
    pub timeout: Duration,

    /// Seconds without output (stdout or stderr) after which an iteration counts as a deadlock.
    #[arg(long, default_value = "60", value_parser = parse_seconds, value_name = "SECS")]
    pub stall: Duration,

    /// Run this shell command instead of pytest (in the suite's folder, with the
    /// environment's bin first on PATH; ftprobe's plugin still reaches pytest).
    #[arg(long, value_name = "CMD", conflicts_with = "test_command_suffix")]
    pub test_command: Option<String>,

    /// Arguments added to the default pytest command (e.g. `-x -k "not slow"`), split as a shell would.
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub test_command_suffix: Option<String>,

    /// More packages to install beside the test dependencies (comma-separated, repeatable).
    #[arg(long, value_name = "PKG,...", value_delimiter = ',')]
    pub extra_deps: Vec<String>,

    /// An environment variable for the test command (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub env: Vec<(String, String)>,

    /// Per-package overrides (TOML `[[package]]`: name, repository, test_command,
    /// extra_deps, timeout, skip_tests).
    #[arg(long, value_name = "FILE")]
    pub registry: Option<std::path::PathBuf>,

    #[command(flatten)]
    pub run: RunDirArgs,

    #[command(flatten)]
    pub index: InstallArgs,

    /// Seconds installing may take.
    #[arg(long, default_value = "900", value_parser = parse_seconds, value_name = "SECS")]
    pub install_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct FlakyArgs {
    /// A run directory made by `ftprobe test`.
    #[arg(value_name = "RUN_DIR")]
    pub run: std::path::PathBuf,

    /// Only this package.
    #[arg(long, value_name = "PACKAGE")]
    pub package: Option<String>,

    /// Output format: table, markdown or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory made by `ftprobe batch` or `ftprobe test`.
    #[arg(value_name = "RUN_DIR")]
    pub run: std::path::PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Html,
    Json,
    Markdown,
    Csv,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The run directories to join.
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<std::path::PathBuf>,

    /// The run directory to create.
    #[arg(long, value_name = "RUN_DIR")]
    pub out: std::path::PathBuf,

    /// Merge runs made with different interpreters or options.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier run directory.
    #[arg(value_name = "OLD_RUN")]
    pub old: std::path::PathBuf,

    /// The later run directory.
    #[arg(value_name = "NEW_RUN")]
    pub new: std::path::PathBuf,

    /// Output format: table, markdown or json.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Write the comparison to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}
