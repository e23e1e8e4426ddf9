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
}

#[derive(Debug, Args)]
pub struct PythonsArgs {
    /// An interpreter to include: a path, a virtualenv directory, or a version such as 3.13t or 3.13 (repeatable).
    #[arg(long = "python", short = 'p', value_name = "PYTHON")]
    pub pythons: Vec<String>,

    /// Show only the interpreters given with --python.
    #[arg(long, requires = "pythons")]
    pub only: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON, with the fields documented in README.
    Json,
}
