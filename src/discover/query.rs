//! Asking an interpreter what it is: run `probes/interpreter_info.py` in it
//! once, parse the JSON, and cache the answer by path and modification time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::interpreter::InterpreterInfo;
use crate::model::hash::stable_hash;
use crate::probes::INTERPRETER_INFO;
use crate::process::{run_with_timeout, tail_text};

/// A real interpreter answers in well under a second; this only bounds a
/// program that is not one and never exits.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an interpreter could not be queried.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("`{path}` could not be started: {source}")]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("`{path}` did not answer within {}s", .timeout.as_secs())]
    TimedOut { path: PathBuf, timeout: Duration },
    #[error("`{path}` failed ({status}): {stderr}")]
    Failed { path: PathBuf, status: String, stderr: String },
    #[error("`{path}` is not a Python interpreter: it did not print the expected JSON (output: {output:?})")]
    NotPython { path: PathBuf, output: String },
}

/// Runs the query script in `executable`, using the cache in `cache_dir` if given.
pub fn query(executable: &Path, cache_dir: Option<&Path>) -> Result<InterpreterInfo, QueryError> {
    let stamp = Stamp::of(executable);
    let cache_file =
        cache_dir.map(|dir| dir.join(format!("{:016x}.json", stable_hash(executable.as_os_str().as_encoded_bytes()))));
    if let (Some(file), Some(stamp)) = (&cache_file, &stamp)
        && let Some(info) = read_cache(file, executable, stamp)
    {
        return Ok(info);
    }
    let info = run_query(executable)?;
    // A wrapper (pyenv shim, shell script) can start a different interpreter
    // tomorrow without changing its own mtime, so cache real binaries only.
    let is_wrapper = fs::canonicalize(&info.executable).ok() != fs::canonicalize(executable).ok();
    if let (Some(file), Some(stamp), false) = (&cache_file, stamp, is_wrapper) {
        write_cache(file, executable, stamp, &info);
    }
    Ok(info)
}

/// A folder whose Python files nobody but an administrator can plant.
fn quiet_folder() -> PathBuf {
    if cfg!(unix) { PathBuf::from("/") } else { std::env::temp_dir() }
}

fn run_query(executable: &Path) -> Result<InterpreterInfo, QueryError> {
    // -E -s -B rather than -I: Python 2 rejects -I, and an old interpreter
    // should get "unsupported version", not "not a Python". Without -I, `-c`
    // puts the current folder first on sys.path, so the query runs in one
    // that nobody but root can plant a `json.py` in: not the shared temporary
    // folder, where any `dis.py` left there broke it.
    let mut command = Command::new(executable);
    command.args(["-E", "-s", "-B", "-c", INTERPRETER_INFO]).current_dir(quiet_folder());
    crate::environment::clear_python_vars(&mut command);
    let captured = run_with_timeout(&mut command, QUERY_TIMEOUT)
        .map_err(|source| QueryError::Spawn { path: executable.to_path_buf(), source })?;
    if captured.timed_out {
        return Err(QueryError::TimedOut { path: executable.to_path_buf(), timeout: QUERY_TIMEOUT });
    }
    if !captured.status.success() {
        let stderr = captured.stderr_tail(300);
        let stdout = tail_text(&captured.stdout, 200);
        return Err(QueryError::Failed {
            path: executable.to_path_buf(),
            status: captured.status.to_string(),
            stderr: if stderr.is_empty() { stdout } else { stderr },
        });
    }
    parse_answer(&captured.stdout).ok_or_else(|| QueryError::NotPython {
        path: executable.to_path_buf(),
        output: tail_text(&captured.stdout, 120),
    })
}

/// The last line of stdout that parses as a successful answer.
fn parse_answer(stdout: &[u8]) -> Option<InterpreterInfo> {
    #[derive(Deserialize)]
    struct Tagged {
        result: String,
        #[serde(flatten)]
        info: serde_json::Value,
    }
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().rev().find(|l| l.trim_start().starts_with('{'))?;
    let tagged: Tagged = serde_json::from_str(line).ok()?;
    if tagged.result != "success" {
        return None;
    }
    serde_json::from_value(tagged.info).ok()
}

/// Identifies one version of an executable file (following symlinks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    target: PathBuf,
    modified_ns: u128,
    size: u64,
    /// Changes when the query script changes.
    script: u64,
}

impl Stamp {
    fn of(executable: &Path) -> Option<Stamp> {
        let target = fs::canonicalize(executable).ok()?;
        let meta = fs::metadata(&target).ok()?;
        let modified_ns = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
        Some(Stamp { target, modified_ns, size: meta.len(), script: stable_hash(INTERPRETER_INFO.as_bytes()) })
    }
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    executable: PathBuf,
    stamp: Stamp,
    info: InterpreterInfo,
}

fn read_cache(file: &Path, executable: &Path, stamp: &Stamp) -> Option<InterpreterInfo> {
    let entry: CacheEntry = serde_json::from_slice(&fs::read(file).ok()?).ok()?;
    (entry.executable == executable && entry.stamp == *stamp).then_some(entry.info)
}

/// Best effort: a cache that cannot be written only costs time.
fn write_cache(file: &Path, executable: &Path, stamp: Stamp, info: &InterpreterInfo) {
    let entry = CacheEntry { executable: executable.to_path_buf(), stamp, info: info.clone() };
    if let Ok(bytes) = serde_json::to_vec(&entry) {
        crate::dirs::write_cache_file(file, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_last_json_line() {
        let out = b"noise from sitecustomize\n{\"result\": \"error\"}\n";
        assert!(parse_answer(out).is_none());
        assert!(parse_answer(b"Python 2.7\n").is_none());
    }
}
