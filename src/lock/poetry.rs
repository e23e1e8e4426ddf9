//! `poetry.lock`: `[[package]]` entries with `[package.dependencies]`
//! (a constraint string, a table with `version`/`markers`/`optional`/
//! `extras`, or a list of such tables), `[package.extras]`, files with
//! their hashes (`files = [...]` or the old `[metadata.files]`), and,
//! since lock format 2.1, `groups` and `markers` per package.
//!
//! The lock file does not say which packages are the project's direct
//! dependencies: those come from the `pyproject.toml` beside it. Without
//! one the roots are unknown and every entry whose groups are selected
//! and whose markers hold installs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::markers::Marker;
use super::pyproject::{self, poetry_edges};
use super::toml_source::TomlSource;
use super::{
    Dependency, Hash, InstallRule, LockError, LockFormat, LockedDist, LockedFile, LockedSet, RootsFrom, Scope, Source,
    normalize, requirement,
};

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<Spanned<Package>>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Metadata {
    python_versions: Option<String>,
    #[serde(default)]
    files: BTreeMap<String, Vec<File>>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    develop: bool,
    category: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    markers: Option<Spanned<toml::Value>>,
    #[serde(default)]
    files: Vec<File>,
    #[serde(default)]
    dependencies: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    source: Option<PackageSource>,
}

