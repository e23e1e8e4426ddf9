//! The run directory: what `ftprobe batch` writes and `ftprobe report`
//! reads, and nothing else. `meta.json` says what ran; `results.jsonl` holds
//! one typed [`Row`] per package × interpreter, appended and synced as each
//! finishes, so an interrupted run keeps every finished line and `--resume`
//! skips them.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::runtime::{ProbeResult, PythonSummary};

pub const META: &str = "meta.json";
pub const RESULTS: &str = "results.jsonl";

/// What a run was, when it ran, and whether it finished.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunMeta {
    pub ftprobe_version: String,
    /// `batch` (and, later, `test`).
    pub kind: String,
    pub command_line: Vec<String>,
    pub interpreters: Vec<PythonSummary>,
    /// `uv` or `pip`: what made the environments.
    pub installer: String,
    pub host: String,
    pub started: String,
    pub ended: Option<String>,
    /// False until the run ends without being interrupted.
    pub completed: bool,
}

/// How the package got into its fresh environment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Install {
    pub status: InstallStatus,
    /// `wheel` or `sdist` (built here), when it installed.
    pub from: Option<String>,
    /// The tags of the wheel that was installed (`cp313-cp313t-manylinux_2_17_x86_64`).
    pub wheel_tags: Vec<String>,
    pub seconds: f64,
    /// The installer's last lines when it failed.
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallStatus {
    Ok,
    Failed,
    Timeout,
    /// ftprobe was interrupted before or while installing.
    Interrupted,
}

/// One extension module the distribution installed, as the scanner sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtensionVerdict {
    pub import_name: Option<String>,
    pub file: String,
    pub gil: Option<String>,
    pub subinterpreters: Option<String>,
    pub generator: Option<String>,
}

/// One package on one interpreter: the unit of a batch run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// The normalised name (PEP 503).
    pub package: String,
    /// What was asked for (`numpy==2.4.6`, or the name).
    pub requirement: String,
    pub version: Option<String>,
    pub python: PythonSummary,
    pub install: Install,
    pub import_names: Vec<String>,
    /// The objects `ftprobe import --format json` prints, one per probe.
    pub probes: Vec<ProbeResult>,
    pub extensions: Vec<ExtensionVerdict>,
    /// What the latest release ships, read once per package from the index.
    pub wheels_available: Option<crate::index::Availability>,
    /// Why the index could not say (`--no-index`, an index that is down).
    pub wheels_available_error: Option<String>,
    pub seconds: f64,
}

impl Row {
    /// What identifies the unit: the package and the interpreter.
    pub fn key(&self) -> (String, String) {
        (self.package.clone(), self.python.executable.to_string_lossy().into_owned())
    }
}

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The time now, as RFC 3339 in UTC.
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// A run directory open for appending rows.
pub struct RunDir {
    path: PathBuf,
    results: Mutex<File>,
}

impl RunDir {
    /// Creates `path` (it must not hold a run already) or, with `resume`,
    /// opens the run there.
    pub fn open(path: &Path, resume: bool) -> Result<RunDir> {
        let has_run = path.join(META).exists();
        if has_run && !resume {
            bail!(
                "{} already holds a run: pass --resume {} to go on with it, or choose another --out",
                path.display(),
                path.display()
            );
        }
        if !has_run && resume {
            bail!("{} holds no run to resume (no {META})", path.display());
        }
        fs::create_dir_all(path).with_context(|| format!("cannot create the run directory {}", path.display()))?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.join(RESULTS))
            .with_context(|| format!("cannot write {}", path.join(RESULTS).display()))?;
        Ok(RunDir { path: path.to_path_buf(), results: Mutex::new(file) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one row and syncs it to disk before returning.
    pub fn append(&self, row: &Row) -> Result<()> {
        let mut line = serde_json::to_string(row)?;
        line.push('\n');
        let mut file = self.results.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(line.as_bytes())?;
        file.sync_data()?;
        Ok(())
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<()> {
        let temporary = self.path.join(format!("{META}.tmp"));
        fs::write(&temporary, serde_json::to_string_pretty(meta)? + "\n")?;
        fs::rename(&temporary, self.path.join(META))?;
        Ok(())
    }
}

/// Reads a run: its meta and every complete row (a torn last line, from a
/// run killed mid-write, is skipped).
pub fn read(path: &Path) -> Result<(RunMeta, Vec<Row>)> {
    let meta_path = path.join(META);
    let meta: RunMeta = serde_json::from_str(
        &fs::read_to_string(&meta_path)
            .with_context(|| format!("{} is not a run directory (no {META})", path.display()))?,
    )
    .with_context(|| format!("{} is not a valid run description", meta_path.display()))?;
    let file =
        File::open(path.join(RESULTS)).with_context(|| format!("cannot read {}", path.join(RESULTS).display()))?;
    let mut rows = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Row>(&line) {
            Ok(row) => rows.push(row),
            Err(e) if e.is_eof() => {}
            Err(e) => bail!("{}:{}: not a result row: {e}", path.join(RESULTS).display(), number + 1),
        }
    }
    Ok((meta, rows))
}

/// The units a run already holds (for `--resume`): rows that finished, not
/// those cut short by an interruption.
pub fn done(rows: &[Row]) -> BTreeSet<(String, String)> {
    rows.iter()
        .filter(|r| {
            r.install.status != InstallStatus::Interrupted
                && !r.probes.iter().any(|p| p.status == crate::runtime::Status::Interrupted)
        })
        .map(Row::key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_as_pep_503_says() {
        assert_eq!(normalize("Python_Dateutil"), "python-dateutil");
        assert_eq!(normalize("zope.interface"), "zope-interface");
        assert_eq!(normalize("a__-.b"), "a-b");
    }
}
