//! Markdown: a summary fit for a pull-request comment or `$GITHUB_STEP_SUMMARY`.

use crate::diagnostic::checks::{Check, Outcome, Summary};
use crate::diagnostic::rules::Rule;

pub fn render(title: &str, checks: &[Check]) -> String {
    let summary = Summary::of(checks);
    let verdict = match (summary.is_clean(), summary.warnings) {
        (false, _) => "❌",
        (true, 0) => "✅",
        (true, _) => "⚠️",
    };
    let mut out = format!("## {verdict} ftprobe: {title}\n\n");
    out.push_str(&format!("{summary}\n\n"));
    let problems: Vec<&Check> = checks.iter().filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error)).collect();
    if !problems.is_empty() {
        out.push_str("| | Where | What | Rule | Details |\n|---|---|---|---|---|\n");
        for c in &problems {
            let mark = if c.outcome == Outcome::Error || c.is_error() { "❌" } else { "⚠️" };
            let rule = c.rule.map_or("", |r| r.code());
            out.push_str(&format!(
                "| {mark} | {} | {} | `{rule}` | {} |\n",
                cell(&c.group),
                cell(&c.name),
                cell(c.message.as_deref().unwrap_or(""))
            ));
        }
        let mut rules: Vec<Rule> = problems.iter().filter_map(|c| c.rule).collect();
        rules.sort();
        rules.dedup();
        out.push('\n');
        for rule in rules {
            out.push_str(&format!("- `{rule}`: {}\n", rule.description()));
        }
        let fixes = super::distinct_hints(checks);
        if !fixes.is_empty() {
            out.push_str("\n**How to fix:**\n\n");
            for fix in fixes {
                out.push_str(&format!("- {}\n", cell(&fix)));
            }
        }
    }
    out
}

/// Text safe inside a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("");
    line.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::checks::Level;

    #[test]
    fn a_warning_is_counted_as_a_warning_not_a_failure() {
        let checks = vec![
            Check::pass("wheel", "a"),
            Check::fail("wheel", "b", Rule::FreeThreadedWheelWithoutClassifier, Level::Warning, "no classifier".into()),
        ];
        let text = render("check", &checks);
        assert!(text.starts_with("## ⚠️ ftprobe: check"), "{text}");
        assert!(text.contains("1 passed, 0 failed, 1 warnings, 0 skipped, 0 errors"), "{text}");
        let failing = vec![Check::fail("wheel", "c", Rule::GilReenabled, Level::Error, "needs the GIL".into())];
        assert!(render("check", &failing).starts_with("## ❌"));
    }
}
