//! `pdm.lock`: `[[package]]` entries with `dependencies` as PEP 508
//! strings, `files = [{file, hash}]`, `groups`, `marker` and
//! `requires_python`. An entry with `extras = [...]` is the same
//! distribution with those extras on; its dependencies are folded into
//! the plain entry as that extra's edges.
//!
//! With the `inherit_metadata` strategy (pdm's default) every entry says
//! its groups and marker, and that decides what installs, as in pdm
//! itself; older locks are walked from the roots in `pyproject.toml`.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::pyproject;
use super::toml_source::TomlSource;
use super::{
    Dependency, Hash, InstallRule, LockError, LockFormat, LockedDist, LockedFile, LockedSet, RootsFrom, Scope, Source,
    normalize,
};

#[derive(Deserialize)]
struct PdmLock {
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    package: Vec<Spanned<Package>>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    groups: Vec<String>,
    requires_python: Option<String>,
    #[serde(default)]
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    requires_python: Option<String>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    marker: Option<Spanned<String>>,
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
    #[serde(default)]
    files: Vec<File>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    revision: Option<String>,
    path: Option<String>,
    url: Option<String>,
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
struct File {
    file: Option<String>,
    url: Option<String>,
    hash: Option<String>,
}

/// Reads a pdm.lock and the pyproject.toml beside it, if any.
pub(super) fn read(path: &Path, text: &str) -> Result<LockedSet, LockError> {
    let source = TomlSource::new(path, text);
    let lock: PdmLock = source.parse()?;
    let mut dists: Vec<LockedDist> = Vec::with_capacity(lock.package.len());
    let mut variants: Vec<ExtrasVariant> = Vec::new();
    for package in &lock.package {
        let entry = package.get_ref();
        let mut dependencies = Vec::with_capacity(entry.dependencies.len());
        for listed in &entry.dependencies {
            let requirement = source.requirement(listed)?;
            let version = requirement.pinned_version().or(requirement.specifier);
            dependencies.push(Dependency {
                name: requirement.name,
                extras: requirement.extras,
                marker: requirement.marker,
                version,
                scope: Scope::Always,
            });
        }
        let (wheels, sdist) = split_files(&entry.files);
        let dist = LockedDist {
            name: normalize(&entry.name),
            version: entry.version.clone(),
            specifier: None,
            source: source_of(entry),
            wheels,
            sdist,
            hashes: Vec::new(),
            marker: source.optional_marker(entry.marker.as_ref())?,
            groups: entry.groups.iter().map(|group| normalize(group)).collect(),
            dependencies,
            location: source.location(package.span().start),
        };
        if entry.extras.is_empty() {
            dists.push(dist);
        } else {
            let extras = entry.extras.iter().map(|extra| normalize(extra)).collect();
            variants.push(ExtrasVariant { extras, dist });
        }
    }
    for variant in variants {
        fold_variant(&mut dists, variant);
    }

    let every_entry_grouped = !dists.is_empty() && dists.iter().all(|dist| !dist.groups.is_empty());
    let mut groups: Vec<String> = lock.metadata.groups.iter().map(|group| normalize(group)).collect();
    groups.retain(|group| group != "default");
    // Targets with different ranges (a lock made for 3.12 and for 3.13) admit
    // their union, which one specifier cannot say: then the range is not known.
    let mut ranges: Vec<&String> = lock.metadata.targets.iter().filter_map(|t| t.requires_python.as_ref()).collect();
    ranges.sort();
    ranges.dedup();
    let requires_python = match ranges.as_slice() {
        [] => lock.metadata.requires_python.clone(),
        [one] => Some((*one).clone()),
        _ => None,
    };
    let mut set = LockedSet {
        files: vec![path.to_path_buf()],
        format: LockFormat::PdmLock,
        requires_python,
        supported_environments: None,
        roots: Vec::new(),
        roots_from: RootsFrom::Unknown,
        install_rule: InstallRule::EveryEntry,
        extras: Vec::new(),
        groups,
        default_groups: vec!["default".to_string()],
        indexes: Vec::new(),
        notes: Vec::new(),
        conflicts: Vec::new(),
        dists,
    };
    if let Some(project) = pyproject::read_beside(path)? {
        set.files.push(project.path);
        set.roots = project.roots;
        set.roots_from = RootsFrom::Pyproject;
        set.extras = project.extras;
        if !every_entry_grouped {
            set.install_rule = InstallRule::WalkFromRoots;
            set.groups = project.groups;
        }
    }
    Ok(set)
}

/// An entry such as `httpx` with `extras = ["socks"]`: the same
/// distribution, its dependencies being those the extras add.
struct ExtrasVariant {
    extras: Vec<String>,
    dist: LockedDist,
}

/// Adds a variant's dependencies to its plain entry as edges of its extras;
/// a variant without a plain entry stays an entry of its own.
fn fold_variant(dists: &mut Vec<LockedDist>, variant: ExtrasVariant) {
    let ExtrasVariant { extras, dist } = variant;
    let Some(plain) = dists.iter_mut().find(|plain| plain.name == dist.name && plain.version == dist.version) else {
        dists.push(dist);
        return;
    };
    for edge in dist.dependencies.into_iter().filter(|edge| edge.name != dist.name) {
        for extra in &extras {
            plain.dependencies.push(Dependency { scope: Scope::Extra(extra.clone()), ..edge.clone() });
        }
    }
}

fn split_files(files: &[File]) -> (Vec<LockedFile>, Option<LockedFile>) {
    let mut wheels = Vec::new();
    let mut sdist = None;
    for file in files {
        let name = file.file.clone().or_else(|| file.url.as_deref().map(super::file_name_of)).unwrap_or_default();
        let wheel = name.ends_with(".whl");
        let locked = LockedFile {
            name,
            url: file.url.clone(),
            hashes: file.hash.as_deref().and_then(Hash::parse).into_iter().collect(),
            size: None,
        };
        if wheel {
            wheels.push(locked);
        } else if sdist.is_none() {
            sdist = Some(locked);
        }
    }
    (wheels, sdist)
}

fn source_of(package: &Package) -> Source {
    if let Some(url) = &package.git {
        return Source::Git {
            url: url.clone(),
            reference: package.reference.clone(),
            commit: package.revision.clone(),
        };
    }
    if let Some(path) = &package.path {
        let path = path.clone();
        return if package.editable { Source::Editable { path } } else { Source::Path { path } };
    }
    if let Some(url) = &package.url {
        return Source::Url { url: url.clone() };
    }
    Source::DEFAULT_INDEX
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::lock::install::{Choice, Selection, installed};
    use crate::lock::markers::{Environment, Platform};

    fn fixture_path() -> PathBuf {
        crate::lock::test_fixtures::path("pdm/pdm/pdm.lock")
    }

    #[test]
    fn targets_with_different_ranges_leave_the_range_unknown() {
        let lock = |targets: &str| {
            let text = format!("[metadata]\ngroups = [\"default\"]\nlock_version = \"4.5.1\"\n{targets}");
            read(Path::new("pdm.lock"), &text).unwrap()
        };
        let target = |range: &str| format!("\n[[metadata.targets]]\nrequires_python = \"{range}\"\n");
        assert_eq!(lock(&target("==3.12.*")).requires_python.as_deref(), Some("==3.12.*"));
        let same = [target(">=3.10"), target(">=3.10")].concat();
        assert_eq!(lock(&same).requires_python.as_deref(), Some(">=3.10"));
        let two = [target("==3.13.*"), target("==3.12.*")].concat();
        assert_eq!(lock(&two).requires_python, None);
    }

    #[test]
    fn reads_pdms_own_lock() {
        let set = crate::lock::read(&fixture_path()).unwrap();
        assert_eq!(set.format, LockFormat::PdmLock);
        // 100 entries, 4 of them extras variants folded into their plain entry.
        assert_eq!(set.dists.len(), 96);
        assert_eq!(set.requires_python.as_deref(), Some(">=3.10"));
        assert_eq!(set.roots_from, RootsFrom::Pyproject);
        assert_eq!(set.install_rule, InstallRule::EveryEntry);
        let anyio = set.dists_named("anyio").next().unwrap();
        assert_eq!(anyio.version.as_deref(), Some("4.13.0"));
        assert_eq!(anyio.groups, ["default", "test"]);
        let exceptiongroup = anyio.dependencies.iter().find(|edge| edge.name == "exceptiongroup").unwrap();
        assert_eq!(exceptiongroup.marker.as_ref().unwrap().text(), "python_version < \"3.11\"");
        assert_eq!(anyio.wheels[0].name, "anyio-4.13.0-py3-none-any.whl");
        assert!(anyio.sdist.is_some());
        let httpx: Vec<_> = set.dists_named("httpx").collect();
        assert_eq!(httpx.len(), 1);
        let socksio = httpx[0].dependencies.iter().find(|edge| edge.name == "socksio").unwrap();
        assert_eq!(socksio.scope, Scope::Extra("socks".into()));
        assert!(set.roots.iter().any(|root| root.name == "httpx" && root.extras == ["socks"]));
        assert!(set.roots.iter().any(|root| root.name == "keyring" && root.scope == Scope::Extra("keyring".into())));
        let coverage: Vec<_> = set.dists_named("coverage").collect();
        assert_eq!(coverage.len(), 1, "coverage[toml] is folded into coverage");
        let tomli = coverage[0].dependencies.iter().find(|edge| edge.name == "tomli").unwrap();
        assert_eq!(tomli.scope, Scope::Extra("toml".into()));
        assert_eq!(tomli.marker.as_ref().unwrap().text(), "python_full_version <= \"3.11.0a6\"");
    }

    #[test]
    fn groups_and_markers_decide() {
        let set = crate::lock::read(&fixture_path()).unwrap();
        let linux = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let names = |selection: &Selection| -> Vec<String> {
            installed(&set, &linux, selection).iter().map(|dist| dist.name.clone()).collect()
        };
        let default_only = names(&Selection { extras: Choice::none(), groups: Choice::none(), no_dev: false });
        assert!(default_only.contains(&"httpx".to_string()));
        assert!(!default_only.contains(&"pytest".to_string()));
        assert!(!default_only.contains(&"exceptiongroup".to_string()), "exceptiongroup is only below 3.11");
        assert!(!default_only.contains(&"cryptography".to_string()), "cryptography comes with the keyring extra");
        let everything = names(&Selection::default());
        assert!(everything.contains(&"pytest".to_string()));
        assert!(everything.contains(&"cryptography".to_string()));
        assert_eq!(everything.iter().filter(|name| *name == "coverage").count(), 1);
        let keyring = Selection { extras: Choice::only(["keyring"]), groups: Choice::none(), no_dev: false };
        let mac = Environment::new(3, 13, true, Platform::MacosArm64);
        let on_mac: Vec<String> = installed(&set, &mac, &keyring).iter().map(|dist| dist.name.clone()).collect();
        assert!(on_mac.contains(&"keyring".to_string()));
        assert!(!on_mac.contains(&"cryptography".to_string()), "cryptography is linux-only here");
        assert!(names(&keyring).contains(&"cryptography".to_string()));
    }

    #[test]
    fn a_bad_dependency_string_names_its_place() {
        let text = "[metadata]\ngroups = [\"default\"]\n\n[[package]]\nname = \"a\"\nversion = \"1\"\ndependencies = [\n    \"b>=1; python_version <\",\n]\n";
        let error = read(Path::new("pdm.lock"), text).unwrap_err().to_string();
        assert!(error.starts_with("pdm.lock:8:28:"), "{error}");
    }
}