#[derive(Deserialize)]
struct File {
    file: String,
    hash: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct PackageSource {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

/// Reads a poetry.lock and the pyproject.toml beside it, if any.
pub(super) fn read(path: &Path, text: &str) -> Result<LockedSet, LockError> {
    let source = TomlSource::new(path, text);
    let lock: PoetryLock = source.parse()?;
    let mut dists = Vec::with_capacity(lock.package.len());
    let mut lock_groups: Vec<String> = Vec::new();
    for package in &lock.package {
        let entry = package.get_ref();
        let files = if entry.files.is_empty() { lock.metadata.files.get(&entry.name) } else { Some(&entry.files) };
        let (wheels, sdist) = split_files(files.map(Vec::as_slice).unwrap_or_default());
        let groups: Vec<String> = if entry.groups.is_empty() {
            entry.category.iter().map(|category| normalize(category)).collect()
        } else {
            entry.groups.iter().map(|group| normalize(group)).collect()
        };
        lock_groups.extend(groups.iter().cloned());
        dists.push(LockedDist {
            name: normalize(&entry.name),
            version: Some(entry.version.clone()),
            specifier: None,
            source: source_of(entry),
            wheels,
            sdist,
            hashes: Vec::new(),
            marker: package_marker(&source, entry.markers.as_ref())?,
            groups,
            dependencies: edges(&source, entry)?,
            location: source.location(package.span().start),
        });
    }
    lock_groups.sort();
    lock_groups.dedup();
    lock_groups.retain(|group| group != "main");

    let project = pyproject::read_beside(path)?;
    let mut set = LockedSet {
        files: vec![path.to_path_buf()],
        format: LockFormat::PoetryLock,
        requires_python: lock.metadata.python_versions,
        supported_environments: None,
        roots: Vec::new(),
        roots_from: RootsFrom::Unknown,
        install_rule: InstallRule::EveryEntry,
        extras: Vec::new(),
        groups: lock_groups,
        default_groups: vec!["main".to_string()],
        indexes: Vec::new(),
        notes: Vec::new(),
        conflicts: Vec::new(),
        dists,
    };
    if let Some(project) = project {
        set.files.push(project.path);
        set.roots = project.roots;
        set.roots_from = RootsFrom::Pyproject;
        set.install_rule = InstallRule::WalkFromRoots;
        set.extras = project.extras;
        set.groups = project.groups;
    }
    Ok(set)
}

/// The edges of one package; an optional dependency becomes one edge per extra that names it.
fn edges(source: &TomlSource<'_>, package: &Package) -> Result<Vec<Dependency>, LockError> {
    let extras_naming = |name: &str| -> Vec<String> {
        package
            .extras
            .iter()
            .filter(|(_, listed)| listed.iter().any(|entry| listed_name(entry) == name))
            .map(|(extra, _)| normalize(extra))
            .collect()
    };
    let mut out = Vec::new();
    for (name, value) in &package.dependencies {
        for (edge, optional) in poetry_edges(source, name, value)? {
            if optional {
                let scoped = extras_naming(&edge.name)
                    .into_iter()
                    .map(|extra| Dependency { scope: Scope::Extra(extra), ..edge.clone() });
                out.extend(scoped);
            } else {
                out.push(edge);
            }
        }
    }
    Ok(out)
}

/// The package name an extras entry (`"trio (>=0.32.0)"`) names.
fn listed_name(entry: &str) -> String {
    match requirement::parse(entry) {
        Ok(parsed) => parsed.name,
        Err(_) => normalize(entry.split([' ', '(', '[', ';', '<', '>', '=', '!', '~']).next().unwrap_or(entry)),
    }
}

/// `markers = "..."`, or per group `markers = { main = "...", dev = "..." }` (any of them).
fn package_marker(
    source: &TomlSource<'_>,
    markers: Option<&Spanned<toml::Value>>,
) -> Result<Option<Marker>, LockError> {
    let Some(markers) = markers else {
        return Ok(None);
    };
    let texts: Vec<&str> = match markers.get_ref() {
        toml::Value::String(text) => vec![text.as_str()],
        toml::Value::Table(table) => table.values().filter_map(toml::Value::as_str).collect(),
        _ => Vec::new(),
    };
    let parsed = texts
        .into_iter()
        .map(|text| {
            Marker::parse(text).map_err(|problem| {
                source.error_at(markers.span().start, format!("bad environment marker `{text}`: {}", problem.message))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Marker::any_of(parsed))
}

fn split_files(files: &[File]) -> (Vec<LockedFile>, Option<LockedFile>) {
    let mut wheels = Vec::new();
    let mut sdist = None;
    for file in files {
        let locked = LockedFile {
            name: file.file.clone(),
            url: file.url.clone(),
            hashes: file.hash.as_deref().and_then(Hash::parse).into_iter().collect(),
            size: None,
        };
        if file.file.ends_with(".whl") {
            wheels.push(locked);
        } else if sdist.is_none() {
            sdist = Some(locked);
        }
    }
    (wheels, sdist)
}

fn source_of(package: &Package) -> Source {
    let Some(source) = &package.source else {
        return Source::DEFAULT_INDEX;
    };
    match source.kind.as_str() {
        "git" => Source::Git {
            url: source.url.clone(),
            reference: source.reference.clone(),
            commit: source.resolved_reference.clone(),
        },
        "directory" if package.develop => Source::Editable { path: source.url.clone() },
        "directory" | "file" => Source::Path { path: source.url.clone() },
        "url" => Source::Url { url: source.url.clone() },
        _ => Source::Registry { index: Some(source.url.clone()) },
    }
}

/// Poetry's constraint syntax (`^3.10`, `~3.11`, `>=3.9 <3.13`, `3.11.*`,
/// alternatives joined by `||`) as PEP 440 specifiers, one per
/// alternative; `None` for a form it does not know.
pub(super) fn pep440_alternatives(constraint: &str) -> Option<Vec<String>> {
    constraint
        .split("||")
        .map(|alternative| {
            let parts: Vec<String> = alternative
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|part| !part.is_empty())
                .map(pep440_part)
                .collect::<Option<_>>()?;
            Some(parts.into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join(", "))
        })
        .collect()
}

/// One comparison: `^X.Y.Z` and `~X.Y.Z` spelled out, a bare version as
/// `==`, `*` as nothing, the rest (`>=`, `<`, `!=`, `==`, `~=`) as it is.
fn pep440_part(part: &str) -> Option<String> {
    let numbers = |text: &str| -> Option<Vec<u64>> { text.split('.').map(|n| n.parse().ok()).collect() };
    let joined = |numbers: &[u64]| numbers.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
    if part == "*" {
        return Some(String::new());
    }
    if let Some(version) = part.strip_prefix('^') {
        let release = numbers(version)?;
        // The first non-zero number may not change (`^0.2.3` is below 0.3).
        let fixed = release.iter().position(|n| *n != 0).unwrap_or(release.len() - 1);
        let mut upper = release[..=fixed].to_vec();
        upper[fixed] += 1;
        return Some(format!(">={}, <{}", joined(&release), joined(&upper)));
    }
    if let Some(version) = part.strip_prefix('~').filter(|rest| !rest.starts_with('=')) {
        let release = numbers(version)?;
        let mut upper = release[..release.len().min(2)].to_vec();
        let last = upper.len() - 1;
        upper[last] += 1;
        return Some(format!(">={}, <{}", joined(&release), joined(&upper)));
    }
    if part.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!("=={part}"));
    }
    Some(part.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::lock::install::{Selection, installed};
    use crate::lock::markers::{Environment, Platform};

    fn fixture_path() -> PathBuf {
        crate::lock::test_fixtures::path("poetry/poetry/poetry.lock")
    }

    #[test]
    fn poetry_constraints_read_as_pep_440() {
        let read = |constraint: &str| pep440_alternatives(constraint);
        assert_eq!(read("^3.10").unwrap(), [">=3.10, <4"]);
        assert_eq!(read("^0.2.3").unwrap(), [">=0.2.3, <0.3"]);
        assert_eq!(read("~3.11").unwrap(), [">=3.11, <3.12"]);
        assert_eq!(read("~3.11.2").unwrap(), [">=3.11.2, <3.12"]);
        assert_eq!(read(">=3.9 <3.13").unwrap(), [">=3.9, <3.13"]);
        assert_eq!(read(">=3.9,<3.13").unwrap(), [">=3.9, <3.13"]);
        assert_eq!(read("3.11.*").unwrap(), ["==3.11.*"]);
        assert_eq!(read("~=3.10").unwrap(), ["~=3.10"]);
        assert_eq!(read("*").unwrap(), [""]);
        assert_eq!(read("~2.7 || ^3.6").unwrap(), [">=2.7, <2.8", ">=3.6, <4"]);
        assert_eq!(read("^three"), None);
    }

    #[test]
    fn reads_poetrys_own_lock_with_its_pyproject() {
        let set = crate::lock::read(&fixture_path()).unwrap();
        assert_eq!(set.format, LockFormat::PoetryLock);
        assert_eq!(set.dists.len(), 78);
        assert_eq!(set.roots_from, RootsFrom::Pyproject);
        assert_eq!(set.files.len(), 2);
        let xattr = set.dists_named("xattr").next().unwrap();
        assert_eq!(xattr.version.as_deref(), Some("1.3.0"));
        assert_eq!(xattr.marker.as_ref().unwrap().text(), "sys_platform == \"darwin\"");
        assert!(xattr.wheels.iter().any(|wheel| wheel.name == "xattr-1.3.0-cp310-cp310-macosx_11_0_arm64.whl"));
        assert!(xattr.wheels.iter().all(|wheel| wheel.sha256().is_some()));
        let anyio = set.dists_named("anyio").next().unwrap();
        let exceptiongroup = anyio.dependencies.iter().find(|edge| edge.name == "exceptiongroup").unwrap();
        assert_eq!(exceptiongroup.version.as_deref(), Some(">=1.0.2"));
        assert_eq!(exceptiongroup.marker.as_ref().unwrap().text(), "python_version < \"3.11\"");
        let core = set.dists_named("poetry-core").next().unwrap();
        assert!(
            matches!(&core.source, Source::Git { url, .. } if url == "https://github.com/python-poetry/poetry-core.git")
        );
        assert!(set.roots.iter().any(|root| root.name == "dulwich" && root.scope == Scope::Always));
        assert!(set.roots.iter().any(|root| root.name == "pytest" && root.scope == Scope::Group("test".into())));
        let xattr_root = set.roots.iter().find(|root| root.name == "xattr").unwrap();
        assert_eq!(xattr_root.marker.as_ref().unwrap().text(), "sys_platform == 'darwin'");
        assert!(set.groups.contains(&"github-actions".to_string()));
    }

    #[test]
    fn walks_from_the_pyproject_roots() {
        let set = crate::lock::read(&fixture_path()).unwrap();
        let linux = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let mac = Environment::new(3, 13, true, Platform::MacosArm64);
        let names = |environment: &Environment, selection: &Selection| -> Vec<String> {
            installed(&set, environment, selection).iter().map(|dist| dist.name.clone()).collect()
        };
        let everything = names(&linux, &Selection::default());
        assert!(!everything.contains(&"xattr".to_string()));
        assert!(names(&mac, &Selection::default()).contains(&"xattr".to_string()));
        assert!(everything.contains(&"pytest".to_string()));
        assert!(everything.contains(&"psutil".to_string()), "pytest-xdist[psutil] turns on psutil");
        assert!(!everything.contains(&"exceptiongroup".to_string()), "only below 3.11");
        let main_only = names(&linux, &Selection::no_groups());
        assert!(!main_only.contains(&"pytest".to_string()));
        assert!(main_only.contains(&"dulwich".to_string()));
        assert!(main_only.contains(&"cachecontrol".to_string()));
        assert!(main_only.contains(&"filelock".to_string()), "cachecontrol[filecache] turns on filelock");
    }

    #[test]
    fn without_a_pyproject_the_roots_are_unknown() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("poetry.lock");
        std::fs::copy(fixture_path(), &path).unwrap();
        let set = crate::lock::read(&path).unwrap();
        assert_eq!(set.roots_from, RootsFrom::Unknown);
        assert!(set.roots.is_empty());
        assert_eq!(set.install_rule, InstallRule::EveryEntry);
        let linux = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let names: Vec<String> =
            installed(&set, &linux, &Selection::no_groups()).iter().map(|dist| dist.name.clone()).collect();
        assert!(names.contains(&"dulwich".to_string()));
        assert!(!names.contains(&"pytest".to_string()));
        assert!(!names.contains(&"xattr".to_string()));
    }

    const CLASSIC: &str = include_str!("../../fixtures/lockfiles/handmade/poetry-classic.lock");

    #[test]
    fn reads_the_classic_layout_with_tool_poetry_roots() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("poetry.lock");
        std::fs::write(&path, CLASSIC).unwrap();
        let pyproject = "[tool.poetry]\nname = \"app\"\n\n[tool.poetry.dependencies]\npython = \"^3.8\"\nrequests = { version = \"^2.31\", extras = [\"socks\"] }\n";
        std::fs::write(directory.path().join("pyproject.toml"), pyproject).unwrap();
        let set = crate::lock::read(&path).unwrap();
        let requests = set.dists_named("requests").next().unwrap();
        assert_eq!(requests.wheels.len(), 1);
        assert_eq!(requests.sdist.as_ref().unwrap().name, "requests-2.31.0.tar.gz");
        assert_eq!(requests.groups, ["main"]);
        let socks = requests.dependencies.iter().find(|edge| edge.name == "pysocks").unwrap();
        assert_eq!(socks.scope, Scope::Extra("socks".into()));
        assert_eq!(requests.dependencies.iter().filter(|edge| edge.name == "urllib3").count(), 2);
        assert_eq!(set.roots.len(), 1);
        assert_eq!(set.roots[0].extras, ["socks"]);
        let linux = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let names: Vec<String> =
            installed(&set, &linux, &Selection::default()).iter().map(|dist| dist.name.clone()).collect();
        assert_eq!(names, ["requests", "pysocks", "urllib3"]);
    }

    #[test]
    fn malformed_poetry_lock_names_line_and_column() {
        let broken = CLASSIC.replace(
            "python-versions = \"*\"\ncategory = \"main\"\n\n[[package]]\nname = \"urllib3\"",
            "python-versions = \"*\"\ncategory = \"main\"\n\n[[package]]\nname = urllib3",
        );
        let error = read(Path::new("poetry.lock"), &broken).unwrap_err().to_string();
        assert_eq!(error, "poetry.lock:28:8: string values must be quoted, expected literal string");
    }
}
