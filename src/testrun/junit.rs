//! Per-test results from the JUnit XML file pytest writes each iteration
//! (`--junitxml`): counts, the failed tests, and a signature per failure
//! (the exception's type and message shape, and where it was raised), so
//! that the same failure in several iterations groups as one.

use std::collections::BTreeMap;

use crate::run::suite::TestCounts;

/// What one JUnit file says.
#[derive(Debug, Default, PartialEq)]
pub struct Results {
    pub counts: TestCounts,
    pub failed_tests: Vec<String>,
    pub signatures: BTreeMap<String, String>,
}

/// A file that is not XML (pytest was killed while writing it).
#[derive(Debug, thiserror::Error)]
#[error("not JUnit XML: {0}")]
pub struct NotJunit(roxmltree::Error);

/// Parses pytest's JUnit XML (xunit1 or xunit2). A test's id is
/// `classname::name`, as pytest writes them (`tests.test_counter::test_threads`).
pub fn parse(xml: &str) -> Result<Results, NotJunit> {
    let document = roxmltree::Document::parse(xml).map_err(NotJunit)?;
    let mut out = Results::default();
    for case in document.descendants().filter(|n| n.has_tag_name("testcase")) {
        let id = match (case.attribute("classname"), case.attribute("name")) {
            (Some(class), Some(name)) if !class.is_empty() => format!("{class}::{name}"),
            (_, Some(name)) => name.to_string(),
            _ => continue,
        };
        let outcome =
            case.children().find(|c| c.has_tag_name("failure") || c.has_tag_name("error") || c.has_tag_name("skipped"));
        match outcome {
            None => out.counts.passed += 1,
            Some(node) if node.has_tag_name("skipped") => out.counts.skipped += 1,
            Some(node) => {
                if node.has_tag_name("failure") {
                    out.counts.failed += 1;
                } else {
                    out.counts.error += 1;
                }
                let message = node.attribute("message").unwrap_or("");
                out.signatures.insert(id.clone(), signature(message, node.text().unwrap_or("")));
                if !out.failed_tests.contains(&id) {
                    out.failed_tests.push(id);
                }
            }
        }
    }
    Ok(out)
}

/// The shape of a failure: its first message line with numbers, addresses
/// and quoted values masked, and the last `file.py:line` of the traceback.
pub fn signature(message: &str, traceback: &str) -> String {
    let first = message.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let mut shape = mask(first);
    if shape.chars().count() > 160 {
        shape = shape.chars().take(160).collect::<String>() + "…";
    }
    // pytest's long report ends with `file.py:LINE: ExceptionType`.
    let place = traceback.lines().rev().find_map(|line| {
        let (location, kind) = line.trim().rsplit_once(": ")?;
        let (file, number) = location.rsplit_once(':')?;
        (file.ends_with(".py") && number.chars().all(|c| c.is_ascii_digit()) && !number.is_empty())
            .then(|| (location.to_string(), kind.trim().to_string()))
    });
    match place {
        // A bare `assert` gives the message `assert 3 == 4`: name the type.
        Some((place, kind)) if !shape.starts_with(&kind) && !kind.contains(' ') => {
            format!("{kind}: {shape} at {place}")
        }
        Some((place, _)) => format!("{shape} at {place}"),
        None => shape,
    }
}

/// Numbers become `N`, `0x…` addresses `0x?`, quoted text `'…'`.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '0' if chars.peek() == Some(&'x') => {
                chars.next();
                while chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    chars.next();
                }
                out.push_str("0x?");
            }
            c if c.is_ascii_digit() => {
                while chars.peek().is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                    chars.next();
                }
                out.push('N');
            }
            '\'' | '"' => {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                }
                out.push_str("'…'");
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counts_failures_and_their_shapes() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4">
<testcase classname="tests.test_counter" name="test_single" time="0.001" />
<testcase classname="tests.test_counter" name="test_threads" time="0.2"><failure message="AssertionError: assert 3999120 == 4000000&#10; +  where 3999120 = value()">def test_threads():
&gt;       assert value() == 4000000
E       AssertionError: assert 3999120 == 4000000

tests/test_counter.py:21: AssertionError</failure></testcase>
<testcase classname="tests.test_counter" name="test_skip" time="0"><skipped type="pytest.skip" message="no">x</skipped></testcase>
<testcase classname="tests.test_counter" name="test_fixture" time="0"><error message="failed on setup with &quot;KeyError: 'x'&quot;">e</error></testcase>
</testsuite></testsuites>"#;
        let got = parse(xml).unwrap();
        assert_eq!(got.counts, TestCounts { passed: 1, failed: 1, error: 1, skipped: 1 });
        assert_eq!(got.failed_tests, ["tests.test_counter::test_threads", "tests.test_counter::test_fixture"]);
        assert_eq!(
            got.signatures["tests.test_counter::test_threads"],
            "AssertionError: assert N == N at tests/test_counter.py:21"
        );
        assert_eq!(got.signatures["tests.test_counter::test_fixture"], "failed on setup with '…'");
        assert_eq!(
            signature(
                "assert 7663 == 8000000",
                "E  assert 7663 == 8000000\n\ntests/test_counter.py:19: AssertionError"
            ),
            "AssertionError: assert N == N at tests/test_counter.py:19"
        );
        assert!(parse("<not xml").is_err());
    }
}
