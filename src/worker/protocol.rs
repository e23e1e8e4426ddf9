//! What the parent sends a worker and how the worker answers: one JSON
//! request on the command line, result lines on stdout behind a marker that
//! carries a random token made for each worker. The token reaches the worker
//! in [`TOKEN_VAR`], which the probe removes from the environment before any
//! package is imported, so a package that prints a marker line (by accident
//! or to forge a result) is not believed. Code running in the same process
//! could still find the token; this guards against printing, not malice.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The environment variable that carries the result token to the worker.
pub const TOKEN_VAR: &str = "FTPROBE_RESULT_TOKEN";

/// The marker a probe script prints behind when run directly with `python`
/// (no worker, so no token).
pub const STANDALONE_MARKER: &str = "@@ftprobe-result@@ ";

/// What goes before and after the token in a worker's result marker.
pub const MARKER_AROUND: [&str; 2] = ["@@ftprobe-result-", "@@ "];

/// The prefix of every result line of a worker given `token`.
pub fn result_marker(token: &str) -> String {
    let [before, after] = MARKER_AROUND;
    format!("{before}{token}{after}")
}

/// A new unpredictable token (128 bits from the standard library's
/// randomly keyed hasher, mixed with the time and process id).
pub fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", word(1), word(2))
}

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
    /// The shared libpython the worker loads; none: the probe runs in the
    /// interpreter's own executable ([`crate::worker::executable_driver`]).
    pub libpython: Option<PathBuf>,
    /// The interpreter's executable, set as `sys.executable`.
    pub executable: PathBuf,
    /// A free-threaded build (changes the legacy subinterpreter preset).
    pub free_threaded: bool,
    /// Added with `site.addsitedir` before anything is imported (a venv's site-packages).
    pub site_packages: Vec<PathBuf>,
    pub probe: ProbeKind,
    pub config: Option<SubinterpreterConfig>,
    pub modules: Vec<String>,
    /// Probe each of `modules` on its own, one after another in this one
    /// worker: each stage (the main interpreter, the subinterpreter) imports
    /// them in turn and prints a result line per name, with the modules that
    /// name's import depends on. Otherwise all of them are imported together
    /// and reported as one.
    #[serde(default)]
    pub one_by_one: bool,
    /// Also import the packages' submodules (at most this many; 0: none).
    pub submodules: u32,
    /// Python code run after the imports (`--code`, `probes/specific/*`).
    pub code: Option<String>,
    pub threads: u32,
    /// The pid of the ftprobe that started the worker (it dies with it).
    pub parent_pid: u32,
}

/// One result line of a worker, as the probe scripts (and the worker itself)
/// print it. Unknown or missing fields are errors, so a change of shape on
/// either side fails loudly instead of reading as a default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum StageResult {
    /// The imports in the main interpreter.
    Main(ImportStage),
    /// The imports in a subinterpreter.
    Subinterpreter(ImportStage),
    /// `Py_NewInterpreterFromConfig` failed.
    SubinterpreterFailed { error: String },
    /// The threads probe.
    Threads(ThreadsStage),
    /// The worker could not run the probe.
    Error { error: String },
}

/// What one interpreter's imports did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportStage {
    /// The name this line is about, in a one-by-one probe.
    #[serde(default)]
    pub module: Option<String>,
    /// How long that name's imports took, in a one-by-one probe.
    #[serde(default)]
    pub seconds: Option<f64>,
    pub imports: Vec<ImportOutcome>,
    /// `sys._is_gil_enabled()` before and after (the free-threading probe).
    #[serde(default)]
    pub gil_enabled_before: Option<bool>,
    #[serde(default)]
    pub gil_enabled_after: Option<bool>,
    /// `--code` (or a `probes/specific/` file) ran; `code_error` is what it raised.
    pub code_ran: bool,
    pub code_error: Option<String>,
    /// The extension modules the probed import loaded: module -> file.
    pub extensions: std::collections::BTreeMap<String, String>,
    /// The extension modules whose loading raised.
    pub failed_extensions: Vec<FailedExtension>,
    /// The modules CPython named as requiring the GIL while these imports
    /// ran (the free-threading probe).
    #[serde(default)]
    pub gil_required_by: Vec<String>,
}

/// One module's import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOutcome {
    pub module: String,
    pub ok: bool,
    pub error: Option<String>,
    #[serde(default)]
    pub seconds: Option<f64>,
    #[serde(default)]
    pub gil_enabled_after: Option<bool>,
}

/// An extension module whose loading raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedExtension {
    pub module: String,
    pub file: Option<String>,
    pub error: String,
}

/// What the threads probe saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadsStage {
    pub threads: u32,
    pub errors: Vec<String>,
    pub code_ran: bool,
    pub gil_enabled_after: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes;

    #[test]
    fn every_probe_script_prints_behind_the_marker_it_is_given() {
        for source in [probes::FREE_THREADING, probes::SUBINTERPRETER, probes::THREADS] {
            let line = format!("MARKER = globals().get(\"_FTPROBE_MARKER\", {STANDALONE_MARKER:?})");
            assert!(source.contains(&line), "a probe script lost the marker");
        }
    }

    #[test]
    fn result_lines_parse_strictly() {
        let line = r#"{"stage": "main", "imports": [{"module": "m", "ok": true, "error": null, "seconds": 0.1}],
            "code_ran": false, "code_error": null, "extensions": {"m": "/x/m.so"}, "failed_extensions": []}"#;
        let StageResult::Main(stage) = serde_json::from_str(line).unwrap() else { panic!("not main") };
        assert_eq!(stage.extensions["m"], "/x/m.so");
        let unknown = line.replace("\"code_ran\"", "\"surprise\": 1, \"code_ran\"");
        assert!(serde_json::from_str::<StageResult>(&unknown).is_err(), "an unknown field must fail");
        let missing = line.replace("\"failed_extensions\": []", "\"x\": null").replace(", \"x\": null", "");
        assert!(serde_json::from_str::<StageResult>(&missing).is_err(), "a missing field must fail");
        let failed: StageResult = serde_json::from_str(r#"{"stage": "subinterpreter_failed", "error": "no"}"#).unwrap();
        assert_eq!(failed, StageResult::SubinterpreterFailed { error: "no".into() });
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token(), new_token());
        assert_eq!(new_token().len(), 32);
    }
}
