//! Progress of a run's units: a bar on a terminal (done / total, problems,
//! ETA) with a line per finished unit above it, or one plain line per unit
//! when stderr is not a terminal (CI logs).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::Row;

pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    /// `--quiet`: no lines at all.
    quiet: bool,
    finished: AtomicUsize,
    failed: AtomicUsize,
}

impl Progress {
    /// `total` units to run, `already` done by an earlier run that is resumed.
    pub fn new(total: usize, already: usize) -> Progress {
        use std::io::IsTerminal;
        let quiet = crate::printer::is_quiet();
        let bar = (std::io::stderr().is_terminal() && !quiet).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} units, {msg} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message("0 with problems");
            bar
        });
        if already > 0 && !quiet {
            eprintln!("ftprobe: resuming: {already} units already done");
        }
        Progress { bar, total, quiet, finished: AtomicUsize::new(0), failed: AtomicUsize::new(0) }
    }

    /// A line on the way (an iteration of a long unit), above the bar.
    pub fn note(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// One unit finished; `summary` says how in one line.
    pub fn finished(&self, row: &Row, failed: bool, summary: &str) {
        let done = self.finished.fetch_add(1, Ordering::SeqCst) + 1;
        let failed = self.failed.fetch_add(usize::from(failed), Ordering::SeqCst) + usize::from(failed);
        match &self.bar {
            Some(bar) => {
                bar.set_position(done as u64);
                bar.set_message(format!("{failed} with problems"));
                bar.println(format!("{} on {}: {summary}", row.package, row.python.label()));
            }
            None if self.quiet => {}
            None => eprintln!("[{done}/{}] {} on {}: {summary}", self.total, row.package, row.python.label()),
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// This machine's name, for `meta.json`.
pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}
