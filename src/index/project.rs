//! One project's files on a package index's simple API, with everything the
//! index says about each: PEP 691 JSON (asked for first) or PEP 503 HTML,
//! hashes, sizes and upload times (PEP 700, JSON only), `requires-python`
//! and yanked marks (PEP 592). URLs are made absolute.

use serde::Deserialize;

use super::digest::Sha256Digest;
use super::error::IndexError;
use super::http::Client;
use super::remote::RemoteFile;
use super::url::join;

/// One file of a project page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectFile {
    pub filename: String,
    /// Absolute, without the `#sha256=` fragment.
    pub url: String,
    /// `hashes.sha256` (JSON) or the `#sha256=` fragment (HTML); None when
    /// absent or not 64 hexadecimal digits.
    pub sha256: Option<Sha256Digest>,
    /// In bytes (PEP 700; JSON only).
    pub size: Option<u64>,
    /// As the index gives it, e.g. `2024-10-18T15:21:54.129148Z` (PEP 700; JSON only).
    pub upload_time: Option<String>,
    /// The specifier, e.g. `>=3.9`.
    pub requires_python: Option<String>,
    pub yanked: Yanked,
}

/// PEP 592.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Yanked {
    No,
    /// Yanked, with the reason the index gives (if any).
    Yes(Option<String>),
}

impl Yanked {
    pub fn is_yanked(&self) -> bool {
        matches!(self, Yanked::Yes(_))
    }
}

impl ProjectFile {
    /// The file as the range reader takes it (needs the sha256).
    pub fn remote(&self) -> Option<RemoteFile> {
        Some(RemoteFile {
            filename: self.filename.clone(),
            url: self.url.clone(),
            sha256: self.sha256?,
            size: self.size,
        })
    }
}

/// Which API the page came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFormat {
    /// PEP 691 JSON.
    Json,
    /// PEP 503 HTML.
    Html,
}

#[derive(Clone, Debug)]
pub struct ProjectPage {
    /// Where the page was read from, after redirects.
    pub url: String,
    pub format: PageFormat,
    pub files: Vec<ProjectFile>,
}

/// Reads the page of `project` from the index at `index_url` (its simple
/// API root, e.g. `https://pypi.org/simple/`).
pub fn project_page(client: &Client, index_url: &str, project: &str) -> Result<ProjectPage, IndexError> {
    let url = format!("{}/{}/", index_url.trim_end_matches('/'), crate::model::name::normalize(project));
    let page = client.get_page(&url, project)?;
    let bad = |reason: String| IndexError::BadPage { url: url.clone(), reason };
    let (format, files) = if page.json {
        (PageFormat::Json, parse_json(&page.url, &page.body).map_err(bad)?)
    } else {
        (PageFormat::Html, parse_html(&page.url, &page.body))
    };
    Ok(ProjectPage { url: page.url, format, files })
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
    #[serde(default, rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: serde_json::Value,
}

/// The files of a PEP 691 page whose URL is `page_url`.
// The error is text: it is only the `reason` of `IndexError::BadPage`.
pub fn parse_json(page_url: &str, body: &str) -> Result<Vec<ProjectFile>, String> {
    let page: JsonPage = serde_json::from_str(body).map_err(|e| format!("not PEP 691 JSON: {e}"))?;
    Ok(page
        .files
        .into_iter()
        .map(|f| ProjectFile {
            url: join(page_url, &f.url),
            sha256: f.hashes.get("sha256").and_then(|h| Sha256Digest::from_hex(h).ok()),
            size: f.size,
            upload_time: f.upload_time,
            requires_python: f.requires_python.filter(|s| !s.trim().is_empty()),
            yanked: match f.yanked {
                serde_json::Value::Bool(true) => Yanked::Yes(None),
                serde_json::Value::String(reason) => Yanked::Yes(Some(reason).filter(|r| !r.is_empty())),
                _ => Yanked::No,
            },
            filename: f.filename,
        })
        .collect())
}

/// The files of a PEP 503 page whose URL is `page_url`: its anchors.
pub fn parse_html(page_url: &str, body: &str) -> Vec<ProjectFile> {
    anchors(body)
        .into_iter()
        .filter_map(|(attributes, text)| {
            let attribute = |name: &str| attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            let href = attribute("href")?;
            let fragment = href.split_once('#').map(|(_, f)| f.to_string()).unwrap_or_default();
            let sha256 = fragment.strip_prefix("sha256=").and_then(|h| Sha256Digest::from_hex(h).ok());
            let filename = if text.is_empty() { file_name_of(&href) } else { text };
            Some(ProjectFile {
                url: join(page_url, &href),
                sha256,
                size: None,
                upload_time: None,
                requires_python: attribute("data-requires-python").filter(|s| !s.trim().is_empty()),
                yanked: match attribute("data-yanked") {
                    Some(reason) => Yanked::Yes(Some(reason).filter(|r| !r.is_empty())),
                    None => Yanked::No,
                },
                filename,
            })
        })
        .collect()
}

