//! The ftprobe binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = ftprobe::cli::Cli::parse();
    match ftprobe::run(cli) {
        Ok(code) => code,
        Err(error) => {
            let printer = ftprobe::printer::Printer::from_env();
            printer.note(&format!("ftprobe: error: {error}"));
            for cause in error.chain().skip(1) {
                printer.note(&format!("  caused by: {cause}"));
            }
            ftprobe::error::exit_code_for(&error)
        }
    }
}
