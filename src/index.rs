//! The package index's simple API: PEP 691 JSON, falling back to PEP 503
//! HTML. From the files of a project's latest release it tells which kinds
//! of wheels ship: free-threaded (`cp313t`, `cp314t`, `cp315t`, and `abi3t`,
//! which free-threaded 3.15 loads), `abi3` only, or pure Python. Nothing is
//! installed.

pub mod credentials;
pub mod digest;
pub mod error;
pub mod http;
pub mod project;
pub mod remote;
mod resolver;
pub mod url;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use pep440_rs::Version;
use serde::{Deserialize, Serialize};

use crate::model::name::normalize;
use crate::model::sdist::SdistFilename;
use crate::model::wheel::WheelFilename;

/// PyPI's simple API, the default index.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";

/// Why a project page, a release's sdist or a download could not be had:
/// one line each, naming the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed, or its body could not be read.
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: the server answered {status}")]
    Status { url: String, status: ureq::http::StatusCode },
    #[error("{url}: the index has no project {project}")]
    NoProject { url: String, project: String },
    #[error("{url}: the index answered {status}")]
    IndexStatus { url: String, status: ureq::http::StatusCode },
    #[error("not a PEP 691 page: {reason}")]
    NotPep691 { reason: String },
    #[error("{page}: the index lists no release of {project}")]
    NoRelease { page: String, project: String },
    #[error("{version} is not a version: {reason}")]
    NotAVersion { version: String, reason: String },
    #[error("{page}: {project} {version} has no sdist")]
    NoSdist { page: String, project: String, version: String },
    #[error("cannot write {}: {reason}", path.display())]
    Write { path: std::path::PathBuf, reason: String },
}

impl FetchError {
    fn http(url: &str, error: impl std::fmt::Display) -> FetchError {
        FetchError::Http { url: url.to_string(), reason: error.to_string() }
    }
}

/// What the latest release of a project ships.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// The latest release (final releases first; a pre-release only when there is nothing else).
    pub version: Option<String>,
    /// Free-threaded wheels, by CPython version: `cp313t`, `cp314t`, `cp315t`.
    pub free_threaded: Vec<String>,
    /// A wheel tagged `abi3t` (free-threaded stable ABI, 3.15+). `abi3.abi3t` counts.
    pub abi3t: bool,
    /// A wheel tagged `abi3` alone, which free-threaded builds cannot load.
    pub abi3: bool,
    /// Only `none`-ABI wheels (pure Python).
    pub pure: bool,
    pub wheels: usize,
    pub sdist: bool,
}

impl Availability {
    /// Any wheel a free-threaded CPython can load.
    pub fn ships_free_threaded(&self) -> bool {
        !self.free_threaded.is_empty() || self.abi3t
    }
}

/// One file of the project page.
#[derive(Debug, PartialEq, Eq)]
struct File {
    name: String,
    yanked: bool,
    /// As the page gives it: absolute, or relative to the page.
    url: String,
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    yanked: serde_json::Value,
}

/// An agent that trusts the system's store, as pip and uv do (a company
/// proxy's CA included), with a deadline for the whole exchange.
fn agent(timeout: Duration) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::PlatformVerifier).build();
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .into()
}

/// The body of `url` as text (at most 256 MiB).
pub fn fetch_text(url: &str, timeout: Duration) -> Result<String, FetchError> {
    let mut response = agent(timeout).get(url).call().map_err(|e| FetchError::http(url, e))?;
    if !response.status().is_success() {
        return Err(FetchError::Status { url: url.to_string(), status: response.status() });
    }
    response.body_mut().with_config().limit(256 << 20).read_to_string().map_err(|e| FetchError::http(url, e))
}

/// Reads the project page of `project` from the index at `index_url` (its
/// simple API root) and what its latest release ships.
pub fn availability(index_url: &str, project: &str, timeout: Duration) -> Result<Availability, FetchError> {
    Ok(latest(&project_files(index_url, project, timeout)?.1))
}

/// The project page's URL and its files.
fn project_files(index_url: &str, project: &str, timeout: Duration) -> Result<(String, Vec<File>), FetchError> {
    let url = format!("{}/{}/", index_url.trim_end_matches('/'), normalize(project));
    let mut response = agent(timeout)
        .get(&url)
        .header("Accept", "application/vnd.pypi.simple.v1+json, text/html;q=0.1")
        .call()
        .map_err(|e| FetchError::http(&url, e))?;
    let status = response.status();
    if status == 404 {
        return Err(FetchError::NoProject { url, project: project.to_string() });
    }
    if !status.is_success() {
        return Err(FetchError::IndexStatus { url, status });
    }
    let json = response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json"));
    let body =
        response.body_mut().with_config().limit(64 << 20).read_to_string().map_err(|e| FetchError::http(&url, e))?;
    let files = if json { json_files(&body)? } else { html_files(&body) };
    Ok((url, files))
}

