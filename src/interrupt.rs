//! Ctrl-C and SIGTERM: the first one asks every running command to stop
//! (no new workers start, running ones have their process groups killed,
//! and what finished is reported, marked interrupted, with exit code 130);
//! a second one exits at once. Workers die with ftprobe in any case.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit code of an interrupted run (128 + SIGINT), as shells use.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Installs the handler; harmless when called more than once.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"ftprobe: interrupted; stopping the workers and reporting what finished (again to quit at once)\n",
        );
    });
}

/// Whether an interruption was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
