//! The HTTP client of the index layer: the system's certificate store (as
//! pip and uv use, a company proxy's CA included), a timeout on every phase
//! of every request, bounded retries with backoff for connection failures,
//! 5xx and 429 answers and bodies cut short, a count of the requests made
//! and body bytes received, and HTTP Basic credentials for private indexes
//! ([`super::credentials`]: the URL's own, else netrc).

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ureq::ResponseExt;

use super::credentials::{self, CredentialSource, Login, Netrc};
use super::error::IndexError;
use super::keyring::KeyringProvider;
use super::remote::ranges::ByteRange;

/// Timeouts and retries.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Resolving the host and opening the connection (TLS included).
    pub connect_timeout: Duration,
    /// From sending the request to the end of the answer's headers.
    pub response_timeout: Duration,
    /// The longest wait for any one read of a body (a stalled transfer).
    pub read_timeout: Duration,
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles for each further one.
    pub first_backoff: Duration,
    /// Whether a login without a password asks the keyring for one.
    pub keyring: KeyringProvider,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            connect_timeout: Duration::from_secs(15),
            response_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            attempts: 3,
            first_backoff: Duration::from_millis(500),
            keyring: KeyringProvider::Disabled,
        }
    }
}

/// Requests made and body bytes received (every attempt counts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: u64,
    pub bytes: u64,
}

#[derive(Default, Debug)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
}

/// A client for one index and its file host. Cheap to clone; clones share
/// connections and counters. Safe to use from several threads.
#[derive(Clone, Debug)]
pub struct Client {
    agent: ureq::Agent,
    settings: ClientSettings,
    counters: Arc<Counters>,
    logins: Arc<Logins>,
}

/// Credentials by host: those index URLs carried, the netrc file, and which
/// were sent (to say so).
#[derive(Debug, Default)]
struct Logins {
    from_urls: std::sync::Mutex<std::collections::BTreeMap<String, Login>>,
    netrc: Netrc,
    used: std::sync::Mutex<std::collections::BTreeMap<String, CredentialSource>>,
}

impl Logins {
    /// The login for `host`: one an index URL carried, else netrc's (by host
    /// name, then with the port).
    fn for_host(&self, host: &str) -> Option<Login> {
        if let Some(login) = self.from_urls.lock().ok().and_then(|m| m.get(host).cloned()) {
            return Some(login);
        }
        let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
        self.netrc.login(name).or_else(|| self.netrc.login(host))
    }
}

/// What part of a file to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// The last this many bytes (`bytes=-N`).
    Suffix(u64),
    /// These bytes (`bytes=a-b`).
    Span(ByteRange),
}

/// How the server answered a file request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAnswer {
    /// 206: these bytes of a file of `total` bytes.
    Partial { range: ByteRange, total: u64 },
    /// 200: the whole file (the server ignored `Range`, or none was sent).
    Whole { length: Option<u64> },
}

/// A project page as text, and whether the server sent PEP 691 JSON.
#[derive(Clone, Debug)]
pub struct Page {
    /// Where the page was read from, after redirects.
    pub url: String,
    pub json: bool,
    pub body: String,
}

/// The largest project page read (PyPI's largest are tens of MiB).
const PAGE_LIMIT: u64 = 256 << 20;

/// Connections kept open for reuse, per host and in all (above `deps`'s
/// default of 16 requests at once).
const IDLE_CONNECTIONS: usize = 32;