/// A release's source distribution: its file name, where to download it
/// from, and its version (`version`, or the latest release's).
pub struct Sdist {
    pub file_name: String,
    pub url: String,
    pub version: String,
}

/// Finds the sdist of `version` (or of the latest release) of `project`.
pub fn sdist(index_url: &str, project: &str, version: Option<&str>, timeout: Duration) -> Result<Sdist, FetchError> {
    let (page, files) = project_files(index_url, project, timeout)?;
    let version = match version {
        Some(v) => v.to_string(),
        None => latest(&files)
            .version
            .ok_or_else(|| FetchError::NoRelease { page: page.clone(), project: project.to_string() })?,
    };
    let wanted = Version::from_str(&version)
        .map_err(|e| FetchError::NotAVersion { version: version.clone(), reason: e.to_string() })?;
    let found = files
        .iter()
        .filter(|f| !f.yanked)
        .find(|f| matches!(parse(&f.name), Some((v, None)) if v == wanted))
        .ok_or_else(|| FetchError::NoSdist {
        page: page.clone(),
        project: project.to_string(),
        version: version.clone(),
    })?;
    Ok(Sdist { file_name: found.name.clone(), url: join_url(&page, &found.url), version })
}

/// Resolves a link of the page at `base` (fragments dropped).
fn join_url(base: &str, link: &str) -> String {
    let link = link.split('#').next().unwrap_or(link);
    if link.contains("://") {
        return link.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host = rest.split('/').next().unwrap_or("");
    if let Some(absolute) = link.strip_prefix('/') {
        return format!("{scheme}://{host}/{absolute}");
    }
    let mut parts: Vec<&str> = rest.split('/').skip(1).collect();
    parts.pop(); // the page's own last segment (empty after a trailing slash)
    for piece in link.split('/') {
        match piece {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            piece => parts.push(piece),
        }
    }
    format!("{scheme}://{host}/{}", parts.join("/"))
}

/// Downloads `url` into `to` (at most `limit` bytes).
pub fn download(url: &str, to: &std::path::Path, limit: u64, timeout: Duration) -> Result<(), FetchError> {
    let mut response = agent(timeout).get(url).call().map_err(|e| FetchError::http(url, e))?;
    if !response.status().is_success() {
        return Err(FetchError::Status { url: url.to_string(), status: response.status() });
    }
    let bytes = response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| FetchError::http(url, e))?;
    std::fs::write(to, bytes).map_err(|e| FetchError::Write { path: to.to_path_buf(), reason: e.to_string() })
}

fn json_files(body: &str) -> Result<Vec<File>, FetchError> {
    let page: JsonPage = serde_json::from_str(body).map_err(|e| FetchError::NotPep691 { reason: e.to_string() })?;
    Ok(page
        .files
        .into_iter()
        .map(|f| File {
            name: f.filename,
            url: f.url,
            yanked: !matches!(f.yanked, serde_json::Value::Null | serde_json::Value::Bool(false)),
        })
        .collect())
}

