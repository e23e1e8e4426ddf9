//! The run directory: what `ftprobe batch` and `ftprobe test` write and
//! `ftprobe report`, `compare`, `merge` and `flaky` read, and nothing else. `meta.json` says what ran; `results.jsonl` holds
//! one typed [`Row`] per package × interpreter, appended and synced as each
//! finishes, so an interrupted run keeps every finished line and `--resume`
//! skips them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::binscan::generator::GeneratorKind;
use crate::binscan::{GilVerdict, SubinterpreterVerdict};
use crate::model::name::normalize;
use crate::runtime::{ProbeResult, PythonSummary};
use crate::venv::InstallerKind;
pub use crate::venv::install::{Install, InstallSource, InstallStatus};

pub mod engine;
pub mod options;
pub mod progress;
pub mod suite;

pub use options::RecordedOptions;
pub use suite::Suite;

pub const META: &str = "meta.json";
pub const RESULTS: &str = "results.jsonl";

/// A unit's identity in a run: the package and the interpreter's path.
pub type UnitKey = (String, String);

/// Which command made a run (`meta.json`'s `kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Batch,
    Test,
}

impl RunKind {
    /// The command's name: `batch` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Batch => "batch",
            RunKind::Test => "test",
        }
    }
}

impl std::fmt::Display for RunKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a run was, when it ran, and whether it finished.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunMeta {
    pub ftprobe_version: String,
    pub kind: RunKind,
    pub command_line: Vec<String>,
    pub interpreters: Vec<PythonSummary>,
    /// What made the environments.
    pub installer: InstallerKind,
    pub host: String,
    /// The options that change results (probes, limits, index, installer):
    /// runs with different ones are not merged unless told.
    #[serde(default)]
    pub options: RecordedOptions,
    /// `I/N` when this run is one shard of a larger one.
    #[serde(default)]
    pub shard: Option<String>,
    pub started: String,
    pub ended: Option<String>,
    /// False until the run ends without being interrupted.
    pub completed: bool,
}

impl RunMeta {
    /// The meta of a run starting now.
    pub fn begin(
        kind: RunKind,
        interpreters: &[crate::discover::Interpreter],
        installer: InstallerKind,
        options: RecordedOptions,
        shard: Option<String>,
    ) -> RunMeta {
        RunMeta {
            ftprobe_version: env!("CARGO_PKG_VERSION").into(),
            kind,
            command_line: std::env::args().collect(),
            interpreters: interpreters.iter().map(PythonSummary::of).collect(),
            installer,
            host: progress::hostname(),
            options,
            shard,
            started: now(),
            ended: None,
            completed: false,
        }
    }
}

