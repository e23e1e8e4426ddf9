//! `--registry FILE`: per-package overrides for `ftprobe test`, never a
//! requirement. A TOML list of `[[package]]` tables:
//!
//! ```toml
//! [[package]]
//! name = "markupsafe"
//! repository = "https://github.com/pallets/markupsafe"  # when the sdist has no tests
//! test_command = "python -m pytest tests -x"            # instead of the default pytest run
//! extra_deps = ["hypothesis"]
//! timeout = 900                                          # seconds per iteration
//! skip_tests = ["tests/test_speedups.py::test_slow"]    # passed as --deselect
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub test_command: Option<String>,
    #[serde(default)]
    pub extra_deps: Vec<String>,
    #[serde(default)]
    pub timeout: Option<f64>,
    #[serde(default)]
    pub skip_tests: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    package: Vec<Entry>,
}

/// Entries by normalised name.
#[derive(Clone, Debug, Default)]
pub struct Registry(BTreeMap<String, Entry>);

impl Registry {
    pub fn read(path: &Path) -> Result<Registry> {
        let text = crate::input::read_text_limited(path, 16 << 20, "")
            .with_context(|| format!("cannot read --registry {}", path.display()))?;
        let file: File = toml::from_str(&text)
            .with_context(|| format!("{} is not a registry ([[package]] tables with name, repository, test_command, extra_deps, timeout, skip_tests)", path.display()))?;
        Ok(Registry(file.package.into_iter().map(|e| (crate::model::name::normalize(&e.name), e)).collect()))
    }

    pub fn get(&self, package: &str) -> Option<&Entry> {
        self.0.get(&crate::model::name::normalize(package))
    }
}
