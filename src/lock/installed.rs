//! An installed environment read as a [`LockedSet`]: a virtual environment
//! or prefix (its `lib/python3.*/site-packages`, `Lib/site-packages` on
//! Windows) or a site-packages folder itself (Debian's `dist-packages`
//! too). Each `*.dist-info/METADATA` is a pin (`Name`, `Version`) with its
//! edges (`Requires-Dist`, markers and extras kept); PEP 610's
//! `direct_url.json` says where it came from. A distribution installed the
//! older way (setuptools' `*.egg-info`: a folder with `PKG-INFO`, or that
//! file itself) is read from `PKG-INFO`, its edges from `requires.txt`
//! (`[extra]`, `[extra:marker]` and `[:marker]` sections); where both
//! describe one name, the dist-info wins.
//! No wheels are listed, so `deps` takes the index's files of the
//! installed version, as it does for a requirements file's pins.
//!
//! The roots are what nothing else installed requires (`REQUESTED` is no
//! evidence: uv 0.13.9 writes it for every distribution it installs).
//! Which extras were asked for is recorded nowhere: an extra counts as asked
//! for when everything it requires (where the environment's own Python is
//! known, everything it requires there) is installed, and every edge to a
//! distribution turns on the extras it was so installed with. One installed
//! package an extra names is no evidence: pandas' `all` names SQLAlchemy, which
//! may have been asked for on its own. A requirement that is not installed (another
//! platform's, another Python's, an extra nobody asked for) gets no edge:
//! there is no version to answer for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::markers::{Environment, Platform, Requested};
use super::requirement::{self, Requirement};
use super::{
    Dependency, InstallRule, Location, LockError, LockFormat, LockedDist, LockedSet, RootsFrom, Scope, Source,
};

