//! What a source tree says about its own tests: the project's name and
//! version, its test dependencies (PEP 735 `[dependency-groups]` `test` /
//! `tests`, the `test` / `tests` / `testing` extras, `requirements*test*.txt`),
//! where pytest should look, and the forge URLs an sdist names.

use std::path::{Path, PathBuf};

/// Groups and extras that hold test dependencies, in the order looked for.
const TEST_NAMES: [&str; 3] = ["test", "tests", "testing"];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Project {
    pub name: Option<String>,
    pub version: Option<String>,
    /// Test extras the project declares (installed as `name[extra]`).
    pub test_extras: Vec<String>,
    /// Requirements of the PEP 735 test group, includes expanded.
    pub group_requirements: Vec<String>,
    /// The group they came from.
    pub group: Option<String>,
    /// `requirements*test*.txt` files, relative to the tree (only looked for when there is no group).
    pub requirement_files: Vec<PathBuf>,
    /// pytest's configuration names `testpaths`: run it without paths.
    pub has_testpaths: bool,
    /// `tests`, `test` or `testing`, when one exists.
    pub test_dir: Option<String>,
    /// A `tests` or `test` package inside the code (`src/zope/interface/tests`):
    /// installed with it, so run with `pytest --pyargs`.
    pub tests_inside_package: bool,
    /// `Project-URL`s and `[project.urls]`: (label, URL).
    pub urls: Vec<(String, String)>,
}

impl Project {
    /// Where the test dependencies come from, for the results.
    pub fn describe_dependencies(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(group) = &self.group {
            out.push(format!("dependency-groups.{group}"));
        }
        out.extend(self.test_extras.iter().map(|e| format!("extra {e}")));
        out.extend(self.requirement_files.iter().map(|f| f.to_string_lossy().into_owned()));
        out
    }

    /// Whether the tree seems to hold tests at all.
    pub fn has_tests(&self) -> bool {
        self.has_testpaths || self.test_dir.is_some() || self.tests_inside_package
    }

    /// A repository URL on a forge, from the project's URLs.
    pub fn repository(&self) -> Option<String> {
        let forge = |url: &str| {
            ["github.com/", "gitlab.com/", "codeberg.org/", "bitbucket.org/", "git.sr.ht/"]
                .iter()
                .any(|f| url.contains(f))
        };
        let preferred = ["source", "source code", "repository", "code", "github", "homepage", "home"];
        for wanted in preferred {
            if let Some((_, url)) =
                self.urls.iter().find(|(label, url)| label.trim().eq_ignore_ascii_case(wanted) && forge(url))
            {
                return Some(trim_forge_url(url));
            }
        }
        self.urls.iter().find(|(_, url)| forge(url)).map(|(_, url)| trim_forge_url(url))
    }
}

/// `https://github.com/o/r/tree/main` → `https://github.com/o/r`.
fn trim_forge_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let parts: Vec<&str> = url.splitn(6, '/').collect();
    if parts.len() >= 5 { parts[..5].join("/") } else { url.to_string() }
}

/// Reads `root`'s pyproject.toml, PKG-INFO, setup.cfg and pytest configuration.
pub fn read(root: &Path) -> Project {
    let mut project = Project::default();
    let text = |name: &str| std::fs::read_to_string(root.join(name)).unwrap_or_default();
    let pyproject: toml::Table = toml::from_str(&text("pyproject.toml")).unwrap_or_default();
    let table = |t: &toml::Table, key: &str| t.get(key).and_then(|v| v.as_table()).cloned().unwrap_or_default();
    let meta = table(&pyproject, "project");
    project.name = meta.get("name").and_then(|v| v.as_str()).map(str::to_string);
    project.version = meta.get("version").and_then(|v| v.as_str()).map(str::to_string);
    let optional = table(&meta, "optional-dependencies");
    for (label, url) in table(&meta, "urls") {
        if let Some(url) = url.as_str() {
            project.urls.push((label, url.to_string()));
        }
    }
    let mut extras: Vec<String> = optional.keys().cloned().collect();
    // PKG-INFO (an sdist): the metadata a setup.py computed.
    for line in text("PKG-INFO").lines().take_while(|l| !l.is_empty()) {
        let Some((key, value)) = line.split_once(": ") else { continue };
        match key {
            "Name" if project.name.is_none() => project.name = Some(value.trim().to_string()),
            "Version" if project.version.is_none() => project.version = Some(value.trim().to_string()),
            "Provides-Extra" => extras.push(value.trim().to_string()),
            "Project-URL" => {
                if let Some((label, url)) = value.split_once(", ") {
                    project.urls.push((label.to_string(), url.to_string()));
                }
            }
            "Home-page" => project.urls.push(("homepage".into(), value.trim().to_string())),
            _ => {}
        }
    }
    let setup_cfg = text("setup.cfg");
    if project.name.is_none() {
        project.name = ini_value(&setup_cfg, "metadata", "name");
    }
    extras.extend(ini_keys(&setup_cfg, "options.extras_require"));
    project.test_extras = TEST_NAMES.iter().filter(|n| extras.iter().any(|e| e == *n)).map(|n| n.to_string()).collect();
    let groups = table(&pyproject, "dependency-groups");
    if let Some(group) = TEST_NAMES.iter().find(|n| groups.contains_key(**n)) {
        project.group = Some(group.to_string());
        project.group_requirements = expand_group(&groups, group, 0);
    }
    if project.group.is_none() {
        project.requirement_files = requirement_files(root);
    }
    let tool = table(&pyproject, "tool");
    let pytest = table(&tool, "pytest");
    project.has_testpaths = table(&pytest, "ini_options").contains_key("testpaths")
        || pytest.contains_key("testpaths")
        || ["pytest.ini", "tox.ini", "setup.cfg"].iter().any(|f| {
            let section = if *f == "setup.cfg" { "tool:pytest" } else { "pytest" };
            ini_value(&text(f), section, "testpaths").is_some()
        });
    project.test_dir = TEST_NAMES.iter().find(|d| root.join(d).is_dir()).map(|d| d.to_string());
    project.tests_inside_package = project.test_dir.is_none() && has_test_package(root, 0);
    project
}

