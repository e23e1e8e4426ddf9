//! The roots of a poetry or pdm project, from the `pyproject.toml` next
//! to its lock file: PEP 621 `[project]` dependencies and optional
//! dependencies, PEP 735 `[dependency-groups]`, poetry's
//! `[tool.poetry.dependencies]`, `[tool.poetry.group.*]` and
//! `[tool.poetry.extras]`, and pdm's `[tool.pdm.dev-dependencies]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::markers::Marker;
use super::toml_source::TomlSource;
use super::{Dependency, LockError, Scope, normalize};

/// What a pyproject.toml says the project depends on.
#[derive(Debug, Default)]
pub(super) struct ProjectRoots {
    pub path: PathBuf,
    pub roots: Vec<Dependency>,
    pub extras: Vec<String>,
    pub groups: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Pyproject {
    project: Option<Project>,
    #[serde(default)]
    dependency_groups: BTreeMap<String, Vec<Spanned<toml::Value>>>,
    tool: Option<Tool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Project {
    name: Option<String>,
    #[serde(default)]
    dependencies: Vec<Spanned<String>>,
    #[serde(default)]
    optional_dependencies: BTreeMap<String, Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
struct Tool {
    poetry: Option<Poetry>,
    pdm: Option<Pdm>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Poetry {
    name: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    group: BTreeMap<String, PoetryGroup>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize, Default)]
struct PoetryGroup {
    #[serde(default)]
    dependencies: BTreeMap<String, Spanned<toml::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Pdm {
    #[serde(default)]
    dev_dependencies: BTreeMap<String, Vec<Spanned<String>>>,
}

/// Reads the pyproject.toml beside `lock_path`; `None` when there is none.
pub(super) fn read_beside(lock_path: &Path) -> Result<Option<ProjectRoots>, LockError> {
    let path = lock_path.parent().unwrap_or(Path::new(".")).join("pyproject.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let text = crate::input::read_text_limited(&path, super::MAX_LOCK_FILE_BYTES, "")?;
    read_text(&path, &text).map(Some)
}

/// Reads pyproject.toml text.
pub(super) fn read_text(path: &Path, text: &str) -> Result<ProjectRoots, LockError> {
    let source = TomlSource::new(path, text);
    let pyproject: Pyproject = source.parse()?;
    let mut out = ProjectRoots { path: path.to_path_buf(), ..ProjectRoots::default() };
    let project = pyproject.project.unwrap_or_default();
    let tool = pyproject.tool.unwrap_or_default();
    let poetry = tool.poetry.unwrap_or_default();
    let own_name = project.name.as_deref().or(poetry.name.as_deref()).map(normalize);

    for listed in &project.dependencies {
        out.roots.push(pep508_edge(&source, listed, Scope::Always)?);
    }
    for (extra, listed) in &project.optional_dependencies {
        let extra = normalize(extra);
        out.extras.push(extra.clone());
        for dependency in listed {
            let edge = pep508_edge(&source, dependency, Scope::Extra(extra.clone()))?;
            if let Some(own_name) = own_name.as_deref().filter(|own_name| *own_name == edge.name) {
                // `all = ["pkg[a,b]"]`: extra `all` turns on extras a and b.
                let included = included_extras(&source, &project.optional_dependencies, own_name, &edge.extras, 1)?;
                out.roots.extend(included.into_iter().map(|mut edge| {
                    edge.scope = Scope::Extra(extra.clone());
                    edge
                }));
            } else {
                out.roots.push(edge);
            }
        }
    }
    for group in pyproject.dependency_groups.keys() {
        let name = normalize(group);
        out.groups.push(name.clone());
        for mut edge in dependency_group(&source, &pyproject.dependency_groups, group, 0)? {
            edge.scope = Scope::Group(name.clone());
            out.roots.push(edge);
        }
    }
    for (group, listed) in tool.pdm.unwrap_or_default().dev_dependencies {
        let name = normalize(&group);
        out.groups.push(name.clone());
        for dependency in &listed {
            out.roots.push(pep508_edge(&source, dependency, Scope::Group(name.clone()))?);
        }
    }
    read_poetry(&source, &poetry, &mut out)?;
    out.extras.sort();
    out.extras.dedup();
    out.groups.sort();
    out.groups.dedup();
    Ok(out)
}

fn read_poetry(source: &TomlSource<'_>, poetry: &Poetry, out: &mut ProjectRoots) -> Result<(), LockError> {
    let extras_of = |name: &str| -> Vec<String> {
        poetry
            .extras
            .iter()
            .filter(|(_, names)| names.iter().any(|listed| normalize(listed) == name))
            .map(|(extra, _)| normalize(extra))
            .collect()
    };
    out.extras.extend(poetry.extras.keys().map(|extra| normalize(extra)));
    for (name, value) in &poetry.dependencies {
        if name == "python" {
            continue;
        }
        for (edge, optional) in poetry_edges(source, name, value)? {
            if optional {
                for extra in extras_of(&edge.name) {
                    out.roots.push(Dependency { scope: Scope::Extra(extra), ..edge.clone() });
                }
            } else {
                out.roots.push(edge);
            }
        }
    }
    let mut groups: Vec<(String, &BTreeMap<String, Spanned<toml::Value>>)> =
        poetry.group.iter().map(|(group, table)| (normalize(group), &table.dependencies)).collect();
    if !poetry.dev_dependencies.is_empty() {
        groups.push(("dev".to_string(), &poetry.dev_dependencies));
    }
    for (group, dependencies) in groups {
        out.groups.push(group.clone());
        for (name, value) in dependencies {
            for (edge, _) in poetry_edges(source, name, value)? {
                out.roots.push(Dependency { scope: Scope::Group(group.clone()), ..edge });
            }
        }
    }
    Ok(())
}

/// Poetry's dependency forms: `"^1.2"`, `{ version, markers, optional, extras }`, or a list of tables.
/// Each edge comes with whether it is optional.
pub(super) fn poetry_edges(
    source: &TomlSource<'_>,
    name: &str,
    spanned: &Spanned<toml::Value>,
) -> Result<Vec<(Dependency, bool)>, LockError> {
    let one = |value: &toml::Value| -> Result<(Dependency, bool), LockError> {
        let mut edge = Dependency::to(name);
        let mut optional = false;
        match value {
            toml::Value::String(constraint) => edge.version = Some(constraint.clone()),
            toml::Value::Table(table) => {
                edge.version = table.get("version").and_then(toml::Value::as_str).map(str::to_string);
                optional = table.get("optional").and_then(toml::Value::as_bool).unwrap_or(false);
                edge.extras = table
                    .get("extras")
                    .and_then(toml::Value::as_array)
                    .map(|extras| extras.iter().filter_map(toml::Value::as_str).map(normalize).collect())
                    .unwrap_or_default();
                if let Some(markers) = table.get("markers").and_then(toml::Value::as_str) {
                    let marker = Marker::parse(markers).map_err(|problem| {
                        source.error_at(
                            spanned.span().start,
                            format!("bad environment marker `{markers}`: {}", problem.message),
                        )
                    })?;
                    edge.marker = Some(marker);
                }
            }
            _ => {}
        }
        Ok((edge, optional))
    };
    match spanned.get_ref() {
        toml::Value::Array(items) => items.iter().map(one).collect(),
        single => Ok(vec![one(single)?]),
    }
}

fn pep508_edge(source: &TomlSource<'_>, listed: &Spanned<String>, scope: Scope) -> Result<Dependency, LockError> {
    let requirement = source.requirement(listed)?;
    Ok(Dependency {
        name: requirement.name,
        extras: requirement.extras,
        marker: requirement.marker,
        version: requirement.specifier,
        scope,
    })
}

/// The edges of the project's own extras named in `wanted`, following
/// extras that name the project itself again.
fn included_extras(
    source: &TomlSource<'_>,
    optional: &BTreeMap<String, Vec<Spanned<String>>>,
    own_name: &str,
    wanted: &[String],
    depth: usize,
) -> Result<Vec<Dependency>, LockError> {
    let mut out = Vec::new();
    if depth > 16 {
        return Ok(out);
    }
    for (extra, listed) in optional {
        if !wanted.contains(&normalize(extra)) {
            continue;
        }
        for dependency in listed {
            let edge = pep508_edge(source, dependency, Scope::Always)?;
            if edge.name == own_name {
                out.extend(included_extras(source, optional, own_name, &edge.extras, depth + 1)?);
            } else {
                out.push(edge);
            }
        }
    }
    Ok(out)
}

/// A PEP 735 group's requirements, following `{ include-group = "..." }`.
fn dependency_group(
    source: &TomlSource<'_>,
    groups: &BTreeMap<String, Vec<Spanned<toml::Value>>>,
    group: &str,
    depth: usize,
) -> Result<Vec<Dependency>, LockError> {
    let mut edges = Vec::new();
    let Some(items) = groups.get(group).filter(|_| depth <= 16) else {
        return Ok(edges);
    };
    for item in items {
        match item.get_ref() {
            toml::Value::String(text) => {
                let spanned = Spanned::new(item.span(), text.clone());
                edges.push(pep508_edge(source, &spanned, Scope::Always)?);
            }
            toml::Value::Table(table) => {
                if let Some(included) = table.get("include-group").and_then(toml::Value::as_str) {
                    let key = groups.keys().find(|key| normalize(key) == normalize(included));
                    if let Some(key) = key {
                        edges.extend(dependency_group(source, groups, key, depth + 1)?);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(edges)
}
