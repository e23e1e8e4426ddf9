//! Keeps ARCHITECTURE.md's layers true: reads the `crate::`, `super::` and
//! `self::` paths of every file under `src/` (test modules left out) and
//! fails when a module reaches a layer above its own, or when files import
//! each other in a circle other than the one `binscan/` has by design (the
//! code walker and the architecture decoders call each other).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's top-level modules, from the bottom layer up. A module may use
/// the modules of its own row listed before it, and any of the rows below.
const LAYERS: &[(&str, &[&str])] = &[
    ("model", &["model"]),
    ("ground floor", &["os", "error", "input", "interrupt", "dirs", "environment", "probes", "process", "printer"]),
    ("binary scanning", &["binscan"]),
    ("findings", &["diagnostic"]),
    ("scanning paths and wheels", &["scan"]),
    ("the package index", &["index"]),
    ("interpreters and probes", &["discover", "worker", "runtime"]),
    ("environments", &["venv"]),
    ("lock files", &["lock"]),
    ("the run engine", &["run"]),
    ("what a unit does", &["batch", "testrun", "deps"]),
    ("renderers", &["report"]),
    ("arguments and check", &["cli", "check"]),
    ("commands", &["commands"]),
];

/// The one circle allowed: `code.rs` dispatches to the decoders, which call
/// back into it and share its helpers.
const BINSCAN_CIRCLE: &[&str] =
    &["binscan::arm32", "binscan::arm64", "binscan::block_memory", "binscan::code", "binscan::flow", "binscan::x86"];

/// Each file's module path (`binscan::x86`), and its text without tests.
fn modules() -> BTreeMap<String, String> {
    let mut files = Vec::new();
    collect(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path(), &mut files);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts == ["lib"] || parts == ["main"] || parts.last().is_some_and(|p| p == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        out.insert(parts.join("::"), without_tests_and_comments(&text));
    }
    out
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The text without its `#[cfg(test)]` modules and comment lines (doc
/// links name modules without importing them).
fn without_tests_and_comments(text: &str) -> String {
    let code: Vec<&str> = text.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
    let mut out = String::new();
    let mut lines = code.into_iter();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Skip the item the attribute guards, to its closing brace.
        let mut depth = 0i32;
        for skipped in lines.by_ref() {
            depth += skipped.matches('{').count() as i32 - skipped.matches('}').count() as i32;
            if depth <= 0 && (skipped.trim_end().ends_with('}') || skipped.trim_end().ends_with(';')) {
                break;
            }
        }
    }
    out
}

/// Every path that starts with `prefix` in `text`, with `a::{b, c::d}`
/// groups spelt out (`a::b`, `a::c::d`).
fn paths_after(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        spell_out(rest, String::new(), &mut out);
    }
    out
}

/// Reads one path (maybe ending in a `{...}` group) from the start of `text`.
fn spell_out(text: &str, stem: String, out: &mut Vec<String>) {
    let ident: String = text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    let mut path = stem;
    let mut rest = text;
    if !ident.is_empty() {
        if !path.is_empty() {
            path.push_str("::");
        }
        path.push_str(&ident);
        rest = &text[ident.len()..];
        if let Some(after) = rest.strip_prefix("::") {
            return spell_out(after, path, out);
        }
        out.push(path);
        return;
    }
    let Some(group) = rest.strip_prefix('{') else {
        if !path.is_empty() {
            out.push(path);
        }
        return;
    };
    // Split the group at its top-level commas.
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                item(&group[start..i], &path, out);
                return;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                item(&group[start..i], &path, out);
                start = i + 1;
            }
            _ => {}
        }
    }
}

fn item(text: &str, stem: &str, out: &mut Vec<String>) {
    let text = text.trim();
    if text == "self" {
        out.push(stem.to_string());
    } else if !text.is_empty() {
        spell_out(text, stem.to_string(), out);
    }
}

