//! Rendering results for people and machines. Each format has its own file;
//! the machine-readable ones (Markdown, JUnit, SARIF, GitHub annotations) all
//! render the same list of [`checks::Check`]s, so they always agree.

pub mod checks;
pub mod github;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod table;

/// The name an enum value has in JSON (`not_used`, `multi_phase`), for tables.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
