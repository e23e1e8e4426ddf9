//! What the parent sends a worker and how the worker answers: one JSON
//! request on the command line, result lines on stdout behind a marker (so a
//! package that prints during import cannot be mistaken for a result).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Prefix of every result line a worker prints.
pub const RESULT_MARKER: &str = "@@ftprobe-result@@ ";

/// Which check a worker runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// Import in the main interpreter and watch the GIL (free-threaded builds).
    FreeThreading,
    /// Import in a subinterpreter made with `Py_NewInterpreterFromConfig`.
    Subinterpreter,
    /// Import (and run `--code`) from many threads at once.
    Threads,
}

/// The two subinterpreter presets (cpython-reference.md, section D).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubinterpreterConfig {
    /// Own GIL, own obmalloc, extensions checked.
    Isolated,
    /// Shared GIL and obmalloc, like `Py_NewInterpreter`.
    Legacy,
}

/// The job of one worker process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerRequest {
    pub libpython: PathBuf,
    /// The interpreter's executable, set as `sys.executable`.
    pub executable: PathBuf,
    /// A free-threaded build (changes the legacy subinterpreter preset).
    pub free_threaded: bool,
    /// Added with `site.addsitedir` before anything is imported (a venv's site-packages).
    pub site_packages: Vec<PathBuf>,
    pub probe: ProbeKind,
    pub config: Option<SubinterpreterConfig>,
    pub modules: Vec<String>,
    /// Also import the packages' submodules (at most this many; 0: none).
    pub submodules: u32,
    /// Python code run after the imports (`--code`, `probes/specific/*`).
    pub code: Option<String>,
    pub threads: u32,
}

#[cfg(test)]
mod tests {
    use super::RESULT_MARKER;
    use crate::probes;

    #[test]
    fn every_probe_script_prints_behind_the_same_marker() {
        for source in [probes::FREE_THREADING, probes::SUBINTERPRETER, probes::THREADS] {
            assert!(source.contains(&format!("MARKER = {:?}", RESULT_MARKER)), "a probe script lost the marker");
        }
    }
}
