//! Which entries of a lock file a target environment would install, for
//! a choice of extras and dependency groups (by default all of them, as
//! `uv sync --all-extras --all-groups` does).
//!
//! Formats with a graph and known roots are walked from the roots along
//! edges whose markers hold; an edge's extras turn on the target's
//! optional edges. Formats without one take every entry whose marker
//! holds and whose groups are selected. Where a name is locked at several
//! versions, the edge's version and then the entries' own markers choose.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use super::markers::{Environment, Requested};
use super::{Dependency, InstallRule, LockedDist, LockedSet, Scope, normalize};

/// A choice of extras or of dependency groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    /// Every one the lock file offers.
    #[default]
    All,
    /// Only these (normalized names).
    Only(BTreeSet<String>),
}

impl Choice {
    /// None at all.
    pub fn none() -> Choice {
        Choice::Only(BTreeSet::new())
    }

    /// Only the named ones.
    pub fn only<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> Choice {
        Choice::Only(names.into_iter().map(|name| normalize(name.as_ref())).collect())
    }

    fn includes(&self, name: &str) -> bool {
        match self {
            Choice::All => true,
            Choice::Only(names) => names.contains(&normalize(name)),
        }
    }

    /// The chosen names among those `offered`.
    fn among(&self, offered: &[String]) -> Vec<String> {
        match self {
            Choice::All => offered.to_vec(),
            Choice::Only(names) => names.iter().cloned().collect(),
        }
    }
}

/// What to install besides the main dependencies: `--extra`, `--group`, `--no-dev`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub extras: Choice,
    pub groups: Choice,
    /// Leave out the group named `dev`, whatever `groups` says.
    pub no_dev: bool,
}

impl Selection {
    /// All extras, no dependency groups.
    pub fn no_groups() -> Selection {
        Selection { extras: Choice::All, groups: Choice::none(), no_dev: true }
    }

    pub fn wants_extra(&self, extra: &str) -> bool {
        self.extras.includes(extra)
    }

    pub fn wants_group(&self, group: &str) -> bool {
        !(self.no_dev && normalize(group) == "dev") && self.groups.includes(group)
    }

    fn requested_extras(&self, set: &LockedSet) -> Vec<String> {
        self.extras.among(&set.extras)
    }

    /// The selected groups, with the lock file's default groups.
    fn requested_groups(&self, set: &LockedSet) -> Vec<String> {
        let mut groups: Vec<String> =
            self.groups.among(&set.groups).into_iter().filter(|group| self.wants_group(group)).collect();
        groups.extend(set.default_groups.iter().cloned());
        groups
    }
}

/// The entries `set` would install in `environment` with `selection`, in file order.
pub fn installed<'a>(set: &'a LockedSet, environment: &Environment, selection: &Selection) -> Vec<&'a LockedDist> {
    match set.install_rule {
        InstallRule::WalkFromRoots => walk_from_roots(set, environment, selection),
        InstallRule::EveryEntry => every_entry(set, environment, selection),
    }
}

fn every_entry<'a>(set: &'a LockedSet, environment: &Environment, selection: &Selection) -> Vec<&'a LockedDist> {
    let extras = selection.requested_extras(set);
    let groups = selection.requested_groups(set);
    let requested = Requested { extras: &extras, groups: &groups };
    let chosen = |group: &String| groups.contains(group) || extras.contains(group);
    let mut seen = HashSet::new();
    set.dists
        .iter()
        .filter(|dist| dist.groups.is_empty() || dist.groups.iter().any(chosen))
        .filter(|dist| dist.marker.as_ref().is_none_or(|marker| marker.evaluate(environment, requested)))
        .filter(|dist| seen.insert((dist.name.as_str(), dist.version.as_deref())))
        .collect()
}

