//! `uv.lock`: uv's universal lock file (`version = 1`). Every package
//! is a `[[package]]`, the project itself included (`source = { editable
//! = "." }` or `{ virtual = "." }`): its dependencies, optional
//! dependencies and dependency groups are the roots. One name may be
//! locked at several versions for different `resolution-markers`; edges
//! then carry the `version` they mean.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::toml_source::TomlSource;
use super::{
    ConflictItem, Dependency, Hash, InstallRule, LockError, LockFormat, LockedDist, LockedFile, LockedSet,
    OptionalPart, RootsFrom, Scope, Source, file_name_of, normalize,
};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvLock {
    version: Spanned<i64>,
    requires_python: Option<String>,
    #[serde(default)]
    supported_markers: Vec<Spanned<String>>,
    #[serde(default)]
    manifest: Option<UvManifest>,
    #[serde(default)]
    package: Vec<Spanned<UvPackage>>,
    #[serde(default)]
    conflicts: Vec<Vec<UvConflictItem>>,
}

/// `{ package = "project", extra = "cpu" }` or `{ package = "project", group = "dev" }`.
#[derive(Deserialize)]
struct UvConflictItem {
    package: String,
    extra: Option<String>,
    group: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct UvManifest {
    #[serde(default)]
    members: Vec<String>,
    /// What a workspace root that is no project asks for itself, beside its members.
    #[serde(default)]
    requirements: Vec<UvDependency>,
    /// That root's `[dependency-groups]`.
    #[serde(default)]
    dependency_groups: BTreeMap<String, Vec<UvDependency>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvPackage {
    name: String,
    version: Option<String>,
    source: Option<UvSource>,
    #[serde(default)]
    resolution_markers: Vec<Spanned<String>>,
    #[serde(default)]
    dependencies: Vec<UvDependency>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<UvDependency>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<UvDependency>>,
    sdist: Option<UvFile>,
    #[serde(default)]
    wheels: Vec<UvFile>,
}

/// An edge, `{ name = "rich", extra = ["jupyter"], version = "14.0.0" }`,
/// or a requirement of the manifest, `{ name = "pytest", extras = [...],
/// specifier = "==9.0.3" }`.
#[derive(Deserialize)]
struct UvDependency {
    name: String,
    #[serde(default, alias = "extras")]
    extra: Vec<String>,
    marker: Option<Spanned<String>>,
    /// The exact version an edge means, or the specifier a requirement asks for.
    #[serde(alias = "specifier")]
    version: Option<String>,
}

#[derive(Deserialize, Default)]
struct UvSource {
    registry: Option<String>,
    git: Option<String>,
    path: Option<String>,
    directory: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_path: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct UvFile {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
}

/// Reads a uv.lock.
pub(super) fn read(path: &Path, text: &str) -> Result<LockedSet, LockError> {
    let source = TomlSource::new(path, text);
    let lock: UvLock = source.parse()?;
    if *lock.version.get_ref() != 1 {
        let message =
            format!("uv.lock version {} is not one ftprobe reads (it reads version 1)", lock.version.get_ref());
        return Err(source.error_at(lock.version.span().start, message));
    }
    let mut dists = Vec::with_capacity(lock.package.len());
    let mut roots = Vec::new();
    let mut extras = Vec::new();
    let mut groups = Vec::new();
    let projects = project_names(&lock);
    for package in &lock.package {
        let entry = package.get_ref();
        let mut dependencies = edges(&source, &entry.dependencies, &Scope::Always)?;
        for (extra, listed) in &entry.optional_dependencies {
            dependencies.extend(edges(&source, listed, &Scope::Extra(normalize(extra)))?);
        }
        let dependency_source = entry.source.as_ref().map_or(Source::DEFAULT_INDEX, source_of);
        let is_project = projects.contains(&entry.name);
        if is_project {
            for (group, listed) in &entry.dev_dependencies {
                dependencies.extend(edges(&source, listed, &Scope::Group(normalize(group)))?);
            }
            roots.extend(dependencies.iter().cloned());
            extras.extend(entry.optional_dependencies.keys().map(|extra| normalize(extra)));
            groups.extend(entry.dev_dependencies.keys().map(|group| normalize(group)));
        }
        dists.push(LockedDist {
            name: normalize(&entry.name),
            version: entry.version.clone(),
            specifier: None,
            source: dependency_source,
            wheels: entry.wheels.iter().map(locked_file).collect(),
            sdist: entry.sdist.as_ref().map(locked_file),
            hashes: Vec::new(),
            marker: source.any_marker(&entry.resolution_markers)?,
            groups: Vec::new(),
            dependencies,
            location: source.location(package.span().start),
        });
    }
    let (root_asks, root_groups) = non_project_root(&source, lock.manifest.as_ref())?;
    roots.extend(root_asks);
    extras.dedup();
    groups.dedup();
    for group in root_groups {
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    let supported_environments = source.any_marker(&lock.supported_markers)?;
    let roots_from = if projects.is_empty() && roots.is_empty() { RootsFrom::Unknown } else { RootsFrom::LockFile };
    Ok(LockedSet {
        files: vec![path.to_path_buf()],
        format: LockFormat::UvLock,
        requires_python: lock.requires_python,
        supported_environments,
        roots_from,
        roots,
        install_rule: InstallRule::WalkFromRoots,
        extras,
        groups,
        default_groups: Vec::new(),
        indexes: Vec::new(),
        notes: Vec::new(),
        conflicts: lock.conflicts.iter().map(|members| members.iter().filter_map(conflict_item).collect()).collect(),
        dists,
    })
}

/// The project packages whose dependencies are the roots: the one at `.`,
/// else the workspace members, else every editable or virtual package.
fn project_names(lock: &UvLock) -> Vec<String> {
    let local = |package: &UvPackage| -> Option<String> {
        let source = package.source.as_ref()?;
        source.editable.clone().or_else(|| source.virtual_path.clone())
    };
    let packages = || lock.package.iter().map(Spanned::get_ref);
    let at_root: Vec<String> = packages()
        .filter(|package| local(package).as_deref() == Some("."))
        .map(|package| package.name.clone())
        .collect();
    if !at_root.is_empty() {
        return at_root;
    }
    let members: Vec<String> = lock.manifest.as_ref().map(|manifest| manifest.members.clone()).unwrap_or_default();
    let members: Vec<String> = members.iter().map(|member| normalize(member)).collect();
    let in_workspace: Vec<String> = packages()
        .filter(|package| local(package).is_some() && members.contains(&normalize(&package.name)))
        .map(|package| package.name.clone())
        .collect();
    if !in_workspace.is_empty() {
        return in_workspace;
    }
    packages().filter(|package| local(package).is_some()).map(|package| package.name.clone()).collect()
}

/// The requirements and dependency groups of a workspace root that is no
/// project (its pyproject.toml has no `[project]`): uv records them in the
/// manifest, and `uv sync` there installs them with every member.
fn non_project_root(
    source: &TomlSource<'_>,
    manifest: Option<&UvManifest>,
) -> Result<(Vec<Dependency>, Vec<String>), LockError> {
    let Some(manifest) = manifest else { return Ok((Vec::new(), Vec::new())) };
    let mut roots = edges(source, &manifest.requirements, &Scope::Always)?;
    for (group, listed) in &manifest.dependency_groups {
        roots.extend(edges(source, listed, &Scope::Group(normalize(group)))?);
    }
    Ok((roots, manifest.dependency_groups.keys().map(|group| normalize(group)).collect()))
}

fn conflict_item(item: &UvConflictItem) -> Option<ConflictItem> {
    let part = match (&item.extra, &item.group) {
        (Some(extra), _) => OptionalPart::Extra(normalize(extra)),
        (None, Some(group)) => OptionalPart::Group(normalize(group)),
        (None, None) => return None,
    };
    Some(ConflictItem { package: normalize(&item.package), part })
}

fn edges(source: &TomlSource<'_>, listed: &[UvDependency], scope: &Scope) -> Result<Vec<Dependency>, LockError> {
    listed
        .iter()
        .map(|dependency| {
            Ok(Dependency {
                name: normalize(&dependency.name),
                extras: dependency.extra.iter().map(|extra| normalize(extra)).collect(),
                marker: source.optional_marker(dependency.marker.as_ref())?,
                version: dependency.version.clone().filter(|version| !version.is_empty()),
                scope: scope.clone(),
            })
        })
        .collect()
}

fn source_of(source: &UvSource) -> Source {
    if let Some(index) = &source.registry {
        return Source::Registry { index: Some(index.clone()) };
    }
    if let Some(git) = &source.git {
        return git_source(git);
    }
    if let Some(path) = &source.editable {
        return Source::Editable { path: path.clone() };
    }
    if let Some(path) = &source.virtual_path {
        return Source::Virtual { path: path.clone() };
    }
    if let Some(url) = &source.url {
        return Source::Url { url: url.clone() };
    }
    match source.path.as_ref().or(source.directory.as_ref()) {
        Some(path) => Source::Path { path: path.clone() },
        None => Source::DEFAULT_INDEX,
    }
}

/// `https://host/repo?rev=main#0123abc` → URL, reference, commit.
fn git_source(text: &str) -> Source {
    let (before_fragment, commit) = match text.split_once('#') {
        Some((before, commit)) => (before, Some(commit.to_string())),
        None => (text, None),
    };
    let (url, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
    let reference = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| matches!(*key, "rev" | "branch" | "tag"))
        .map(|(_, value)| value.to_string());
    Source::Git { url: url.to_string(), reference, commit }
}

fn locked_file(file: &UvFile) -> LockedFile {
    let location = file.url.as_ref().or(file.path.as_ref());
    let name = file.filename.clone().or_else(|| location.map(|location| file_name_of(location))).unwrap_or_default();
    LockedFile {
        name,
        url: file.url.clone(),
        hashes: file.hash.as_deref().and_then(Hash::parse).into_iter().collect(),
        size: file.size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::install::{Selection, installed};
    use crate::lock::markers::{Environment, Platform};

    fn fixture() -> LockedSet {
        crate::lock::test_fixtures::read("uv/mitmproxy/uv.lock")
    }

    #[test]
    fn reads_mitmproxy_uv_lock() {
        let set = fixture();
        assert_eq!(set.format, LockFormat::UvLock);
        assert_eq!(set.dists.len(), 117);
        assert_eq!(set.roots_from, RootsFrom::LockFile);
        let cryptography = set.dists_named("cryptography").next().unwrap();
        assert_eq!(cryptography.version.as_deref(), Some("46.0.4"));
        assert!(cryptography.wheels.iter().any(|wheel| wheel.name.contains("cp311-abi3-manylinux")));
        assert!(cryptography.wheels.iter().all(|wheel| wheel.sha256().is_some_and(|hash| hash.len() == 64)));
        assert!(cryptography.sdist.as_ref().is_some_and(|sdist| sdist.size.is_some()));
        assert_eq!(cryptography.source, Source::Registry { index: Some("https://pypi.org/simple".into()) });
        let aioquic = set.dists_named("aioquic").next().unwrap();
        assert!(aioquic.dependencies.iter().any(|edge| edge.name == "pylsqpack"));
        assert_eq!(set.describe_location(aioquic.location), format!("{}:10:1", set.files[0].display()));
        let project = set.dists_named("mitmproxy").next().unwrap();
        assert_eq!(project.source, Source::Editable { path: ".".into() });
        assert!(set.roots.iter().any(|root| root.name == "aioquic" && root.scope == Scope::Always));
        assert!(set.roots.iter().any(|root| root.name == "twine" && root.scope == Scope::Group("deploy".into())));
        assert_eq!(set.groups, ["deploy", "dev", "ruff", "tox"]);
        let pydivert = set.roots.iter().find(|root| root.name == "pydivert").unwrap();
        assert_eq!(pydivert.marker.as_ref().unwrap().text(), "sys_platform == 'win32'");
    }

    #[test]
    fn windows_only_dependencies_stay_off_linux() {
        let set = fixture();
        let edge_marker = set
            .dists
            .iter()
            .flat_map(|dist| &dist.dependencies)
            .find(|edge| edge.name == "pywin32-ctypes")
            .and_then(|edge| edge.marker.as_ref())
            .map(|marker| marker.text().to_string());
        assert_eq!(edge_marker.as_deref(), Some("sys_platform == 'win32'"));
        let linux = Environment::new(3, 14, true, Platform::LinuxX86_64);
        let windows = Environment::new(3, 14, true, Platform::WindowsAmd64);
        let on_linux = installed(&set, &linux, &Selection::default());
        let on_windows = installed(&set, &windows, &Selection::default());
        assert!(on_linux.iter().any(|dist| dist.name == "cryptography"));
        assert!(!on_linux.iter().any(|dist| dist.name == "pywin32-ctypes"));
        assert!(on_windows.iter().any(|dist| dist.name == "pywin32-ctypes"));
        let without_groups = installed(&set, &linux, &Selection::no_groups());
        assert!(!without_groups.iter().any(|dist| dist.name == "twine"));
        assert!(without_groups.len() < on_linux.len());
    }

    const TWO_VERSIONS: &str = include_str!("../../fixtures/lockfiles/handmade/uv-two-versions.lock");

    #[test]
    fn several_versions_of_one_name_are_told_apart_by_edge_version() {
        let set = read(Path::new("uv.lock"), TWO_VERSIONS).unwrap();
        let numpys: Vec<_> = set.dists_named("numpy").collect();
        assert_eq!(numpys.len(), 2);
        assert_eq!(numpys[0].marker.as_ref().unwrap().text(), "python_full_version < '3.12'");
        let names_at = |minor: u32| -> Vec<String> {
            let environment = Environment::new(3, minor, minor >= 13, Platform::LinuxX86_64);
            installed(&set, &environment, &Selection::default())
                .iter()
                .map(|dist| format!("{}=={}", dist.name, dist.version.as_deref().unwrap_or("")))
                .collect()
        };
        assert!(names_at(11).contains(&"numpy==2.2.6".to_string()));
        assert!(!names_at(11).contains(&"numpy==2.3.4".to_string()));
        assert!(names_at(13).contains(&"numpy==2.3.4".to_string()));
        assert!(names_at(13).contains(&"ipywidgets==8.0.0".to_string()), "rich[jupyter] turns on ipywidgets");
        assert!(names_at(13).contains(&"orjson==3.0.0".to_string()));
        assert!(names_at(13).contains(&"pytest==8.0.0".to_string()));
        let ipywidgets = set.dists_named("ipywidgets").next().unwrap();
        assert_eq!(
            ipywidgets.source,
            Source::Git {
                url: "https://github.com/jupyter-widgets/ipywidgets".into(),
                reference: Some("main".into()),
                commit: Some("0123abcd".into())
            }
        );
        assert_eq!(set.extras, ["fast"]);
        assert_eq!(set.groups, ["dev"]);
    }

    #[test]
    fn extras_and_groups_can_be_left_out() {
        let set = read(Path::new("uv.lock"), TWO_VERSIONS).unwrap();
        let environment = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let selection = Selection { extras: crate::lock::Choice::none(), no_dev: true, ..Selection::default() };
        let names: Vec<_> = installed(&set, &environment, &selection).iter().map(|dist| dist.name.clone()).collect();
        assert!(!names.contains(&"orjson".to_string()));
        assert!(!names.contains(&"pytest".to_string()));
        assert!(names.contains(&"rich".to_string()));
    }

    const CONFLICTING_EXTRAS: &str = include_str!("../../fixtures/lockfiles/handmade/uv-conflicting-extras.lock");

    #[test]
    fn conflict_markers_follow_the_chosen_extra() {
        let set = read(Path::new("uv.lock"), CONFLICTING_EXTRAS).unwrap();
        let installed_with = |extra: &str, platform: Platform| -> Vec<String> {
            let environment = Environment::new(3, 13, true, platform);
            let selection = Selection { extras: crate::lock::Choice::only([extra]), ..Selection::default() };
            installed(&set, &environment, &selection)
                .iter()
                .map(|dist| format!("{}=={}", dist.name, dist.version.as_deref().unwrap_or("")))
                .collect()
        };
        assert_eq!(installed_with("cpu", Platform::LinuxX86_64), ["filelock==3.18.0", "torch==2.6.0+cpu"]);
        assert_eq!(
            installed_with("cu124", Platform::LinuxX86_64),
            ["filelock==3.18.0", "nvidia-cudnn-cu12==9.1.0.70", "torch==2.6.0+cu124"]
        );
        assert_eq!(installed_with("cu124", Platform::MacosArm64), ["filelock==3.18.0", "torch==2.6.0+cu124"]);
    }

    /// The names and versions `set` installs on Linux 3.13t with `selection`.
    fn installed_on_linux(set: &LockedSet, selection: &Selection) -> Vec<String> {
        let environment = Environment::new(3, 13, true, Platform::LinuxX86_64);
        installed(set, &environment, selection)
            .iter()
            .map(|dist| format!("{}=={}", dist.name, dist.version.as_deref().unwrap_or("")))
            .collect()
    }

    #[test]
    fn conflicting_extras_selected_together_keep_the_first_of_their_set() {
        let set = read(Path::new("uv.lock"), CONFLICTING_EXTRAS).unwrap();
        let left_out = crate::lock::install::conflicts_left_out(&set, &Selection::default());
        assert_eq!(left_out.iter().map(ToString::to_string).collect::<Vec<_>>(), ["project's extra `cu124`"]);
        assert_eq!(installed_on_linux(&set, &Selection::default()), ["filelock==3.18.0", "torch==2.6.0+cpu"]);
    }

    #[test]
    fn a_group_kept_from_one_conflict_set_leaves_out_its_rivals_in_the_next() {
        let lock = include_str!("../../fixtures/lockfiles/handmade/uv-group-conflicts-with-extras.lock");
        let set = read(Path::new("uv.lock"), lock).unwrap();
        let left_out = crate::lock::install::conflicts_left_out(&set, &Selection::default());
        let named: Vec<String> = left_out.iter().map(ToString::to_string).collect();
        assert_eq!(named, ["worker's extra `tasks`", "app's extra `tasks`"]);
        // Neither taskq (the extras left out) nor winonly (a marker that holds
        // only for the impossible combination) installs.
        assert_eq!(installed_on_linux(&set, &Selection::default()), ["devtool==1.0", "worker==0.1.0"]);
        // Without the group, nothing conflicts: the extras install.
        let no_dev = Selection { no_dev: true, ..Selection::default() };
        assert!(crate::lock::install::conflicts_left_out(&set, &no_dev).is_empty());
        assert_eq!(installed_on_linux(&set, &no_dev), ["taskq==2.0", "worker==0.1.0"]);
    }

    #[test]
    fn a_workspace_root_that_is_no_project_adds_its_own_requirements_and_groups() {
        let lock = include_str!("../../fixtures/lockfiles/handmade/uv-non-project-root.lock");
        let set = read(Path::new("uv.lock"), lock).unwrap();
        assert_eq!(set.roots_from, RootsFrom::LockFile);
        assert_eq!(set.groups, ["dev", "lint"]);
        // The members' dependency (web) and the root's own requirement (tracer).
        let members_and_their_own = ["fastpath==1.0", "parser==0.3", "tracer==3.0", "web==5.0"];
        let mut everything = members_and_their_own.to_vec();
        everything.extend(["helper==1.0", "linter==0.9", "testtool==2.1"]);
        everything.sort();
        let sorted = |mut names: Vec<String>| {
            names.sort();
            names
        };
        // Every group, as for any lock file; the specifier picks testtool 2.1, and helper[fast] pulls in fastpath.
        assert_eq!(sorted(installed_on_linux(&set, &Selection::default())), everything);
        let only_lint = Selection { groups: crate::lock::Choice::only(["lint"]), ..Selection::default() };
        let mut with_lint = members_and_their_own.to_vec();
        with_lint.push("linter==0.9");
        with_lint.sort();
        assert_eq!(sorted(installed_on_linux(&set, &only_lint)), with_lint);
        let no_groups = Selection { no_dev: true, groups: crate::lock::Choice::none(), ..Selection::default() };
        assert_eq!(sorted(installed_on_linux(&set, &no_groups)), members_and_their_own);
        // The root's own requirement has a marker.
        let on_macos = installed(&set, &Environment::new(3, 13, true, Platform::MacosArm64), &no_groups);
        assert!(on_macos.iter().all(|dist| dist.name != "tracer"), "{on_macos:?}");
    }

    #[test]
    fn malformed_uv_lock_names_line_and_column() {
        let broken = TWO_VERSIONS.replace("version = \"14.0.0\"", "version = 14.0.0");
        let error = read(Path::new("uv.lock"), &broken).unwrap_err().to_string();
        assert!(error.starts_with("uv.lock:41:15: invalid float"), "{error}");
        let bad_marker =
            TWO_VERSIONS.replace("marker = \"python_full_version < '3.12'\" }", "marker = \"python_full_version <\" }");
        let error = read(Path::new("uv.lock"), &bad_marker).unwrap_err().to_string();
        assert!(error.starts_with("uv.lock:14:"), "{error}");
        assert!(error.contains("bad environment marker"), "{error}");
        let error = read(Path::new("uv.lock"), "version = 2\n").unwrap_err().to_string();
        assert_eq!(error, "uv.lock:1:11: uv.lock version 2 is not one ftprobe reads (it reads version 1)");
    }
}
