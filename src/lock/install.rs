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
use super::{
    ConflictItem, Dependency, InstallRule, LockFormat, LockedDist, LockedSet, OptionalPart, Scope, Source, normalize,
};

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

/// Whether the walk from the roots takes an edge out of an entry with some
/// extras turned on; what walks the graph again (`deps`' chains) asks it too.
pub struct EdgeRule<'a> {
    environment: &'a Environment,
    /// The project extras and groups selected, but those `left_out`.
    extras: Vec<String>,
    groups: Vec<String>,
    /// uv.lock's names for the selected project extras and groups in its conflict markers.
    conflict_names: Vec<String>,
}

impl<'a> EdgeRule<'a> {
    pub fn new(set: &LockedSet, environment: &'a Environment, selection: &Selection) -> EdgeRule<'a> {
        let left_out = conflicts_left_out(set, selection);
        // A name stays selected while some project's member of that name does.
        let is_left_out = |part: OptionalPart| {
            let mut members = set.conflicts.iter().flatten().filter(|item| item.part == part).peekable();
            members.peek().is_some() && members.all(|item| left_out.contains(item))
        };
        let extras: Vec<String> = selection
            .requested_extras(set)
            .into_iter()
            .filter(|extra| !is_left_out(OptionalPart::Extra(extra.clone())))
            .collect();
        let groups: Vec<String> = selection
            .requested_groups(set)
            .into_iter()
            .filter(|group| !is_left_out(OptionalPart::Group(group.clone())))
            .collect();
        let left_out_names: Vec<String> = left_out.iter().map(ConflictItem::marker_name).collect();
        let conflict_names = uv_conflict_names(set, &extras, &groups)
            .into_iter()
            .filter(|name| !left_out_names.contains(name))
            .collect();
        EdgeRule { environment, extras, groups, conflict_names }
    }

    /// Whether a root edge of `scope` installs with `selection`.
    fn root_in_scope(&self, scope: &Scope, selection: &Selection) -> bool {
        match scope {
            Scope::Always => true,
            Scope::Extra(extra) => selection.wants_extra(extra) && self.extras.contains(extra),
            Scope::Group(group) => selection.wants_group(group) && self.groups.contains(group),
        }
    }

    /// An edge out of an entry (not a root's) with `dependent_extras` on:
    /// in scope, and its marker holds.
    pub fn takes(&self, edge: &Dependency, dependent_extras: &[String]) -> bool {
        Self::in_scope(edge, dependent_extras) && self.marker_holds(edge, dependent_extras)
    }

    fn in_scope(edge: &Dependency, dependent_extras: &[String]) -> bool {
        match &edge.scope {
            Scope::Always => true,
            Scope::Extra(extra) => dependent_extras.contains(extra),
            // A dependency's own groups are not installed with it.
            Scope::Group(_) => false,
        }
    }

    fn marker_holds(&self, edge: &Dependency, dependent_extras: &[String]) -> bool {
        self.holds(edge.marker.as_ref(), &self.extras_with(dependent_extras))
    }

    /// `extras` and the conflict names the selection turns on.
    fn extras_with(&self, extras: &[String]) -> Vec<String> {
        let mut all = extras.to_vec();
        all.extend(self.conflict_names.iter().cloned());
        all
    }

    fn holds(&self, marker: Option<&super::markers::Marker>, extras: &[String]) -> bool {
        marker.is_none_or(|marker| marker.evaluate(self.environment, Requested { extras, groups: &self.groups }))
    }
}

fn walk_from_roots<'a>(set: &'a LockedSet, environment: &Environment, selection: &Selection) -> Vec<&'a LockedDist> {
    let rule = EdgeRule::new(set, environment, selection);
    let project_extras = rule.extras.clone();
    let mut walk = Walk { set, rule, reached: BTreeMap::new(), pending: Vec::new() };
    for root in &set.roots {
        if walk.rule.root_in_scope(&root.scope, selection) {
            walk.follow(root, &project_extras);
        }
    }
    while let Some(index) = walk.pending.pop() {
        let extras: Vec<String> =
            walk.reached.get(&index).map(|extras| extras.iter().cloned().collect()).unwrap_or_default();
        for edge in &set.dists[index].dependencies {
            if EdgeRule::in_scope(edge, &extras) {
                walk.follow(edge, &extras);
            }
        }
    }
    walk.reached.keys().map(|&index| &set.dists[index]).collect()
}

