//! Rendering results for people and machines. Each format has its own file;
//! the machine-readable ones (Markdown, JUnit, SARIF, GitHub annotations) all
//! render the same list of [`checks::Check`]s, so they always agree.

pub mod checks;
pub mod github;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;