impl Client {
    pub fn new(settings: ClientSettings) -> Self {
        let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_resolve(Some(settings.connect_timeout))
            .timeout_recv_response(Some(settings.response_timeout))
            .timeout_send_request(Some(settings.response_timeout))
            .timeout_per_read(Some(settings.read_timeout))
            // Keep a connection per concurrent request: each new one costs a
            // DNS lookup and a TLS handshake (ureq keeps 3 a host otherwise).
            .max_idle_connections(IDLE_CONNECTIONS)
            .max_idle_connections_per_host(IDLE_CONNECTIONS)
            .user_agent(concat!("ftprobe/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            super::resolver::RememberingResolver::default(),
        );
        let logins = Logins { netrc: Netrc::from_environment(), ..Logins::default() };
        Client { agent, settings, counters: Arc::default(), logins: Arc::new(logins) }
    }

    /// For each host credentials were sent to, where they came from.
    pub fn credentials_used(&self) -> Vec<(String, CredentialSource)> {
        self.logins.used.lock().map(|m| m.iter().map(|(h, s)| (h.clone(), s.clone())).collect()).unwrap_or_default()
    }

    /// What this client (and its clones) sent and received so far.
    pub fn traffic(&self) -> Traffic {
        Traffic {
            requests: self.counters.requests.load(Ordering::Relaxed),
            bytes: self.counters.bytes.load(Ordering::Relaxed),
        }
    }

    /// A project page, asking for PEP 691 JSON first and PEP 503 HTML else.
    /// `project` names the project in the 404 message.
    pub fn get_page(&self, url: &str, project: &str) -> Result<Page, IndexError> {
        let url = &self.without_login(url);
        self.retrying(|| {
            let mut response = self.send(
                url,
                &[(
                    "Accept",
                    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1",
                )],
            )?;
            let status = response.status().as_u16();
            if status == 404 {
                return Err(IndexError::NoSuchProject { url: url.into(), project: project.into() });
            }
            check_status(url, status)?;
            let json = header(&response, "content-type").is_some_and(|t| t.contains("json"));
            let final_url = response.get_uri().to_string();
            let reader = response.body_mut().with_config().limit(PAGE_LIMIT).reader();
            let mut body = Vec::new();
            self.counting(reader).read_to_end(&mut body).map_err(|e| transfer(url, &e))?;
            let body = String::from_utf8(body)
                .map_err(|_| IndexError::BadPage { url: url.into(), reason: "the body is not UTF-8".into() })?;
            Ok(Page { url: final_url, json, body })
        })
    }

    /// Asks for `url` (all of it, or `range`) and hands the answer and its body
    /// to `consume`. The exchange is tried again, `consume` included, when it
    /// fails on the way (`consume` must therefore be repeatable: write at fixed
    /// offsets, not append).
    pub fn get_file<T>(
        &self,
        url: &str,
        range: Option<RangeRequest>,
        mut consume: impl FnMut(FileAnswer, &mut dyn Read) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        let url = &self.without_login(url);
        let range_header = range.map(|r| match r {
            RangeRequest::Suffix(n) => format!("bytes=-{n}"),
            RangeRequest::Span(r) => format!("bytes={}-{}", r.start, r.end.saturating_sub(1)),
        });
        self.retrying(|| {
            let mut headers = vec![("Accept-Encoding", "identity")];
            if let Some(value) = &range_header {
                headers.push(("Range", value));
            }
            let mut response = self.send(url, &headers)?;
            let status = response.status().as_u16();
            if status == 404 {
                return Err(IndexError::NotFound { url: url.into() });
            }
            if status == 416 {
                return Err(IndexError::BadRange {
                    url: url.into(),
                    reason: "the server refused the range (416)".into(),
                });
            }
            check_status(url, status)?;
            if let Some(encoding) =
                header(&response, "content-encoding").filter(|e| !e.eq_ignore_ascii_case("identity"))
            {
                return Err(IndexError::Encoded { url: url.into(), encoding: encoding.to_string() });
            }
            let answer = match status {
                206 => {
                    let value = header(&response, "content-range").unwrap_or("");
                    let (range, total) = parse_content_range(value).ok_or_else(|| IndexError::BadRange {
                        url: url.into(),
                        reason: format!("206 with Content-Range `{value}`, not one range of a known length"),
                    })?;
                    FileAnswer::Partial { range, total }
                }
                _ => FileAnswer::Whole { length: response.body().content_length() },
            };
            let mut body = self.counting(response.body_mut().as_reader());
            consume(answer, &mut body)
        })
    }

    /// The whole of `url` (at most `limit` bytes): a file, or a document
    /// such as a list of top packages.
    pub fn get_bytes(&self, url: &str, limit: u64) -> Result<Vec<u8>, IndexError> {
        self.get_file(url, None, |_, body| {
            let mut bytes = Vec::new();
            body.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| transfer(url, &e))?;
            if bytes.len() as u64 > limit {
                return Err(IndexError::OverLimit { url: url.into(), limit });
            }
            Ok(bytes)
        })
    }

    /// `url` without a login it carries, which is kept for its host: sent as
    /// a header (never shown in a message), also for later requests to the
    /// same host (the index's files). A login that names a user but no
    /// password takes its password from the keyring, when asked to, once.
    fn without_login(&self, url: &str) -> String {
        let (bare, login) = credentials::split_userinfo(url);
        if let (Some(login), Some(host), Ok(mut logins)) =
            (login, credentials::host_of(&bare), self.logins.from_urls.lock())
        {
            // Asked once a host: the keyring's answer, or its silence, stays.
            let known = logins.get(host).is_some_and(|k| {
                k.user == login.user && (k.source == CredentialSource::Keyring || k.password == login.password)
            });
            if !known {
                let login =
                    if login.password.is_empty() { self.with_keyring_password(&bare, host, login) } else { login };
                logins.insert(host.to_string(), login);
            }
        }
        bare
    }

