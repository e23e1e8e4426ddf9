//! The run engine `batch` and `test` share: which units are left to run
//! (resume), the parallel loop over them (each row appended and synced as
//! it finishes, the progress bar told), what is shared once per package,
//! Ctrl-C, and the summary line and exit code. A run kind supplies only what
//! one unit does ([`UnitKind`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::progress::Progress;
use super::{Row, RunDir, RunKind, RunMeta, UnitKey};
use crate::discover::Interpreter;

/// What a run does with each of its units.
pub trait UnitKind: Sync {
    type Unit: Sync;
    /// Runs one unit from start to end; whatever happens, one row.
    /// `progress` takes lines worth showing while the unit runs.
    fn run(&self, unit: &Self::Unit, progress: &Progress) -> Row;
    /// Whether the row counts as a problem (the bar's count, the exit code).
    fn failed(&self, row: &Row) -> bool;
    /// The line the progress shows when the unit ends.
    fn one_line(&self, row: &Row) -> String;
}

/// A run directory opened for a new run or for `--resume`, with the units
/// its earlier rows already answer.
pub struct Opened {
    pub dir: PathBuf,
    pub run_dir: RunDir,
    pub done: BTreeSet<UnitKey>,
}

impl Opened {
    pub fn new(kind: RunKind, out: Option<&Path>, resume: Option<&Path>) -> Result<Opened> {
        let (dir, run_dir, done) = super::open_for(kind, out, resume)?;
        Ok(Opened { dir, run_dir, done })
    }

    /// A folder for the units' scratch work inside the run directory (made
    /// now, removed by [`execute`] when the run ends).
    pub fn work_dir(&self, name: &str) -> Result<PathBuf> {
        let work = self.dir.join(name);
        std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
        Ok(work)
    }

    /// Every (item, package, interpreter) not already done, in order, each
    /// package once: the units left to run.
    pub fn pending<T: Clone>(
        &self,
        items: impl IntoIterator<Item = (String, T)>,
        interpreters: &[Interpreter],
    ) -> Vec<(T, String, Interpreter)> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (package, item) in items {
            if !seen.insert(package.clone()) {
                continue;
            }
            for interpreter in interpreters {
                let key = (package.clone(), interpreter.executable.to_string_lossy().into_owned());
                if !self.done.contains(&key) {
                    out.push((item.clone(), package.clone(), interpreter.clone()));
                }
            }
        }
        out
    }
}

/// How a run ended.
pub struct Finished {
    /// The rows of the units this run ran (not those already done).
    pub rows: Vec<Row>,
    pub failed: usize,
    pub interrupted: bool,
}

/// Runs `units` in parallel (`jobs` at a time), appending each row to the
/// run directory as it finishes; then removes `work`, records the end in
/// `meta` and says whether Ctrl-C cut the run short.
pub fn execute<K: UnitKind>(
    kind: &K,
    units: &[K::Unit],
    opened: &Opened,
    meta: &mut RunMeta,
    jobs: Option<u32>,
    work: &Path,
) -> Result<Finished> {
    let pool = super::unit_pool(jobs)?;
    let progress = Progress::new(units.len(), opened.done.len());
    let rows = pool.install(|| {
        units
            .par_iter()
            .map(|unit| {
                let row = kind.run(unit, &progress);
                let write = opened.run_dir.append(&row);
                progress.finished(&row, kind.failed(&row), &kind.one_line(&row));
                write.map(|_| row)
            })
            .collect::<Result<Vec<Row>>>()
    })?;
    progress.done();
    let _ = std::fs::remove_dir_all(work);
    let interrupted = opened.run_dir.finish(meta)?;
    let failed = rows.iter().filter(|row| kind.failed(row)).count();
    Ok(Finished { rows, failed, interrupted })
}

impl Finished {
    /// `ftprobe: 3 of 4 units run (1 already done), interrupted; <what>; results in DIR`.
    pub fn summary_line(&self, opened: &Opened, what: &str) -> String {
        let (run, done) = (self.rows.len(), opened.done.len());
        format!(
            "ftprobe: {run} of {} units run ({done} already done){}; {what}; results in {}",
            run + done,
            if self.interrupted { ", interrupted" } else { "" },
            opened.dir.display()
        )
    }

    /// 130 when interrupted; else `findings` when a unit failed and the run
    /// kind says that fails the run, 0 otherwise.
    pub fn exit_code(&self, findings_fail: bool) -> ExitCode {
        if self.interrupted {
            ExitCode::from(crate::interrupt::EXIT_INTERRUPTED)
        } else if findings_fail && self.failed > 0 {
            ExitCode::from(crate::error::EXIT_FINDINGS)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// Something each package needs once, whichever of its units asks first
/// (the suite a package's units share, what its latest release ships): the
/// first unit computes it, the others wait for it and share it.
pub struct PerPackage<'a, T> {
    slots: BTreeMap<&'a str, OnceLock<T>>,
}

impl<'a, T> PerPackage<'a, T> {
    pub fn new(packages: impl IntoIterator<Item = &'a str>) -> Self {
        PerPackage { slots: packages.into_iter().map(|p| (p, OnceLock::new())).collect() }
    }

    /// The package's value, computed by `make` if no unit did yet; None for
    /// a package not named when this was made.
    pub fn get(&self, package: &str, make: impl FnOnce() -> T) -> Option<&T> {
        self.slots.get(package).map(|slot| slot.get_or_init(make))
    }
}