/// A walk from the roots under way.
struct Walk<'a> {
    set: &'a LockedSet,
    rule: EdgeRule<'a>,
    /// Entry index → the extras turned on for it.
    reached: BTreeMap<usize, BTreeSet<String>>,
    /// Entries whose edges are still to follow.
    pending: Vec<usize>,
}

impl Walk<'_> {
    /// Follows `edge` from a dependent with `dependent_extras` turned on, if its marker holds.
    fn follow(&mut self, edge: &Dependency, dependent_extras: &[String]) {
        if !self.rule.marker_holds(edge, dependent_extras) {
            return;
        }
        let mut extras = self.rule.extras_with(dependent_extras);
        extras.extend(edge.extras.iter().cloned());
        let requested = Requested { extras: &extras, groups: &self.rule.groups };
        let Some(target) = resolve(self.set, edge, self.rule.environment, requested) else {
            return;
        };
        // An entry's own marker says when it can install at all.
        if !self.rule.holds(self.set.dists[target].marker.as_ref(), &extras) {
            return;
        }
        let first_time = !self.reached.contains_key(&target);
        let turned_on = self.reached.entry(target).or_default();
        let before = turned_on.len();
        turned_on.extend(edge.extras.iter().cloned());
        if first_time || turned_on.len() > before {
            self.pending.push(target);
        }
    }
}

/// The members of uv.lock `conflicts` sets that `selection` turns on beside
/// another member of their set, left out because uv would refuse to install
/// both: in each set, one selected member stays, the one an earlier set kept
/// or else the first; the others are left out.
pub fn conflicts_left_out(set: &LockedSet, selection: &Selection) -> Vec<ConflictItem> {
    let extras = selection.requested_extras(set);
    let groups = selection.requested_groups(set);
    let selected = |item: &ConflictItem| match &item.part {
        OptionalPart::Extra(extra) => extras.contains(extra),
        OptionalPart::Group(group) => groups.contains(group),
    };
    let mut kept: Vec<&ConflictItem> = Vec::new();
    let mut left_out: Vec<ConflictItem> = Vec::new();
    for members in &set.conflicts {
        let on: Vec<&ConflictItem> = members.iter().filter(|item| selected(item) && !left_out.contains(item)).collect();
        let Some(&stays) = on.iter().find(|item| kept.contains(item)).or(on.first()) else { continue };
        if !kept.contains(&stays) {
            kept.push(stays);
        }
        left_out.extend(on.into_iter().filter(|item| *item != stays).cloned());
    }
    left_out
}

/// uv.lock writes a project's extras and groups into markers as
/// `extra == 'extra-7-project-cpu'` and `extra == 'group-7-project-dev'`
/// (with the length of the project name) where they conflict; these are
/// the names the selection turns on.
fn uv_conflict_names(set: &LockedSet, extras: &[String], groups: &[String]) -> Vec<String> {
    if set.format != LockFormat::UvLock {
        return Vec::new();
    }
    let projects =
        set.dists.iter().filter(|dist| matches!(dist.source, Source::Editable { .. } | Source::Virtual { .. }));
    let mut names = Vec::new();
    for project in projects {
        let name = &project.name;
        names.extend(extras.iter().map(|extra| format!("extra-{}-{name}-{extra}", name.len())));
        names.extend(groups.iter().map(|group| format!("group-{}-{name}-{group}", name.len())));
    }
    names
}

/// The entry an edge leads to: by name, then the edge's version, then the
/// entries' own markers; the first left when still ambiguous.
fn resolve(set: &LockedSet, edge: &Dependency, environment: &Environment, requested: Requested<'_>) -> Option<usize> {
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
        set.dists[**index].marker.as_ref().is_none_or(|marker| marker.evaluate(environment, requested))
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
