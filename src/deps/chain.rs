//! Where a pin comes from: the shortest chains of dependency edges from the
//! project's direct dependencies to it, among the entries a target installs
//! (`myapp[all] → some-client → some-core`). A chain takes an edge only
//! where the install walk would from that path: an edge under an extra
//! counts only when the chain so far turned that extra on.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::lock::install::EdgeRule;
use crate::lock::{LockedDist, LockedSet, RootsFrom};

/// How many chains are kept per pin.
const MOST_CHAINS: usize = 3;

/// The dependency graph of what one target installs, walked once from each
/// direct dependency.
pub struct Graph<'a> {
    /// Direct dependencies: name, and how the chain's first element names
    /// it (`name[extra]` when an extra asks for it).
    roots: Vec<(&'a str, String)>,
    /// For each root, the shortest chain to each entry it reaches (the root
    /// first, the entry last).
    reached: Vec<BTreeMap<&'a str, Vec<&'a str>>>,
}

/// A step of a chain: an entry and the extras the chain turned on for it.
type Reached<'a> = (&'a str, Vec<String>);

impl<'a> Graph<'a> {
    /// The graph of `installed` (entries of `set`), whose edges are taken as
    /// `rule` takes them, or `None` where the input has no edges to follow.
    pub fn new(set: &'a LockedSet, installed: &[&'a LockedDist], rule: &EdgeRule<'_>) -> Option<Graph<'a>> {
        let dists: BTreeMap<&str, &LockedDist> = installed.iter().map(|d| (d.name.as_str(), *d)).collect();
        let has_edges = installed.iter().any(|d| d.dependencies.iter().any(|e| dists.contains_key(e.name.as_str())));
        // A lock file that names the roots records the graph even when every
        // pin is a direct dependency; a requirements file without `# via`
        // lines (every entry a root, no edge) records none.
        let names_roots = matches!(set.roots_from, RootsFrom::LockFile | RootsFrom::Pyproject | RootsFrom::Installed);
        if set.roots.is_empty() || (!names_roots && !has_edges) {
            return None;
        }
        let mut walk = Walk { dists, rule, steps: BTreeMap::new() };
        let (roots, reached) = set
            .roots
            .iter()
            .filter_map(|r| {
                let (&name, _) = walk.dists.get_key_value(r.name.as_str())?;
                let shown =
                    if r.extras.is_empty() { r.name.clone() } else { format!("{}[{}]", r.name, r.extras.join(",")) };
                Some(((name, shown), walk.shortest_chains((name, r.extras.clone()))))
            })
            .unzip();
        Some(Graph { roots, reached })
    }

    /// Whether `name` is a direct dependency.
    pub fn is_root(&self, name: &str) -> bool {
        self.roots.iter().any(|(root, _)| *root == name)
    }

    /// The shortest chains from a direct dependency to `name` (one per
    /// direct dependency that reaches it, shortest first, at most three).
    /// A direct dependency itself has none.
    pub fn chains_to(&self, name: &str) -> Vec<Vec<String>> {
        if self.is_root(name) {
            return Vec::new();
        }
        let mut chains: Vec<Vec<String>> = self
            .roots
            .iter()
            .zip(&self.reached)
            .filter_map(|((_, shown), reached)| {
                let chain = reached.get(name)?;
                Some(std::iter::once(shown.clone()).chain(chain[1..].iter().map(|n| n.to_string())).collect())
            })
            .collect();
        chains.sort_by_key(Vec::len);
        // Two roots of one name (the project's dependency and a group's) reach alike.
        let mut seen = BTreeSet::new();
        chains.retain(|chain| seen.insert(chain.clone()));
        chains.truncate(MOST_CHAINS);
        chains
    }
}

/// The walks from the roots under way, with the edges each step takes,
/// found once however many roots reach it.
struct Walk<'a, 'r> {
    /// The installed entries by name.
    dists: BTreeMap<&'a str, &'a LockedDist>,
    rule: &'r EdgeRule<'r>,
    steps: BTreeMap<Reached<'a>, Vec<Reached<'a>>>,
}

