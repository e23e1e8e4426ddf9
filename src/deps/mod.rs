//! `ftprobe deps`: will a project's locked dependencies work on a
//! free-threaded CPython (or in isolated subinterpreters), at their exact
//! pins, without installing anything?
//!
//! For every input ([`crate::lock::LockedSet`]), target and platform: which
//! pins the target installs (markers, extras, groups), the wheel an
//! installer would choose for each (`pick`, [`choose`], `model::ranking`), and for a
//! compiled wheel the scanner's verdicts on the modules the target imports,
//! read from the bytes fetched by range requests ([`fetch`]), or in place
//! from a `--find-links` directory ([`local`]). Pins with no wheel get what
//! an install would do and the first later release that has one; every
//! blocker gets the chains that pull it in ([`chain`]).

pub mod chain;
pub mod choose;
pub mod fetch;
pub mod judge;
pub mod local;
pub mod pages;
mod pick;
mod remembered;
pub mod result;
pub mod sdist;
pub mod upgrade;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;

use crate::lock::install::Selection;
use crate::lock::markers::{Environment, Platform as MarkerPlatform};
use crate::lock::resolve::Resolution;
use crate::lock::{LockedDist, LockedSet, Source};
use crate::model::platform::Platform;
use crate::model::ranking::SupportedTags;
use crate::model::target::Target;

use choose::Candidate;
use pick::{Choice, asks_index, choice, found_in_directory, index_of, local_copy, locked_candidates, unlocated};
use result::{DepStatus, DepsReport, InputEntry, InputLocation, PackageResult, Traffic};

/// A target as the user wrote it, and what it means.
#[derive(Clone, Debug)]
pub struct NamedTarget {
    pub text: String,
    pub target: Target,
}

/// A platform as the user wrote it, and the tags it stands for.
#[derive(Clone, Debug)]
pub struct NamedPlatform {
    pub text: String,
    pub platform: Platform,
}

/// How `deps` runs.
pub struct Options {
    pub targets: Vec<NamedTarget>,
    pub platforms: Vec<NamedPlatform>,
    pub selection: Selection,
    /// Where pins without a registry of their own are looked up.
    pub index_url: String,
    pub fetch: fetch::Fetcher,
    /// `--find-links`: local directories of wheels and sdists, beside the index.
    pub find_links: local::FindLinks,
    /// `--no-index`: no index is asked; only [`Options::find_links`] and the
    /// lock file's own lists answer.
    pub no_index: bool,
    /// Parallel index requests and wheel reads.
    pub jobs: usize,
}

/// One input read: its label (the path as given) and what it pins; for a
/// `pyproject.toml`, the target and platform uv resolved these pins for.
pub struct Input {
    pub label: String,
    pub set: LockedSet,
    pub resolution: Option<Resolution>,
}

/// Each input's lock file with each local registry its pins name
/// (`../wheels`, `file:///srv/wheels`), for [`local::FindLinks::add_lock_directories`].
pub fn local_registries(inputs: &[Input]) -> Vec<(&std::path::Path, &str)> {
    let mut out: Vec<(&std::path::Path, &str)> = Vec::new();
    for input in inputs {
        let Some(lock_file) = input.set.files.first() else { continue };
        for dist in input.set.dists.iter().filter(|dist| found_in_directory(dist)) {
            if let Source::Registry { index: Some(index) } = &dist.source
                && !out.contains(&(lock_file.as_path(), index.as_str()))
            {
                out.push((lock_file.as_path(), index.as_str()));
            }
        }
    }
    out
}

impl Input {
    /// Whether the input answers for `target` on `platform` (a resolved one only for its own).
    fn answers_for(&self, target: &NamedTarget, platform: &NamedPlatform) -> bool {
        self.resolution.as_ref().is_none_or(|r| r.target == target.text && r.platform == platform.text)
    }
}

/// One pin to answer for on one target and platform.
struct Question<'a> {
    input: &'a Input,
    dist: &'a LockedDist,
    target: &'a NamedTarget,
    platform: &'a NamedPlatform,
    /// The tags the target takes on the platform, ranked (one list per target and platform).
    supported: Arc<SupportedTags>,
    installed: bool,
    /// The wheel of the lock file's own list the target takes, when it lists any.
    locked_wheel: Option<Candidate>,
    /// Whether the lock file's lists of files may be taken as all its pins
    /// have for the target: not when its `requires-python` leaves the
    /// target out, or its environments the platform, since lockers then
    /// list only the wheels of what they were made for.
    lists_every_file: bool,
    required_by: Vec<Vec<String>>,
}

