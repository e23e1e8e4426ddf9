//! Why an install failed, in the words a person would write, read from what
//! uv or pip said: the distribution that failed (a build, or a requirement
//! no file satisfies, or one that wants another Python), the chain of
//! requirements that pulled it in, and the failing step's own last error
//! line (`CFFI does not support the free-threaded build of CPython 3.13`).

use serde::{Deserialize, Serialize};

/// What went wrong, for the row and every format.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The distribution that failed, as the installer names it (`cffi==2.1.1`, `cffi`).
    pub failed_dist: Option<String>,
    /// What pulled it in, outermost first (`cryptography`); empty when asked for directly.
    pub required_by: Vec<String>,
    /// The failing step's own last error line.
    pub reason: String,
}

impl Explanation {
    /// `cffi==2.1.1 (via cryptography) failed to build: CFFI does not support ...`.
    pub fn one_line(&self) -> String {
        let Some(failed) = &self.failed_dist else { return self.reason.clone() };
        let via = if self.required_by.is_empty() {
            String::new()
        } else {
            format!(" (via {})", self.required_by.join(" → "))
        };
        format!("{failed}{via} {}: {}", self.what_failed(), self.reason)
    }

    /// The cause, for counting failures by it: `cffi==2.1.1: CFFI does not support ...`.
    pub fn cause(&self) -> String {
        match &self.failed_dist {
            Some(failed) => format!("{failed}: {}", self.reason),
            None => self.reason.clone(),
        }
    }

    /// The distribution whose build failed, when a build is what failed.
    pub fn built(&self) -> Option<&str> {
        self.failed_dist.as_deref().filter(|_| self.what_failed() == "failed to build")
    }

    fn what_failed(&self) -> &'static str {
        if self.reason.contains("requires a different Python") || self.reason.contains("requires Python") {
            "cannot install on this Python"
        } else if self.reason.starts_with("no version") || self.reason.contains("No matching distribution") {
            "could not be found"
        } else {
            "failed to build"
        }
    }
}

/// Reads everything uv or pip said when an install failed.
pub fn explain(said: &str) -> Explanation {
    let lines: Vec<&str> = said.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if let Some(missing) = lines.iter().find_map(|l| l.strip_prefix("ERROR: No matching distribution found for ")) {
        return Explanation {
            failed_dist: Some(missing.to_string()),
            required_by: pip_parents(&lines, missing),
            reason: format!("no version of {missing} installs here (the index has none for this Python and platform)"),
        };
    }
    if let Some(line) = lines.iter().find(|l| l.contains("requires a different Python")) {
        let name = line.split('\'').nth(1).map(str::to_string);
        let required_by = name.as_deref().map(|n| pip_parents(&lines, n)).unwrap_or_default();
        return Explanation { failed_dist: name, required_by, reason: line.trim_start_matches("ERROR: ").to_string() };
    }
    if lines.iter().any(|l| l.contains("No solution found when resolving dependencies")) {
        let because = lines.iter().rev().find(|l| l.contains("Because") || l.contains("And because")).copied();
        return Explanation {
            failed_dist: None,
            required_by: Vec::new(),
            reason: because
                .unwrap_or("no solution found when resolving the dependencies")
                .trim_start_matches("╰─▶ ")
                .to_string(),
        };
    }
    let failed_dist = super::failed_to_build(said);
    let required_by = match &failed_dist {
        Some(dist) => uv_parent(&lines, dist).map(|p| vec![p]).unwrap_or_else(|| pip_parents(&lines, dist)),
        None => Vec::new(),
    };
    Explanation { failed_dist, required_by, reason: build_message(&lines).unwrap_or_else(|| super::telling_line(said)) }
}

/// The name part of a requirement (`cffi==2.1.1` → `cffi`).
fn name_of(requirement: &str) -> &str {
    requirement.split(['=', '<', '>', '!', '~', ' ', ';', '[', '(']).next().unwrap_or(requirement)
}

/// uv's hint: ``hint: `cffi` (v2.1.1) was included because `cryptography` (v50.0.2) depends on `cffi` ``.
fn uv_parent(lines: &[&str], dist: &str) -> Option<String> {
    let wanted = format!("`{}`", name_of(dist));
    lines.iter().find_map(|line| {
        let rest = line.strip_prefix("hint: ")?.strip_prefix(wanted.as_str())?;
        let parent = rest.split_once("was included because `")?.1.split_once('`')?.0;
        Some(parent.to_string())
    })
}

/// pip's `Collecting cffi>=1.14 (from cryptography==50.0.2)` lines, followed
/// up: the chain of parents, outermost first.
fn pip_parents(lines: &[&str], dist: &str) -> Vec<String> {
    let mut chain = Vec::new();
    let mut name = name_of(dist).to_ascii_lowercase();
    while chain.len() < 8 {
        let parent = lines.iter().find_map(|line| {
            let rest = line.strip_prefix("Collecting ")?;
            if name_of(rest).to_ascii_lowercase().replace('_', "-") != name.replace('_', "-") {
                return None;
            }
            let from = rest.split_once("(from ")?.1;
            let parent = name_of(from.trim_end_matches(')'));
            (!parent.is_empty() && !parent.starts_with('-')).then(|| parent.to_string())
        });
        let Some(parent) = parent.filter(|p| !chain.contains(p)) else { break };
        name = parent.to_ascii_lowercase();
        chain.insert(0, parent);
    }
    chain
}

