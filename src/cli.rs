//! Command-line definitions (clap derive). Behaviour lives in `commands/`.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Does this compiled Python package really work on free-threaded CPython and
/// in subinterpreters?
#[derive(Debug, Parser)]
#[command(name = "ftprobe", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
    #[arg(required = true, value_name = "MODULE")]
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
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,

    /// Seconds without any output after which a probe counts as deadlocked (status `deadlock`).
    #[arg(long, default_value_t = 60.0)]
    pub stall: f64,

    /// Worker processes at once (default: the number of cores).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,

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
    #[arg(long, value_name = "CODE")]
    pub ignore: Vec<String>,

    /// Seconds a probe may take before it is killed.
    #[arg(long, default_value_t = 120.0)]
    pub timeout: f64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
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