/// A `tests` / `test` folder with `test_*.py` files below `dir` (at most
/// four levels down, hidden folders and `docs` left out).
fn has_test_package(dir: &Path, depth: u32) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "docs" || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        if depth > 0 && (name == "tests" || name == "test") {
            let holds_tests = std::fs::read_dir(&path).is_ok_and(|files| {
                files.filter_map(|f| f.ok()).any(|f| {
                    let file = f.file_name().to_string_lossy().into_owned();
                    file.starts_with("test_") && file.ends_with(".py")
                })
            });
            if holds_tests {
                return true;
            }
        }
        if depth < 4 && has_test_package(&path, depth + 1) {
            return true;
        }
    }
    false
}

/// A PEP 735 group's requirements, with `{include-group = ...}` expanded.
fn expand_group(groups: &toml::Table, name: &str, depth: u32) -> Vec<String> {
    let mut out = Vec::new();
    let Some(entries) = groups.get(name).and_then(|g| g.as_array()) else { return out };
    for entry in entries {
        if let Some(requirement) = entry.as_str() {
            out.push(requirement.to_string());
        } else if let Some(included) = entry.get("include-group").and_then(|i| i.as_str())
            && depth < 10
        {
            out.extend(expand_group(groups, included, depth + 1));
        }
    }
    out
}

/// `requirements*test*.txt` at the top and in `requirements/`.
fn requirement_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [root.to_path_buf(), root.join("requirements")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut names: Vec<String> = entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
        names.sort();
        for name in names {
            let lower = name.to_ascii_lowercase();
            let in_requirements_dir = dir != root;
            if lower.ends_with(".txt")
                && lower.contains("test")
                && (in_requirements_dir || lower.starts_with("requirements") || lower.starts_with("test-requirements"))
            {
                let path = dir.join(&name);
                found.push(path.strip_prefix(root).map(Path::to_path_buf).unwrap_or(path.clone()));
            }
        }
    }
    found
}

/// `key = value` in `[section]` of an INI file.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed.trim_matches(['[', ']']).trim() == section;
        } else if inside
            && let Some((k, v)) = trimmed.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().to_string());
        }
    }
    None
}

/// The keys of `[section]` of an INI file.
fn ini_keys(text: &str, section: &str) -> Vec<String> {
    let mut inside = false;
    let mut keys = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = trimmed.trim_matches(['[', ']']).trim() == section;
        } else if inside
            && !line.starts_with([' ', '\t'])
            && let Some((k, _)) = trimmed.split_once('=')
        {
            keys.push(k.trim().to_string());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_dependencies_come_from_groups_extras_and_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            r#"[project]
name = "demo"
version = "1.2"
optional-dependencies = { testing = ["hypothesis"], docs = ["sphinx"] }
urls = { Homepage = "https://demo.example", Source = "https://github.com/o/demo/tree/main" }
[dependency-groups]
lint = ["ruff"]
tests = ["pytest>=8", { include-group = "lint" }]
[tool.pytest.ini_options]
testpaths = ["tests"]
"#,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        let project = read(dir.path());
        assert_eq!(project.name.as_deref(), Some("demo"));
        assert_eq!(project.test_extras, ["testing"]);
        assert_eq!(project.group_requirements, ["pytest>=8", "ruff"]);
        assert!(project.has_testpaths && project.has_tests());
        assert_eq!(project.repository().as_deref(), Some("https://github.com/o/demo"));
        assert_eq!(project.describe_dependencies(), ["dependency-groups.tests", "extra testing"]);

        let old = tempfile::tempdir().unwrap();
        std::fs::write(old.path().join("PKG-INFO"), "Metadata-Version: 2.1\nName: old\nVersion: 0.1\nProvides-Extra: test\nProject-URL: Repository, https://gitlab.com/a/old\n\nbody").unwrap();
        std::fs::write(old.path().join("requirements-test.txt"), "pytest\n").unwrap();
        let project = read(old.path());
        assert_eq!((project.name.as_deref(), project.version.as_deref()), (Some("old"), Some("0.1")));
        assert_eq!(project.test_extras, ["test"]);
        assert_eq!(project.requirement_files, [PathBuf::from("requirements-test.txt")]);
        assert!(!project.has_tests());
        assert_eq!(project.repository().as_deref(), Some("https://gitlab.com/a/old"));
    }
}
