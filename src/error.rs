//! Exit codes and how an error maps to one.
//!
//! 0: nothing found; 1: an incompatibility was found; 2: usage or input
//! error (the default for any error); 3: a probe could not be run at all.

use std::process::ExitCode;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_COULD_NOT_RUN: u8 = 3;

/// An error that means ftprobe could not run a probe (exit code 3), as
/// opposed to bad input (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CouldNotRun(pub String);

/// The exit code for an error that ended a command.
pub fn exit_code_for(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|cause| cause.is::<CouldNotRun>()) {
        ExitCode::from(EXIT_COULD_NOT_RUN)
    } else {
        ExitCode::from(EXIT_USAGE)
    }
}