/// Answers for every input, target and platform. `progress` is told each
/// wheel as its scan finishes, and each sdist as it is read.
pub fn run(inputs: &[Input], options: &Options, progress: &(dyn Fn(&str) + Sync)) -> DepsReport {
    let mut notes: Vec<String> =
        inputs.iter().filter_map(|i| i.resolution.as_ref().map(|r| r.note(&i.label))).collect();
    for note in inputs.iter().flat_map(|i| &i.set.notes) {
        if !notes.contains(note) {
            notes.push(note.clone());
        }
    }
    let questions = questions(inputs, options, &mut notes);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(options.jobs.max(1)).build();
    let answer = || answer_all(&questions, options, progress);
    let (packages, mut more_notes) = match pool {
        Ok(pool) => pool.install(answer),
        Err(_) => answer(),
    };
    notes.append(&mut more_notes);
    notes.extend(options.find_links.note());
    if options.no_index {
        notes.push(if options.find_links.is_empty() {
            "--no-index without --find-links: no index was asked and no file can be read, so every pin whose \
             wheel is compiled, and every pin the lock file lists no files for, is an error"
                .into()
        } else {
            "--no-index: no index was asked; pins were answered from the --find-links directories and the lock file alone"
                .into()
        });
    }
    notes.extend(options.fetch.credential_notes());
    let mut report = DepsReport {
        inputs: inputs
            .iter()
            .map(|i| InputEntry { path: i.label.clone(), format: i.set.format, resolved: i.resolution.clone() })
            .collect(),
        targets: options.targets.iter().map(|t| t.text.clone()).collect(),
        platforms: options.platforms.iter().map(|p| p.text.clone()).collect(),
        platform_tags: options.platforms.iter().map(|p| (p.text.clone(), p.platform.tags())).collect(),
        packages,
        summary: Vec::new(),
        notes,
        traffic: options.fetch.traffic(),
    };
    report.summarize();
    report
}

/// The marker environment of a target on a platform, when markers can
/// describe that platform.
fn environment(target: Target, platform: &Platform) -> Option<Environment> {
    let (major, minor) = target.python_version();
    Some(Environment::new(major, minor, target.is_free_threaded(), MarkerPlatform::of(&platform.machine)?))
}

/// Every pin of every input, per target and platform, with whether that
/// target installs it and the chains that pull it in.
fn questions<'a>(inputs: &'a [Input], options: &'a Options, notes: &mut Vec<String>) -> Vec<Question<'a>> {
    let mut out = Vec::new();
    let narrowed = options.selection != Selection::default();
    for input in inputs {
        if narrowed && input.set.format == crate::lock::LockFormat::Installed {
            notes.push(format!(
                "{}: an installed environment holds what it holds: --extra, --group and --no-dev narrow a lock file's choices and were not applied to it",
                input.label
            ));
        }
        let left_out = crate::lock::install::conflicts_left_out(&input.set, &options.selection);
        if !left_out.is_empty() {
            let named: Vec<String> = left_out.iter().map(ToString::to_string).collect();
            notes.push(format!(
                "{}: its `conflicts` let only one member of each set install, so these were left out beside the member kept: {}; choose others with --extra, --group or --no-dev",
                input.label,
                named.join(", ")
            ));
        }
        let mut said_no_graph = false;
        for target in &options.targets {
            let (major, minor) = target.target.python_version();
            let python_admitted = input.resolution.is_some() || input.set.admits_python(major, minor) != Some(false);
            if !python_admitted {
                notes.push(outside_requires_python_note(input, target));
            }
            for platform in options.platforms.iter().filter(|platform| input.answers_for(target, platform)) {
                let Some(environment) = environment(target.target, &platform.platform) else {
                    notes.push(format!(
                        "{}: environment markers cannot describe platform {}; its pins were not examined",
                        input.label, platform.text
                    ));
                    continue;
                };
                let made_for = input.set.supported_environments.as_ref();
                let environment_admitted = made_for.is_none_or(|m| m.evaluate(&environment, Default::default()));
                if python_admitted && !environment_admitted {
                    notes.push(outside_environments_note(input, target, platform));
                }
                let lists_every_file = python_admitted && environment_admitted;
                let supported = Arc::new(SupportedTags::new(target.target, &platform.platform));
                let installed = crate::lock::install::installed(&input.set, &environment, &options.selection);
                let rule = crate::lock::install::EdgeRule::new(&input.set, &environment, &options.selection);
                let graph = chain::Graph::new(&input.set, &installed, &rule);
                if graph.is_none() && !said_no_graph {
                    said_no_graph = true;
                    notes.push(format!(
                        "{}: the input records no dependency graph, so blockers are listed without the chains that pull them in",
                        input.label
                    ));
                }
                let wanted: BTreeSet<(&str, Option<&str>)> =
                    installed.iter().map(|d| (d.name.as_str(), d.version.as_deref())).collect();
                let mut seen = BTreeSet::new();
                for dist in &input.set.dists {
                    if !seen.insert((dist.name.as_str(), dist.version.as_deref())) || is_the_project(dist) {
                        continue;
                    }
                    let installed = wanted.contains(&(dist.name.as_str(), dist.version.as_deref()));
                    let required_by = graph.as_ref().map(|g| g.chains_to(&dist.name)).unwrap_or_default();
                    let locked_wheel =
                        installed.then(|| choose::choose(&locked_candidates(dist), &supported).cloned()).flatten();
                    let supported = Arc::clone(&supported);
                    out.push(Question {
                        input,
                        dist,
                        target,
                        platform,
                        supported,
                        installed,
                        locked_wheel,
                        lists_every_file,
                        required_by,
                    });
                }
            }
        }
    }
    out
}

