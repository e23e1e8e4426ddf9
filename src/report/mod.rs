//! Rendering results for people and machines. Each format has its own file;
//! the machine-readable ones (Markdown, JUnit, SARIF, GitHub annotations) all
//! render the same list of [`crate::diagnostic::checks::Check`]s, so they always agree.

pub mod batch;
pub mod compare;
pub mod deps;
pub mod github;
pub mod grid;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod runs;
pub mod sarif;
pub mod suite;
pub mod table;

/// The different fixes the failed checks carry, in order of first use (a
/// table shows each fix once, not once per module).
pub fn distinct_hints(checks: &[crate::diagnostic::checks::Check]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for hint in checks.iter().filter(|c| c.outcome == crate::diagnostic::checks::Outcome::Fail).flat_map(|c| &c.hints) {
        if !out.contains(hint) {
            out.push(hint.clone());
        }
    }
    out
}

/// The lines that close a table with its distinct fixes ("" when none).
pub fn hint_lines(checks: &[crate::diagnostic::checks::Check]) -> String {
    distinct_hints(checks).iter().map(|h| format!("hint: {}\n", escape_controls(h))).collect()
}

/// `text` with its control characters shown as escapes (`\x1b`, `\r`, `\n`),
/// so that a name from an untrusted wheel cannot move the cursor, clear the
/// terminal or forge lines.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            '\0' => "\\0".to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Like [`escape_controls`], keeping line breaks (for multi-line text such
/// as a stderr tail).
pub fn escape_controls_keep_lines(text: &str) -> String {
    text.split('\n').map(escape_controls).collect::<Vec<_>>().join("\n")
}

/// The name an enum value has in JSON (`not_used`, `multi_phase`), for tables.
pub fn name_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Escapes text for XML and HTML element content and quoted attribute
/// values. Control characters (other than tab, newline, carriage return),
/// which XML 1.0 forbids, become `control` (or are dropped).
pub fn escape_markup(text: &str, control: Option<char>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => out.extend(control),
            c => out.push(c),
        }
    }
    out
}
