//! One module per subcommand. Each takes its parsed arguments and a
//! [`Printer`](crate::printer::Printer) and returns the exit code.

pub mod batch;
pub mod check;
pub mod import;
pub mod output;
pub mod pythons;
pub mod report;
pub mod scan;
pub mod test;
