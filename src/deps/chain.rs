//! Where a pin comes from: the shortest chains of dependency edges from the
//! project's direct dependencies to it, among the entries a target installs
//! (`myapp[all] → some-client → some-core`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::lock::{LockedDist, LockedSet, RootsFrom};

/// How many chains are kept per pin.
const MOST_CHAINS: usize = 3;

/// The dependency graph of what one target installs.
pub struct Graph {
    /// Direct dependencies, as the chain's first element names them
    /// (`name[extra]` when an extra asks for it).
    roots: Vec<(String, String)>,
    /// Name → the names it depends on, among the installed entries.
    edges: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// The graph of `installed` (entries of `set`), or `None` where the
    /// input has no edges to follow.
    pub fn new(set: &LockedSet, installed: &[&LockedDist]) -> Option<Graph> {
        let names: BTreeSet<&str> = installed.iter().map(|d| d.name.as_str()).collect();
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for dist in installed {
            let targets = dist.dependencies.iter().map(|d| d.name.as_str()).filter(|n| names.contains(n));
            edges.entry(dist.name.clone()).or_default().extend(targets.map(str::to_string));
        }
        // A lock file that names the roots records the graph even when every
        // pin is a direct dependency; a requirements file without `# via`
        // lines (every entry a root, no edge) records none.
        let names_roots = matches!(set.roots_from, RootsFrom::LockFile | RootsFrom::Pyproject | RootsFrom::Installed);
        if set.roots.is_empty() || (!names_roots && edges.values().all(BTreeSet::is_empty)) {
            return None;
        }
        let roots = set
            .roots
            .iter()
            .filter(|r| names.contains(r.name.as_str()))
            .map(|r| {
                let shown =
                    if r.extras.is_empty() { r.name.clone() } else { format!("{}[{}]", r.name, r.extras.join(",")) };
                (r.name.clone(), shown)
            })
            .collect();
        Some(Graph { roots, edges })
    }

    /// Whether `name` is a direct dependency.
    pub fn is_root(&self, name: &str) -> bool {
        self.roots.iter().any(|(root, _)| root == name)
    }

    /// The shortest chains from a direct dependency to `name` (one per
    /// direct dependency that reaches it, shortest first, at most three).
    /// A direct dependency itself has none.
    pub fn chains_to(&self, name: &str) -> Vec<Vec<String>> {
        if self.is_root(name) {
            return Vec::new();
        }
        let mut chains: Vec<Vec<String>> =
            self.roots.iter().filter_map(|(root, shown)| self.shortest(root, shown, name)).collect();
        chains.sort_by_key(Vec::len);
        chains.dedup();
        chains.truncate(MOST_CHAINS);
        chains
    }

    /// Breadth first from `root` to `name`.
    fn shortest(&self, root: &str, shown: &str, name: &str) -> Option<Vec<String>> {
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = VecDeque::from([root]);
        let mut seen = BTreeSet::from([root]);
        while let Some(current) = queue.pop_front() {
            if current == name {
                let mut chain = vec![name.to_string()];
                let mut at = name;
                while let Some(previous) = parent.get(at) {
                    chain.push(previous.to_string());
                    at = previous;
                }
                chain.reverse();
                chain[0] = shown.to_string();
                return Some(chain);
            }
            for next in self.edges.get(current).into_iter().flatten() {
                if seen.insert(next.as_str()) {
                    parent.insert(next.as_str(), current);
                    queue.push_back(next.as_str());
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mitmproxy's real uv.lock: cffi comes in through cryptography.
    #[test]
    fn chains_follow_the_lock_file_edges_from_a_direct_dependency() {
        let set = crate::lock::test_fixtures::read("uv/mitmproxy/uv.lock");
        let environment =
            crate::lock::markers::Environment::new(3, 14, true, crate::lock::markers::Platform::LinuxX86_64);
        let installed = crate::lock::install::installed(&set, &environment, &Default::default());
        let graph = Graph::new(&set, &installed).expect("uv.lock has edges");
        let chains = graph.chains_to("cffi");
        assert!(!chains.is_empty(), "no chain to cffi");
        assert!(chains[0].ends_with(&["cryptography".to_string(), "cffi".to_string()]), "{chains:?}");
        assert!(graph.is_root(chains[0][0].split('[').next().unwrap()), "{chains:?}");
        assert!(graph.chains_to(&chains[0][0]).is_empty());
    }
}
