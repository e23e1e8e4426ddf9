//! `ftprobe deps` on the real lock files of fixtures/deps-truth/lockfiles.txt,
//! for 3.13t on linux, offline (from the cache scripts/fetch-deps-cache fills
//! once per machine), against what installing the same pins on the
//! provisioned 3.13t and importing every extension module really did
//! (fixtures/deps-truth/<name>.json, made by scripts/make-deps-truth).
//!
//! Each pin's status must equal the truth, and where both name a wheel, the
//! wheel deps chose must be the one uv installed (the same tags). A pin deps
//! calls `undetermined`, or the truth calls `unjudged`, is reported and not
//! counted as a disagreement; every other difference fails the test, naming
//! the pin.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{deps_cache, ftprobe};
use serde_json::Value;

/// The lock files: (name, path), from fixtures/deps-truth/lockfiles.txt.
fn lock_files(root: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(root.join("fixtures/deps-truth/lockfiles.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, path) = l.split_once(' ').expect("<name> <path>");
            (name.to_string(), path.trim().to_string())
        })
        .collect()
}

/// The tags a wheel's file name stands for (`cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64`
/// expanded), as its WHEEL file's `Tag:` lines list them.
fn wheel_tags(filename: &str) -> BTreeSet<String> {
    let stem = filename.strip_suffix(".whl").expect("a wheel");
    let parts: Vec<&str> = stem.split('-').collect();
    let [python, abi, platform] = parts[parts.len() - 3..] else { unreachable!() };
    let mut out = BTreeSet::new();
    for p in python.split('.') {
        for a in abi.split('.') {
            for plat in platform.split('.') {
                out.insert(format!("{p}-{a}-{plat}"));
            }
        }
    }
    out
}

/// One lock file's comparison.
#[derive(Default)]
struct Tally {
    compared: usize,
    agree: usize,
    /// Not counted: deps undetermined or the truth unjudged.
    unjudged: Vec<String>,
    disagree: Vec<String>,
}

fn compare(root: &Path, name: &str, lock: &str) -> Tally {
    let truth_path = root.join(format!("fixtures/deps-truth/{name}.json"));
    let truth: Value = serde_json::from_str(&std::fs::read_to_string(&truth_path).unwrap()).unwrap();
    let output = ftprobe(deps_cache())
        .current_dir(root)
        .args(["deps", lock, "-t", "3.13t", "--platform", "linux", "--offline", "--format", "json"])
        .args(["--fail-on", "never"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{lock}: not JSON ({e}): {}", common::stderr(&output)));
    // deps: (name, version) -> the pin, for what is installed on 3.13t.
    let mut deps: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for p in report["packages"].as_array().unwrap() {
        if p["status"] == "not_needed" {
            continue;
        }
        let key = (p["name"].as_str().unwrap().to_string(), p["version"].as_str().unwrap_or("").to_string());
        if let Some(seen) = deps.insert(key.clone(), p) {
            assert_eq!(seen["status"], p["status"], "{lock}: {} {} listed twice with two statuses", key.0, key.1);
        }
    }
    let mut tally = Tally::default();
    let rerun = "(a stale truth? bash scripts/make-deps-truth)";
    let mut in_truth = BTreeSet::new();
    for pin in truth["pins"].as_array().unwrap() {
        let key = (pin["name"].as_str().unwrap().to_string(), pin["version"].as_str().unwrap().to_string());
        let label = format!("{}=={}", key.0, key.1);
        in_truth.insert(key.clone());
        let real = pin["truth"].as_str().unwrap();
        let Some(said) = deps.get(&key) else {
            tally.disagree.push(format!("{label}: in the truth ({real}), but deps does not list it {rerun}"));
            continue;
        };
        let status = said["status"].as_str().unwrap();
        let reason = said["reason"].as_str().unwrap_or("");
        tally.compared += 1;
        if status == "undetermined" || real == "unjudged" {
            let why = pin["why"].as_str().map(|w| format!(" ({w})")).unwrap_or_default();
            tally.unjudged.push(format!("{label}: deps {status} ({reason}); truth {real}{why}"));
            continue;
        }
        if status != real {
            let modules = pin.get("modules").map(|m| format!("; modules: {m}")).unwrap_or_default();
            tally.disagree.push(format!(
                "{label}: deps says {status} ({reason}; wheel {}), a real install on 3.13t: {real}{modules}",
                said["wheel"]
            ));
            continue;
        }
        // The same wheel: the one uv installed has the tags deps's choice names.
        if let (Some(wheel), Some(tags)) = (said["wheel"].as_str(), pin.get("wheel_tags")) {
            let installed: BTreeSet<String> =
                tags.as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
            if wheel_tags(wheel) != installed {
                tally.disagree.push(format!("{label}: deps read {wheel}, uv installed a wheel tagged {installed:?}"));
                continue;
            }
        }
        tally.agree += 1;
    }
    for (name, version) in deps.keys().filter(|k| !in_truth.contains(*k)) {
        tally.disagree.push(format!("{name}=={version}: deps lists it, the truth does not {rerun}"));
    }
    tally
}

#[test]
fn deps_on_real_lock_files_agrees_with_real_installs_on_3_13t() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for (name, lock) in lock_files(root) {
        let tally = compare(root, &name, &lock);
        println!(
            "{name} ({lock}): {} pins compared, {} agree, {} disagree, {} not judged",
            tally.compared,
            tally.agree,
            tally.disagree.len(),
            tally.unjudged.len()
        );
        for line in &tally.unjudged {
            println!("  not judged: {line}");
        }
        for line in &tally.disagree {
            println!("  DISAGREE: {line}");
            failures.push(format!("{name}: {line}"));
        }
    }
    assert!(failures.is_empty(), "deps disagrees with real installs on 3.13t:\n{}", failures.join("\n"));
}

#[test]
fn a_wheel_name_stands_for_every_tag_it_compresses() {
    let tags = wheel_tags("coverage-7.13.5-cp313-cp313t-manylinux1_x86_64.manylinux_2_28_x86_64.whl");
    let want: BTreeSet<String> = ["cp313-cp313t-manylinux1_x86_64", "cp313-cp313t-manylinux_2_28_x86_64"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(tags, want);
    assert_eq!(wheel_tags("six-1.17.0-py2.py3-none-any.whl").len(), 2);
}