/// The project itself (uv.lock's editable or virtual root): not a dependency.
fn is_the_project(dist: &LockedDist) -> bool {
    matches!(dist.source, Source::Editable { .. } | Source::Virtual { .. })
}

fn answer_all(
    questions: &[Question<'_>],
    options: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> (Vec<PackageResult>, Vec<String>) {
    // Project pages: for pins the lock file lists no wheels for, for every
    // pin that turns out to have no wheel (the first later release), and
    // for compiled wheels the lock file names without a URL or sha256.
    let needs_page: BTreeSet<(&str, &str)> = questions
        .iter()
        .filter(|q| asks_index(q.dist, options) && q.installed && q.dist.version.is_some())
        .filter(|q| q.locked_wheel.as_ref().is_none_or(|w| unlocated(w) && local_copy(q, w, options).is_none()))
        .map(|q| (index_of(q.dist, options), q.dist.name.as_str()))
        .collect();
    let pages: BTreeMap<(&str, &str), Result<Vec<Candidate>, fetch::FetchFailure>> = needs_page
        .into_par_iter()
        .map(|(index, name)| ((index, name), options.fetch.project_files(index, name)))
        .collect();
    // The wheel each pin installs.
    let chosen: Vec<Choice> = questions.par_iter().map(|q| choice(q, options, &pages)).collect();
    // Each compiled wheel read and scanned once: the pins' own, and the
    // first later release's of a pin with none, to tell whether upgrading helps.
    let to_scan: Vec<&Candidate> = chosen
        .iter()
        .filter_map(|c| match c {
            Choice::Wheel { wheel, .. } => Some(wheel).filter(|wheel| !wheel.is_pure_wheel()),
            Choice::NoWheel { upgrades: Some(upgrades), .. } => upgrades.first_to_scan(),
            _ => None,
        })
        .collect();
    let mut scans = scan_wheels(to_scan, options, progress);
    // Where that release's wheel does not help, the newest release's.
    let newest: Vec<&Candidate> = questions
        .iter()
        .zip(&chosen)
        .filter_map(|(q, c)| match c {
            Choice::NoWheel { upgrades: Some(upgrades), .. } => upgrades.newest_to_scan(q.target.target, &scans),
            _ => None,
        })
        .filter(|wheel| !scans.contains_key(&wheel.filename))
        .collect();
    let newest_scans = scan_wheels(newest, options, progress);
    scans.extend(newest_scans);
    // What building each sdist-only pin's sdist makes (what cannot be read stays unknown).
    let sdists: Vec<&Candidate> = chosen
        .iter()
        .filter_map(|c| match c {
            Choice::NoWheel { sdist: Some(sdist), .. } => Some(sdist),
            _ => None,
        })
        .collect();
    let read: Vec<(String, Result<sdist::SdistKind, fetch::FetchFailure>)> = sdists
        .into_par_iter()
        .filter(|_| !crate::interrupt::requested())
        .map(|sdist| {
            let kind = options.fetch.sdist_kind(sdist);
            progress(&sdist.filename);
            (sdist.filename.clone(), kind)
        })
        .collect();
    let mut notes = unhashed_notes(questions, &chosen);
    let uncached = read.iter().filter(|(_, kind)| matches!(kind, Err(fetch::FetchFailure::SdistNotCached { .. })));
    if let count @ 1.. = uncached.count() {
        notes.push(format!(
            "offline: {count} sdist(s) were never read, so what their builds compile is not known; run once without --offline"
        ));
    }
    let kinds: BTreeMap<String, sdist::SdistKind> =
        read.into_iter().filter_map(|(name, kind)| Some((name, kind.ok()?))).collect();
    if scans.values().any(|s| s.as_ref().is_ok_and(|s| s.range_ignored)) {
        notes.push("the index ignores HTTP Range requests: wheels were downloaded whole".into());
    }
    let results = questions.iter().zip(chosen).map(|(q, choice)| answer(q, choice, &scans, &kinds)).collect();
    (results, notes)
}

/// Reads and scans each wheel once (by file name), in parallel.
fn scan_wheels(
    mut wheels: Vec<&Candidate>,
    options: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> BTreeMap<String, fetch::Scanned> {
    wheels.sort_by(|a, b| a.filename.cmp(&b.filename));
    wheels.dedup_by(|a, b| a.filename == b.filename && a.sha256 == b.sha256 && a.path == b.path);
    wheels
        .into_par_iter()
        .map(|wheel| {
            let scanned = if crate::interrupt::requested() {
                Err(fetch::FetchFailure::Interrupted)
            } else if let Some(path) = &wheel.path {
                local::scan(wheel, path)
            } else {
                options.fetch.scan(wheel)
            };
            progress(&wheel.filename);
            (wheel.filename.clone(), scanned)
        })
        .collect()
}

/// One note per input and target where pins' `--hash` values leave out
/// the wheel the target takes, naming the first few.
fn unhashed_notes(questions: &[Question<'_>], chosen: &[Choice]) -> Vec<String> {
    let mut named: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (q, choice) in questions.iter().zip(chosen) {
        if matches!(choice, Choice::Wheel { unhashed: true, .. }) {
            let pins = named.entry((q.input.label.as_str(), q.target.text.as_str())).or_default();
            if !pins.contains(&q.dist.name.as_str()) {
                pins.push(&q.dist.name);
            }
        }
    }
    named
        .into_iter()
        .map(|((label, target), pins)| {
            let shown = pins.iter().take(5).copied().collect::<Vec<_>>().join(", ");
            let more = if pins.len() > 5 { format!(" and {} more", pins.len() - 5) } else { String::new() };
            format!(
                "{label}: the hashes of {} pin(s) ({shown}{more}) leave out the wheel the index has for {target}, so pip checking them builds the sdists instead; the file was made for other Pythons, or before those wheels were uploaded: lock again for {target}",
                pins.len()
            )
        })
        .collect()
}

/// Said once per input and target whose Python the lock file's
/// `requires-python` leaves out.
fn outside_requires_python_note(input: &Input, target: &NamedTarget) -> String {
    format!(
        "{}: its requires-python (`{}`) leaves out {}, so installing there needs it widened and the lock file made again; \
         the pins were answered as they stand, each from the files its release has on the index, since a lock file lists \
         only the wheels of the Python versions it admits (uv, pdm)",
        input.label,
        input.set.requires_python.as_deref().unwrap_or_default(),
        target.text
    )
}

/// Said once per input, target and platform that the lock file's
/// environments (uv.lock's `supported-markers`, pylock's `environments`)
/// leave out, where its Python range does not already.
fn outside_environments_note(input: &Input, target: &NamedTarget, platform: &NamedPlatform) -> String {
    format!(
        "{}: it was made for `{}` alone (its environments), which leaves out {} on {}, so installing there needs the \
         environment added and the lock file made again; the pins were answered as they stand, each from the files its \
         release has on the index, since a lock file lists no wheels for environments it was not made for (uv)",
        input.label,
        input.set.supported_environments.as_ref().map(ToString::to_string).unwrap_or_default(),
        target.text,
        platform.text
    )
}

fn answer(
    q: &Question<'_>,
    choice: Choice,
    scans: &BTreeMap<String, fetch::Scanned>,
    kinds: &BTreeMap<String, sdist::SdistKind>,
) -> PackageResult {
    let location = Some(InputLocation {
        file: q.input.set.files.get(q.dist.location.file).map(|p| p.display().to_string()).unwrap_or_default(),
        line: q.dist.location.line,
        column: q.dist.location.column,
    });
    let mut out = PackageResult {
        name: q.dist.name.clone(),
        version: q.dist.version.clone(),
        target: q.target.text.clone(),
        platform: q.platform.text.clone(),
        status: DepStatus::NotNeeded,
        wheel: None,
        modules: Vec::new(),
        install: None,
        first_ready_version: None,
        newest_release: None,
        compiled_elsewhere: false,
        required_by: q.required_by.clone(),
        reason: None,
        location,
    };
    match choice {
        Choice::NotNeeded => {
            out.required_by.clear();
            out.reason = Some("its environment markers leave it out on this target and platform".into());
        }
        Choice::Error(why) => (out.status, out.reason) = (DepStatus::Error, Some(why)),
        Choice::NoWheel { install, upgrades, unlooked, sdist } => {
            let tag = q.target.target.abi_tag();
            let mut reason = format!("no {tag} wheel for {}", q.platform.text);
            let install = match sdist.as_ref().and_then(|sdist| kinds.get(&sdist.filename)) {
                Some(sdist::SdistKind::Pure) => {
                    out.status = DepStatus::Pure;
                    out.reason = Some(format!(
                        "{reason}, but its sdist holds nothing a compiler builds: an install builds a pure-Python wheel"
                    ));
                    out.install = Some("an install builds a pure-Python wheel from the sdist".into());
                    out.required_by.clear();
                    return out;
                }
                Some(sdist::SdistKind::Compiled(evidence)) => format!(
                    "an install builds the sdist, which compiles ({evidence}): that needs a compiler, and the build may or may not support this target"
                ),
                None => install,
            };
            out.status = DepStatus::NoWheel;
            match (upgrades, unlooked) {
                (Some(mut upgrades), _) => {
                    reason.push_str(&upgrades.judge(q.target.target, scans));
                    let upgrades = *upgrades;
                    out.first_ready_version = Some(upgrades.first);
                    out.newest_release = upgrades.newest;
                }
                (None, None) => reason.push_str("; no later release has one either"),
                (None, Some(why)) => reason.push_str(&format!("; {why}")),
            }
            out.reason = Some(reason);
            out.install = Some(install);
        }
        Choice::Wheel { wheel, compiled_elsewhere, unhashed } => {
            // A direct reference names no version; its wheel does.
            if out.version.is_none() {
                out.version = wheel.version().map(|v| v.to_string());
            }
            out.wheel = Some(wheel.filename.clone());
            out.compiled_elsewhere = compiled_elsewhere;
            if wheel.is_pure_wheel() {
                out.status = DepStatus::Pure;
                out.reason = Some(if compiled_elsewhere {
                    "a pure-Python wheel; the release ships compiled wheels for other builds, whose speed-ups this target goes without".into()
                } else {
                    "a pure-Python wheel".into()
                });
            } else {
                match scans.get(&wheel.filename) {
                    Some(Ok(scanned)) => {
                        out.modules = scanned.modules.clone();
                        let (status, why) = judge::judge(q.target.target, &out.modules);
                        (out.status, out.reason) = (status, Some(why));
                    }
                    Some(Err(why)) => (out.status, out.reason) = (DepStatus::Error, Some(why.to_string())),
                    None => (out.status, out.reason) = (DepStatus::Error, Some("the wheel was not read".into())),
                }
            }
            if unhashed {
                let unhashed = format!(
                    "the lock file's hashes leave out this wheel, the index's for {} (they were taken for other Pythons, or before it was uploaded), so pip checking them builds the sdist instead; lock again for {}",
                    q.target.text, q.target.text
                );
                say_first(&mut out.reason, unhashed);
            }
            if let Source::Git { url, .. } = &q.dist.source {
                let version = q.dist.version.as_deref().unwrap_or("?");
                let stand_in = format!(
                    "installed from git ({url}); the index's release of the same version, {version}, stands in for the checkout"
                );
                say_first(&mut out.reason, stand_in);
            }
        }
    }
    if !out.status.is_blocker() {
        out.required_by.clear();
    }
    out
}

/// Puts `said` before the reason already given: `said: reason`.
fn say_first(reason: &mut Option<String>, said: String) {
    *reason = Some(match reason.take() {
        Some(why) => format!("{said}: {why}"),
        None => said,
    });
}

/// Counts for the closing line.
pub fn traffic_line(traffic: &Traffic) -> String {
    format!(
        "{} requests, {:.1} MB fetched; {} wheels read from the cache",
        traffic.requests,
        traffic.bytes as f64 / 1e6,
        traffic.wheels_from_cache
    )
}