/// Opens the run directory a command writes: `resume`'s, `out`, or a new
/// `ftprobe-<kind>-<time>` here. Gives its path, the directory, and the
/// units it already holds.
pub fn open_for(
    kind: RunKind,
    out: Option<&Path>,
    resume: Option<&Path>,
) -> Result<(PathBuf, RunDir, BTreeSet<UnitKey>)> {
    let (dir, resuming) = match (out, resume) {
        (_, Some(dir)) => (dir.to_path_buf(), true),
        (Some(dir), None) => (dir.to_path_buf(), false),
        (None, None) => {
            (PathBuf::from(format!("ftprobe-{kind}-{}", jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S"))), false)
        }
    };
    let run_dir = RunDir::open(&dir, resuming)?;
    let done = if resuming {
        let (meta, rows) = read(&dir)?;
        if meta.kind != kind {
            bail!(
                "{} holds a `{}` run, not a `{kind}` run: resume it with `ftprobe {}`",
                dir.display(),
                meta.kind,
                meta.kind
            );
        }
        done(&rows)
    } else {
        Default::default()
    };
    Ok((dir, run_dir, done))
}

/// One extension module the distribution installed, as the scanner sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtensionVerdict {
    pub import_name: Option<String>,
    pub file: String,
    pub gil: Option<GilVerdict>,
    pub subinterpreters: Option<SubinterpreterVerdict>,
    pub generator: Option<GeneratorKind>,
}

/// One package on one interpreter: the unit of a batch or test run.
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
    /// The test suite's iterations and category (`ftprobe test` rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<Suite>,
}

impl Row {
    /// A row for a unit that has not run yet: nothing installed, nothing probed.
    pub fn new(package: &str, requirement: &str, python: PythonSummary) -> Row {
        Row {
            package: package.to_string(),
            requirement: requirement.to_string(),
            version: None,
            python,
            install: Install {
                status: InstallStatus::Interrupted,
                from: None,
                wheel_tags: Vec::new(),
                wheel: None,
                seconds: 0.0,
                error: None,
                failed_to_build: None,
                failed_dist: None,
                required_by: Vec::new(),
                reason: None,
            },
            import_names: Vec::new(),
            probes: Vec::new(),
            extensions: Vec::new(),
            wheels_available: None,
            wheels_available_error: None,
            seconds: 0.0,
            suite: None,
        }
    }

    /// What identifies the unit: the package and the interpreter.
    pub fn key(&self) -> (String, String) {
        (self.package.clone(), self.python.executable.to_string_lossy().into_owned())
    }
}

/// A stable partition by normalised name: shard `index` of `count` holds
/// the packages whose 64-bit FNV-1a hash of the normalised name, modulo
/// `count`, is `index`. The same on every machine and in every release.
pub fn in_shard(package: &str, index: u32, count: u32) -> bool {
    crate::model::hash::stable_hash(normalize(package).as_bytes()) % u64::from(count.max(1)) == u64::from(index)
}

/// Joins runs (the shards of one run) into `out`: they must have been made
/// with the same interpreters and options unless `force`. A unit found in
/// several keeps its last row.
pub fn merge(runs: &[PathBuf], out: &Path, force: bool) -> Result<(RunMeta, usize)> {
    let mut merged: Option<RunMeta> = None;
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    for run in runs {
        let (meta, found) = read(run)?;
        if let Some(first) = &merged {
            let same_pythons = interpreter_set(first) == interpreter_set(&meta);
            if !force && (!same_pythons || first.options != meta.options || first.kind != meta.kind) {
                bail!(
                    "{} was made with other interpreters or options than {}: merge only shards of one run, or pass --force",
                    run.display(),
                    runs[0].display()
                );
            }
        }
        let first = merged.get_or_insert_with(|| meta.clone());
        first.completed &= meta.completed;
        first.started = first.started.clone().min(meta.started.clone());
        first.ended = first.ended.clone().max(meta.ended.clone());
        for interpreter in &meta.interpreters {
            if !first.interpreters.iter().any(|i| i.executable == interpreter.executable) {
                first.interpreters.push(interpreter.clone());
            }
        }
        for row in found {
            rows.insert(row.key(), row);
        }
    }
    let Some(mut meta) = merged else { bail!("give at least one run directory to merge") };
    meta.command_line = std::env::args().collect();
    meta.shard = None;
    let target = RunDir::open(out, false)?;
    for row in rows.values() {
        target.append(row)?;
    }
    target.write_meta(&meta)?;
    Ok((meta, rows.len()))
}

fn interpreter_set(meta: &RunMeta) -> BTreeSet<(String, bool)> {
    meta.interpreters.iter().map(|i| (i.version.clone(), i.free_threaded)).collect()
}

/// The threads a run's units run on: `jobs`, or one per core.
pub fn unit_pool(jobs: Option<u32>) -> Result<rayon::ThreadPool> {
    let jobs = jobs.map_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()), |j| j as usize);
    rayon::ThreadPoolBuilder::new().num_threads(jobs.max(1)).build().context("cannot start worker threads")
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

    /// Ends a run: stamps `meta` with the time and whether it completed
    /// (not interrupted), writes it, and says whether it was interrupted.
    pub fn finish(&self, meta: &mut RunMeta) -> Result<bool> {
        let interrupted = crate::interrupt::requested();
        meta.ended = Some(now());
        meta.completed = !interrupted;
        self.write_meta(meta)?;
        Ok(interrupted)
    }

    pub fn write_meta(&self, meta: &RunMeta) -> Result<()> {
        let temporary = self.path.join(format!("{META}.tmp"));
        fs::write(&temporary, serde_json::to_string_pretty(meta)? + "\n")?;
        fs::rename(&temporary, self.path.join(META))?;
        Ok(())
    }
}

/// Reads a run: its meta and its rows, the last one of each unit (a unit
/// interrupted and then resumed has two), in the order they finished. A torn
/// last line, from a run killed mid-write, is skipped.
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
    let mut last: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        last.insert(row.key(), index);
    }
    let kept: BTreeSet<usize> = last.into_values().collect();
    let rows = rows.into_iter().enumerate().filter(|(i, _)| kept.contains(i)).map(|(_, r)| r).collect();
    Ok((meta, rows))
}

