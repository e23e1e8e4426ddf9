//! Passwords from the user's keyring, asked the way pip and uv ask with
//! `--keyring-provider subprocess`: the index URL names the user
//! (`https://__token__@pkgs.example.com/simple/`), and the `keyring` command
//! on PATH is run as `keyring get SERVICE USER`, first with the index URL as
//! the service, then with its host. Its output's first line is the password.
//! Off unless asked for; a keyring that has nothing, fails or hangs (after
//! 30 s) leaves the request without a password, and the index's 401 says
//! what to do.

use std::process::{Command, Stdio};
use std::time::Duration;

/// Whether, and how, the keyring is asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyringProvider {
    /// Never.
    #[default]
    Disabled,
    /// Run the `keyring` command (Python's keyring package installs it).
    Subprocess,
}

/// How long one `keyring get` may take.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(30);

impl KeyringProvider {
    /// The password the keyring holds for `user` at the index `url` (without
    /// its user), or at the url's `host`.
    pub fn password(self, url: &str, host: &str, user: &str) -> Option<String> {
        if self == KeyringProvider::Disabled || user.is_empty() {
            return None;
        }
        [url, host].into_iter().find_map(|service| keyring_get(service, user))
    }
}

/// `keyring get SERVICE USER`: its first line, when it succeeds with one.
fn keyring_get(service: &str, user: &str) -> Option<String> {
    let mut command = Command::new("keyring");
    command.arg("get").arg(service).arg(user).stdin(Stdio::null());
    crate::os::child_dies_with_parent(&mut command);
    let captured = crate::process::run_with_timeout(&mut command, KEYRING_TIMEOUT).ok()?;
    if !captured.status.success() || captured.timed_out {
        return None;
    }
    let text = String::from_utf8(captured.stdout).ok()?;
    let password = text.lines().next()?.to_string();
    (!password.is_empty()).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_keyring_is_never_run() {
        assert_eq!(KeyringProvider::Disabled.password("https://example.org/simple/", "example.org", "u"), None);
        assert_eq!(KeyringProvider::Subprocess.password("https://example.org/simple/", "example.org", ""), None);
    }
}