/// The failing step's own last line: what uv quotes under `[stderr]` (or
/// `[stdout]`), what pip quotes before `[end of output]`, or a compiler's
/// `error:` line.
fn build_message(lines: &[&str]) -> Option<String> {
    let quoted_by_uv = lines.iter().position(|l| *l == "[stderr]" || *l == "[stdout]").and_then(|start| {
        lines[start + 1..].iter().take_while(|l| !l.starts_with("hint:")).filter(|l| !l.starts_with('[')).last()
    });
    let quoted_by_pip =
        lines.iter().position(|l| *l == "[end of output]").filter(|end| *end > 0).map(|end| &lines[end - 1]);
    // Lines that only say that something below failed: the step's own line is further down.
    let wrapper = |l: &str| {
        ["error: subprocess", "error: Failed", "failed to run custom build command", "could not compile"]
            .iter()
            .any(|w| l.contains(w))
    };
    let compiler = lines.iter().find(|l| l.contains("error:") && !l.starts_with("ERROR:") && !wrapper(l));
    compiler.or(quoted_by_uv).or(quoted_by_pip).map(|l| l.trim_start_matches("error: ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What uv 0.13.9 printed for the fixture package that requires the one
    /// whose build fails (tests/batch.rs serves both).
    const UV: &str = "Using Python 3.13.5 environment at: /tmp/venv-a\n\
        error: Failed to build `ftprobe-fixture-broken==1.0`\n  \
        cause: The build backend returned an error\n  \
        cause: Call to `setuptools.build_meta:__legacy__.get_requires_for_build_wheel` failed (exit status: 1)\n\n         \
        [stderr]\n         this package cannot be built (ftprobe fixture)\n\n\
        hint: `ftprobe-fixture-broken` (v1.0) was included because `ftprobe-fixture-needs-broken` (v1.0) depends on `ftprobe-fixture-broken==1.0`\n\n\
        hint: Build failures usually indicate a problem with the package or the build environment\n";

    /// What pip 25 printed for the same.
    const PIP: &str = "Collecting ftprobe-fixture-needs-broken\n  \
        Downloading http://127.0.0.1:8765/files/ftprobe_fixture_needs_broken-1.0-py3-none-any.whl (1.2 kB)\n\
        Collecting ftprobe-fixture-broken==1.0 (from ftprobe-fixture-needs-broken)\n  \
        Getting requirements to build wheel: finished with status 'error'\n  error: subprocess-exited-with-error\n  \n  \
        × Getting requirements to build wheel did not run successfully.\n  │ exit code: 1\n  ╰─> [1 lines of output]\n      \
        this package cannot be built (ftprobe fixture)\n      [end of output]\n  \n  \
        note: This error originates from a subprocess, and is likely not a problem with pip.\nerror: subprocess-exited-with-error\n";

    #[test]
    fn both_installers_name_the_build_that_failed_what_pulled_it_in_and_why() {
        let uv = explain(UV);
        assert_eq!(uv.failed_dist.as_deref(), Some("ftprobe-fixture-broken==1.0"));
        assert_eq!(uv.required_by, ["ftprobe-fixture-needs-broken"]);
        assert_eq!(uv.reason, "this package cannot be built (ftprobe fixture)");
        assert_eq!(
            uv.one_line(),
            "ftprobe-fixture-broken==1.0 (via ftprobe-fixture-needs-broken) failed to build: this package cannot be built (ftprobe fixture)"
        );
        let pip = explain(PIP);
        assert_eq!(pip.failed_dist.as_deref(), Some("ftprobe-fixture-broken==1.0"));
        assert_eq!(pip.required_by, ["ftprobe-fixture-needs-broken"]);
        assert_eq!(pip.reason, uv.reason);
    }

    #[test]
    fn a_compiler_line_and_the_resolvers_answers_are_read_too() {
        // As uv 0.13.9 quoted rpds-py 2026.9.1's build on 3.13t (from PyPI).
        let rust = "error: Failed to build `rpds-py==0.28.0`\n  [stderr]\n  \
                    error: failed to run custom build command for `pyo3-ffi v0.29.3`\n  --- stderr\n  \
                    error: PyO3 does not support the free-threaded build of CPython versions below 3.14\n  \
                    warning: build failed\nhint: `rpds-py` (v0.28.0) was included because `referencing` (v0.37) depends on `rpds-py`\n";
        let rust = explain(rust);
        assert_eq!(rust.reason, "PyO3 does not support the free-threaded build of CPython versions below 3.14");
        assert_eq!(rust.required_by, ["referencing"]);
        let missing = explain(
            "Collecting nothere (from app==1.0)\nERROR: Could not find a version that satisfies the requirement nothere (from versions: none)\n\
             ERROR: No matching distribution found for nothere\n",
        );
        assert_eq!(
            (missing.failed_dist.as_deref(), missing.required_by.as_slice()),
            (Some("nothere"), &["app".to_string()][..])
        );
        assert!(missing.one_line().starts_with("nothere (via app) could not be found: no version of nothere"));
        let python = explain("ERROR: Package 'newpkg' requires a different Python: 3.13.5 not in '>=3.14'\n");
        assert_eq!(python.failed_dist.as_deref(), Some("newpkg"));
        assert!(python.one_line().contains("cannot install on this Python"), "{}", python.one_line());
    }
}
