//! `ftprobe test`'s plan and runner: a package's own test suite, run many
//! times on each interpreter in a fresh environment, with the GIL left to
//! show a fallback (or forced off), and classified. Every unit ends as one
//! [`Row`] of the same run directory `ftprobe batch` writes, with a
//! [`Suite`] in it.
//!
//! - `source`: the suite from a checkout, a git URL or an sdist;
//! - `project`: the test dependencies and paths a tree declares;
//! - `iterate`: one iteration, supervised; `junit`, `records`, `crash`
//!   and `tsan` read what it left;
//! - `classify`: categories, flaky tests, the GIL comparison;
//! - `registry`: per-package overrides.

pub mod classify;
pub mod crash;
pub mod iterate;
pub mod junit;
pub mod project;
pub mod records;
pub mod registry;
pub mod source;
pub mod tsan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::binscan::GilVerdict;
use crate::binscan::generator::GeneratorKind;
use crate::discover::Interpreter;
use crate::run::suite::{Category, GilSetting, Iteration, IterationStatus, SourceKind, Suite, SuiteSource};
use crate::run::{InstallStatus, Row};
use crate::runtime::PythonSummary;
use crate::venv::{self, IndexOptions, Installer};
use source::{Prepared, SourceError, Spec};

/// How a test run runs its units.
pub struct Options {
    pub installer: Installer,
    pub index: IndexOptions,
    pub install_timeout: Duration,
    pub iterations: u32,
    pub stop_on_first_pass: bool,
    pub compare_with_gil: bool,
    pub gil: GilSetting,
    pub parallel_threads: Option<u32>,
    pub tsan: bool,
    pub timeout: Duration,
    pub stall: Duration,
    pub test_command: Option<String>,
    pub test_command_suffix: Vec<String>,
    pub extra_deps: Vec<String>,
    pub env: Vec<(String, String)>,
    pub registry: registry::Registry,
    /// Where environments, sources and iteration files go while a unit runs.
    pub work_dir: PathBuf,
}

/// One package's suite on one interpreter.
#[derive(Clone, Debug)]
pub struct Unit {
    pub spec: Spec,
    /// As the user gave it.
    pub requirement: String,
    /// The unit's package name: the project's, for a checkout; the
    /// repository's, for a git URL; the name, for the index.
    pub package: String,
    pub interpreter: Interpreter,
}

/// The name a spec's rows carry, known before anything is fetched (so
/// `--resume` can match them).
pub fn unit_name(spec: &Spec) -> String {
    match spec {
        Spec::Path(path) => project::read(path)
            .name
            .map(|n| crate::model::name::normalize(&n))
            .unwrap_or_else(|| spec.provisional_name()),
        _ => spec.provisional_name(),
    }
}

