//! Reading what the injected pytest plugin (`python/ftprobe/pytest_plugin.py`)
//! recorded in one iteration: the GIL's state at each point, where it
//! turned on and the modules loaded then, and the test that was running
//! when the process ended (for a crash or a hang).

use serde::Deserialize;

use crate::run::suite::{GilCulprit, GilRecord};

#[derive(Deserialize)]
struct Record {
    event: String,
    #[serde(default)]
    gil: Option<bool>,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    new_extensions: Option<Vec<NewExtension>>,
}

#[derive(Deserialize)]
struct NewExtension {
    module: String,
    file: String,
}

/// What one iteration's records say.
#[derive(Debug, Default, PartialEq)]
pub struct Recorded {
    /// None when the interpreter has no `sys._is_gil_enabled` (a default build).
    pub gil: Option<GilRecord>,
    /// A test that started and never finished.
    pub running_test: Option<String>,
}

/// Reads the records file's text; `warned` are modules named in the
/// process's output by CPython's GIL warning (the plugin sees only the
/// warnings pytest captured).
pub fn read(text: &str, warned: &[String]) -> Recorded {
    let records: Vec<Record> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let mut out = Recorded::default();
    let mut gil = GilRecord::default();
    let mut known = false;
    let mut named: Vec<String> = warned.to_vec();
    for record in &records {
        match record.event.as_str() {
            "test_start" => out.running_test = record.test.clone(),
            "test_end" => out.running_test = None,
            "gil_warning" => named.extend(record.module.clone()),
            _ => {}
        }
        if record.event == "test_start" || record.event == "gil_warning" {
            continue;
        }
        known |= record.gil.is_some();
        match record.event.as_str() {
            "load" => gil.at_start = record.gil,
            "collection" => gil.after_collection = record.gil,
            _ => {}
        }
        gil.at_end = record.gil;
        if let (Some(new), None) = (&record.new_extensions, &gil.enabled_during) {
            gil.enabled_during = Some(match record.event.as_str() {
                "load" | "session_start" => "start".to_string(),
                "collection" => "collection".to_string(),
                _ => record.test.clone().unwrap_or_else(|| record.event.clone()),
            });
            gil.culprits = new
                .iter()
                .map(|e| GilCulprit {
                    module: e.module.clone(),
                    file: Some(e.file.clone()),
                    verdict: None,
                    generator: None,
                    named_by_warning: false,
                })
                .collect();
        }
    }
    // The GIL was on from the start (a module imported before pytest's
    // session, a conftest or plugin): CPython's warning is the evidence.
    if gil.enabled_during.is_none() && gil.at_start == Some(true) {
        gil.enabled_during = Some("start".into());
    }
    named.dedup();
    for module in named {
        match gil.culprits.iter_mut().find(|c| c.module == module) {
            Some(culprit) => culprit.named_by_warning = true,
            None => gil.culprits.push(GilCulprit {
                module,
                file: None,
                verdict: None,
                generator: None,
                named_by_warning: true,
            }),
        }
    }
    if known {
        out.gil = Some(gil);
    }
    out
}

/// The modules CPython's warning names in `output`.
pub fn warned_modules(output: &str) -> Vec<String> {
    let marker = "has been enabled to load module '";
    let mut found: Vec<String> = Vec::new();
    for line in output.lines() {
        if let Some(at) = line.find(marker) {
            let rest = &line[at + marker.len()..];
            if let Some(end) = rest.find('\'')
                && !found.iter().any(|f| f == &rest[..end])
            {
                found.push(rest[..end].to_string());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gil_turning_on_in_a_test_names_that_test_and_the_new_modules() {
        let text = r#"{"event": "load", "gil": false}
{"event": "session_start", "gil": false}
{"event": "collection", "gil": false}
{"event": "test_start", "test": "tests/test_a.py::test_one"}
{"event": "test_end", "gil": false, "test": "tests/test_a.py::test_one"}
{"event": "test_start", "test": "tests/test_a.py::test_two"}
{"event": "gil_warning", "module": "pkg._legacy", "when": "runtest", "test": "tests/test_a.py::test_two"}
{"event": "test_end", "gil": true, "test": "tests/test_a.py::test_two", "new_extensions": [{"module": "pkg._legacy", "file": "/e/pkg/_legacy.so"}, {"module": "pkg._fine", "file": "/e/pkg/_fine.so"}]}
{"event": "test_start", "test": "tests/test_a.py::test_three"}
"#;
        let got = read(text, &[]);
        let gil = got.gil.unwrap();
        assert_eq!((gil.at_start, gil.after_collection, gil.at_end), (Some(false), Some(false), Some(true)));
        assert_eq!(gil.enabled_during.as_deref(), Some("tests/test_a.py::test_two"));
        assert_eq!(gil.culprits.len(), 2);
        assert!(gil.culprits[0].named_by_warning && !gil.culprits[1].named_by_warning);
        assert_eq!(got.running_test.as_deref(), Some("tests/test_a.py::test_three"));
        let default_build = read("{\"event\": \"load\", \"gil\": null}\n", &[]);
        assert_eq!(default_build.gil, None);
    }

    #[test]
    fn warnings_in_the_output_name_modules() {
        let out = "x.py:1: RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module 'a._b', which has not declared\n";
        assert_eq!(warned_modules(out), ["a._b"]);
    }
}
