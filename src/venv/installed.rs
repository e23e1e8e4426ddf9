//! What a fresh environment ended up holding, for `batch` and `test` alike:
//! the installed distribution as `probes/installed_dist.py` reads it (its
//! version, wheel tags, import names and extension files), and how a run's
//! row records it (the version, wheel or sdist, the wheel's file name).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use super::install::{Install, InstallSource};
use crate::model::tags::WheelTag;
use crate::model::wheel::TagSet;

/// What `probes/installed_dist.py` prints.
#[derive(Deserialize)]
pub struct InstalledDist {
    pub name: String,
    pub version: String,
    pub import_names: Vec<String>,
    pub wheel_tags: Vec<String>,
    pub extension_files: Vec<String>,
}

/// Records what was installed: wheel or sdist, the wheel's name and tags
/// (the version goes in the row beside it).
pub fn record_installed(install: &mut Install, dist: &InstalledDist) {
    let built_here = dist.wheel_tags.iter().any(|t| built_here(t));
    install.from = Some(if built_here { InstallSource::Sdist } else { InstallSource::Wheel });
    if !built_here {
        install.wheel = wheel_file_name(&dist.name, &dist.version, &dist.wheel_tags);
    }
    install.wheel_tags = dist.wheel_tags.clone();
}

/// The file name of the wheel with these tags (PEP 427: each part's values
/// joined by dots, in the order the WHEEL file lists them).
fn wheel_file_name(name: &str, version: &str, tags: &[String]) -> Option<String> {
    let tags: Vec<WheelTag> = tags.iter().map(|t| WheelTag::parse(t)).collect::<Option<_>>()?;
    let tags = TagSet::from_tags(&tags)?;
    let escaped = name.replace(['-', '.'], "_");
    Some(format!("{escaped}-{version}-{tags}.whl"))
}

/// A wheel tag whose platform is a bare `linux_*` was built on this machine
/// (published Linux wheels carry manylinux or musllinux tags).
fn built_here(tag: &str) -> bool {
    WheelTag::parse(tag).is_some_and(|tag| tag.platform.starts_with("linux_"))
}

/// Why the installed distribution could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// The environment's interpreter could not be run (the OS's words).
    #[error("{0}")]
    CannotRun(std::io::Error),
    /// It failed: the last of what it printed.
    #[error("{stderr}")]
    Failed { stderr: String },
    #[error("unreadable answer ({reason})")]
    Unreadable { reason: String },
}

/// Runs `probes/installed_dist.py` in the environment.
pub fn installed_dist(env_python: &Path, package: &str) -> Result<InstalledDist, DistError> {
    let mut command = Command::new(env_python);
    command.arg("-I").arg("-c").arg(crate::probes::INSTALLED_DIST).arg(package);
    crate::environment::clear_python_vars(&mut command);
    crate::os::child_dies_with_parent(&mut command);
    let captured =
        crate::process::run_with_timeout(&mut command, Duration::from_secs(120)).map_err(DistError::CannotRun)?;
    if !captured.status.success() {
        return Err(DistError::Failed { stderr: captured.stderr_tail(800) });
    }
    serde_json::from_slice(&captured.stdout).map_err(|e| DistError::Unreadable { reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_that_cannot_be_read_says_why() {
        let gone = DistError::CannotRun(std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(gone.to_string(), std::io::Error::from(std::io::ErrorKind::NotFound).to_string());
        assert_eq!(DistError::Failed { stderr: "Traceback ...".into() }.to_string(), "Traceback ...");
        assert_eq!(DistError::Unreadable { reason: "EOF".into() }.to_string(), "unreadable answer (EOF)");
    }

    #[test]
    fn a_wheel_name_is_rebuilt_from_its_tags() {
        let tags = ["cp313-cp313t-manylinux_2_17_x86_64".to_string(), "cp313-cp313t-manylinux2014_x86_64".to_string()];
        assert_eq!(
            wheel_file_name("MarkupSafe", "3.0.2", &tags).as_deref(),
            Some("MarkupSafe-3.0.2-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
        );
        let pure = ["py2-none-any".to_string(), "py3-none-any".to_string()];
        assert_eq!(
            wheel_file_name("python-dateutil", "2.9.0.post0", &pure).as_deref(),
            Some("python_dateutil-2.9.0.post0-py2.py3-none-any.whl")
        );
    }
}
