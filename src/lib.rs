//! ftprobe: does a compiled Python package really work on free-threaded
//! CPython and in subinterpreters?
//!
//! - `discover`: finds interpreters and their shared libpython (`ftprobe pythons`).
//! - `process`: runs child processes with deadlines and process-group kills.
//! - `model`: pure data types (version requests, later verdicts and tags).
//! - `report`: tables and machine-readable output.

pub mod batch;
pub mod binscan;
pub mod check;
pub mod cli;
pub mod commands;
pub mod deps;
pub mod diagnostic;
pub mod dirs;
pub mod discover;
pub mod environment;
pub mod error;
pub mod index;
pub mod input;
pub mod interrupt;
pub mod lock;
pub mod model;
pub mod os;
pub mod printer;
pub mod probes;
pub mod process;
pub mod report;
pub mod run;
pub mod runtime;
pub mod scan;
pub mod testrun;
pub mod venv;
pub mod worker;

use std::process::ExitCode;

use cli::{Cli, Command};
use printer::Printer;

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    printer::set_quiet(cli.quiet);
    let printer = Printer::from_env();
    let runs_interpreters = match &cli.command {
        Command::Pythons(_) => Some("pythons"),
        Command::Import(_) => Some("import"),
        Command::Batch(_) => Some("batch"),
        Command::Test(_) => Some("test"),
        Command::Worker { .. } => Some("worker"),
        _ => None,
    };
    if let Some(command) = runs_interpreters {
        commands::needs_posix(command)?;
    }
    match &cli.command {
        Command::Pythons(args) => commands::pythons::run(args, &printer),
        Command::Scan(args) => commands::scan::run(args, &printer),
        Command::Import(args) => commands::import::run(args, &printer),
        Command::Check(args) => commands::check::run(args, &printer),
        Command::Batch(args) => commands::batch::run(args, &printer),
        Command::Test(args) => commands::test::run(args, &printer),
        Command::Deps(args) => commands::deps::run(args, &printer),
        Command::Report(args) => commands::report::run(args),
        Command::Flaky(args) => commands::report::flaky(args),
        Command::Merge(args) => commands::report::merge(args, &printer),
        Command::Compare(args) => commands::report::compare(args),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut <Cli as clap::CommandFactory>::command(), "ftprobe", &mut script);
            printer.out(&String::from_utf8_lossy(&script))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker { request } => Ok(worker::run(request)),
    }
}
