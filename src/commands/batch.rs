//! `ftprobe batch`: argument glue around [`crate::batch`] and the run directory.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::batch::{self, Options, Request, Unit, requirement_name};
use crate::cli::BatchArgs;
use crate::discover::Finder;
use crate::printer::Printer;
use crate::run::engine::{self, Opened, PerPackage, UnitKind};
use crate::run::options::{BatchRecord, RecordedOptions};
use crate::run::progress::Progress;
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
            let client = crate::index::http::Client::new(crate::index::http::ClientSettings::default());
            let bytes = client
                .get_bytes(source, 256 << 20)
                .map_err(|e| anyhow::anyhow!("cannot download the top-packages list: {e}; pass --top-list FILE"))?;
            String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{source} is not UTF-8 text; pass --top-list FILE"))?
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
    let opened = Opened::new(RunKind::Batch, args.run.out.as_deref(), args.run.resume.as_deref())?;
    let named = requests.iter().map(|r| (requirement_name(&r.requirement), r));
    let mut units: Vec<Unit> = opened
        .pending(named, &interpreters)
        .into_iter()
        .map(|(request, package, interpreter)| Unit { request: request.clone(), package, interpreter })
        .collect();
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
    opened.run_dir.write_meta(&meta)?;
    // The environments live inside the run directory while their unit runs.
    let work = opened.work_dir("environments")?;
    let kind = BatchUnits {
        options: Options {
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
        },
        index_url: args.index.index_url.clone().unwrap_or_else(|| crate::index::PYPI_SIMPLE.to_string()),
        no_index: args.index.no_index,
        availability: PerPackage::new(units.iter().map(|u| u.package.as_str())),
        client: crate::index::http::Client::new(crate::index::http::ClientSettings::default()),
    };
    let finished = engine::execute(&kind, &units, &opened, &mut meta, args.run.jobs, &work)?;
    let what = format!("{} with problems; installed with {}", finished.failed, meta.installer);
    printer.note(&finished.summary_line(&opened, &what));
    Ok(finished.exit_code(false))
}

/// A batch unit: install, probe, scan ([`batch::run_unit`]), and what the
/// package's latest release ships, read once per package by the first of
/// its units to run, so a long run starts at once.
struct BatchUnits<'a> {
    options: Options,
    index_url: String,
    no_index: bool,
    availability: PerPackage<'a, Result<crate::index::Availability, NotRead>>,
    client: crate::index::http::Client,
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
    Index(#[from] crate::index::ReleaseError),
}

impl UnitKind for BatchUnits<'_> {
    type Unit = Unit;

    fn run(&self, unit: &Unit, _progress: &Progress) -> Row {
        let mut row = batch::run_unit(unit, &self.options);
        let read = || {
            if crate::interrupt::requested() {
                Err(NotRead::Interrupted)
            } else if self.no_index {
                Err(NotRead::NoIndex)
            } else {
                crate::index::release::availability(&self.client, &self.index_url, &unit.package).map_err(NotRead::from)
            }
        };
        match self.availability.get(&unit.package, read) {
            Some(Ok(found)) => row.wheels_available = Some(found.clone()),
            Some(Err(error)) => row.wheels_available_error = Some(error.to_string()),
            None => {}
        }
        row
    }

    /// The unit did not install, or a probe found a problem.
    fn failed(&self, row: &Row) -> bool {
        row.install.status != InstallStatus::Ok
            || row.probes.iter().any(|p| p.status.is_problem() || p.status == Status::Error)
    }

    fn one_line(&self, row: &Row) -> String {
        crate::report::runs::unit_line(crate::run::RunKind::Batch, row)
    }
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