fn file_name_of(href: &str) -> String {
    let path = href.split(['#', '?']).next().unwrap_or(href);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Each `<a …>text</a>`: its attributes (names lowercased, values unescaped)
/// and its text (unescaped, trimmed).
fn anchors(body: &str) -> Vec<(Vec<(String, String)>, String)> {
    let lower = body.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<a") {
        let start = at + found + 2;
        at = start;
        if !lower[start..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>') {
            continue;
        }
        let (attributes, after_tag) = parse_attributes(body, start);
        let Some(close) = lower[after_tag..].find("</a") else { break };
        let text = unescape(body[after_tag..after_tag + close].trim());
        out.push((attributes, text));
        at = after_tag + close;
    }
    out
}

/// The attributes of a tag whose name ends at `at`, and where the tag ends.
fn parse_attributes(body: &str, mut at: usize) -> (Vec<(String, String)>, usize) {
    let bytes = body.as_bytes();
    let mut attributes = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return (attributes, at);
        }
        if bytes[at] == b'>' {
            return (attributes, at + 1);
        }
        let name_start = at;
        while at < bytes.len() && !matches!(bytes[at], b'=' | b'>' | b'/') && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let name = body[name_start..at].to_ascii_lowercase();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let mut value = String::new();
        if at < bytes.len() && bytes[at] == b'=' {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            if at < bytes.len() && matches!(bytes[at], b'"' | b'\'') {
                let quote = bytes[at];
                let value_start = at + 1;
                let end = body[value_start..].find(quote as char).map_or(bytes.len(), |i| value_start + i);
                value = unescape(&body[value_start..end]);
                at = (end + 1).min(bytes.len());
            } else {
                let value_start = at;
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>' {
                    at += 1;
                }
                value = unescape(&body[value_start..at]);
            }
        }
        if !name.is_empty() {
            attributes.push((name, value));
        }
    }
}

/// HTML character references: the named ones indexes use, and numeric ones.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "2cb3d2b8bb23b4ba8b5e8be2c8ac6a8ef6c4b2c1c3b1b2a9c4d5e6f708192a3b";

    #[test]
    fn reads_pep_691_json_with_pep_700_fields() {
        let body = format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "a", "versions": ["1.0"], "files": [
              {{"filename": "a-1.0-py3-none-any.whl", "url": "../../files/a-1.0-py3-none-any.whl",
                "hashes": {{"sha256": "{SHA}"}}, "requires-python": ">=3.9", "size": 1234,
                "upload-time": "2024-10-18T15:21:54.129148Z", "yanked": false}},
              {{"filename": "a-0.9.tar.gz", "url": "https://files.example/a-0.9.tar.gz", "hashes": {{}},
                "yanked": "broken build"}},
              {{"filename": "a-0.8.tar.gz", "url": "a-0.8.tar.gz", "hashes": {{"sha256": "nope"}}, "yanked": true}}
            ]}}"#
        );
        let files = parse_json("http://127.0.0.1:8/simple/a/", &body).unwrap();
        assert_eq!(
            files[0],
            ProjectFile {
                filename: "a-1.0-py3-none-any.whl".into(),
                url: "http://127.0.0.1:8/files/a-1.0-py3-none-any.whl".into(),
                sha256: Some(Sha256Digest::from_hex(SHA).unwrap()),
                size: Some(1234),
                upload_time: Some("2024-10-18T15:21:54.129148Z".into()),
                requires_python: Some(">=3.9".into()),
                yanked: Yanked::No,
            }
        );
        assert_eq!(files[1].yanked, Yanked::Yes(Some("broken build".into())));
        assert_eq!(files[1].sha256, None);
        assert_eq!((files[2].yanked.is_yanked(), files[2].sha256), (true, None));
        assert!(files[0].remote().is_some() && files[1].remote().is_none());
        assert!(parse_json("http://x/", "<html>").unwrap_err().starts_with("not PEP 691 JSON"));
    }

    #[test]
    fn reads_pep_503_html_with_its_data_attributes() {
        let body = format!(
            "<!DOCTYPE html><html><body>\n\
             <A HREF=\"../../files/a-1.0-py3-none-any.whl#sha256={SHA}\" data-requires-python=\"&gt;=3.9\">a-1.0-py3-none-any.whl</A><br/>\n\
             <a href='a-0.9.tar.gz#md5=00' data-yanked=\"bad &amp; broken\">a-0.9.tar.gz</a>\n\
             <a data-yanked href=/files/a-0.8.tar.gz>a-0.8.tar.gz</a>\n\
             <abbr>not a link</abbr></body></html>"
        );
        let files = parse_html("http://127.0.0.1:8/simple/a/", &body);
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].url, "http://127.0.0.1:8/files/a-1.0-py3-none-any.whl");
        assert_eq!(files[0].sha256, Some(Sha256Digest::from_hex(SHA).unwrap()));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.9"));
        assert_eq!(files[0].yanked, Yanked::No);
        assert_eq!((files[0].size, files[0].upload_time.as_deref()), (None, None));
        assert_eq!(files[1].url, "http://127.0.0.1:8/simple/a/a-0.9.tar.gz");
        assert_eq!((files[1].sha256, &files[1].yanked), (None, &Yanked::Yes(Some("bad & broken".into()))));
        assert_eq!(
            (files[2].url.as_str(), &files[2].yanked),
            ("http://127.0.0.1:8/files/a-0.8.tar.gz", &Yanked::Yes(None))
        );
        assert_eq!(unescape("&#62;=3&#x2E;9 &bogus; &"), ">=3.9 &bogus; &");
    }
}