    /// `login` with the keyring's password for its user at the index whose
    /// page `page_url` is (or at `host`), when the keyring has one.
    fn with_keyring_password(&self, page_url: &str, host: &str, login: Login) -> Login {
        let index_url = page_url.trim_end_matches('/').rsplit_once('/').map_or(page_url, |(root, _)| root);
        let index_url = format!("{index_url}/");
        match self.settings.keyring.password(&index_url, host, &login.user) {
            Some(password) => Login { password, source: CredentialSource::Keyring, ..login },
            None => login,
        }
    }

    /// Runs `once` until it succeeds, fails for good, or the attempts run out.
    fn retrying<T>(&self, mut once: impl FnMut() -> Result<T, IndexError>) -> Result<T, IndexError> {
        let attempts = self.settings.attempts.max(1);
        let mut backoff = self.settings.first_backoff;
        let mut attempt = 1;
        loop {
            match once() {
                Err(e) if e.is_transient() && attempt < attempts => {
                    std::thread::sleep(backoff);
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                Err(e) => return Err(e.after_attempts(attempt)),
                Ok(value) => return Ok(value),
            }
        }
    }

    fn send(&self, url: &str, headers: &[(&str, &str)]) -> Result<ureq::http::Response<ureq::Body>, IndexError> {
        let bare = self.without_login(url);
        let host = credentials::host_of(&bare).unwrap_or_default().to_string();
        let login = self.logins.for_host(&host);
        let mut request = self.agent.get(&bare);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(login) = &login {
            request = request.header("Authorization", login.basic());
            if let Ok(mut used) = self.logins.used.lock() {
                used.entry(host.clone()).or_insert_with(|| login.source.clone());
            }
        }
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.call().map_err(|e| request_error(&bare, e))?;
        match (response.status().as_u16(), login) {
            (status @ (401 | 403), None) if status == 401 || response.headers().contains_key("www-authenticate") => {
                Err(IndexError::NoCredentials { url: bare, status, host })
            }
            (status @ (401 | 403), Some(login)) => {
                let from = if login.password.is_empty() && login.source == CredentialSource::Url {
                    "the index URL, which names a user but no password (give one there, or keep it in the keyring and pass --keyring-provider subprocess)".to_string()
                } else {
                    login.source.to_string()
                };
                Err(IndexError::CredentialsRefused { url: bare, status, from })
            }
            _ => Ok(response),
        }
    }

    fn counting<'a>(&'a self, inner: impl Read + 'a) -> impl Read + 'a {
        CountingReader { inner, counter: &self.counters.bytes }
    }
}

struct CountingReader<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn header<'a>(response: &'a ureq::http::Response<ureq::Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// 5xx and 429 are worth another attempt; other failures are not.
fn check_status(url: &str, status: u16) -> Result<(), IndexError> {
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(IndexError::ServerBusy { url: url.into(), status, attempts: 1 }),
        _ => Err(IndexError::Status { url: url.into(), status }),
    }
}

/// A body that broke off while it was read.
pub(crate) fn transfer(url: &str, error: &io::Error) -> IndexError {
    IndexError::Transfer { url: url.into(), reason: error.to_string(), attempts: 1 }
}

fn request_error(url: &str, error: ureq::Error) -> IndexError {
    let unreachable = |reason: String| IndexError::Unreachable { url: url.into(), reason, attempts: 1 };
    match error {
        ureq::Error::Io(e) => unreachable(e.to_string()),
        ureq::Error::Timeout(t) => unreachable(format!("timed out ({t})")),
        ureq::Error::ConnectionFailed => unreachable("the connection failed".into()),
        ureq::Error::HostNotFound => unreachable("the host name does not resolve".into()),
        ureq::Error::Tls(reason) => IndexError::Tls { url: url.into(), reason: reason.into() },
        ureq::Error::Rustls(e) => IndexError::Tls { url: url.into(), reason: e.to_string() },
        other => IndexError::Request { url: url.into(), reason: other.to_string() },
    }
}

/// `bytes a-b/total` (b inclusive) as a half-open range and the total.
fn parse_content_range(value: &str) -> Option<(ByteRange, u64)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.trim().split_once('-')?;
    let (first, last): (u64, u64) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
    let total: u64 = total.trim().parse().ok()?;
    (first <= last && last < total).then(|| (ByteRange { start: first, end: last + 1 }, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_range() {
        assert_eq!(parse_content_range("bytes 0-9/100"), Some((ByteRange { start: 0, end: 10 }, 100)));
        assert_eq!(parse_content_range("bytes 90-99/100"), Some((ByteRange { start: 90, end: 100 }, 100)));
        for bad in ["bytes 0-9/*", "bytes */100", "bytes 5-4/100", "bytes 0-100/100", "items 0-1/2", ""] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }
}
