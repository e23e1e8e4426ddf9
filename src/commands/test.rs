//! `ftprobe test`: argument glue around [`crate::testrun`] and the run directory.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::cli::{GilChoice, TestArgs};
use crate::discover::Finder;
use crate::printer::Printer;
use crate::run::engine::{self, Opened, PerPackage, UnitKind};
use crate::run::options::{RecordedOptions, TestRecord};
use crate::run::suite::{Category, GilSetting};
use crate::run::{Row, RunKind, RunMeta, progress::Progress};
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
    let opened = Opened::new(RunKind::Test, args.run.out.as_deref(), args.run.resume.as_deref())?;
    let named = specs.iter().map(|(text, spec)| (testrun::unit_name(spec), (text, spec)));
    let units: Vec<Unit> = opened
        .pending(named, &interpreters)
        .into_iter()
        .map(|((text, spec), package, interpreter)| Unit {
            spec: spec.clone(),
            requirement: text.clone(),
            package,
            interpreter,
        })
        .collect();
    let installer = Installer::choose(args.index.pip);
    let mut meta =
        RunMeta::begin(RunKind::Test, &interpreters, installer.kind(), result_options(args, &installer), None);
    opened.run_dir.write_meta(&meta)?;
    let work = opened.work_dir("work")?;
    let kind = TestUnits {
        options: Options {
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
        },
        index_url: args.index.index_url.clone().unwrap_or_else(|| crate::index::PYPI_SIMPLE.to_string()),
        no_index: args.index.no_index,
        sources: PerPackage::new(units.iter().map(|u| u.package.as_str())),
        work: work.clone(),
        client: crate::index::http::Client::new(crate::index::http::ClientSettings::default()),
    };
    let finished = engine::execute(&kind, &units, &opened, &mut meta, args.run.jobs, &work)?;
    // (Sources of a checkout are the user's; fetched ones, under `work`, were ours to remove.)
    printer.note(&finished.summary_line(&opened, &crate::report::suite::category_counts(&finished.rows)));
    Ok(finished.exit_code(true))
}

/// A test unit: the package's suite, fetched once per package by the first
/// of its units to run and shared by its interpreters, run by
/// [`testrun::run_unit`].
struct TestUnits<'a> {
    options: Options,
    index_url: String,
    no_index: bool,
    sources: PerPackage<'a, Result<Prepared, SourceError>>,
    work: std::path::PathBuf,
    client: crate::index::http::Client,
}

impl UnitKind for TestUnits<'_> {
    type Unit = Unit;

    fn run(&self, unit: &Unit, progress: &Progress) -> Row {
        let prepare = || {
            let fetch = source::Fetch {
                index_url: &self.index_url,
                no_index: self.no_index,
                repository: self.options.registry.get(&unit.package).and_then(|e| e.repository.clone()),
                work: &self.work.join(format!("{}-source", unit.package)),
                timeout: std::time::Duration::from_secs(600),
                client: &self.client,
            };
            let _ = std::fs::create_dir_all(fetch.work);
            source::prepare(&unit.spec, &fetch)
        };
        let prepared = self.sources.get(&unit.package, prepare).expect("every unit's package has a slot");
        testrun::run_unit(unit, prepared, &self.options, &|line| progress.note(line))
    }

    fn failed(&self, row: &Row) -> bool {
        !passed(row)
    }

    fn one_line(&self, row: &Row) -> String {
        crate::report::runs::unit_line(crate::run::RunKind::Test, row)
    }
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
