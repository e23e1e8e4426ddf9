//! Credentials for a private index, found where pip and uv find them: in the
//! URL itself (`https://user:token@host/simple/`), else in the netrc file
//! (`$NETRC`, else `~/.netrc`) under the host's `machine` entry or its
//! `default`. They are sent as HTTP Basic authentication to that host only,
//! and the client says once per host where they came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;

/// Where a host's credentials came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// The index URL given on the command line carried them.
    Url,
    /// A netrc file's entry for the host (or its `default`).
    Netrc(PathBuf),
    /// The `keyring` command, for the user the index URL names.
    Keyring,
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSource::Url => write!(f, "the index URL"),
            CredentialSource::Netrc(path) => write!(f, "{}", path.display()),
            CredentialSource::Keyring => write!(f, "the keyring"),
        }
    }
}

/// A user name and password for one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub password: String,
    pub source: CredentialSource,
}

impl Login {
    /// The `Authorization` header's value.
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

/// What the netrc file says, read once.
#[derive(Clone, Debug, Default)]
pub struct Netrc {
    path: Option<PathBuf>,
    machines: BTreeMap<String, (String, String)>,
    default: Option<(String, String)>,
}

impl Netrc {
    /// `$NETRC`, else `~/.netrc`; empty when there is none or it cannot be read.
    pub fn from_environment() -> Netrc {
        let path = std::env::var_os("NETRC")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".netrc")));
        match path {
            Some(path) => std::fs::read_to_string(&path).map(|text| Netrc::parse(&text, path)).unwrap_or_default(),
            None => Netrc::default(),
        }
    }

    /// The netrc format: whitespace-separated tokens, `machine NAME`,
    /// `login`, `password`, `default`; `macdef` bodies (up to a blank line)
    /// and `account` are skipped.
    pub fn parse(text: &str, path: PathBuf) -> Netrc {
        let mut netrc = Netrc { path: Some(path), ..Netrc::default() };
        let mut entry: Option<(Option<String>, String, String)> = None;
        let finish = |entry: Option<(Option<String>, String, String)>, netrc: &mut Netrc| {
            if let Some((machine, login, password)) = entry {
                match machine {
                    Some(host) => {
                        netrc.machines.entry(host).or_insert((login, password));
                    }
                    None => netrc.default = netrc.default.take().or(Some((login, password))),
                }
            }
        };
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            let mut tokens = line.split_whitespace();
            while let Some(token) = tokens.next() {
                match token {
                    "machine" => {
                        finish(entry.take(), &mut netrc);
                        entry =
                            Some((Some(tokens.next().unwrap_or_default().to_string()), String::new(), String::new()));
                    }
                    "default" => {
                        finish(entry.take(), &mut netrc);
                        entry = Some((None, String::new(), String::new()));
                    }
                    "login" => {
                        if let (Some(e), Some(value)) = (entry.as_mut(), tokens.next()) {
                            e.1 = value.to_string();
                        }
                    }
                    "password" => {
                        if let (Some(e), Some(value)) = (entry.as_mut(), tokens.next()) {
                            e.2 = value.to_string();
                        }
                    }
                    "account" => {
                        tokens.next();
                    }
                    "macdef" => {
                        // The macro's body runs to the next blank line.
                        for body in lines.by_ref() {
                            if body.trim().is_empty() {
                                break;
                            }
                        }
                        break;
                    }
                    _ => {}
                }
            }
        }
        finish(entry.take(), &mut netrc);
        netrc
    }

    /// The login for `host`: its `machine` entry, else `default`.
    pub fn login(&self, host: &str) -> Option<Login> {
        let (user, password) = self.machines.get(host).or(self.default.as_ref())?.clone();
        let source = CredentialSource::Netrc(self.path.clone()?);
        Some(Login { user, password, source })
    }
}

/// `url` without its user and password, and the login they make (if any).
pub fn split_userinfo(url: &str) -> (String, Option<Login>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some((userinfo, host)) = rest[..authority_end].rsplit_once('@') else { return (url.to_string(), None) };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let decode = |text: &str| percent_decode(text);
    let login = Login { user: decode(user), password: decode(password), source: CredentialSource::Url };
    (format!("{scheme}://{host}{}", &rest[authority_end..]), Some(login))
}

/// The host (with its port, if any) of an absolute URL.
pub fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    Some(authority.rsplit_once('@').map_or(authority, |(_, host)| host))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_machines_default_and_skips_macros() {
        let text = "machine pypi.example.com login alice password s3cret\n\
                    macdef init\ncd /pub\n\nmachine other\n  login bob\n  password pw account x\ndefault login anon password guest\n";
        let netrc = Netrc::parse(text, PathBuf::from("/home/u/.netrc"));
        let alice = netrc.login("pypi.example.com").unwrap();
        assert_eq!((alice.user.as_str(), alice.password.as_str()), ("alice", "s3cret"));
        assert_eq!(alice.source, CredentialSource::Netrc(PathBuf::from("/home/u/.netrc")));
        assert_eq!(netrc.login("other").unwrap().user, "bob");
        assert_eq!(netrc.login("elsewhere").unwrap().user, "anon");
        assert_eq!(alice.basic(), "Basic YWxpY2U6czNjcmV0");
    }

    #[test]
    fn takes_the_login_out_of_a_url() {
        let (url, login) = split_userinfo("https://__token__:p%40ss@pkgs.example.com:8443/simple/");
        assert_eq!(url, "https://pkgs.example.com:8443/simple/");
        let login = login.unwrap();
        assert_eq!((login.user.as_str(), login.password.as_str()), ("__token__", "p@ss"));
        assert_eq!(split_userinfo("https://pypi.org/simple/").1, None);
        assert_eq!(host_of("http://u:p@127.0.0.1:8080/files/x.whl"), Some("127.0.0.1:8080"));
    }
}
