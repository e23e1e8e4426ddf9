//! SARIF 2.1.0: one run, a rule per finding code, a result per failed check.

use serde_json::{Value, json};

use super::checks::{Check, Level, Outcome, rule_description};

pub fn render(checks: &[Check]) -> String {
    let mut rules: Vec<String> = checks.iter().filter_map(|c| c.rule.clone()).collect();
    rules.sort();
    rules.dedup();
    let rule_objects: Vec<Value> =
        rules.iter().map(|r| json!({ "id": r, "shortDescription": { "text": rule_description(r) } })).collect();
    let results: Vec<Value> = checks
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Error))
        .map(|c| {
            let rule = c.rule.clone().unwrap_or_else(|| "probe-error".into());
            let level = match (c.outcome, c.level) {
                (Outcome::Error, _) | (_, Level::Error) => "error",
                (_, Level::Warning) => "warning",
                _ => "note",
            };
            let text = format!("{}: {}", c.name, c.message.as_deref().unwrap_or(""));
            let mut result = json!({
                "ruleId": rule,
                "ruleIndex": rules.iter().position(|r| *r == rule).unwrap_or(0),
                "level": level,
                "message": { "text": text },
            });
            if let Some(location) = &c.location {
                result["locations"] = json!([{
                    "physicalLocation": { "artifactLocation": { "uri": uri(location) } }
                }]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ftprobe",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://pypi.org/project/ftprobe/",
                "rules": rule_objects,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).expect("JSON values serialise") + "\n"
}

/// A relative path as written, an absolute one as a `file://` URI.
fn uri(path: &std::path::Path) -> String {
    let text = path.display().to_string().replace('\\', "/");
    if path.is_absolute() { format!("file://{text}") } else { text }
}