impl<'a> Walk<'a, '_> {
    /// Breadth first from `start`: the shortest chain to each entry reached.
    fn shortest_chains(&mut self, start: Reached<'a>) -> BTreeMap<&'a str, Vec<&'a str>> {
        let mut parent: BTreeMap<Reached<'a>, Reached<'a>> = BTreeMap::new();
        let mut seen = BTreeSet::from([start.clone()]);
        let mut queue = VecDeque::from([start]);
        let mut chains: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        while let Some(current) = queue.pop_front() {
            if !chains.contains_key(current.0) {
                let mut chain = vec![current.0];
                let mut at = &current;
                while let Some(previous) = parent.get(at) {
                    chain.push(previous.0);
                    at = previous;
                }
                chain.reverse();
                chains.insert(current.0, chain);
            }
            for next in self.steps_from(&current) {
                if seen.insert(next.clone()) {
                    parent.insert(next.clone(), current.clone());
                    queue.push_back(next);
                }
            }
        }
        chains
    }

    /// The steps out of `current` that the install walk would take.
    fn steps_from(&mut self, current: &Reached<'a>) -> Vec<Reached<'a>> {
        if let Some(steps) = self.steps.get(current) {
            return steps.clone();
        }
        let mut steps = Vec::new();
        if let Some(dist) = self.dists.get(current.0) {
            let extras = self.with_own_extras(dist, &current.1);
            for edge in &dist.dependencies {
                let Some((&next, _)) = self.dists.get_key_value(edge.name.as_str()) else { continue };
                if edge.name != dist.name && self.rule.takes(edge, &extras) {
                    steps.push((next, edge.extras.clone()));
                }
            }
        }
        self.steps.insert(current.clone(), steps.clone());
        steps
    }

    /// `extras` and those the entry's own edges to itself turn on with them
    /// (`all = ["pkg[a,b]"]`).
    fn with_own_extras(&self, dist: &LockedDist, extras: &[String]) -> Vec<String> {
        let mut on = extras.to_vec();
        loop {
            let before = on.len();
            for edge in dist.dependencies.iter().filter(|edge| edge.name == dist.name) {
                if self.rule.takes(edge, &on) {
                    for extra in &edge.extras {
                        if !on.contains(extra) {
                            on.push(extra.clone());
                        }
                    }
                }
            }
            if on.len() == before {
                return on;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The graph of what 3.14t on Linux installs from a lock file under
    /// `fixtures/lockfiles/`, handed to `check` with the installed entries.
    fn with_graph(relative: &str, check: impl FnOnce(&Graph<'_>, &[&LockedDist])) {
        let set = crate::lock::test_fixtures::read(relative);
        let environment =
            crate::lock::markers::Environment::new(3, 14, true, crate::lock::markers::Platform::LinuxX86_64);
        let installed = crate::lock::install::installed(&set, &environment, &Default::default());
        let rule = EdgeRule::new(&set, &environment, &Default::default());
        let graph = Graph::new(&set, &installed, &rule).expect("the lock file has edges");
        check(&graph, &installed);
    }

    /// mitmproxy's real uv.lock: cffi comes in through cryptography.
    #[test]
    fn chains_follow_the_lock_file_edges_from_a_direct_dependency() {
        with_graph("uv/mitmproxy/uv.lock", |graph, _| {
            let chains = graph.chains_to("cffi");
            assert!(!chains.is_empty(), "no chain to cffi");
            assert!(chains[0].ends_with(&["cryptography".to_string(), "cffi".to_string()]), "{chains:?}");
            assert!(graph.is_root(chains[0][0].split('[').next().unwrap()), "{chains:?}");
            assert!(graph.chains_to(&chains[0][0]).is_empty());
        });
    }

    /// A name asked for by several roots (a member, a member with an extra, a
    /// group) gives each chain once.
    #[test]
    fn a_chain_reached_from_two_roots_of_one_name_is_listed_once() {
        with_graph("handmade/uv-non-project-root.lock", |graph, _| {
            let chains = graph.chains_to("parser");
            assert_eq!(chains, [vec!["web", "parser"], vec!["web[fast]", "parser"]], "{chains:?}");
        });
    }

    /// An edge under an extra is taken only on a path that turned the extra on.
    #[test]
    fn a_chain_takes_an_extras_edge_only_where_its_path_turned_the_extra_on() {
        with_graph("handmade/uv-extra-on-one-path.lock", |graph, installed| {
            assert!(installed.iter().any(|dist| dist.name == "accel"), "the walk installs accel");
            assert_eq!(graph.chains_to("accel"), [["client", "core", "accel"]]);
            assert_eq!(graph.chains_to("core"), Vec::<Vec<String>>::new(), "a direct dependency");
        });
    }
}