/// The module of `modules` that `path` names or names an item of.
fn module_of<'a>(path: &str, modules: &'a BTreeMap<String, String>) -> Option<&'a str> {
    let mut parts: Vec<&str> = path.split("::").collect();
    while !parts.is_empty() {
        if let Some((name, _)) = modules.get_key_value(&parts.join("::")) {
            return Some(name.as_str());
        }
        parts.pop();
    }
    None
}

/// What each module uses of the others (not counting its own ancestors:
/// a child module uses what its parent defines).
fn imports(modules: &BTreeMap<String, String>) -> BTreeMap<&str, BTreeSet<&str>> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (module, text) in modules {
        let parts: Vec<&str> = module.split("::").collect();
        let parent = parts[..parts.len() - 1].join("::");
        let mut named: Vec<String> = paths_after(text, "crate::");
        let join = |base: &str, path: String| if base.is_empty() { path } else { format!("{base}::{path}") };
        named.extend(paths_after(text, "super::").into_iter().map(|p| join(&parent, p)));
        named.extend(paths_after(text, "self::").into_iter().map(|p| join(module, p)));
        for path in named {
            let Some(target) = module_of(&path, modules) else { continue };
            let is_ancestor = module.starts_with(&format!("{target}::"));
            if target != module && !is_ancestor {
                edges.entry(module.as_str()).or_default().insert(target);
            }
        }
    }
    edges
}

fn position(top: &str) -> Option<(usize, usize)> {
    LAYERS.iter().enumerate().find_map(|(layer, (_, names))| names.iter().position(|n| *n == top).map(|i| (layer, i)))
}

#[test]
fn every_module_is_in_a_layer() {
    let modules = modules();
    let tops: BTreeSet<&str> = modules.keys().map(|m| m.split("::").next().unwrap()).collect();
    let missing: Vec<&&str> = tops.iter().filter(|t| position(t).is_none()).collect();
    assert!(missing.is_empty(), "modules in no row of LAYERS (add them where they belong): {missing:?}");
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let modules = modules();
    let mut wrong = Vec::new();
    for (module, targets) in imports(&modules) {
        let from = module.split("::").next().unwrap();
        for target in targets {
            let to = target.split("::").next().unwrap();
            if from == to {
                continue;
            }
            if let (Some(here), Some(there)) = (position(from), position(to))
                && there >= here
            {
                let layer = |p: (usize, usize)| LAYERS[p.0].0;
                wrong.push(format!("{module} ({}) uses {target} ({})", layer(here), layer(there)));
            }
        }
    }
    assert!(wrong.is_empty(), "imports of a layer above (or later in the same row):\n{}", wrong.join("\n"));
}

#[test]
fn the_only_circle_of_files_is_binscans_decoders() {
    let modules = modules();
    let edges = imports(&modules);
    let circles: Vec<Vec<&str>> = circles(&edges);
    let allowed: BTreeSet<&str> = BINSCAN_CIRCLE.iter().copied().collect();
    let wrong: Vec<&Vec<&str>> =
        circles.iter().filter(|c| c.iter().copied().collect::<BTreeSet<&str>>() != allowed).collect();
    assert!(wrong.is_empty(), "modules that import each other in a circle: {wrong:?}");
    assert_eq!(circles.len(), 1, "binscan's decoders and code.rs no longer form the circle this test expects");
}

/// The strongly connected groups of more than one module (Tarjan's algorithm).
fn circles<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, edges: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w);
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort_unstable();
                s.found.push(group);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &v in edges.keys() {
        if !state.index.contains_key(v) {
            visit(v, edges, &mut state);
        }
    }
    state.found
}

#[test]
fn the_reader_sees_grouped_and_nested_imports() {
    let text = "use crate::{model::name, scan::{wheel::Reader, self}};\nlet x = crate::os::glibc_version();";
    let mut found = paths_after(text, "crate::");
    found.sort();
    assert_eq!(found, ["model::name", "os::glibc_version", "scan", "scan::wheel::Reader"]);
    // A path inside another word is not the crate's.
    assert!(paths_after("mycrate::x", "crate::").is_empty());
}
