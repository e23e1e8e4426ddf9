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
