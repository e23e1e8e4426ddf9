//! How a package got into its fresh environment (`install` in a run's
//! row): the installer's outcome, wheel or sdist, and why it failed.

use serde::{Deserialize, Serialize};

/// What a package installed from (`install.from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallSource {
    /// A published wheel.
    Wheel,
    /// Its sdist, built here.
    Sdist,
}

impl InstallSource {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallSource::Wheel => "wheel",
            InstallSource::Sdist => "sdist",
        }
    }
}

/// How the package got into its fresh environment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Install {
    pub status: InstallStatus,
    /// When it installed.
    pub from: Option<InstallSource>,
    /// The tags of the wheel that was installed (`cp313-cp313t-manylinux_2_17_x86_64`).
    pub wheel_tags: Vec<String>,
    /// The wheel's file name, from its name, version and tags (`from` = `wheel`).
    #[serde(default)]
    pub wheel: Option<String>,
    pub seconds: f64,
    /// The installer's last lines when it failed.
    pub error: Option<String>,
    /// The requirement the installer named as failing to build
    /// (`hypothesis==6.168.0`): maybe a dependency, not the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_to_build: Option<String>,
    /// The distribution that failed: a build, a requirement nothing
    /// satisfies, one that wants another Python (`cffi==2.1.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_dist: Option<String>,
    /// What pulled `failed_dist` in, outermost first (`cryptography`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_by: Vec<String>,
    /// The failing step's own last error line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Install {
    /// Why it failed, in one line: `cffi==2.1.1 (via cryptography) failed
    /// to build: CFFI does not support ...`; the installer's telling line
    /// for a row recorded before the reason was.
    pub fn failure_line(&self) -> String {
        self.explanation().one_line()
    }

    /// The cause, without the chain: failures with one cause count together.
    pub fn failure_cause(&self) -> String {
        self.explanation().cause()
    }

    fn explanation(&self) -> super::explain::Explanation {
        super::explain::Explanation {
            failed_dist: self.failed_dist.clone(),
            required_by: self.required_by.clone(),
            reason: self.reason.clone().unwrap_or_else(|| super::telling_line(self.error.as_deref().unwrap_or(""))),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallStatus {
    Ok,
    Failed,
    Timeout,
    /// ftprobe was interrupted before or while installing.
    Interrupted,
}
