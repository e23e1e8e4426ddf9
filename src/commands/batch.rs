//! `ftprobe batch`: argument glue around [`crate::batch`] and the run directory.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use crate::batch::{self, Options, Request, requirement_name};
use crate::cli::BatchArgs;
use crate::discover::Finder;
use crate::printer::Printer;
use crate::run::options::{BatchRecord, RecordedOptions};
use crate::run::{self, InstallStatus, Row, RunKind, RunMeta};
use crate::runtime::{RunOptions, Status};
use crate::venv::Installer;
use crate::worker::protocol::ProbeKind;

/// One entry of a `--from` list.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Listed {
    name: String,
    /// Why it is left out (the reason is for people reading the list).
    #[serde(default)]
    skip: Option<String>,
    /// The names to import, when the distribution's own are not the right ones.
    #[serde(default)]
    import_names: Option<Vec<String>>,
    /// Packages installed alongside.
    #[serde(default)]
    extra: Vec<String>,
    /// Probes to run for this package instead of the run's.
    #[serde(default)]
    probes: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageList {
    #[serde(default)]
    package: Vec<Listed>,
}

/// Where hugovk publishes the top-pypi-packages dump (30 days of downloads).
const TOP_LIST_URL: &str = "https://hugovk.github.io/top-pypi-packages/top-pypi-packages.min.json";

/// The top-pypi-packages dump format.
#[derive(serde::Deserialize)]
struct TopList {
    rows: Vec<TopRow>,
}

#[derive(serde::Deserialize)]
struct TopRow {
    project: String,
}

/// The requirements to run, in order, without repeats.
fn requests(args: &BatchArgs) -> Result<Vec<Request>> {
    let mut out: Vec<Request> = args.packages.iter().map(|p| Request::named(p)).collect();
    if let Some(path) = &args.from {
        let text = crate::input::read_text_limited(path, 16 << 20, "")
            .with_context(|| format!("cannot read --from {}", path.display()))?;
        let list: PackageList =
            toml::from_str(&text).with_context(|| format!("{} is not a package list", path.display()))?;
        for listed in list.package.into_iter().filter(|p| p.skip.is_none()) {
            let probes = match listed.probes {
                Some(names) => Some(
                    names
                        .iter()
                        .map(|n| <ProbeKind as clap::ValueEnum>::from_str(n, true))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| anyhow::anyhow!("{}: package {}: probes: {e}", path.display(), listed.name))?,
                ),
                None => None,
            };
            out.push(Request {
                requirement: listed.name,
                import_names: listed.import_names,
                extra: listed.extra,
                probes,
            });
        }
    }
    if let Some(count) = args.top {
        let source = args.top_list.as_deref().unwrap_or(TOP_LIST_URL);
        let text = if source.starts_with("https://") || source.starts_with("http://") {
            crate::index::fetch_text(source, std::time::Duration::from_secs(60))
                .map_err(|e| anyhow::anyhow!("cannot download the top-packages list: {e}; pass --top-list FILE"))?
        } else {
            crate::input::read_text_limited(std::path::Path::new(source), 256 << 20, "")
                .with_context(|| format!("cannot read --top-list {source}"))?
        };
        let list: TopList = serde_json::from_str(&text).with_context(|| {
            format!("{source} is not a top-pypi-packages dump ({{\"rows\": [{{\"project\": ...}}]}})")
        })?;
        out.extend(list.rows.into_iter().take(count).map(|r| Request::named(&r.project)));
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|r| seen.insert(requirement_name(&r.requirement)));
    if out.is_empty() {
        bail!("no packages to probe: name some, or pass --from FILE or --top N");
    }
    Ok(out)
}