fn walk_from_roots<'a>(set: &'a LockedSet, environment: &Environment, selection: &Selection) -> Vec<&'a LockedDist> {
    let project_extras = selection.requested_extras(set);
    let groups = selection.requested_groups(set);
    // Entry index → the extras turned on for it.
    let mut reached: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut pending: Vec<usize> = Vec::new();
    for root in &set.roots {
        let scoped_in = match &root.scope {
            Scope::Always => true,
            Scope::Extra(extra) => selection.wants_extra(extra),
            Scope::Group(group) => selection.wants_group(group),
        };
        let requested = Requested { extras: &project_extras, groups: &groups };
        if scoped_in
            && edge_holds(root, environment, requested)
            && let Some(target) = resolve(set, root, environment)
        {
            reach(target, &root.extras, &mut reached, &mut pending);
        }
    }
    while let Some(index) = pending.pop() {
        let extras: Vec<String> =
            reached.get(&index).map(|extras| extras.iter().cloned().collect()).unwrap_or_default();
        let requested = Requested { extras: &extras, groups: &groups };
        for edge in &set.dists[index].dependencies {
            let scoped_in = match &edge.scope {
                Scope::Always => true,
                Scope::Extra(extra) => extras.contains(extra),
                // A dependency's own groups are not installed with it.
                Scope::Group(_) => false,
            };
            if scoped_in
                && edge_holds(edge, environment, requested)
                && let Some(target) = resolve(set, edge, environment)
            {
                reach(target, &edge.extras, &mut reached, &mut pending);
            }
        }
    }
    reached.keys().map(|&index| &set.dists[index]).collect()
}

/// Marks `target` reached with `extras`; queues it when that is news.
fn reach(target: usize, extras: &[String], reached: &mut BTreeMap<usize, BTreeSet<String>>, pending: &mut Vec<usize>) {
    let first_time = !reached.contains_key(&target);
    let turned_on = reached.entry(target).or_default();
    let before = turned_on.len();
    turned_on.extend(extras.iter().cloned());
    if first_time || turned_on.len() > before {
        pending.push(target);
    }
}

fn edge_holds(edge: &Dependency, environment: &Environment, requested: Requested<'_>) -> bool {
    edge.marker.as_ref().is_none_or(|marker| marker.evaluate(environment, requested))
}

/// The entry an edge leads to: by name, then the edge's version, then the
/// entries' own markers; the first left when still ambiguous.
fn resolve(set: &LockedSet, edge: &Dependency, environment: &Environment) -> Option<usize> {
    let named: Vec<usize> = (0..set.dists.len()).filter(|&index| set.dists[index].name == edge.name).collect();
    let candidates = match &edge.version {
        Some(wanted) => {
            let matching: Vec<usize> = named
                .iter()
                .copied()
                .filter(|&index| {
                    set.dists[index].version.as_deref().is_some_and(|version| version_matches(version, wanted))
                })
                .collect();
            if matching.is_empty() { named } else { matching }
        }
        None => named,
    };
    if candidates.len() <= 1 {
        return candidates.first().copied();
    }
    let holds = |index: &&usize| {
        set.dists[**index].marker.as_ref().is_none_or(|marker| marker.evaluate(environment, Requested::default()))
    };
    candidates.iter().find(holds).or(candidates.first()).copied()
}

/// Whether a locked `version` is what an edge's `wanted` (a version or specifiers) asks for.
fn version_matches(version: &str, wanted: &str) -> bool {
    if version == wanted {
        return true;
    }
    let Ok(parsed) = Version::from_str(version) else {
        return false;
    };
    if let Ok(wanted_version) = Version::from_str(wanted) {
        return parsed == wanted_version;
    }
    VersionSpecifiers::from_str(wanted).is_ok_and(|specifiers| specifiers.contains(&parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_versions_match_exactly_or_by_specifier() {
        assert!(version_matches("2.3.4", "2.3.4"));
        assert!(version_matches("2.3.0", "2.3"));
        assert!(version_matches("2.3.4", ">=2,<3"));
        assert!(!version_matches("2.3.4", "2.2.6"));
        assert!(!version_matches("2.3.4", "^2.0"));
    }

    #[test]
    fn choices_normalize_names() {
        let choice = Choice::only(["Socks_Proxy"]);
        assert!(choice.includes("socks-proxy"));
        assert!(!Choice::none().includes("x"));
        let selection = Selection { no_dev: true, ..Selection::default() };
        assert!(!selection.wants_group("dev"));
        assert!(selection.wants_group("test"));
    }
}