/// The anchors of a PEP 503 page: their text is the file name.
fn html_files(body: &str) -> Vec<File> {
    let mut files = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("<a ") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else { break };
        let tag = &rest[..open_end];
        let Some(close) = rest[open_end..].find("</a>") else { break };
        let text = rest[open_end + 1..open_end + close].trim();
        let url = tag
            .split_once("href=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(href, _)| unescape(href))
            .unwrap_or_default();
        files.push(File { name: unescape(text), yanked: tag.contains("data-yanked"), url });
        rest = &rest[open_end + close..];
    }
    files
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// A file's version and, for a wheel, its ABI tags.
fn parse(name: &str) -> Option<(Version, Option<Vec<String>>)> {
    if name.ends_with(".whl") {
        let wheel = WheelFilename::parse(name).ok()?;
        return Some((wheel.pep440, Some(wheel.tags.abi)));
    }
    Some((SdistFilename::parse(name)?.version, None))
}

/// What the latest release among `files` ships.
fn latest(files: &[File]) -> Availability {
    let mut releases: BTreeMap<Version, Vec<Option<Vec<String>>>> = BTreeMap::new();
    for file in files.iter().filter(|f| !f.yanked) {
        if let Some((version, abis)) = parse(&file.name) {
            releases.entry(version).or_default().push(abis);
        }
    }
    let newest_final = releases.keys().rev().find(|v| !v.any_prerelease()).cloned();
    let Some(version) = newest_final.or_else(|| releases.keys().next_back().cloned()) else {
        return Availability::default();
    };
    let mut out = Availability { version: Some(version.to_string()), ..Default::default() };
    let mut only_none = true;
    for abis in &releases[&version] {
        let Some(abis) = abis else {
            out.sdist = true;
            continue;
        };
        out.wheels += 1;
        for abi in abis {
            if abi.starts_with("cp3") && abi.ends_with('t') && !out.free_threaded.contains(abi) {
                out.free_threaded.push(abi.clone());
            }
        }
        if abis.iter().any(|a| a == "abi3t") {
            out.abi3t = true;
        } else if abis.iter().any(|a| a == "abi3") {
            out.abi3 = true;
        }
        only_none &= abis.iter().all(|a| a == "none");
    }
    out.free_threaded.sort();
    out.pure = out.wheels > 0 && only_none;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_the_url_in_one_line() {
        let url = || "http://127.0.0.1:8/simple/a/".to_string();
        let cases = [
            (
                FetchError::Http { url: url(), reason: "Connection refused".into() },
                "http://127.0.0.1:8/simple/a/: Connection refused",
            ),
            (
                FetchError::Status { url: url(), status: ureq::http::StatusCode::FORBIDDEN },
                "http://127.0.0.1:8/simple/a/: the server answered 403 Forbidden",
            ),
            (
                FetchError::NoProject { url: url(), project: "a".into() },
                "http://127.0.0.1:8/simple/a/: the index has no project a",
            ),
            (
                FetchError::IndexStatus { url: url(), status: ureq::http::StatusCode::BAD_GATEWAY },
                "http://127.0.0.1:8/simple/a/: the index answered 502 Bad Gateway",
            ),
            (FetchError::NotPep691 { reason: "EOF".into() }, "not a PEP 691 page: EOF"),
            (
                FetchError::NoRelease { page: url(), project: "a".into() },
                "http://127.0.0.1:8/simple/a/: the index lists no release of a",
            ),
            (FetchError::NotAVersion { version: "x".into(), reason: "bad".into() }, "x is not a version: bad"),
            (
                FetchError::NoSdist { page: url(), project: "a".into(), version: "1.0".into() },
                "http://127.0.0.1:8/simple/a/: a 1.0 has no sdist",
            ),
            (FetchError::Write { path: "/t/a.tar.gz".into(), reason: "full".into() }, "cannot write /t/a.tar.gz: full"),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    fn files(names: &[&str]) -> Vec<File> {
        names.iter().map(|n| File { name: n.to_string(), yanked: false, url: String::new() }).collect()
    }

    #[test]
    fn the_latest_final_release_decides_and_abi3t_counts_as_free_threaded() {
        let found = latest(&files(&[
            "pkg-1.0.tar.gz",
            "pkg-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl",
            "pkg-2.0-cp312-abi3-manylinux_2_17_x86_64.whl",
            "pkg-2.0-cp315-abi3.abi3t-manylinux_2_17_x86_64.whl",
            "pkg-2.0-cp314-cp314t-win_amd64.whl",
            "pkg-2.0.tar.gz",
            "pkg-3.0rc1-cp315-cp315t-win_amd64.whl",
        ]));
        assert_eq!(found.version.as_deref(), Some("2.0"));
        assert_eq!(found.free_threaded, vec!["cp314t".to_string()]);
        assert!(found.abi3t && found.abi3 && found.sdist && !found.pure && found.ships_free_threaded());
        let abi3_only = latest(&files(&["x-1-cp39-abi3-win_amd64.whl"]));
        assert!(abi3_only.abi3 && !abi3_only.ships_free_threaded());
        let pure = latest(&files(&["six-1.17.0-py2.py3-none-any.whl"]));
        assert!(pure.pure && pure.wheels == 1);
    }

    #[test]
    fn html_pages_give_their_anchor_texts_and_yanked_marks() {
        let page = "<html><body><a href=\"../f/a-1.0.tar.gz#sha256=00\">a-1.0.tar.gz</a><br>\n\
                    <a href=\"x\" data-yanked=\"\">a-2.0-py3-none-any.whl</a></body></html>";
        assert_eq!(
            html_files(page),
            vec![
                File { name: "a-1.0.tar.gz".into(), yanked: false, url: "../f/a-1.0.tar.gz#sha256=00".into() },
                File { name: "a-2.0-py3-none-any.whl".into(), yanked: true, url: "x".into() }
            ]
        );
        assert_eq!(latest(&html_files(page)).version.as_deref(), Some("1.0"));
        assert_eq!(
            join_url("http://127.0.0.1:8/simple/a/", "../../files/a-1.0.tar.gz#sha256=00"),
            "http://127.0.0.1:8/files/a-1.0.tar.gz"
        );
        assert_eq!(join_url("https://pypi.org/simple/a/", "/f/x.tar.gz"), "https://pypi.org/f/x.tar.gz");
        assert_eq!(join_url("https://pypi.org/simple/a/", "https://files/x"), "https://files/x");
    }
}