pub fn run(args: &BatchArgs, printer: &Printer) -> Result<ExitCode> {
    crate::interrupt::install();
    let requests = requests(args)?;
    let interpreters = Finder::default().resolve_all(&args.pythons)?;
    let (dir, run_dir, done) = run::open_for(RunKind::Batch, args.run.out.as_deref(), args.run.resume.as_deref())?;
    let mut units = batch::plan(&requests, &interpreters, &done);
    if let Some((index, count)) = args.shard {
        units.retain(|u| run::in_shard(&u.package, index, count));
    }
    let installer = Installer::choose(args.index.pip);
    let mut meta = RunMeta::begin(
        RunKind::Batch,
        &interpreters,
        installer.kind(),
        result_options(args, &installer),
        args.shard.map(|(i, n)| format!("{i}/{n}")),
    );
    run_dir.write_meta(&meta)?;
    // The environments live inside the run directory while their unit runs.
    let work = dir.join("environments");
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let options = Options {
        installer,
        index: args.index.options(args.only_binary),
        install_timeout: args.install_timeout,
        probes: args.probes.clone(),
        run: RunOptions {
            submodules: args.submodules,
            code: None,
            threads: 8,
            timeout: args.timeout,
            stall: args.stall,
        },
        work_dir: work.clone(),
    };
    let pool = run::unit_pool(args.run.jobs)?;
    // What each package's latest release ships: read by the first of its
    // units to run, once per package, so a long run starts at once.
    let index_url = args.index.index_url.clone().unwrap_or_else(|| crate::index::PYPI_SIMPLE.to_string());
    let availability: std::collections::BTreeMap<
        &str,
        std::sync::OnceLock<Result<crate::index::Availability, NotRead>>,
    > = units.iter().map(|u| (u.package.as_str(), std::sync::OnceLock::new())).collect();
    let read_availability = |package: &str| {
        if crate::interrupt::requested() {
            Err(NotRead::Interrupted)
        } else if args.index.no_index {
            Err(NotRead::NoIndex)
        } else {
            crate::index::availability(&index_url, package, std::time::Duration::from_secs(30)).map_err(NotRead::from)
        }
    };
    let progress = run::progress::Progress::new(units.len(), done.len());
    let failures = pool.install(|| {
        units
            .par_iter()
            .map(|unit| {
                let mut row = batch::run_unit(unit, &options);
                let found = availability
                    .get(unit.package.as_str())
                    .map(|once| once.get_or_init(|| read_availability(&unit.package)));
                match found {
                    Some(Ok(found)) => row.wheels_available = Some(found.clone()),
                    Some(Err(error)) => row.wheels_available_error = Some(error.to_string()),
                    None => {}
                }
                let write = run_dir.append(&row);
                let failed = row_failed(&row);
                progress.finished(&row, failed, &crate::report::batch::unit_summary(&row));
                write.map(|_| usize::from(failed))
            })
            .collect::<Result<Vec<usize>>>()
    })?;
    progress.done();
    let _ = std::fs::remove_dir_all(&work);
    let interrupted = run_dir.finish(&mut meta)?;
    let failed: usize = failures.iter().sum();
    printer.note(&format!(
        "ftprobe: {} of {} units run ({} already done){}; {failed} with problems; installed with {}; results in {}",
        units.len(),
        units.len() + done.len(),
        done.len(),
        if interrupted { ", interrupted" } else { "" },
        meta.installer,
        dir.display()
    ));
    if interrupted {
        return Ok(ExitCode::from(crate::interrupt::EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Why what a package's latest release ships was not read (a row's
/// `wheels_available_error`).
#[derive(Debug, thiserror::Error)]
enum NotRead {
    #[error("not read: ftprobe was interrupted")]
    Interrupted,
    #[error("--no-index: no index to read the release's files from")]
    NoIndex,
    #[error(transparent)]
    Index(#[from] crate::index::FetchError),
}

/// The options that change what a run finds, for `merge` to compare.
fn result_options(args: &BatchArgs, installer: &Installer) -> RecordedOptions {
    RecordedOptions::Batch(BatchRecord {
        installer: installer.kind(),
        probes: args.probes.clone(),
        submodules: args.submodules,
        timeout: args.timeout,
        stall: args.stall,
        install_timeout: args.install_timeout,
        index_url: args.index.index_url.clone().unwrap_or_default(),
        extra_index_urls: args.index.extra_index_url.join(" "),
        no_index: args.index.no_index,
        only_binary: args.only_binary,
    })
}

/// Whether a unit did not install, or a probe found a problem.
fn row_failed(row: &Row) -> bool {
    row.install.status != InstallStatus::Ok
        || row.probes.iter().any(|p| p.status.is_problem() || p.status == Status::Error)
}
