//! `ftprobe batch`'s plan and runner: each (package, interpreter) unit gets a
//! fresh environment, an install, its import names read from the installed
//! distribution, the probes `ftprobe import` runs, and a static scan of the
//! extension files it installed. Every unit ends as exactly one [`Row`],
//! whatever happened to it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::discover::{Finder, Interpreter};
use crate::model::name::normalize;
use crate::run::{ExtensionVerdict, InstallStatus, Row};
use crate::runtime::{self, PythonSummary, RunOptions};
use crate::venv::{self, IndexOptions, Installer};
use crate::worker::protocol::ProbeKind;

/// A package to probe, with what a `--from` list may override.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub requirement: String,
    /// Probe these names instead of those read from the installed distribution.
    pub import_names: Option<Vec<String>>,
    /// Installed alongside (test or optional dependencies the import needs).
    pub extra: Vec<String>,
    /// Run these probes instead of the run's.
    pub probes: Option<Vec<ProbeKind>>,
}

impl Request {
    pub fn named(requirement: &str) -> Request {
        Request { requirement: requirement.to_string(), ..Default::default() }
    }
}

/// One package on one interpreter.
#[derive(Clone, Debug)]
pub struct Unit {
    pub request: Request,
    pub package: String,
    pub interpreter: Interpreter,
}

/// How a batch runs its units.
pub struct Options {
    pub installer: Installer,
    pub index: IndexOptions,
    pub install_timeout: Duration,
    pub probes: Vec<ProbeKind>,
    pub run: RunOptions,
    /// Where the fresh environments are made (each removed when its unit ends).
    pub work_dir: PathBuf,
}

/// The package name a requirement names (`numpy==2.4.6` → `numpy`).
pub fn requirement_name(requirement: &str) -> String {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(requirement.len());
    normalize(&requirement[..end])
}