/// The largest METADATA or direct_url.json read, in bytes.
const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// The site-packages folders of an installed environment at `directory`:
/// a venv or prefix's `lib/python3.*/site-packages` (or `Lib/site-packages`),
/// else `directory` itself when it holds a `*.dist-info` folder. Empty
/// when it is neither.
pub(super) fn site_packages_of(directory: &Path) -> Vec<PathBuf> {
    let windows = directory.join("Lib").join("site-packages");
    if windows.is_dir() {
        return vec![windows];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(directory.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python3"))
        .map(|entry| entry.path().join("site-packages"))
        .filter(|site| site.is_dir())
        .collect();
    found.sort();
    if found.is_empty() && holds_distributions(directory) {
        found.push(directory.to_path_buf());
    }
    found
}

/// How a distribution's metadata is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `*.dist-info/METADATA` (wheels, and every installer of today).
    DistInfo,
    /// `*.egg-info/PKG-INFO` or a `*.egg-info` file (setuptools' own installs).
    EggInfo,
}

/// Whether `directory` holds a `*.dist-info` or `*.egg-info` entry.
fn holds_distributions(directory: &Path) -> bool {
    std::fs::read_dir(directory).into_iter().flatten().flatten().any(|entry| {
        entry.path().extension().is_some_and(|extension| extension == "dist-info" || extension == "egg-info")
    })
}

/// The metadata files directly in `site_packages` (dist-info first, then
/// egg-info; each sorted), with the folder that holds each.
fn metadata_of(site_packages: &Path) -> Vec<(Kind, PathBuf, PathBuf)> {
    let mut found: Vec<(Kind, PathBuf, PathBuf)> = std::fs::read_dir(site_packages)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter_map(|path| {
            let extension = path.extension()?.to_str()?;
            match extension {
                "dist-info" if path.is_dir() => Some((Kind::DistInfo, path.join("METADATA"), path)),
                "egg-info" if path.is_dir() => Some((Kind::EggInfo, path.join("PKG-INFO"), path)),
                "egg-info" if path.is_file() => Some((Kind::EggInfo, path.clone(), path)),
                _ => None,
            }
        })
        .filter(|(_, metadata, _)| metadata.is_file())
        .collect();
    found.sort();
    found
}

/// One installed distribution, as its dist-info folder describes it.
struct Installed {
    name: String,
    version: String,
    requires: Vec<Requirement>,
    source: Source,
    /// Index into the set's files: its METADATA.
    file: usize,
    line: u32,
}

/// Reads the distributions installed in `site_packages` (the folders of the
/// environment `given`, which the report names). A name installed twice is
/// taken from the first folder that has it.
pub(super) fn read(given: &Path, site_packages: &[PathBuf]) -> Result<LockedSet, LockError> {
    let mut files = vec![given.to_path_buf()];
    let mut found: BTreeMap<String, Installed> = BTreeMap::new();
    for (kind, metadata, folder) in site_packages.iter().flat_map(|site| metadata_of(site)) {
        files.push(metadata.clone());
        let installed = match kind {
            Kind::DistInfo => read_dist_info(&folder, &metadata, files.len() - 1)?,
            Kind::EggInfo => read_egg_info(&folder, &metadata, files.len() - 1)?,
        };
        found.entry(installed.name.clone()).or_insert(installed);
    }
    if found.is_empty() {
        let shown = site_packages.iter().map(|site| site.display().to_string()).collect::<Vec<_>>().join(", ");
        return Err(LockError::malformed(
            given,
            1,
            1,
            format!("no installed distribution (no *.dist-info/METADATA, no *.egg-info) in {shown}"),
        ));
    }
    let own = own_environment(site_packages);
    let extras = extras_in_use(&found, own.as_ref());
    let dists: Vec<LockedDist> = found.values().map(|installed| locked(installed, &found, &extras)).collect();
    let roots = roots(&found, &dists, &extras, own.as_ref());
    Ok(LockedSet {
        files,
        format: LockFormat::Installed,
        requires_python: None,
        supported_environments: None,
        roots,
        roots_from: RootsFrom::Installed,
        install_rule: InstallRule::WalkFromRoots,
        extras: Vec::new(),
        groups: Vec::new(),
        default_groups: Vec::new(),
        indexes: Vec::new(),
        notes: Vec::new(),
        conflicts: Vec::new(),
        dists,
    })
}

fn read_dist_info(folder: &Path, metadata: &Path, file: usize) -> Result<Installed, LockError> {
    let (name, version, line, headers) = name_and_version(metadata)?;
    let mut requires = Vec::new();
    for (text, line, column) in headers.requires {
        let parsed = requirement::parse(&text).map_err(|problem| {
            let at = column + u32::try_from(problem.column).unwrap_or(u32::MAX).saturating_sub(1);
            LockError::malformed(metadata, line, at, format!("Requires-Dist `{text}`: {}", problem.message))
        })?;
        requires.push(parsed);
    }
    Ok(Installed { name, version, requires, source: source(folder)?, file, line })
}

/// A METADATA or PKG-INFO file's normalized name, version, the name's line,
/// and its headers.
fn name_and_version(path: &Path) -> Result<(String, String, u32, Headers), LockError> {
    let text = crate::input::read_text_limited(path, MAX_METADATA_BYTES, "")?;
    let mut headers = Headers::read(&text);
    let missing = |header: &str| LockError::malformed(path, 1, 1, format!("no `{header}:` header"));
    let (name, line) = headers.name.take().ok_or_else(|| missing("Name"))?;
    let version = headers.version.take().ok_or_else(|| missing("Version"))?;
    Ok((super::normalize(&name), version, line, headers))
}

/// A setuptools install: `PKG-INFO` for the name and version, and, in a
/// folder, `requires.txt` for the edges.
fn read_egg_info(folder: &Path, pkg_info: &Path, file: usize) -> Result<Installed, LockError> {
    let (name, version, line, _) = name_and_version(pkg_info)?;
    let requires_txt = folder.join("requires.txt");
    let mut requires = Vec::new();
    if folder.is_dir() && requires_txt.is_file() {
        let text = crate::input::read_text_limited(&requires_txt, MAX_METADATA_BYTES, "")?;
        for (text, line) in egg_requirements(&text) {
            let parsed = requirement::parse(&text).map_err(|problem| {
                LockError::malformed(&requires_txt, line, 1, format!("`{text}`: {}", problem.message))
            })?;
            requires.push(parsed);
        }
    }
    Ok(Installed { name, version, requires, source: Source::DEFAULT_INDEX, file, line })
}

/// The requirements of a `requires.txt`, each as a PEP 508 string with
/// its section's extra and marker joined on, and its line.
fn egg_requirements(text: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    // The condition the current section adds: `extra == "x"`, a marker, or both.
    let mut condition: Option<String> = None;
    for (index, line) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            let (extra, marker) = section.split_once(':').unwrap_or((section, ""));
            let extra = extra.trim();
            let marker = marker.trim();
            condition = match (extra.is_empty(), marker.is_empty()) {
                (true, true) => None,
                (true, false) => Some(marker.to_string()),
                (false, true) => Some(format!("extra == \"{extra}\"")),
                (false, false) => Some(format!("({marker}) and extra == \"{extra}\"")),
            };
            continue;
        }
        let joined = match (&condition, line.split_once(';')) {
            (None, _) => line.to_string(),
            (Some(condition), None) => format!("{line}; {condition}"),
            (Some(condition), Some((requirement, own))) => {
                format!("{}; ({}) and {condition}", requirement.trim(), own.trim())
            }
        };
        out.push((joined, number));
    }
    out
}