/// The units a run already holds (for `--resume`): rows that finished, not
/// those cut short by an interruption.
pub fn done(rows: &[Row]) -> BTreeSet<(String, String)> {
    rows.iter()
        .filter(|r| {
            r.install.status != InstallStatus::Interrupted
                && !r.probes.iter().any(|p| p.status == crate::runtime::Status::Interrupted)
                && !r.suite.as_ref().is_some_and(Suite::interrupted)
        })
        .map(Row::key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_every_name_once_and_stay_put() {
        let names: Vec<String> = (0..500).map(|i| format!("package-{i}")).collect();
        for name in &names {
            assert_eq!((0..4).filter(|i| in_shard(name, *i, 4)).count(), 1);
        }
        let first: usize = names.iter().filter(|n| in_shard(n, 0, 4)).count();
        assert!((80..170).contains(&first), "{first} of 500 in shard 0/4");
        // Pinned: changing the hash would move packages between shards of a running job.
        assert!(in_shard("numpy", 0, 4) && in_shard("six", 3, 4) && in_shard("Python_Dateutil", 1, 3));
    }

    /// A batch run and a test run as the version before the typed model
    /// wrote them (`ftprobe batch` and `ftprobe test` on the local index,
    /// shortened to a row each): they read, and write back the same text.
    const BATCH_META: &str = include_str!("../../fixtures/runs/batch/meta.json");
    const BATCH_ROW: &str = include_str!("../../fixtures/runs/batch/results.jsonl");
    const TEST_META: &str = include_str!("../../fixtures/runs/test/meta.json");
    const TEST_ROW: &str = include_str!("../../fixtures/runs/test/results.jsonl");

    #[test]
    fn runs_written_before_the_typed_model_read_and_write_back_the_same() {
        for (meta, row) in [(BATCH_META, BATCH_ROW), (TEST_META, TEST_ROW)] {
            let read: RunMeta = serde_json::from_str(meta).unwrap();
            assert_eq!(serde_json::to_string_pretty(&read).unwrap() + "\n", meta);
            let read: Row = serde_json::from_str(row).unwrap();
            assert_eq!(serde_json::to_string(&read).unwrap() + "\n", row);
        }
        for kind in ["batch", "test"] {
            let (_, rows) = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/runs").join(kind)).unwrap();
            assert_eq!(rows.len(), 1, "{kind}");
        }
        let batch: RunMeta = serde_json::from_str(BATCH_META).unwrap();
        assert_eq!((batch.kind, batch.installer), (RunKind::Batch, InstallerKind::Pip));
        assert!(matches!(batch.options, RecordedOptions::Batch(_)), "{:?}", batch.options);
        let test: RunMeta = serde_json::from_str(TEST_META).unwrap();
        assert_eq!((test.kind, test.installer), (RunKind::Test, InstallerKind::Uv));
        assert!(matches!(test.options, RecordedOptions::Test(_)), "{:?}", test.options);
        let row: Row = serde_json::from_str(BATCH_ROW).unwrap();
        assert_eq!(row.install.from, Some(InstallSource::Wheel));
        let extension = &row.extensions[0];
        assert_eq!(
            (extension.gil, extension.subinterpreters, extension.generator),
            (Some(GilVerdict::NotUsed), Some(SubinterpreterVerdict::NotSupported), Some(GeneratorKind::Cython))
        );
        let row: Row = serde_json::from_str(TEST_ROW).unwrap();
        let suite = row.suite.unwrap();
        assert_eq!((row.install.from, suite.source.kind), (Some(InstallSource::Sdist), suite::SourceKind::Path));
        let culprit = &suite.iterations[0].gil.as_ref().unwrap().culprits[0];
        assert_eq!((culprit.verdict, culprit.generator), (Some(GilVerdict::Used), Some(GeneratorKind::Pyo3)));
    }

    /// Each value serialises to the exact text earlier versions wrote, and
    /// that text reads back to it.
    fn round_trips<T>(pairs: &[(T, &str)])
    where
        T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for (value, text) in pairs {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{text}\""), "{value:?}");
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), value, "{text}");
        }
    }

    #[test]
    fn run_kinds_installers_and_install_sources_keep_their_text() {
        round_trips(&[(RunKind::Batch, "batch"), (RunKind::Test, "test")]);
        assert_eq!(RunKind::Test.to_string(), "test");
        round_trips(&[(InstallerKind::Uv, "uv"), (InstallerKind::Pip, "pip")]);
        round_trips(&[(InstallSource::Wheel, "wheel"), (InstallSource::Sdist, "sdist")]);
        for (kind, text) in [(RunKind::Batch, "batch"), (RunKind::Test, "test")] {
            assert_eq!(kind.as_str(), text);
        }
        for (installer, text) in [(InstallerKind::Uv, "uv"), (InstallerKind::Pip, "pip")] {
            assert_eq!((installer.as_str(), installer.to_string()), (text, text.to_string()));
        }
        for (from, text) in [(InstallSource::Wheel, "wheel"), (InstallSource::Sdist, "sdist")] {
            assert_eq!(from.as_str(), text);
        }
    }

    #[test]
    fn scanner_verdicts_and_generators_keep_their_text() {
        round_trips(&[
            (GilVerdict::NotUsed, "not_used"),
            (GilVerdict::Used, "used"),
            (GilVerdict::Undetermined, "undetermined"),
        ]);
        round_trips(&[
            (SubinterpreterVerdict::PerInterpreterGil, "per_interpreter_gil"),
            (SubinterpreterVerdict::SharedGil, "shared_gil"),
            (SubinterpreterVerdict::NotSupported, "not_supported"),
            (SubinterpreterVerdict::Undetermined, "undetermined"),
        ]);
        round_trips(&[
            (GeneratorKind::Cython, "cython"),
            (GeneratorKind::Pyo3, "pyo3"),
            (GeneratorKind::Pybind11, "pybind11"),
            (GeneratorKind::Nanobind, "nanobind"),
            (GeneratorKind::Cffi, "cffi"),
            (GeneratorKind::Mypyc, "mypyc"),
        ]);
        round_trips(&[
            (suite::SourceKind::Path, "path"),
            (suite::SourceKind::Sdist, "sdist"),
            (suite::SourceKind::Git, "git"),
        ]);
        round_trips(&[(options::GilChoice::Default, "default"), (options::GilChoice::Off, "off")]);
    }
}
