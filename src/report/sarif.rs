//! SARIF 2.1.0: one run, a rule per finding code, a result per failed check.
//! The log is typed and borrows from the checks, so a report of hundreds of
//! thousands of results costs little more than its text.

use serde::Serialize;

use crate::diagnostic::checks::{Check, Level, Outcome};
use crate::diagnostic::rules::Rule as RuleCode;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool<'a>,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    short_description: Text<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Text<String>>,
}

#[derive(Serialize)]
struct Text<T> {
    text: T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

pub fn render(checks: &[Check]) -> String {
    let reported = |c: &&Check| matches!(c.outcome, Outcome::Fail | Outcome::Error);
    let mut rules: Vec<RuleCode> = checks.iter().filter_map(|c| c.rule).collect();
    if checks.iter().filter(reported).any(|c| c.rule.is_none()) {
        rules.push(RuleCode::ProbeError);
    }
    rules.sort_unstable();
    rules.dedup();
    let results = checks
        .iter()
        .filter(reported)
        .map(|c| {
            let rule = c.rule.unwrap_or(RuleCode::ProbeError);
            let level = match (c.outcome, c.level) {
                (Outcome::Error, _) | (_, Level::Error) => "error",
                (_, Level::Warning) => "warning",
                _ => "note",
            };
            SarifResult {
                rule_id: rule.code(),
                rule_index: rules.binary_search(&rule).unwrap_or(0),
                level,
                message: Text { text: c.text_with_fixes() },
                locations: c
                    .location
                    .iter()
                    .map(|path| Location {
                        physical_location: PhysicalLocation {
                            artifact_location: ArtifactLocation { uri: uri(path) },
                            region: c.line.map(|start_line| Region { start_line }),
                        },
                    })
                    .collect(),
            }
        })
        .collect();
    let rule_objects = rules
        .iter()
        .map(|r| Rule {
            id: r.code(),
            short_description: Text { text: r.description() },
            help: crate::diagnostic::hints::rule_help(*r).map(|text| Text { text }),
        })
        .collect();
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "ftprobe",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: "https://pypi.org/project/ftprobe/",
                    rules: rule_objects,
                },
            },
            results,
        }],
    };
    serde_json::to_string_pretty(&log).expect("the SARIF log serialises") + "\n"
}

/// A relative path as written, an absolute one as a `file://` URI.
fn uri(path: &std::path::Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    if path.is_absolute() { format!("file://{text}") } else { text }
}
