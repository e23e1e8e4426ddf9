//! The format-neutral report every machine-readable format is rendered
//! from: one [`Check`] per thing examined (an extension module, a probe, a
//! wheel-level rule), passed, failed, skipped or in error, with a stable rule
//! code when it failed.

use std::path::PathBuf;

use serde::Serialize;

use super::rules::Rule;

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Does not apply here (a default build, a module not installed).
    Skip,
    /// Could not be examined (an unreadable file, a probe that could not run).
    Error,
}

/// How much a failure matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// One examined thing and its outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What it belongs to: a wheel's file name, `import numpy on 3.13.5t`.
    pub group: String,
    /// What was checked: `numpy._core._multiarray_umath`, `subinterpreter (isolated)`.
    pub name: String,
    pub outcome: Outcome,
    pub level: Level,
    /// The stable code of the rule that failed (`gil-reenabled`, ...).
    pub rule: Option<Rule>,
    pub message: Option<String>,
    /// The file it concerns (a wheel, a binary, pyproject.toml).
    #[serde(serialize_with = "crate::model::paths::lossy_option")]
    pub location: Option<PathBuf>,
    /// The line of `location` it concerns (a lock file's pin).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The dotted module it is about, when it is about one (for `allow` policies).
    pub module: Option<String>,
    /// What to do about a failure: one fix per distinct cause.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

impl Check {
    pub fn pass(group: &str, name: &str) -> Self {
        Check {
            group: group.into(),
            name: name.into(),
            outcome: Outcome::Pass,
            level: Level::Note,
            rule: None,
            message: None,
            location: None,
            line: None,
            module: None,
            hints: Vec::new(),
        }
    }

    /// `name: message`, with the fixes after it: the one-line text of a
    /// failed check in SARIF and annotations.
    pub fn text_with_fixes(&self) -> String {
        let text = format!("{}: {}", self.name, self.message.as_deref().unwrap_or(""));
        if self.hints.is_empty() { text } else { format!("{text}. Fix: {}", self.hints.join("; ")) }
    }

    /// Adds what to do (generator-specific fixes), keeping each fix once.
    pub fn with_hints(mut self, hints: impl IntoIterator<Item = String>) -> Self {
        for hint in hints {
            if !self.hints.contains(&hint) {
                self.hints.push(hint);
            }
        }
        self
    }

    pub fn about(mut self, module: impl Into<String>) -> Self {
        self.module = Some(module.into());
        self
    }

    pub fn fail(group: &str, name: &str, rule: Rule, level: Level, message: String) -> Self {
        Check { outcome: Outcome::Fail, level, rule: Some(rule), message: Some(message), ..Check::pass(group, name) }
    }

    pub fn with_outcome(mut self, outcome: Outcome, message: Option<String>) -> Self {
        self.outcome = outcome;
        self.message = message;
        self
    }

    pub fn at(mut self, location: impl Into<PathBuf>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// At a line of the file it concerns.
    pub fn at_line(mut self, location: impl Into<PathBuf>, line: u32) -> Self {
        self.location = Some(location.into());
        self.line = Some(line);
        self
    }

    /// A failure that should fail the build.
    pub fn is_error(&self) -> bool {
        self.outcome == Outcome::Fail && self.level == Level::Error
    }
}

/// How many checks passed, failed (error level), warned, were skipped or
/// could not be examined: the one summary line of every report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub warnings: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl Summary {
    pub fn of(checks: &[Check]) -> Self {
        let mut s = Summary::default();
        for c in checks {
            match c.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail if c.level == Level::Error => s.failed += 1,
                Outcome::Fail => s.warnings += 1,
                Outcome::Skip => s.skipped += 1,
                Outcome::Error => s.errors += 1,
            }
        }
        s
    }

    /// Nothing failed at error level and everything could be examined.
    pub fn is_clean(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} warnings, {} skipped, {} errors",
            self.passed, self.failed, self.warnings, self.skipped, self.errors
        )
    }
}
