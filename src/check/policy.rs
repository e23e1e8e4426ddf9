//! What counts as a failure: the `[tool.ftprobe]` table of a project's
//! pyproject.toml, merged with command-line flags (flags add to it).

use std::path::Path;

use serde::Deserialize;

/// The policy of one `ftprobe check` run.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Policy {
    /// The package must ship free-threaded wheels whose modules keep the GIL off.
    #[serde(default)]
    pub require_free_threading: bool,
    /// Every extension module must support isolated (own-GIL) subinterpreters.
    #[serde(default)]
    pub require_isolated_subinterpreters: bool,
    /// Modules whose problems are tolerated.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Rule codes that are ignored (an unknown code is an error that lists the valid ones).
    #[serde(default)]
    pub ignore: Vec<crate::diagnostic::rules::Rule>,
    /// Interpreters for the runtime probes.
    #[serde(default)]
    pub python: Vec<String>,
}

#[derive(Deserialize)]
struct PyProject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    ftprobe: Option<Policy>,
}

/// The largest pyproject.toml read (real ones are a few kilobytes).
const POLICY_FILE_LIMIT: u64 = 1 << 20;

/// Why the policy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Read(#[from] crate::input::InputError),
    #[error("`{path}`: [tool.ftprobe] is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// The `[tool.ftprobe]` table of `path` (an empty policy when it has none).
pub fn load(path: &Path) -> Result<Policy, PolicyError> {
    let shown = path.display().to_string();
    let text = crate::input::read_text_limited(path, POLICY_FILE_LIMIT, "; is this really a pyproject.toml?")?;
    parse(&text).map_err(|e| PolicyError::Invalid { path: shown, message: e.message().to_string() })
}

/// The `[tool.ftprobe]` table of a pyproject.toml's text; the error's
/// `message()` says what is wrong without the TOML excerpt.
pub fn parse(text: &str) -> Result<Policy, toml::de::Error> {
    let project: PyProject = toml::from_str(text)?;
    Ok(project.tool.and_then(|t| t.ftprobe).unwrap_or_default())
}

impl Policy {
    /// This policy with the command line's flags and lists added.
    pub fn merged(mut self, flags: &crate::cli::CheckArgs) -> Policy {
        self.require_free_threading |= flags.require_free_threading;
        self.require_isolated_subinterpreters |= flags.require_isolated_subinterpreters;
        self.allow.extend(flags.allow.iter().cloned());
        self.ignore.extend(flags.ignore.iter().copied());
        if !flags.pythons.is_empty() {
            self.python = flags.pythons.clone();
        }
        self
    }

    /// Whether problems of `module` (dotted) are tolerated: the module or a package containing it is allowed.
    pub fn allows(&self, module: &str) -> bool {
        self.allow.iter().any(|a| module == a || module.starts_with(&format!("{a}.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tool_table() {
        let policy = parse(
            "[project]\nname = \"x\"\n[tool.ftprobe]\nrequire-free-threading = true\nallow = [\"pkg._slow\"]\nignore = [\"abi3-not-loadable-free-threaded\"]\n",
        )
        .unwrap();
        assert!(policy.require_free_threading && !policy.require_isolated_subinterpreters);
        assert!(policy.allows("pkg._slow") && policy.allows("pkg._slow.inner") && !policy.allows("pkg._slower"));
        assert_eq!(policy.ignore, [crate::diagnostic::rules::Rule::Abi3NotLoadableFreeThreaded]);
    }

    #[test]
    fn no_table_is_an_empty_policy_and_typos_are_errors() {
        assert_eq!(parse("[project]\nname = \"x\"\n").unwrap(), Policy::default());
        let error = parse("[tool.ftprobe]\nrequire-freethreading = true\n").unwrap_err().message().to_string();
        assert!(error.contains("require-freethreading"), "{error}");
        let error = parse("[tool.ftprobe]\nignore = [\"gil-reenabeld\"]\n").unwrap_err().message().to_string();
        assert!(error.contains("gil-reenabeld") && error.contains("gil-reenabled"), "{error}");
    }
}