/// Runs one unit from start to end; `note` reports each iteration.
pub fn run_unit(unit: &Unit, prepared: &Result<Prepared, SourceError>, options: &Options, note: &dyn Fn(&str)) -> Row {
    let started = Instant::now();
    let mut row = Row::new(&unit.package, &unit.requirement, PythonSummary::of(&unit.interpreter));
    if crate::interrupt::requested() {
        row.install.error = Some("not run: ftprobe was interrupted first".into());
        return row;
    }
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            row.install.status = InstallStatus::Failed;
            row.install.error = Some(format!("the test suite could not be had: {error}"));
            row.suite = Some(verdict_only(unresolved_source(unit), Category::Unknown, error.to_string(), options));
            row.seconds = started.elapsed().as_secs_f64();
            return row;
        }
    };
    let dir = options.work_dir.join(format!("{}-{}-env", unit.package, unit.interpreter.short_name()));
    let _ = std::fs::remove_dir_all(&dir);
    // The registry knows the project's name, or the name the unit was given.
    let entry = options.registry.get(&prepared.name).or_else(|| options.registry.get(&unit.package));
    let mut requirements = vec![prepared.requirement.clone()];
    requirements.extend(prepared.project.group_requirements.iter().cloned());
    for file in &prepared.project.requirement_files {
        requirements.extend(["-r".to_string(), prepared.root.join(file).to_string_lossy().into_owned()]);
    }
    requirements.push("pytest".into());
    if options.parallel_threads.is_some() {
        requirements.push("pytest-run-parallel".into());
    }
    requirements.extend(options.extra_deps.iter().cloned());
    requirements.extend(entry.iter().flat_map(|e| e.extra_deps.iter().cloned()));
    // A checkout or a clone is built from what is there now.
    let rebuild = if prepared.requirement.contains(" @ file://") { vec![prepared.name.clone()] } else { Vec::new() };
    let install_env = tsan_environment(options);
    let (environment, install) = venv::create_and_install(
        &options.installer,
        &unit.interpreter.executable,
        &dir,
        &venv::What { requirements: &requirements, rebuild: &rebuild, env: &install_env, compile_bytecode: false },
        &options.index,
        options.install_timeout,
    );
    row.install = install;
    let suite = match row.install.status {
        InstallStatus::Ok => test_installed(&mut row, prepared, entry, &environment, options, note),
        InstallStatus::Interrupted => None,
        _ => {
            let reason = install_failure_reason(&row.install, || {
                // Whose failure: the package alone, into the same environment.
                let alone = [prepared.requirement.clone()];
                let what =
                    venv::What { requirements: &alone, rebuild: &rebuild, env: &install_env, compile_bytecode: false };
                let base = &unit.interpreter.executable;
                match venv::install_into(
                    &options.installer,
                    base,
                    &environment,
                    &what,
                    &options.index,
                    options.install_timeout,
                ) {
                    Ok(()) => Some(true),
                    Err((InstallStatus::Failed, ..)) => Some(false),
                    Err(_) => None,
                }
            });
            Some(verdict_only(prepared.source.clone(), Category::InstallFailure, reason, options))
        }
    };
    if let Some(mut suite) = suite {
        suite.test_dependencies = prepared.project.describe_dependencies();
        row.suite = Some(suite);
    }
    let _ = std::fs::remove_dir_all(&dir);
    row.seconds = started.elapsed().as_secs_f64();
    row
}

/// Under `--tsan`, the installer and the import check run on the
/// ThreadSanitizer interpreter too: its own reports must not fail them.
pub fn tsan_environment(options: &Options) -> Vec<(String, String)> {
    if options.tsan && std::env::var_os("TSAN_OPTIONS").is_none() {
        vec![("TSAN_OPTIONS".to_string(), iterate::TSAN_OPTIONS.to_string())]
    } else {
        Vec::new()
    }
}

/// Why the install failed, and whose failure it was: the package's, or its
/// test dependencies'. `package_alone_installs` tries the package by itself
/// (None: that attempt could not tell, e.g. it was interrupted).
fn install_failure_reason(
    install: &crate::run::Install,
    package_alone_installs: impl FnOnce() -> Option<bool>,
) -> String {
    let said = venv::telling_line(install.error.as_deref().unwrap_or("?"));
    let alone = if install.status == crate::run::InstallStatus::Failed { package_alone_installs() } else { None };
    let built = install.failed_to_build.as_deref();
    let Some(alone) = alone else {
        return format!("the package or its test dependencies did not install: {said}");
    };
    if alone {
        return match built {
            Some(what) => {
                format!(
                    "the package installed, but a test dependency did not: {what} failed to build: {said} \
                     (a version that installs can be pinned with --extra-deps)"
                )
            }
            None => format!("the package installed, but its test dependencies did not: {said}"),
        };
    }
    match built {
        Some(what) => format!("the package did not install: {what} failed to build: {said}"),
        None => format!("the package did not install: {said}"),
    }
}

fn unresolved_source(unit: &Unit) -> SuiteSource {
    let kind = match unit.spec {
        Spec::Path(_) => SourceKind::Path,
        Spec::Git(_) => SourceKind::Git,
        Spec::Index { .. } => SourceKind::Sdist,
    };
    SuiteSource { kind, location: unit.requirement.clone(), revision: None }
}