/// The METADATA headers read here, each with where its value starts.
#[derive(Default)]
struct Headers {
    name: Option<(String, u32)>,
    version: Option<String>,
    /// (value, line, column).
    requires: Vec<(String, u32, u32)>,
}

impl Headers {
    /// Reads the header block (up to the first empty line); a line that
    /// starts with white space continues the header before it, even one
    /// that holds nothing else (a License's paragraph break).
    fn read(text: &str) -> Headers {
        let mut headers = Headers::default();
        // The header being read: (name, value, line, column).
        let mut current: Option<(String, String, u32, u32)> = None;
        for (index, line) in text.lines().enumerate() {
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if line.starts_with([' ', '\t']) {
                if let Some((_, value, _, _)) = current.as_mut().filter(|_| !line.trim().is_empty()) {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some(done) = current.take() {
                headers.keep(done);
            }
            if line.trim_end_matches('\r').is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let leading = value.len() - value.trim_start().len();
                let column = u32::try_from(name.chars().count() + 1 + leading + 1).unwrap_or(u32::MAX);
                current = Some((name.trim().to_ascii_lowercase(), value.trim().to_string(), number, column));
            }
        }
        if let Some(done) = current {
            headers.keep(done);
        }
        headers
    }

    fn keep(&mut self, (name, value, line, column): (String, String, u32, u32)) {
        match name.as_str() {
            "name" if self.name.is_none() => self.name = Some((value, line)),
            "version" if self.version.is_none() => self.version = Some(value),
            "requires-dist" => self.requires.push((value, line, column)),
            _ => {}
        }
    }
}

/// PEP 610's record of a distribution installed from a URL, a folder or a VCS.
#[derive(Deserialize)]
struct DirectUrl {
    url: String,
    #[serde(default)]
    dir_info: Option<DirInfo>,
    #[serde(default)]
    vcs_info: Option<VcsInfo>,
}

#[derive(Deserialize)]
struct DirInfo {
    #[serde(default)]
    editable: bool,
}

#[derive(Deserialize)]
struct VcsInfo {
    vcs: String,
    #[serde(default)]
    requested_revision: Option<String>,
    #[serde(default)]
    commit_id: Option<String>,
}

/// Where a distribution came from: its `direct_url.json`, else an index.
fn source(folder: &Path) -> Result<Source, LockError> {
    let path = folder.join("direct_url.json");
    if !path.is_file() {
        return Ok(Source::DEFAULT_INDEX);
    }
    let text = crate::input::read_text_limited(&path, MAX_METADATA_BYTES, "")?;
    let direct: DirectUrl = serde_json::from_str(&text).map_err(|problem| {
        LockError::malformed(&path, u32::try_from(problem.line()).unwrap_or(1), 1, problem.to_string())
    })?;
    let local = direct.url.strip_prefix("file://").map(str::to_string);
    Ok(match (direct.dir_info, direct.vcs_info, local) {
        (Some(DirInfo { editable: true }), _, local) => Source::Editable { path: local.unwrap_or(direct.url) },
        (_, Some(vcs), _) => Source::Git {
            url: format!("{}+{}", vcs.vcs, direct.url),
            reference: vcs.requested_revision,
            commit: vcs.commit_id,
        },
        (_, _, Some(path)) => Source::Path { path },
        (_, _, None) => Source::Url { url: direct.url },
    })
}

/// The extras each distribution was evidently installed with: those whose
/// every requirement (but the distribution itself) is installed, counting
/// only those whose marker holds for `own`, the environment's Python, where
/// it is known, and which add something it does not require anyway.
fn extras_in_use(found: &BTreeMap<String, Installed>, own: Option<&Environment>) -> BTreeMap<String, Vec<String>> {
    let mut in_use: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for installed in found.values() {
        let named: BTreeSet<String> =
            installed.requires.iter().filter_map(|r| r.marker.as_ref()).flat_map(|m| m.extras_named()).collect();
        // What it requires with no extra (`greenlet` for SQLAlchemy on
        // x86_64): an extra that adds nothing else is no evidence.
        let required_anyway: BTreeSet<&str> = installed
            .requires
            .iter()
            .filter(|requirement| {
                requirement.marker.as_ref().is_none_or(|marker| {
                    marker.extras_named().is_empty()
                        && own.is_none_or(|environment| marker.evaluate(environment, Requested::default()))
                })
            })
            .map(|requirement| requirement.name.as_str())
            .collect();
        let extras: Vec<String> = named
            .into_iter()
            .filter(|extra| {
                let asked = std::slice::from_ref(extra);
                let mut needs = installed.requires.iter().filter(|requirement| {
                    requirement.name != installed.name
                        && requirement.marker.as_ref().is_some_and(|marker| {
                            marker.extras_named().contains(extra)
                                && own.is_none_or(|environment| {
                                    marker.evaluate(environment, Requested { extras: asked, groups: &[] })
                                })
                        })
                });
                let mut adds_any = false;
                needs.all(|requirement| {
                    adds_any |= !required_anyway.contains(requirement.name.as_str());
                    found.contains_key(&requirement.name)
                }) && adds_any
            })
            .collect();
        if !extras.is_empty() {
            in_use.insert(installed.name.clone(), extras);
        }
    }
    in_use
}

fn locked(
    installed: &Installed,
    found: &BTreeMap<String, Installed>,
    extras: &BTreeMap<String, Vec<String>>,
) -> LockedDist {
    let dependencies = installed
        .requires
        .iter()
        .filter(|requirement| found.contains_key(&requirement.name))
        .map(|requirement| {
            let mut turned_on = requirement.extras.clone();
            for extra in extras.get(&requirement.name).into_iter().flatten() {
                if !turned_on.contains(extra) {
                    turned_on.push(extra.clone());
                }
            }
            Dependency {
                name: requirement.name.clone(),
                extras: turned_on,
                marker: requirement.marker.clone(),
                version: requirement.specifier.clone(),
                scope: Scope::Always,
            }
        })
        .collect();
    LockedDist {
        name: installed.name.clone(),
        version: Some(installed.version.clone()),
        specifier: None,
        source: installed.source.clone(),
        wheels: Vec::new(),
        sdist: None,
        hashes: Vec::new(),
        marker: None,
        groups: Vec::new(),
        dependencies,
        location: Location { file: installed.file, line: installed.line, column: 1 },
    }
}

/// The interpreter a site-packages folder belongs to, as its path says
/// (`lib/python3.13t/site-packages`), on this machine's platform; None when
/// the path does not say (Debian's `python3/dist-packages`, Windows' `Lib`).
fn own_environment(site_packages: &[PathBuf]) -> Option<Environment> {
    let folder = site_packages.first()?.parent()?.file_name()?.to_str()?;
    let version = folder.strip_prefix("python3.")?;
    let (minor, free_threaded) = match version.strip_suffix('t') {
        Some(minor) => (minor, true),
        None => (version, false),
    };
    let platform = Platform::of(&crate::model::platform::Platform::host(None).ok()?.machine)?;
    Some(Environment::new(3, minor.parse().ok()?, free_threaded, platform))
}

/// What nothing else installed requires, then one member of each cycle
/// nothing else reaches. An edge under extras none of which is in use did
/// not install its distribution, and neither did, where the environment's own
/// interpreter is known, an edge whose marker does not hold for it (`httplib2;
/// python_version < "3"`): such edges do not count.
fn roots(
    found: &BTreeMap<String, Installed>,
    dists: &[LockedDist],
    extras: &BTreeMap<String, Vec<String>>,
    own: Option<&Environment>,
) -> Vec<Dependency> {
    let holds_here = |dist: &LockedDist, edge: &Dependency| {
        let asked = extras.get(&dist.name).map_or(&[][..], Vec::as_slice);
        match (own, &edge.marker) {
            (Some(environment), Some(marker)) => marker.evaluate(environment, Requested { extras: asked, groups: &[] }),
            // With the Python unknown, only the extras can be told: an edge
            // under extras none of which is in use installed nothing.
            (None, Some(marker)) => {
                let named = marker.extras_named();
                named.is_empty() || named.iter().any(|extra| asked.contains(extra))
            }
            (_, None) => true,
        }
    };
    let required: BTreeSet<&str> = dists
        .iter()
        .flat_map(|dist| dist.dependencies.iter().filter(move |edge| edge.name != dist.name && holds_here(dist, edge)))
        .map(|edge| edge.name.as_str())
        .collect();
    let mut roots: Vec<&str> = found
        .values()
        .filter(|installed| !required.contains(installed.name.as_str()))
        .map(|installed| installed.name.as_str())
        .collect();
    loop {
        let reached = reachable(dists, &roots);
        match dists.iter().find(|dist| !reached.contains(dist.name.as_str())) {
            Some(unreached) => roots.push(unreached.name.as_str()),
            None => break,
        }
    }
    roots
        .into_iter()
        .map(|name| Dependency {
            extras: extras.get(name).cloned().unwrap_or_default(),
            version: found.get(name).map(|installed| installed.version.clone()),
            ..Dependency::to(name)
        })
        .collect()
}

/// The names reached from `roots` along every edge, whatever its marker.
fn reachable<'a>(dists: &'a [LockedDist], roots: &[&'a str]) -> BTreeSet<&'a str> {
    let mut reached: BTreeSet<&str> = roots.iter().copied().collect();
    let mut pending: Vec<&str> = roots.to_vec();
    while let Some(name) = pending.pop() {
        for dist in dists.iter().filter(|dist| dist.name == name) {
            for edge in &dist.dependencies {
                if reached.insert(edge.name.as_str()) {
                    pending.push(edge.name.as_str());
                }
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::install::{Selection, installed};

    /// Writes a dist-info folder into `site`.
    fn dist(site: &Path, name: &str, version: &str, requires: &[&str], extra_files: &[(&str, &str)]) {
        let folder = site.join(format!("{}-{version}.dist-info", name.replace('-', "_")));
        std::fs::create_dir_all(&folder).unwrap();
        let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for requirement in requires {
            metadata.push_str(&format!("Requires-Dist: {requirement}\n"));
        }
        metadata.push_str("\nA description: with a colon\nRequires-Dist: not-a-header\n");
        std::fs::write(folder.join("METADATA"), metadata).unwrap();
        for (file, content) in extra_files {
            std::fs::write(folder.join(file), content).unwrap();
        }
    }

    fn names(dists: &[&LockedDist]) -> Vec<String> {
        dists.iter().map(|dist| dist.name.clone()).collect()
    }

    #[test]
    fn a_venv_is_read_with_its_graph_roots_and_extras() {
        let venv = tempfile::tempdir().unwrap();
        std::fs::write(venv.path().join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let site = venv.path().join("lib/python3.13/site-packages");
        std::fs::create_dir_all(&site).unwrap();
        dist(&site, "Requests", "2.32.3", &["urllib3<3,>=1.21.1", "PySocks!=1.5.7,>=1.5.6; extra == \"socks\""], &[]);
        dist(&site, "urllib3", "2.2.3", &["brotli>=1.0.9; extra == \"brotli\""], &[("REQUESTED", "")]);
        dist(&site, "pip", "25.1.1", &[], &[("REQUESTED", "")]);
        dist(&site, "PySocks", "1.7.1", &[], &[]);
        dist(
            &site,
            "app",
            "0.1",
            &["requests[socks]", "tomli; python_version < \"3.14\""],
            &[("direct_url.json", r#"{"url": "file:///src/app", "dir_info": {"editable": true}}"#)],
        );
        dist(&site, "tomli", "2.2.1", &[], &[]);
        dist(&site, "a", "1", &["b"], &[]);
        dist(&site, "b", "1", &["a"], &[]);

        assert_eq!(site_packages_of(venv.path()), [site]);
        let set = read(venv.path(), &site_packages_of(venv.path())).unwrap();
        assert_eq!(set.format, LockFormat::Installed);
        let root_names: Vec<&str> = set.roots.iter().map(|root| root.name.as_str()).collect();
        assert_eq!(root_names, ["app", "pip", "a"], "unrequired (REQUESTED or not), then one of a cycle");
        let requests = set.dists_named("requests").next().unwrap();
        assert_eq!(requests.version.as_deref(), Some("2.32.3"));
        let to_pysocks = requests.dependencies.iter().find(|edge| edge.name == "pysocks").unwrap();
        assert_eq!(to_pysocks.marker.as_ref().unwrap().text(), "extra == \"socks\"");
        let app = set.dists_named("app").next().unwrap();
        assert!(matches!(&app.source, Source::Editable { path } if path == "/src/app"));
        assert_eq!(app.dependencies[0].extras, ["socks"]);
        assert!(set.describe_location(app.location).ends_with("app-0.1.dist-info/METADATA:2:1"));
        let urllib3 = set.dists_named("urllib3").next().unwrap();
        assert!(urllib3.dependencies.is_empty(), "brotli is not installed: no edge");

        let selection = Selection::default();
        let on_313t = installed(&set, &Environment::new(3, 13, true, Platform::LinuxX86_64), &selection);
        assert_eq!(names(&on_313t), ["a", "app", "b", "pip", "pysocks", "requests", "tomli", "urllib3"]);
        let on_314t = installed(&set, &Environment::new(3, 14, true, Platform::LinuxX86_64), &selection);
        assert_eq!(names(&on_314t), ["a", "app", "b", "pip", "pysocks", "requests", "urllib3"], "tomli is for < 3.14");
    }

    #[test]
    fn an_extra_with_nothing_installed_stays_off() {
        let site = tempfile::tempdir().unwrap();
        dist(site.path(), "requests", "2.32.3", &["PySocks>=1.5.6; extra == 'socks'", "idna"], &[]);
        dist(site.path(), "idna", "3.10", &[], &[]);
        dist(site.path(), "pysocks", "1.7.1", &[], &[]);
        let set = read(site.path(), &site_packages_of(site.path())).unwrap();
        // pysocks is required under an extra that counts as asked for, since it is installed.
        assert_eq!(set.roots.iter().map(|root| root.name.as_str()).collect::<Vec<_>>(), ["requests"]);
        assert_eq!(set.roots[0].extras, ["socks"]);
        let other = tempfile::tempdir().unwrap();
        dist(other.path(), "requests", "2.32.3", &["PySocks>=1.5.6; extra == 'socks'", "idna"], &[]);
        dist(other.path(), "idna", "3.10", &[], &[]);
        let set = read(other.path(), &site_packages_of(other.path())).unwrap();
        assert!(set.roots[0].extras.is_empty());
        let environment = Environment::new(3, 14, true, Platform::LinuxX86_64);
        assert_eq!(names(&installed(&set, &environment, &Selection::default())), ["idna", "requests"]);
    }

    #[test]
    fn an_extra_counts_only_when_all_it_requires_is_installed() {
        // pandas 2.3.3's extras as its METADATA has them (in part): SQLAlchemy
        // installed on its own does not turn `sql-other` or `all` on.
        let site = tempfile::tempdir().unwrap();
        let pandas = [
            "numpy>=1.26.0",
            "SQLAlchemy>=2.0.0; extra == \"sql-other\"",
            "adbc-driver-sqlite>=0.8.0; extra == \"sql-other\"",
            "SQLAlchemy>=2.0.0; extra == \"all\"",
            "pyarrow>=10.0.1; extra == \"all\"",
            "numexpr>=2.8.4; extra == \"performance\"",
            "pywin32; sys_platform == \"win32\" and extra == \"performance\"",
        ];
        dist(site.path(), "pandas", "2.3.3", &pandas, &[]);
        dist(site.path(), "numpy", "2.4.6", &[], &[]);
        // SQLAlchemy requires greenlet anyway: its `asyncio` extra, which
        // asks for greenlet alone, adds nothing and is no evidence.
        let sqlalchemy = ["greenlet>=1; platform_machine == \"x86_64\"", "greenlet>=1; extra == \"asyncio\""];
        dist(site.path(), "sqlalchemy", "2.0.45", &sqlalchemy, &[]);
        dist(site.path(), "greenlet", "3.2.2", &[], &[]);
        dist(site.path(), "numexpr", "2.14.1", &[], &[]);
        let set = read(site.path(), &site_packages_of(site.path())).unwrap();
        let roots: Vec<(&str, &[String])> =
            set.roots.iter().map(|root| (root.name.as_str(), root.extras.as_slice())).collect();
        assert_eq!(roots, [("numexpr", &[][..]), ("pandas", &[][..]), ("sqlalchemy", &[][..])]);
        // In a linux venv of a known Python, `performance` needs no pywin32:
        // numexpr is all it asks for there, so it counts.
        let venv = tempfile::tempdir().unwrap();
        std::fs::write(venv.path().join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let lib = venv.path().join("lib/python3.13t/site-packages");
        std::fs::create_dir_all(&lib).unwrap();
        for (name, version, requires) in
            [("pandas", "2.3.3", &pandas[..]), ("numpy", "2.4.6", &[]), ("numexpr", "2.14.1", &[])]
        {
            dist(&lib, name, version, requires, &[]);
        }
        let set = read(venv.path(), &site_packages_of(venv.path())).unwrap();
        let pandas_root = set.roots.iter().find(|root| root.name == "pandas").unwrap();
        if !cfg!(windows) {
            assert_eq!(pandas_root.extras, ["performance"]);
            assert_eq!(set.roots.len(), 1, "{:?}", set.roots);
        }
    }

    #[test]
    fn sources_follow_direct_url_json() {
        let site = tempfile::tempdir().unwrap();
        let git = r#"{"url": "https://github.com/o/r", "vcs_info": {"vcs": "git", "commit_id": "abc", "requested_revision": "main"}}"#;
        dist(site.path(), "from-git", "1", &[], &[("direct_url.json", git)]);
        dist(
            site.path(),
            "from-url",
            "1",
            &[],
            &[("direct_url.json", r#"{"url": "https://example.org/x-1.tar.gz", "archive_info": {}}"#)],
        );
        dist(site.path(), "from-index", "1", &[], &[]);
        let set = read(site.path(), &site_packages_of(site.path())).unwrap();
        let source = |name: &str| set.dists_named(name).next().unwrap().source.clone();
        assert_eq!(
            source("from-git"),
            Source::Git {
                url: "git+https://github.com/o/r".into(),
                reference: Some("main".into()),
                commit: Some("abc".into())
            }
        );
        assert_eq!(source("from-url"), Source::Url { url: "https://example.org/x-1.tar.gz".into() });
        assert_eq!(source("from-index"), Source::DEFAULT_INDEX);
    }

    #[test]
    fn bad_metadata_names_its_line_and_column() {
        let site = tempfile::tempdir().unwrap();
        dist(site.path(), "broken", "1", &["ok>=1", "bad >=one"], &[]);
        let message = read(site.path(), &site_packages_of(site.path())).unwrap_err().to_string();
        assert!(message.contains("broken-1.dist-info/METADATA:5:20:"), "{message}");
        assert!(message.contains("bad >=one"), "{message}");
        let empty = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(empty.path().join("x-1.dist-info")).unwrap();
        std::fs::write(empty.path().join("x-1.dist-info/METADATA"), "Metadata-Version: 2.1\nName: x\n").unwrap();
        let message = read(empty.path(), &site_packages_of(empty.path())).unwrap_err().to_string();
        assert!(message.contains("METADATA:1:1: no `Version:` header"), "{message}");
        assert!(site_packages_of(tempfile::tempdir().unwrap().path()).is_empty());
    }

    #[test]
    fn continued_headers_are_joined() {
        let headers = Headers::read("Name: x\nRequires-Dist: foo;\n  python_version < '3.14'\nVersion: 1\n\nName: y\n");
        assert_eq!(headers.name, Some(("x".into(), 1)));
        assert_eq!(headers.version.as_deref(), Some("1"));
        assert_eq!(headers.requires, [("foo; python_version < '3.14'".to_string(), 2, 16)]);
        // As matplotlib 3.11.1's METADATA has it: a License whose paragraphs
        // are separated by lines of spaces, with Requires-Dist after it.
        let license = "Name: matplotlib\nVersion: 3.11.1\nLicense: License agreement\n         ====\n         \n         1. This\n\
                       Requires-Dist: fonttools>=4.28.2\n\nbody\n";
        let headers = Headers::read(license);
        assert_eq!(headers.requires, [("fonttools>=4.28.2".to_string(), 7, 16)]);
    }

    #[test]
    fn debians_egg_info_installs_are_read_beside_its_dist_info() {
        let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/installed/debian-12-dist-packages");
        assert_eq!(
            site_packages_of(&site),
            std::slice::from_ref(&site),
            "a dist-packages folder is its own site-packages"
        );
        let set = read(&site, std::slice::from_ref(&site)).unwrap();
        let pins: Vec<String> =
            set.dists.iter().map(|d| format!("{}=={}", d.name, d.version.as_deref().unwrap_or("?"))).collect();
        assert_eq!(
            pins,
            ["cryptography==38.0.4", "cupshelpers==1.0", "pycairo==1.20.1", "pygobject==3.42.2", "pyjwt==2.6.0"]
        );
        // The dist-info describes cryptography, not the stray egg-info beside it.
        let cryptography = set.dists_named("cryptography").next().unwrap();
        assert!(set.files[cryptography.location.file].ends_with("cryptography-38.0.4.dist-info/METADATA"));
        // requires.txt's `pycairo>=1.16.0` is an edge; PyJWT's [crypto] section turns
        // cryptography on through the extra it is installed with.
        let pygobject = set.dists_named("pygobject").next().unwrap();
        assert_eq!(pygobject.dependencies.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["pycairo"]);
        let pyjwt = set.dists_named("pyjwt").next().unwrap();
        let edge = pyjwt.dependencies.iter().find(|d| d.name == "cryptography").unwrap();
        assert_eq!(edge.marker.as_ref().unwrap().text(), "extra == \"crypto\"");
        let roots: Vec<&str> = set.roots.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(roots, ["cupshelpers", "pygobject", "pyjwt"]);
        // PyJWT's `crypto` extra is all installed; its `dev` extra names
        // cryptography too, but sphinx and pytest are not installed.
        assert_eq!(set.roots.iter().find(|r| r.name == "pyjwt").unwrap().extras, ["crypto"]);
    }

    #[test]
    fn requires_txt_sections_become_markers() {
        let text = "six\n\n[:python_version < \"3\"]\nhttplib2\n\n[crypto]\ncryptography>=3.4.0\n\n\
                    [test:python_version < \"3\"]\nmock; os_name == \"nt\"\n";
        assert_eq!(
            egg_requirements(text),
            [
                ("six".to_string(), 1),
                ("httplib2; python_version < \"3\"".to_string(), 4),
                ("cryptography>=3.4.0; extra == \"crypto\"".to_string(), 7),
                ("mock; (os_name == \"nt\") and (python_version < \"3\") and extra == \"test\"".to_string(), 10),
            ]
        );
    }

    #[test]
    fn an_edge_that_does_not_hold_for_the_environments_own_python_installed_nothing() {
        let root = tempfile::tempdir().unwrap();
        let roots_of = |python: &str| {
            let site = root.path().join(python).join("lib").join(python).join("site-packages");
            std::fs::create_dir_all(&site).unwrap();
            dist(
                &site,
                "client",
                "1.0",
                &["httplib2; python_version < \"3\"", "tomli; python_version < \"3.11\""],
                &[],
            );
            dist(&site, "httplib2", "0.20.4", &[], &[]);
            dist(&site, "tomli", "2.0.1", &[], &[]);
            let set = read(&site, std::slice::from_ref(&site)).unwrap();
            set.roots.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
        };
        // No Python 3 needs httplib2 through `client`: it was installed for itself.
        // On 3.10, `client` brought tomli; on 3.13 nothing did.
        assert_eq!(roots_of("python3.10"), ["client", "httplib2"]);
        assert_eq!(roots_of("python3.13t"), ["client", "httplib2", "tomli"]);
    }
}
