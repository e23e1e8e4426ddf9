//! `ftprobe test`: argument glue around [`crate::testrun`] and the run directory.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::cli::{GilChoice, TestArgs};
use crate::discover::Finder;
use crate::printer::Printer;
use crate::run::options::{RecordedOptions, TestRecord};
use crate::run::suite::{Category, GilSetting};
use crate::run::{self, Row, RunKind, RunMeta, progress::Progress};
use crate::testrun::source::{self, Prepared, SourceError, Spec};
use crate::testrun::{self, Options, Unit, registry::Registry};
use crate::venv::Installer;

pub fn run(args: &TestArgs, printer: &Printer) -> Result<ExitCode> {
    crate::interrupt::install();
    let specs: Vec<(String, Spec)> = args.targets.iter().map(|t| (t.clone(), Spec::parse(t))).collect();
    for (text, spec) in &specs {
        if let Spec::Path(path) = spec
            && !path.is_dir()
        {
            bail!(
                "{text} is not a folder, a git URL or a package name: give a project's checkout, a repository or a name on the index"
            );
        }
    }
    let registry = match &args.registry {
        Some(path) => Registry::read(path)?,
        None => Registry::default(),
    };
    let suffix = match &args.test_command_suffix {
        Some(text) => {
            shlex::split(text).with_context(|| format!("--test-command-suffix `{text}` has unbalanced quotes"))?
        }
        None => Vec::new(),
    };
    let interpreters = Finder::default().resolve_all(&args.pythons)?;
    let (dir, run_dir, done) = run::open_for(RunKind::Test, args.run.out.as_deref(), args.run.resume.as_deref())?;
    let mut units = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (text, spec) in &specs {
        let package = testrun::unit_name(spec);
        if !seen.insert(package.clone()) {
            continue;
        }
        for interpreter in &interpreters {
            if !done.contains(&(package.clone(), interpreter.executable.to_string_lossy().into_owned())) {
                units.push(Unit {
                    spec: spec.clone(),
                    requirement: text.clone(),
                    package: package.clone(),
                    interpreter: interpreter.clone(),
                });
            }
        }
    }
    let installer = Installer::choose(args.index.pip);
    let mut meta =
        RunMeta::begin(RunKind::Test, &interpreters, installer.kind(), result_options(args, &installer), None);
    run_dir.write_meta(&meta)?;
    let work = dir.join("work");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let index_url = args.index.index_url.clone().unwrap_or_else(|| crate::index::PYPI_SIMPLE.to_string());
    let options = Options {
        installer,
        index: args.index.options(false),
        install_timeout: args.install_timeout,
        iterations: args.iterations,
        stop_on_first_pass: args.stop_on_first_pass,
        compare_with_gil: args.compare_with_gil,
        gil: match args.gil {
            GilChoice::Default => GilSetting::Unset,
            GilChoice::Off => GilSetting::Off,
        },
        parallel_threads: args.parallel_threads,
        tsan: args.tsan,
        timeout: args.timeout,
        stall: args.stall,
        test_command: args.test_command.clone(),
        test_command_suffix: suffix,
        extra_deps: args.extra_deps.iter().filter(|d| !d.trim().is_empty()).cloned().collect(),
        env: args.env.clone(),
        registry,
        work_dir: work.clone(),
    };
    // Each package's suite is fetched once, by the first of its units to
    // run, and shared by its interpreters.
    let sources: BTreeMap<&str, OnceLock<Result<Prepared, SourceError>>> =
        units.iter().map(|u| (u.package.as_str(), OnceLock::new())).collect();
    let prepare = |unit: &Unit| {
        let fetch = source::Fetch {
            index_url: &index_url,
            no_index: args.index.no_index,
            repository: options.registry.get(&unit.package).and_then(|e| e.repository.clone()),
            work: &work.join(format!("{}-source", unit.package)),
            timeout: std::time::Duration::from_secs(600),
        };
        let _ = std::fs::create_dir_all(fetch.work);
        source::prepare(&unit.spec, &fetch)
    };
    let pool = run::unit_pool(args.run.jobs)?;
    let progress = Progress::new(units.len(), done.len());
    let rows = pool.install(|| {
        units
            .par_iter()
            .map(|unit| {
                let prepared = sources[unit.package.as_str()].get_or_init(|| prepare(unit));
                let row = testrun::run_unit(unit, prepared, &options, &|line| progress.note(line));
                let write = run_dir.append(&row);
                progress.finished(&row, !passed(&row), &crate::report::suite::unit_summary(&row));
                write.map(|_| row)
            })
            .collect::<Result<Vec<Row>>>()
    })?;
    progress.done();
    // Sources of a checkout are the user's; fetched ones are ours to remove.
    let _ = std::fs::remove_dir_all(&work);
    let interrupted = run_dir.finish(&mut meta)?;
    let failing = rows.iter().filter(|r| !passed(r)).count();
    printer.note(&format!(
        "ftprobe: {} of {} units run ({} already done){}; {}; results in {}",
        units.len(),
        units.len() + done.len(),
        done.len(),
        if interrupted { ", interrupted" } else { "" },
        crate::report::suite::category_counts(&rows),
        dir.display()
    ));
    if interrupted {
        return Ok(ExitCode::from(crate::interrupt::EXIT_INTERRUPTED));
    }
    Ok(if failing > 0 { ExitCode::from(crate::error::EXIT_FINDINGS) } else { ExitCode::SUCCESS })
}

/// A unit whose suite passed on every iteration (with or without a GIL fallback).
fn passed(row: &Row) -> bool {
    row.suite.as_ref().is_some_and(|s| matches!(s.category, Category::Compatible | Category::CompatibleGilFallback))
}

/// The options that change what a run finds, for `merge` to compare.
fn result_options(args: &TestArgs, installer: &Installer) -> RecordedOptions {
    RecordedOptions::Test(TestRecord {
        installer: installer.kind(),
        iterations: args.iterations,
        stop_on_first_pass: args.stop_on_first_pass,
        compare_with_gil: args.compare_with_gil,
        gil: args.gil,
        parallel_threads: args.parallel_threads,
        tsan: args.tsan,
        timeout: args.timeout,
        stall: args.stall,
        test_command: args.test_command.clone().unwrap_or_default(),
        test_command_suffix: args.test_command_suffix.clone().unwrap_or_default(),
        extra_deps: args.extra_deps.join(","),
        index_url: args.index.index_url.clone().unwrap_or_default(),
    })
}
