//! `pylock.toml` (PEP 751, `lock-version = "1.x"`). Every
//! `[[packages]]` entry whose `marker` holds installs; markers may ask
//! for requested extras and dependency groups (`'dev' in
//! dependency_groups`). `dependencies` are recorded but, as the PEP says,
//! are for auditing, not for choosing what installs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::toml_source::TomlSource;
use super::{
    Dependency, Hash, InstallRule, LockError, LockFormat, LockedDist, LockedFile, LockedSet, RootsFrom, Scope, Source,
    file_name_of, normalize,
};

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Pylock {
    lock_version: Spanned<String>,
    requires_python: Option<String>,
    #[serde(default)]
    environments: Vec<Spanned<String>>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(default)]
    dependency_groups: Vec<String>,
    #[serde(default)]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<Spanned<Package>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: String,
    version: Option<String>,
    marker: Option<Spanned<String>>,
    #[serde(default)]
    dependencies: Vec<PackageDependency>,
    vcs: Option<Vcs>,
    directory: Option<Directory>,
    archive: Option<Archive>,
    index: Option<String>,
    sdist: Option<File>,
    #[serde(default)]
    wheels: Vec<File>,
}

#[derive(Deserialize)]
struct PackageDependency {
    name: String,
    version: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Vcs {
    url: Option<String>,
    path: Option<String>,
    requested_revision: Option<String>,
    commit_id: Option<String>,
}

#[derive(Deserialize)]
struct Directory {
    path: String,
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
struct Archive {
    url: Option<String>,
    path: Option<String>,
}

#[derive(Deserialize)]
struct File {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    size: Option<u64>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

/// Reads a pylock.toml.
pub(super) fn read(path: &Path, text: &str) -> Result<LockedSet, LockError> {
    let source = TomlSource::new(path, text);
    let lock: Pylock = source.parse()?;
    let major = lock.lock_version.get_ref().split('.').next().unwrap_or_default();
    if major != "1" {
        let message = format!("lock-version {} is not one ftprobe reads (it reads 1.x)", lock.lock_version.get_ref());
        return Err(source.error_at(lock.lock_version.span().start, message));
    }
    let dists = lock
        .packages
        .iter()
        .map(|package| {
            let entry = package.get_ref();
            Ok(LockedDist {
                name: normalize(&entry.name),
                version: entry.version.clone(),
                specifier: None,
                source: source_of(entry),
                wheels: entry.wheels.iter().map(locked_file).collect(),
                sdist: entry.sdist.as_ref().map(locked_file),
                hashes: Vec::new(),
                marker: source.optional_marker(entry.marker.as_ref())?,
                groups: Vec::new(),
                dependencies: entry.dependencies.iter().map(edge).collect(),
                location: source.location(package.span().start),
            })
        })
        .collect::<Result<Vec<_>, LockError>>()?;
    let supported_environments = source.any_marker(&lock.environments)?;
    Ok(LockedSet {
        files: vec![path.to_path_buf()],
        format: LockFormat::Pylock,
        requires_python: lock.requires_python,
        supported_environments,
        roots: Vec::new(),
        roots_from: RootsFrom::Unknown,
        install_rule: InstallRule::EveryEntry,
        extras: lock.extras.iter().map(|extra| normalize(extra)).collect(),
        groups: lock.dependency_groups.iter().map(|group| normalize(group)).collect(),
        default_groups: lock.default_groups.iter().map(|group| normalize(group)).collect(),
        indexes: Vec::new(),
        notes: Vec::new(),
        conflicts: Vec::new(),
        dists,
    })
}

fn edge(dependency: &PackageDependency) -> Dependency {
    Dependency {
        name: normalize(&dependency.name),
        extras: dependency.extras.iter().map(|extra| normalize(extra)).collect(),
        marker: None,
        version: dependency.version.clone(),
        scope: Scope::Always,
    }
}

fn source_of(package: &Package) -> Source {
    if let Some(vcs) = &package.vcs {
        let url = vcs.url.clone().or_else(|| vcs.path.clone()).unwrap_or_default();
        return Source::Git { url, reference: vcs.requested_revision.clone(), commit: vcs.commit_id.clone() };
    }
    if let Some(directory) = &package.directory {
        let path = directory.path.clone();
        return if directory.editable { Source::Editable { path } } else { Source::Path { path } };
    }
    if let Some(archive) = &package.archive {
        if let Some(url) = &archive.url {
            return Source::Url { url: url.clone() };
        }
        return Source::Path { path: archive.path.clone().unwrap_or_default() };
    }
    Source::Registry { index: package.index.clone() }
}

fn locked_file(file: &File) -> LockedFile {
    let location = file.url.as_ref().or(file.path.as_ref());
    let name = file.name.clone().or_else(|| location.map(|location| file_name_of(location))).unwrap_or_default();
    let hashes = file
        .hashes
        .iter()
        .map(|(algorithm, digest)| Hash {
            algorithm: algorithm.to_ascii_lowercase(),
            digest: digest.to_ascii_lowercase(),
        })
        .collect();
    LockedFile { name, url: file.url.clone(), hashes, size: file.size }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::install::{Choice, Selection, installed};
    use crate::lock::markers::{Environment, Platform};
    use crate::lock::test_fixtures;

    #[test]
    fn reads_comfy_cli_pylock() {
        let set = test_fixtures::read("pylock/comfy-cli/pylock.toml");
        assert_eq!(set.format, LockFormat::Pylock);
        assert_eq!(set.dists.len(), 48);
        assert_eq!(set.requires_python.as_deref(), Some(">=3.10"));
        let anyio = set.dists_named("anyio").next().unwrap();
        assert_eq!(anyio.version.as_deref(), Some("4.10.0"));
        assert_eq!(anyio.source, Source::Registry { index: Some("https://pypi.org/simple".into()) });
        let wheel = &anyio.wheels[0];
        assert_eq!(wheel.name, "anyio-4.10.0-py3-none-any.whl");
        assert_eq!(wheel.size, Some(107213));
        assert_eq!(wheel.sha256(), Some("60e474ac86736bbfd6f210f7a61218939c318f43f9972497381f1c5e930ed3d1"));
        assert_eq!(anyio.sdist.as_ref().unwrap().size, Some(213252));
        let colorama = set.dists_named("colorama").next().unwrap();
        assert_eq!(colorama.marker.as_ref().unwrap().text(), "sys_platform == 'win32'");
        let project = set.dists_named("comfy-cli").next().unwrap();
        assert_eq!(project.source, Source::Editable { path: ".".into() });

        let linux = Environment::new(3, 13, true, Platform::LinuxX86_64);
        let windows = Environment::new(3, 13, true, Platform::WindowsAmd64);
        let old = Environment::new(3, 10, false, Platform::LinuxX86_64);
        let names = |environment: &Environment| -> Vec<String> {
            installed(&set, environment, &Selection::default()).iter().map(|dist| dist.name.clone()).collect()
        };
        assert!(!names(&linux).contains(&"colorama".to_string()));
        assert!(names(&windows).contains(&"colorama".to_string()));
        assert!(!names(&linux).contains(&"exceptiongroup".to_string()));
        assert!(names(&old).contains(&"exceptiongroup".to_string()));
    }

    #[test]
    fn uv_export_installs_what_the_uv_lock_installs() {
        let exported = test_fixtures::read("pylock/mitmproxy-uv-export/pylock.toml");
        let locked = test_fixtures::read("uv/mitmproxy/uv.lock");
        for platform in Platform::ALL {
            for minor in [13, 14] {
                let environment = Environment::new(3, minor, true, platform);
                let from_pylock: Vec<String> = installed(&exported, &environment, &Selection::default())
                    .iter()
                    .filter(|dist| dist.name != "mitmproxy")
                    .map(|dist| format!("{} {:?}", dist.name, dist.version))
                    .collect();
                let from_uv: Vec<String> = installed(&locked, &environment, &Selection::default())
                    .iter()
                    .map(|dist| format!("{} {:?}", dist.name, dist.version))
                    .collect();
                assert_eq!(from_pylock, from_uv, "{environment}");
            }
        }
    }

    const WITH_GROUPS: &str = include_str!("../../fixtures/lockfiles/handmade/pylock-with-groups.toml");

    #[test]
    fn markers_see_requested_extras_and_groups() {
        let set = read(Path::new("pylock.toml"), WITH_GROUPS).unwrap();
        let linux = Environment::new(3, 14, true, Platform::LinuxX86_64);
        let names = |selection: &Selection| -> Vec<String> {
            installed(&set, &linux, selection).iter().map(|dist| dist.name.clone()).collect()
        };
        assert_eq!(names(&Selection::default()), ["attrs", "pytest", "torch"]);
        assert_eq!(names(&Selection { extras: Choice::none(), groups: Choice::none(), no_dev: false }), ["attrs"]);
        assert_eq!(names(&Selection { no_dev: true, ..Selection::default() }), ["attrs", "torch"]);
        let attrs = &set.dists[0];
        assert_eq!(attrs.wheels[0].name, "attrs-25.1.0-py3-none-any.whl");
        assert_eq!(attrs.wheels[0].sha256(), Some("c7"));
        assert_eq!(attrs.dependencies[0].version.as_deref(), Some("1.0"));
        assert!(matches!(&set.dists[2].source, Source::Git { commit: Some(commit), .. } if commit == "abc"));
        assert_eq!(set.dists[1].location.line, 14);
    }

    #[test]
    fn environments_say_what_the_lock_was_made_for() {
        let text =
            "lock-version = \"1.0\"\nenvironments = [\"sys_platform == 'linux'\", \"sys_platform == 'darwin'\"]\n";
        let set = read(Path::new("pylock.toml"), text).unwrap();
        let made_for = set.supported_environments.expect("environments are read");
        for (platform, expected) in
            [(Platform::LinuxX86_64, true), (Platform::MacosArm64, true), (Platform::WindowsAmd64, false)]
        {
            let environment = Environment::new(3, 14, true, platform);
            assert_eq!(made_for.evaluate(&environment, Default::default()), expected, "{environment}");
        }
        let none = read(Path::new("pylock.toml"), "lock-version = \"1.0\"\n").unwrap();
        assert_eq!(none.supported_environments, None);
    }

    #[test]
    fn a_newer_major_version_is_refused() {
        let error = read(Path::new("pylock.toml"), "lock-version = \"2.0\"\n").unwrap_err().to_string();
        assert_eq!(error, "pylock.toml:1:16: lock-version 2.0 is not one ftprobe reads (it reads 1.x)");
        let error = read(
            Path::new("pylock.toml"),
            "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\nmarker = \"os_name = 'nt'\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("pylock.toml:4:"), "{error}");
    }
}
