//! `ftprobe deps INPUT...`: turns `--target` and `--platform` into targets
//! and platform tags, reads the inputs (lock files and installed
//! environments as they are; a `pyproject.toml` resolved by uv for each
//! target and platform), runs [`crate::deps`] with a progress bar, writes
//! the report and maps it to an exit code.

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{DepsArgs, FailOn, Format};
use crate::deps::local::FindLinks;
use crate::deps::result::{DepStatus, DepsReport};
use crate::deps::{Input, NamedPlatform, NamedTarget, Options};
use crate::error::{CouldNotRun, EXIT_COULD_NOT_RUN, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::lock::install::{Choice, Selection};
use crate::lock::resolve::{ResolveOptions, Resolver};
use crate::lock::{InputKind, LockError};
use crate::model::platform::Platform;
use crate::model::target::Target;
use crate::printer::Printer;

use super::output::{Output, emit, write};

/// The free-threaded CPythons that have had a final release (3.15.0: October 2026).
const DEFAULT_TARGETS: [&str; 3] = ["3.13t", "3.14t", "3.15t"];

pub fn run(args: &DepsArgs, printer: &Printer) -> Result<ExitCode> {
    let mut options = options(args)?;
    crate::interrupt::install();
    let (inputs, unresolved) = match read_inputs(args, &options) {
        Ok(read) => read,
        Err(_) if crate::interrupt::requested() => {
            printer.error("interrupted while uv resolved a pyproject.toml");
            return Ok(ExitCode::from(crate::interrupt::EXIT_INTERRUPTED));
        }
        Err(error) => return Err(error),
    };
    options.find_links.add_lock_directories(&crate::deps::local_registries(&inputs));
    let progress = Progress::new();
    let mut report = crate::deps::run(&inputs, &options, &|wheel| progress.read(wheel));
    progress.done();
    for failure in &unresolved {
        printer.error(&failure.to_string());
        report.notes.push(failure.to_string());
    }
    let checks = crate::report::deps::checks(&report);
    let output = Output {
        title: "ftprobe deps",
        checks,
        table: &|_| crate::report::deps::table(&report, printer),
        json: &|| Ok(serde_json::to_string_pretty(&report)? + "\n"),
    };
    if args.format == Format::Markdown {
        // Its own Markdown: the upgrades that bring a wheel, as a list.
        write(&crate::report::deps::markdown(&report), args.output.as_deref(), printer)?;
    } else {
        emit(&output, args.format, args.output.as_deref(), printer)?;
    }
    if args.format != Format::Table || args.output.is_some() {
        for summary in &report.summary {
            printer.note(&summary.line());
        }
    }
    printer.note(&crate::deps::traffic_line(&report.traffic));
    if crate::interrupt::requested() {
        printer.error("interrupted: the wheels not yet read are reported as errors");
        return Ok(ExitCode::from(crate::interrupt::EXIT_INTERRUPTED));
    }
    let code = match exit_code(&report, args.fail_on, &options.targets) {
        EXIT_OK | EXIT_COULD_NOT_RUN if unresolved.iter().any(|f| !f.could_not_run()) => EXIT_USAGE,
        EXIT_OK if !unresolved.is_empty() => EXIT_COULD_NOT_RUN,
        code => code,
    };
    Ok(ExitCode::from(code))
}

/// Each input read; a `pyproject.toml` once per target and platform, by uv.
/// A target and platform uv cannot resolve it for does not stop the others:
/// its failure is returned beside the inputs (the run fails with it only
/// when nothing else was read).
fn read_inputs(args: &DepsArgs, options: &Options) -> Result<(Vec<Input>, Vec<LockError>)> {
    let mut resolver: Option<Option<Resolver>> = None;
    let mut inputs = Vec::new();
    let mut unresolved = Vec::new();
    for path in &args.inputs {
        let label = path.display().to_string();
        let InputKind::Pyproject(pyproject) = crate::lock::find(path)? else {
            inputs.push(Input { label, set: crate::lock::read(path)?, resolution: None });
            continue;
        };
        let resolver = resolver.get_or_insert_with(|| Resolver::find(resolve_options(args, &options.selection)));
        let Some(resolver) = resolver.as_ref() else {
            return Err(LockError::NoResolver { path: pyproject }.into());
        };
        let label = pyproject.display().to_string();
        for target in &options.targets {
            for platform in &options.platforms {
                match resolver.resolve(&pyproject, target.target, &platform.platform) {
                    Ok((set, resolved)) => inputs.push(Input { label: label.clone(), set, resolution: Some(resolved) }),
                    Err(error) if crate::interrupt::requested() => return Err(input_error(error)),
                    Err(error) => unresolved.push(error),
                }
            }
        }
    }
    if inputs.is_empty() && !unresolved.is_empty() {
        return Err(input_error(unresolved.swap_remove(0)));
    }
    Ok((inputs, unresolved))
}

fn resolve_options(args: &DepsArgs, selection: &Selection) -> ResolveOptions {
    let cache = crate::dirs::cache_dir().unwrap_or_else(std::env::temp_dir);
    ResolveOptions {
        index_url: args.index_url.clone(),
        extra_index_urls: args.extra_index_urls.clone(),
        find_links: args.find_links.clone(),
        no_index: args.no_index,
        offline: args.offline,
        selection: selection.clone(),
        pins_dir: cache.join("deps-resolved"),
    }
}

/// Exit 3 when uv, the network or a cache failed; 2 (any other error) for bad input.
fn input_error(error: LockError) -> anyhow::Error {
    if error.could_not_run() { CouldNotRun(error.to_string()).into() } else { error.into() }
}

fn options(args: &DepsArgs) -> Result<Options> {
    let texts: Vec<String> = if args.targets.is_empty() {
        DEFAULT_TARGETS.iter().map(|t| t.to_string()).collect()
    } else {
        args.targets.clone()
    };
    let targets = texts
        .into_iter()
        .map(|text| Ok(NamedTarget { target: text.parse::<Target>()?, text }))
        .collect::<Result<Vec<_>>>()?;
    let host = Platform::host(crate::os::glibc_version()).ok();
    let platforms = if args.platforms.is_empty() {
        let platform = host.clone().context(
            "this machine's platform has no wheel tags ftprobe knows; name one with --platform (linux, macos, windows, or a tag)",
        )?;
        vec![NamedPlatform { text: platform.machine.tag(), platform }]
    } else {
        args.platforms
            .iter()
            .map(|text| Ok(NamedPlatform { platform: Platform::parse(text, host.as_ref())?, text: text.clone() }))
            .collect::<Result<Vec<_>>>()?
    };
    let choice = |names: &[String]| if names.is_empty() { Choice::All } else { Choice::only(names) };
    let selection = Selection { extras: choice(&args.extras), groups: choice(&args.groups), no_dev: args.no_dev };
    let cache = crate::dirs::cache_dir().context("no cache directory: set FTPROBE_CACHE_DIR or HOME")?;
    Ok(Options {
        targets,
        platforms,
        selection,
        index_url: args.index_url.clone(),
        fetch: crate::deps::fetch::Fetcher::new(&cache, args.offline, args.verify_full, args.keyring_provider),
        find_links: FindLinks::open(&args.find_links)?,
        no_index: args.no_index,
        jobs: args.jobs,
    })
}

/// 1 when `--fail-on` is met, else 3 when something could not be examined, else 0.
fn exit_code(report: &DepsReport, fail_on: FailOn, targets: &[NamedTarget]) -> u8 {
    let free_threaded = |text: &str| targets.iter().any(|t| t.text == text && t.target.is_free_threaded());
    let fails = |status: DepStatus, target: &str| match fail_on {
        FailOn::Never => false,
        FailOn::Gil => status == DepStatus::GilRequired,
        FailOn::Any => !matches!(status, DepStatus::Ready | DepStatus::Pure | DepStatus::NotNeeded),
        FailOn::Blocker => match status {
            DepStatus::GilRequired | DepStatus::NoWheel => free_threaded(target),
            DepStatus::SubinterpretersRefused => !free_threaded(target),
            _ => false,
        },
    };
    if report.packages.iter().any(|p| fails(p.status, &p.target)) {
        EXIT_FINDINGS
    } else if report.packages.iter().any(|p| p.status == DepStatus::Error) {
        EXIT_COULD_NOT_RUN
    } else {
        EXIT_OK
    }
}

/// A bar over the wheels and sdists read, on a terminal; nothing elsewhere.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        let bar = (std::io::stderr().is_terminal() && !crate::printer::is_quiet()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} files read {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    fn read(&self, file: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(file.to_string());
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
