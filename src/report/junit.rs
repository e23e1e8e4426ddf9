//! JUnit XML: one `<testsuite>` per group, one `<testcase>` per check.

use crate::diagnostic::checks::{Check, Outcome};

fn escape(text: &str) -> String {
    // XML 1.0 forbids most control characters: they are dropped.
    super::escape_markup(text, None)
}

pub fn render(checks: &[Check]) -> String {
    let mut groups: Vec<&str> = Vec::new();
    for c in checks {
        if !groups.contains(&c.group.as_str()) {
            groups.push(&c.group);
        }
    }
    let count = |o: Outcome| checks.iter().filter(|c| c.outcome == o).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // The Jenkins JUnit schema allows `skipped` on <testsuite> only.
    out.push_str(&format!(
        "<testsuites name=\"ftprobe\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        checks.len(),
        count(Outcome::Fail),
        count(Outcome::Error)
    ));
    for (id, group) in groups.iter().enumerate() {
        let members: Vec<&Check> = checks.iter().filter(|c| c.group == *group).collect();
        let of = |o: Outcome| members.iter().filter(|c| c.outcome == o).count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" id=\"{id}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
            escape(group),
            members.len(),
            of(Outcome::Fail),
            of(Outcome::Error),
            of(Outcome::Skip)
        ));
        for c in members {
            out.push_str(&format!("    <testcase name=\"{}\" classname=\"{}\"", escape(&c.name), escape(group)));
            let message = escape(c.message.as_deref().unwrap_or(""));
            let rule = escape(c.rule.map_or("", |r| r.code()));
            match c.outcome {
                Outcome::Pass => out.push_str("/>\n"),
                Outcome::Skip => out.push_str(&format!(">\n      <skipped message=\"{message}\"/>\n    </testcase>\n")),
                Outcome::Fail => out.push_str(&format!(
                    ">\n      <failure message=\"{message}\" type=\"{rule}\">{message}</failure>\n    </testcase>\n"
                )),
                Outcome::Error => out.push_str(&format!(
                    ">\n      <error message=\"{message}\" type=\"{rule}\">{message}</error>\n    </testcase>\n"
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
