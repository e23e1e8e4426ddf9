//! The ftprobe binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;

/// Runs [`ftprobe::os::record_standard_fds`] before Rust's runtime starts
/// (ELF constructors run before `main`), so a closed stdout is noticed.
// The one `unsafe` outside `os.rs` and `worker/libpython.rs`: placing a
// function pointer in `.init_array` makes the loader call it.
#[cfg(target_os = "linux")]
#[used]
#[allow(unsafe_code)]
#[unsafe(link_section = ".init_array")]
static RECORD_STANDARD_FDS: extern "C" fn() = ftprobe::os::record_standard_fds;

fn main() -> std::process::ExitCode {
    let cli = ftprobe::cli::Cli::parse();
    match ftprobe::run(cli) {
        Ok(code) => code,
        Err(error) => {
            let printer = ftprobe::printer::Printer::from_env();
            printer.error(&format!("ftprobe: error: {error}"));
            for cause in error.chain().skip(1) {
                printer.error(&format!("  caused by: {cause}"));
            }
            ftprobe::error::exit_code_for(&error)
        }
    }
}