/// A suite that never ran: only its category and why.
fn verdict_only(source: SuiteSource, category: Category, reason: String, options: &Options) -> Suite {
    Suite {
        source,
        category,
        reason,
        pass_rate: 0.0,
        gil_setting: options.gil,
        test_command: Vec::new(),
        test_dependencies: Vec::new(),
        iterations: Vec::new(),
        flaky_tests: Vec::new(),
        gil_comparison: None,
    }
}

/// After a good install: what got installed, an import, then the iterations.
fn test_installed(
    row: &mut Row,
    prepared: &Prepared,
    entry: Option<&registry::Entry>,
    environment: &venv::Environment,
    options: &Options,
    note: &dyn Fn(&str),
) -> Option<Suite> {
    let dist = match crate::venv::installed::installed_dist(&environment.python, &prepared.name) {
        Ok(dist) => dist,
        Err(_) if crate::interrupt::requested() => {
            row.install.status = InstallStatus::Interrupted;
            return None;
        }
        Err(error) => {
            let reason = format!("installed, but the distribution could not be read: {error}");
            return Some(verdict_only(prepared.source.clone(), Category::ImportFailure, reason, options));
        }
    };
    row.version = Some(dist.version.clone());
    crate::venv::installed::record_installed(&mut row.install, &dist);
    row.import_names = dist.import_names.clone();
    if let Err(error) = import_all(&environment.python, &row.import_names, options) {
        let error = error.to_string();
        let reason = format!("import failed: {}", error.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("?"));
        row.install.error = Some(error);
        return Some(verdict_only(prepared.source.clone(), Category::ImportFailure, reason, options));
    }
    let scratch = environment.dir.join("ftprobe-iterations");
    let plugin_dir = environment.dir.join("ftprobe-plugin");
    for dir in [&scratch, &plugin_dir] {
        let _ = std::fs::create_dir_all(dir);
    }
    let plugin = plugin_dir.join(format!("{}.py", iterate::PLUGIN_MODULE));
    if let Err(error) = std::fs::write(&plugin, crate::probes::PYTEST_PLUGIN) {
        let reason = format!("cannot write the pytest plugin to {}: {error}", plugin.display());
        return Some(verdict_only(prepared.source.clone(), Category::Unknown, reason, options));
    }
    // A flat layout's package folder beside the tests would be imported
    // instead of the installed package: run from a copy without it.
    let tops: Vec<String> = row.import_names.iter().filter_map(|n| n.split('.').next()).map(str::to_string).collect();
    let shadows =
        tops.iter().any(|t| prepared.root.join(t).is_dir() || prepared.root.join(format!("{t}.py")).is_file());
    let root = if shadows {
        let copy = environment.dir.join("ftprobe-suite");
        if let Err(error) = source::copy_without(&prepared.root, &copy, &tops) {
            let reason = format!("cannot copy the suite without the package's folder: {error}");
            return Some(verdict_only(prepared.source.clone(), Category::Unknown, reason, options));
        }
        copy
    } else {
        prepared.root.clone()
    };
    let custom = options.test_command.clone().or_else(|| entry.and_then(|e| e.test_command.clone()));
    let command = match &custom {
        Some(text) => vec!["sh".to_string(), "-c".to_string(), text.clone()],
        None => {
            let mut command: Vec<String> = [environment.python.to_string_lossy().as_ref(), "-P", "-m", "pytest"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            command.extend(["-p".into(), "no:cacheprovider".into()]);
            command.extend(options.test_command_suffix.iter().cloned());
            let project = &prepared.project;
            if !project.has_testpaths {
                match &project.test_dir {
                    Some(dir) => command.push(dir.clone()),
                    // Tests shipped inside the package: run the installed ones.
                    None if project.tests_inside_package => {
                        command.push("--pyargs".into());
                        command.extend(row.import_names.iter().cloned());
                    }
                    None => {}
                }
            }
            command
        }
    };
    let mut pytest_options: Vec<String> =
        entry.iter().flat_map(|e| e.skip_tests.iter().map(|t| format!("--deselect={t}"))).collect();
    if let Some(threads) = options.parallel_threads {
        pytest_options.push(format!("--parallel-threads={threads}"));
    }
    let timeout = entry.and_then(|e| e.timeout).map(Duration::from_secs_f64).unwrap_or(options.timeout);
    let setup = iterate::Setup {
        env_python: environment.python.clone(),
        env_dir: environment.dir.clone(),
        root,
        command,
        pytest_options,
        plugin_dir,
        scratch,
        user_env: options.env.clone(),
        timeout,
        stall: options.stall,
        tsan: options.tsan,
    };
    let label = format!("{} on {}", row.package, row.python.label());
    let iterations = iterate_all(&setup, options.gil, options, &label, note);
    // PYTHON_GIL means nothing to a default build: it always has the GIL.
    let comparison = (options.compare_with_gil && row.python.free_threaded).then(|| {
        let on = iterate_all(&setup, GilSetting::On, options, &label, note);
        classify::compare_with_gil(&iterations, on)
    });
    let mut iterations = iterations;
    name_culprits(&mut iterations);
    let (category, reason) = classify::decide(&iterations, comparison.as_ref());
    let mut display = setup.command.clone();
    if let Some(first) = display.first_mut()
        && custom.is_none()
    {
        *first = "python".into();
    }
    display.extend(setup.pytest_options.iter().cloned());
    Some(Suite {
        source: prepared.source.clone(),
        category,
        reason,
        pass_rate: classify::pass_rate(&iterations),
        gil_setting: options.gil,
        test_command: display,
        test_dependencies: Vec::new(),
        flaky_tests: classify::flaky(&iterations),
        iterations,
        gil_comparison: comparison,
    })
}

/// Runs the iterations one after another (so they do not disturb each
/// other's timing), stopping at an interruption or, if asked, a pass.
fn iterate_all(
    setup: &iterate::Setup,
    gil: GilSetting,
    options: &Options,
    label: &str,
    note: &dyn Fn(&str),
) -> Vec<Iteration> {
    let mut out = Vec::new();
    for number in 1..=options.iterations {
        if crate::interrupt::requested() {
            break;
        }
        let iteration = setup.run(number, gil);
        let with = match gil {
            GilSetting::On => " (PYTHON_GIL=1)",
            GilSetting::Off => " (PYTHON_GIL=0)",
            GilSetting::Unset => "",
        };
        note(&format!(
            "  {label}{with}: iteration {number}/{}: {} in {:.1} s ({} passed, {} failed)",
            options.iterations,
            crate::model::snake(&iteration.status),
            iteration.seconds,
            iteration.tests.passed,
            iteration.tests.failed + iteration.tests.error
        ));
        let stop = iteration.status == IterationStatus::Interrupted
            || (options.stop_on_first_pass && iteration.status == IterationStatus::Passed);
        out.push(iteration);
        if stop {
            break;
        }
    }
    out
}

/// Gives each module that was loaded when the GIL turned on the scanner's
/// verdict and generator.
fn name_culprits(iterations: &mut [Iteration]) {
    let files: Vec<PathBuf> = iterations
        .iter()
        .filter_map(|i| i.gil.as_ref())
        .flat_map(|g| g.culprits.iter().filter_map(|c| c.file.as_ref().map(PathBuf::from)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if files.is_empty() {
        return;
    }
    let inputs: Vec<crate::scan::Input> = files.into_iter().map(crate::scan::Input::found).collect();
    let mut verdicts: BTreeMap<String, (Option<GilVerdict>, Option<GeneratorKind>)> = BTreeMap::new();
    for target in crate::scan::scan_paths(&inputs, crate::scan::Options::default()) {
        for extension in target.extensions {
            if let Some(report) = extension.report.filter(|r| r.is_extension) {
                verdicts
                    .insert(target.path.to_string_lossy().into_owned(), (report.gil, report.generator.map(|g| g.name)));
            }
        }
    }
    for culprit in iterations.iter_mut().filter_map(|i| i.gil.as_mut()).flat_map(|g| g.culprits.iter_mut()) {
        if let Some((verdict, generator)) = culprit.file.as_ref().and_then(|f| verdicts.get(f)) {
            culprit.verdict = *verdict;
            culprit.generator = *generator;
        }
    }
}

/// Why importing the package's names in its environment failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("cannot run {}: {reason}", python.display())]
    CannotRun { python: PathBuf, reason: String },
    #[error("importing {} did not finish in time", names.join(", "))]
    TimedOut { names: Vec<String> },
    /// What Python printed last, and the signal that killed it.
    #[error("{output}{}", signal.as_ref().map(|s| format!(" (killed by {s})")).unwrap_or_default())]
    Failed { output: String, signal: Option<String> },
}

/// Imports every name in the environment, as a user would (the GIL as the
/// run sets it).
fn import_all(env_python: &Path, names: &[String], options: &Options) -> Result<(), ImportFailure> {
    if names.is_empty() {
        return Ok(());
    }
    let mut command = Command::new(env_python);
    command.args(["-I", "-c", crate::probes::IMPORT_ALL]);
    command.args(names).current_dir(options.work_dir.as_path());
    crate::environment::clear_python_vars(&mut command);
    if let Some(value) = options.gil.env_value() {
        command.env("PYTHON_GIL", value);
    }
    command.envs(tsan_environment(options));
    for (key, value) in &options.env {
        command.env(key, value);
    }
    crate::os::child_dies_with_parent(&mut command);
    let captured = crate::process::run_with_timeout(&mut command, options.timeout.min(Duration::from_secs(300)))
        .map_err(|e| ImportFailure::CannotRun { python: env_python.to_path_buf(), reason: e.to_string() })?;
    if captured.timed_out {
        return Err(ImportFailure::TimedOut { names: names.to_vec() });
    }
    if !captured.status.success() {
        let signal = captured.signal().map(crate::process::signal_name);
        return Err(ImportFailure::Failed { output: captured.stderr_tail(1500), signal });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_failures_read_as_before() {
        let failed = |signal: Option<&str>| ImportFailure::Failed {
            output: "ImportError: boom".into(),
            signal: signal.map(String::from),
        };
        assert_eq!(failed(None).to_string(), "ImportError: boom");
        assert_eq!(failed(Some("SIGSEGV")).to_string(), "ImportError: boom (killed by SIGSEGV)");
        let names = vec!["a".to_string(), "a.b".to_string()];
        assert_eq!(ImportFailure::TimedOut { names }.to_string(), "importing a, a.b did not finish in time");
        let cannot = ImportFailure::CannotRun { python: "/env/bin/python".into(), reason: "denied".into() };
        assert_eq!(cannot.to_string(), "cannot run /env/bin/python: denied");
    }
    use crate::run::{Install, InstallStatus};

    fn failed(failed_to_build: Option<&str>) -> Install {
        Install {
            status: InstallStatus::Failed,
            from: None,
            wheel_tags: Vec::new(),
            wheel: None,
            seconds: 7.0,
            error: Some("  --- stderr\n  error: PyO3 does not support the free-threaded build of CPython versions below 3.14\n  💥 maturin failed".into()),
            failed_to_build: failed_to_build.map(String::from),
            failed_dist: None,
            required_by: Vec::new(),
            reason: None,
        }
    }

    /// multidict 7.2.1's tests on 3.13t: multidict builds, its test
    /// dependency hypothesis 6.168.0 does not (PyO3 needs 3.14 for free-threading).
    #[test]
    fn an_install_failure_says_whose_it_was() {
        let hypothesis = failed(Some("hypothesis==6.168.0"));
        assert_eq!(
            install_failure_reason(&hypothesis, || Some(true)),
            "the package installed, but a test dependency did not: hypothesis==6.168.0 failed to build: \
             error: PyO3 does not support the free-threaded build of CPython versions below 3.14 \
             (a version that installs can be pinned with --extra-deps)"
        );
        assert!(
            install_failure_reason(&hypothesis, || Some(false)).starts_with("the package did not install: hypothesis")
        );
        assert!(
            install_failure_reason(&failed(None), || None)
                .starts_with("the package or its test dependencies did not install: error: PyO3")
        );
        // A timeout is not tried again.
        let slow = Install { status: InstallStatus::Timeout, ..failed(None) };
        let reason = install_failure_reason(&slow, || panic!("no second install after a timeout"));
        assert!(reason.starts_with("the package or its test dependencies did not install"));
    }
}
