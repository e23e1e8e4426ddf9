//! Markdown: a summary fit for a pull-request comment or `$GITHUB_STEP_SUMMARY`.

use super::checks::{Check, Outcome, rule_description};

pub fn render(title: &str, checks: &[Check]) -> String {
    let count = |o: Outcome| checks.iter().filter(|c| c.outcome == o).count();
    let (passed, failed, skipped, errors) =
        (count(Outcome::Pass), count(Outcome::Fail), count(Outcome::Skip), count(Outcome::Error));
    let verdict = if checks.iter().any(Check::is_error) || errors > 0 { "❌" } else { "✅" };
    let mut out = format!("## {verdict} ftprobe: {title}\n\n");
    out.push_str(&format!("{passed} passed, {failed} failed, {skipped} skipped, {errors} errors\n\n"));
    let problems: Vec<&Check> = checks.iter().filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error)).collect();
    if !problems.is_empty() {
        out.push_str("| | Where | What | Rule | Details |\n|---|---|---|---|---|\n");
        for c in &problems {
            let mark = if c.outcome == Outcome::Error || c.is_error() { "❌" } else { "⚠️" };
            let rule = c.rule.as_deref().unwrap_or("");
            out.push_str(&format!(
                "| {mark} | {} | {} | `{rule}` | {} |\n",
                cell(&c.group),
                cell(&c.name),
                cell(c.message.as_deref().unwrap_or(""))
            ));
        }
        let mut rules: Vec<&str> = problems.iter().filter_map(|c| c.rule.as_deref()).collect();
        rules.sort();
        rules.dedup();
        out.push('\n');
        for rule in rules {
            out.push_str(&format!("- `{rule}`: {}\n", rule_description(rule)));
        }
    }
    out
}

/// Text safe inside a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    line.replace('|', "\\|")
}