/// Runs one unit from start to end.
pub fn run_unit(unit: &Unit, options: &Options) -> Row {
    let started = Instant::now();
    let mut row = Row::new(&unit.package, &unit.request.requirement, PythonSummary::of(&unit.interpreter));
    if crate::interrupt::requested() {
        row.install.error = Some("not run: ftprobe was interrupted first".into());
        return row;
    }
    let dir =
        options.work_dir.join(format!("{}-{}-{}", unit.package, unit.interpreter.short_name(), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let requirements: Vec<String> =
        std::iter::once(&unit.request.requirement).chain(&unit.request.extra).cloned().collect();
    let (environment, install) = venv::create_and_install(
        &options.installer,
        &unit.interpreter.executable,
        &dir,
        &venv::What { requirements: &requirements, compile_bytecode: true, ..Default::default() },
        &options.index,
        options.install_timeout,
    );
    row.install = install;
    if row.install.status == InstallStatus::Ok {
        probe_installed(&mut row, unit, &environment.python, options);
    }
    let _ = std::fs::remove_dir_all(&dir);
    row.seconds = started.elapsed().as_secs_f64();
    row
}

fn probe_installed(row: &mut Row, unit: &Unit, env_python: &Path, options: &Options) {
    let dist = match venv::installed::installed_dist(env_python, &unit.package) {
        Ok(dist) => dist,
        Err(_) if crate::interrupt::requested() => {
            row.install.status = InstallStatus::Interrupted;
            row.install.error = Some("installed; ftprobe was interrupted before probing".into());
            return;
        }
        Err(error) => {
            row.install.status = InstallStatus::Failed;
            row.install.error = Some(format!("installed, but the distribution could not be read: {error}"));
            return;
        }
    };
    row.version = Some(dist.version.clone());
    venv::installed::record_installed(&mut row.install, &dist);
    row.import_names = unit.request.import_names.clone().unwrap_or(dist.import_names);
    let interpreter = match Finder::default().resolve(&env_python.to_string_lossy()) {
        Ok(interpreter) => interpreter,
        Err(e) => {
            row.install.error = Some(format!("the environment's interpreter could not be used: {e}"));
            return;
        }
    };
    let site_packages = interpreter.site_packages.clone();
    let probes = unit.request.probes.as_deref().unwrap_or(&options.probes);
    let specs = runtime::plan(&[interpreter], &row.import_names, probes, 1);
    row.probes = runtime::run_grouped(&specs, &options.run);
    set_aside_optional_modules(&mut row.probes, &row.import_names);
    attribute_to_refusals(&mut row.probes);
    // The interpreter as the user gave it, not the environment's.
    for probe in &mut row.probes {
        probe.python = row.python.clone();
    }
    // Each file below the environment's site-packages, so the scanner names
    // its dotted import name.
    let inputs: Vec<crate::scan::Input> = dist
        .extension_files
        .iter()
        .map(|f| {
            let path = PathBuf::from(f);
            let root = site_packages.iter().find(|s| crate::scan::installed::import_name(s, &path).is_some()).cloned();
            crate::scan::Input { root, ..crate::scan::Input::found(path) }
        })
        .collect();
    let targets = crate::scan::scan_paths(&inputs, crate::scan::Options::default());
    let site = env_python.parent().and_then(Path::parent).unwrap_or(Path::new(""));
    for target in targets {
        for extension in target.extensions {
            let Some(report) = extension.imported_module().cloned() else { continue };
            let file = target.path.strip_prefix(site).unwrap_or(&target.path).to_string_lossy().into_owned();
            row.extensions.push(ExtensionVerdict {
                import_name: extension.import_name,
                file,
                gil: report.gil,
                subinterpreters: report.subinterpreters,
                generator: report.generator.map(|g| g.name),
            });
        }
    }
}

/// A distribution with several import names (a namespace package such as
/// googleapis-common-protos) often ships modules for an optional dependency
/// (`google.longrunning.operations_grpc` needs grpcio, which it does not
/// require). When such a module fails only because a module outside the
/// distribution is missing, while another of its import names imported in
/// the same probe, that failure says nothing about free-threading or
/// subinterpreters: it becomes `not_applicable`, with the reason.
fn set_aside_optional_modules(probes: &mut [runtime::ProbeResult], import_names: &[String]) {
    if import_names.len() < 2 {
        return;
    }
    let own = |module: &str| import_names.iter().any(|n| module == n || module.starts_with(&format!("{n}.")));
    let imported_some: Vec<_> = probes
        .iter()
        .filter(|p| p.status != runtime::Status::ImportError && p.status != runtime::Status::NotApplicable)
        .map(|p| (p.probe, p.config))
        .collect();
    for probe in probes.iter_mut().filter(|p| p.status == runtime::Status::ImportError) {
        let Some(missing) = probe
            .error
            .as_deref()
            .and_then(|e| e.strip_prefix("ModuleNotFoundError: No module named '"))
            .and_then(|rest| rest.split_once('\''))
            .map(|(missing, _)| missing.to_string())
        else {
            continue;
        };
        if own(&missing) || !imported_some.contains(&(probe.probe, probe.config)) {
            continue;
        }
        probe.status = runtime::Status::NotApplicable;
        probe.error = Some(format!(
            "needs `{missing}`, which is not installed: an optional dependency of the distribution (its other modules were probed)"
        ));
    }
}

/// An import name that failed only because an extension refused to load,
/// where another import name of the distribution fell back past that same
/// refusal (pyyaml's `_yaml` shim raises once `yaml._yaml` refused an
/// isolated subinterpreter, and `yaml` runs in pure Python): the package
/// falls back, the shim's failure being the consequence.
fn attribute_to_refusals(probes: &mut [runtime::ProbeResult]) {
    let fell_back: Vec<_> = probes
        .iter()
        .filter(|p| p.status == runtime::Status::Fallback)
        .flat_map(|p| p.fallbacks.iter().map(move |f| (p.probe, p.config, f.module.clone())))
        .collect();
    for probe in probes.iter_mut().filter(|p| p.status == runtime::Status::ImportError && !p.refusals.is_empty()) {
        let seen =
            |module: &str| fell_back.iter().any(|(k, c, m)| (*k, *c) == (probe.probe, probe.config) && m == module);
        if !probe.refusals.iter().all(|r| seen(&r.module)) {
            continue;
        }
        let causes: Vec<&str> = probe.refusals.iter().map(|r| r.module.as_str()).collect();
        probe.status = runtime::Status::Fallback;
        probe.fallbacks = probe.refusals.clone();
        probe.error = Some(format!(
            "fell back: fails only because {} refused to load, as for the distribution's other import names: {}",
            causes.join(", "),
            probe.error.as_deref().unwrap_or_default()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(module: &str, status: &str, error: Option<&str>) -> runtime::ProbeResult {
        serde_json::from_value(serde_json::json!({
            "module": module, "python": {"version": "3.13.5", "free_threaded": true, "executable": "/p/python3"},
            "probe": "free_threading", "config": null, "status": status, "gil_enabled_after": false,
            "gil_required_by": [], "error": error, "import_seconds": null, "code_ran": false, "threads": null,
            "extensions": [], "fallbacks": [], "disagreements": [], "stderr_tail": null, "environment": {},
            "seconds": 0.1
        }))
        .unwrap()
    }

    /// googleapis-common-protos 1.76.0 on 3.13t, as a real batch found it.
    #[test]
    fn a_module_for_an_optional_dependency_is_set_aside() {
        let names: Vec<String> = ["google.api.http_pb2", "google.longrunning.operations_grpc", "google.rpc.status_pb2"]
            .map(String::from)
            .to_vec();
        let grpc = "ModuleNotFoundError: No module named 'grpc'";
        let mut probes = vec![
            probe(&names[0], "ok", None),
            probe(&names[1], "import_error", Some(grpc)),
            probe(&names[2], "import_error", Some("ModuleNotFoundError: No module named 'google.rpc.status_pb2'")),
        ];
        set_aside_optional_modules(&mut probes, &names);
        assert_eq!(probes[1].status, runtime::Status::NotApplicable);
        assert!(probes[1].error.as_deref().unwrap().starts_with("needs `grpc`, which is not installed"));
        // A module of the distribution itself that is missing is a real error.
        assert_eq!(probes[2].status, runtime::Status::ImportError);

        // Nothing imported: the failure stands.
        let mut probes =
            vec![probe(&names[1], "import_error", Some(grpc)), probe(&names[0], "import_error", Some(grpc))];
        set_aside_optional_modules(&mut probes, &names);
        assert!(probes.iter().all(|p| p.status == runtime::Status::ImportError));
        // One import name: its failure is the package's.
        let mut probes = vec![probe("fastapi", "import_error", Some(grpc))];
        set_aside_optional_modules(&mut probes, &["fastapi".to_string()]);
        assert_eq!(probes[0].status, runtime::Status::ImportError);
    }

    /// pyyaml 6.0.4 on 3.13 in an isolated subinterpreter: `yaml` falls back
    /// past `yaml._yaml`'s refusal; the `_yaml` shim then raises.
    #[test]
    fn a_failure_caused_by_the_refusal_another_import_name_fell_back_past_is_a_fallback() {
        let refusal = runtime::Fallback {
            module: "yaml._yaml".into(),
            file: None,
            error: "ImportError: module yaml._yaml does not support loading in subinterpreters".into(),
        };
        let mut yaml = probe("yaml", "fallback", None);
        yaml.fallbacks = vec![refusal.clone()];
        let shim = "yaml._yaml refused to load (ImportError: ...), then ModuleNotFoundError: No module named '_yaml'";
        let mut underscore = probe("_yaml", "import_error", Some(shim));
        underscore.refusals = vec![refusal.clone()];
        let mut probes = vec![yaml, underscore];
        attribute_to_refusals(&mut probes);
        assert_eq!(probes[1].status, runtime::Status::Fallback);
        assert_eq!(probes[1].fallbacks[0].module, "yaml._yaml");
        assert!(probes[1].error.as_deref().unwrap().contains("fails only because yaml._yaml refused to load"));

        // Alone, the refusal is the failure's reason, and the failure stands.
        let mut alone = probe("_yaml", "import_error", Some(shim));
        alone.refusals = vec![refusal];
        let mut probes = vec![alone];
        attribute_to_refusals(&mut probes);
        assert_eq!(probes[0].status, runtime::Status::ImportError);
    }
}
