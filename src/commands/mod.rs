//! One module per subcommand. Each takes its parsed arguments and a
//! [`Printer`](crate::printer::Printer) and returns the exit code.

pub mod batch;
pub mod check;
pub mod deps;
pub mod import;
pub mod output;
pub mod pythons;
pub mod report;
pub mod scan;
pub mod test;

/// Refuses `command` where ftprobe cannot run interpreters: on Windows the
/// worker and the supervision of children rely on POSIX process groups and
/// signals, so only scanning and reading run directories are offered there.
pub fn needs_posix(command: &str) -> anyhow::Result<()> {
    if cfg!(windows) {
        anyhow::bail!(
            "`ftprobe {command}` runs Python interpreters, which ftprobe does on Linux and macOS only; \
             on Windows use `ftprobe scan`, `ftprobe check` without --python, and report/compare/merge/flaky on a run made elsewhere"
        );
    }
    Ok(())
}
