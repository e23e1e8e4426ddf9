//! GitHub Actions workflow commands (`::error file=...::message`), written
//! when `GITHUB_ACTIONS=true` so failures show up as annotations.

use crate::diagnostic::checks::{Check, Level, Outcome};

/// Whether the process runs inside GitHub Actions.
pub fn enabled() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// Line breaks become `%0A` (GitHub shows them); other control characters,
/// which a hostile wheel's names may hold, are shown as escapes.
fn escape_data(text: &str) -> String {
    let lines: Vec<String> = text.split('\n').map(|l| super::escape_controls(l).replace('%', "%25")).collect();
    lines.join("%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks.iter().filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error)) {
        let command = match (c.outcome, c.level) {
            (Outcome::Error, _) | (_, Level::Error) => "error",
            (_, Level::Warning) => "warning",
            _ => "notice",
        };
        let mut properties =
            vec![format!("title={}", escape_property(&format!("ftprobe {}", c.rule.map_or("error", |r| r.code()))))];
        if let Some(file) = &c.location {
            properties.insert(0, format!("file={}", escape_property(&file.display().to_string())));
        }
        let message = c.text_with_fixes();
        out.push_str(&format!("::{command} {}::{}\n", properties.join(","), escape_data(&message)));
    }
    out
}
