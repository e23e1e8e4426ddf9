//! The network side of `deps`: a project's files from the index (PEP 691
//! JSON, else PEP 503), remembered on disk, and a chosen wheel's modules
//! scanned from the bytes `index::remote` fetches by range requests and
//! verifies (the whole file against its sha256, or each member against the
//! wheel's RECORD), cached by the wheel's sha256. Offline, both come from
//! the cache alone, and what it lacks is said.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::choose::Candidate;
use super::pages::PageCache;
use super::remembered::Remembered;
use super::result::{ModuleVerdict, Traffic};
use super::sdist::{self, KindCache, SdistKind};
use crate::index::digest::Sha256Digest;
use crate::index::error::IndexError;
use crate::index::http::{Client, ClientSettings};
use crate::index::keyring::KeyringProvider;
use crate::index::remote::{self, Access, FetchOptions, RemoteFile, WheelCache};
use crate::input::InputError;
use crate::scan::wheel::{Overlaps, Wheel};

/// A scanned wheel's modules, or why it could not be read.
pub type Scanned = Result<ScannedWheel, FetchFailure>;

/// Why a project's files or a wheel's modules could not be had: the
/// reason of a result whose status is `error`.
#[derive(Debug, thiserror::Error)]
pub enum FetchFailure {
    #[error("offline: the cache has no copy of {url}; run once without --offline to fill it")]
    PageNotCached { url: String },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("interrupted before this wheel was read")]
    Interrupted,
    #[error("offline: the cache does not say what {file} builds")]
    SdistNotCached { file: String },
    #[error("{file} is over {} MB, so it was not read", sdist::MOST_BYTES >> 20)]
    SdistTooLarge { file: String },
    #[error("{file}: neither the lock file nor the index gives its URL")]
    NoUrl { file: String },
    #[error("{file}: neither the lock file nor the index gives its sha256, so its bytes cannot be checked")]
    NoSha256 { file: String },
    /// The fetched bytes are not a wheel the scanner can open, or it could not scan it.
    #[error("{file}: {reason}")]
    Unreadable { file: String, reason: String },
    /// Extension modules the scanner could not read, each `member: why`.
    #[error("{file}: {}", members.join("; "))]
    Members { file: String, members: Vec<String> },
    /// A `--find-links` file that cannot be opened or read.
    #[error(transparent)]
    Local(#[from] InputError),
    #[error(
        "hash mismatch: {path} has sha256 {found}, the lock file pins {locked}; \
         the --find-links directory holds other bytes than were locked (lock again, or replace the file)"
    )]
    LocalHashMismatch { path: String, found: String, locked: String },
}

#[derive(Clone, Debug)]
pub struct ScannedWheel {
    pub modules: Vec<ModuleVerdict>,
    /// The server answered a range request with the whole file.
    pub range_ignored: bool,
}

/// Index pages and wheel reads, with their caches.
pub struct Fetcher {
    client: Client,
    wheels: WheelCache,
    pages: PageCache,
    sdist_kinds: KindCache,
    /// Each scanned wheel's verdicts, by its sha256.
    verdicts: Remembered,
    offline: bool,
    options: FetchOptions,
    from_cache: AtomicUsize,
}

impl Fetcher {
    /// Caches below `cache_dir`; with `offline`, no request is made.
    pub fn new(cache_dir: &Path, offline: bool, verify_full: bool, keyring: KeyringProvider) -> Fetcher {
        Fetcher {
            client: Client::new(ClientSettings { keyring, ..ClientSettings::default() }),
            wheels: WheelCache::new(cache_dir),
            pages: PageCache::new(cache_dir),
            sdist_kinds: KindCache::new(cache_dir),
            verdicts: Remembered::new(cache_dir, "wheel-verdicts"),
            offline,
            options: FetchOptions { verify_full, ..FetchOptions::default() },
            from_cache: AtomicUsize::new(0),
        }
    }

    /// Requests made and bytes received so far.
    pub fn traffic(&self) -> Traffic {
        let traffic = self.client.traffic();
        Traffic {
            requests: traffic.requests,
            bytes: traffic.bytes,
            wheels_from_cache: self.from_cache.load(Ordering::Relaxed),
        }
    }

    /// For each host that got credentials, a note saying where they came from.
    pub fn credential_notes(&self) -> Vec<String> {
        self.client
            .credentials_used()
            .into_iter()
            .map(|(host, source)| format!("credentials for {host} from {source}"))
            .collect()
    }

    /// Every file of `project` on the index at `index_url` (which may carry
    /// a login: it is sent, never cached or shown).
    pub fn project_files(&self, index_url: &str, project: &str) -> Result<Vec<Candidate>, FetchFailure> {
        let shown = crate::index::credentials::split_userinfo(index_url).0;
        let url = format!("{}/{}/", shown.trim_end_matches('/'), crate::model::name::normalize(project));
        if let Some(files) = self.pages.get(&url, self.offline) {
            return Ok(files);
        }
        if self.offline {
            return Err(FetchFailure::PageNotCached { url });
        }
        let page = crate::index::project::project_page(&self.client, index_url, project)?;
        let files: Vec<Candidate> = page
            .files
            .iter()
            .map(|f| Candidate {
                filename: f.filename.clone(),
                url: Some(f.url.clone()),
                sha256: f.sha256.map(|d| d.to_hex()),
                size: f.size,
                upload_time: f.upload_time.clone(),
                yanked: f.yanked.is_yanked(),
                path: None,
            })
            .collect();
        self.pages.put(&url, &files);
        Ok(files)
    }

    /// What building `sdist` would make: its archive read once (from its URL,
    /// or in place in a `--find-links` folder), checked against its sha256,
    /// and the answer remembered by that sha256.
    pub fn sdist_kind(&self, sdist: &Candidate) -> Result<SdistKind, FetchFailure> {
        let file = || sdist.filename.clone();
        let sha256 = sdist.sha256.as_deref().ok_or_else(|| FetchFailure::NoSha256 { file: file() })?;
        if let Some(kind) = self.sdist_kinds.get(sha256) {
            return Ok(kind);
        }
        if sdist.size.is_some_and(|size| size > sdist::MOST_BYTES) {
            return Err(FetchFailure::SdistTooLarge { file: file() });
        }
        let (bytes, shown) = match (&sdist.path, &sdist.url) {
            (Some(path), _) => {
                let (opened, size) = crate::input::open_regular(path)?;
                if size > sdist::MOST_BYTES {
                    return Err(FetchFailure::SdistTooLarge { file: file() });
                }
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut &opened, &mut bytes)
                    .map_err(|e| FetchFailure::Local(InputError::from_io(path, &e)))?;
                (bytes, path.display().to_string())
            }
            (None, _) if self.offline => return Err(FetchFailure::SdistNotCached { file: file() }),
            (None, Some(url)) => (self.client.get_bytes(url, sdist::MOST_BYTES)?, url.clone()),
            (None, None) => return Err(FetchFailure::NoUrl { file: file() }),
        };
        let actual = Sha256Digest::of(&bytes).to_hex();
        if !actual.eq_ignore_ascii_case(sha256) {
            return Err(IndexError::HashMismatch { url: shown, expected: sha256.to_string(), actual }.into());
        }
        let kind = sdist::classify(&sdist.filename, &bytes)
            .map_err(|error| FetchFailure::Unreadable { file: file(), reason: error.to_string() })?;
        self.sdist_kinds.put(sha256, &kind);
        Ok(kind)
    }

    /// The modules of `wheel` that its interpreter imports, with the scanner's verdicts.
    pub fn scan(&self, wheel: &Candidate) -> Scanned {
        let name = || wheel.filename.clone();
        let url = wheel.url.clone().ok_or_else(|| FetchFailure::NoUrl { file: name() })?;
        let sha256 = wheel.sha256.as_deref().ok_or_else(|| FetchFailure::NoSha256 { file: name() })?;
        let file = RemoteFile { filename: name(), url, sha256: Sha256Digest::from_hex(sha256)?, size: wheel.size };
        // What this build found in these bytes before; --verify-full reads them again.
        if !self.options.verify_full
            && let Some(modules) = self.remembered_verdicts(sha256, &wheel.filename)
        {
            self.from_cache.fetch_add(1, Ordering::Relaxed);
            return Ok(ScannedWheel { modules, range_ignored: false });
        }
        let access = if self.offline { Access::Offline } else { Access::Online(&self.client) };
        let fetched = remote::open_wheel(access, &self.wheels, &file, &remote::scanned_members, &self.options)?;
        if fetched.transfer.from_cache {
            self.from_cache.fetch_add(1, Ordering::Relaxed);
        }
        let overlaps = if fetched.file.is_complete() { Overlaps::Check } else { Overlaps::CheckedBySource };
        let len = fetched.file.len();
        let unreadable = |reason: String| FetchFailure::Unreadable { file: wheel.filename.clone(), reason };
        let opened =
            Wheel::from_source(Arc::new(fetched.file.clone()), len, overlaps).map_err(|e| unreadable(e.to_string()))?;
        let modules = verdicts(&wheel.filename, Path::new(&wheel.filename), &opened)?;
        let remembered = RememberedVerdicts { filename: wheel.filename.clone(), modules: modules.clone() };
        if let Ok(text) = serde_json::to_string(&remembered) {
            self.verdicts.put(sha256, &text);
        }
        Ok(ScannedWheel { modules, range_ignored: fetched.transfer.range_ignored })
    }

    fn remembered_verdicts(&self, sha256: &str, filename: &str) -> Option<Vec<ModuleVerdict>> {
        let remembered: RememberedVerdicts = serde_json::from_str(&self.verdicts.get(sha256)?).ok()?;
        (remembered.filename == filename).then_some(remembered.modules)
    }
}

/// A wheel's verdicts as remembered: its name, since the import names come from it.
#[derive(serde::Serialize, serde::Deserialize)]
struct RememberedVerdicts {
    filename: String,
    modules: Vec<ModuleVerdict>,
}

/// The scanner's verdicts on the modules of the opened wheel `filename`
/// that its interpreter imports (`shown` names it in the scan), wherever
/// its bytes came from; a wheel or member it could not read is a failure.
pub fn verdicts(filename: &str, shown: &Path, opened: &Wheel) -> Result<Vec<ModuleVerdict>, FetchFailure> {
    let target = crate::scan::scan_opened_wheel(shown, opened, Default::default());
    if let Some(error) = &target.error {
        return Err(FetchFailure::Unreadable { file: filename.into(), reason: error.clone() });
    }
    let members: Vec<String> =
        target.extensions.iter().filter_map(|e| e.error.as_ref().map(|why| format!("{}: {why}", e.member))).collect();
    if !members.is_empty() {
        return Err(FetchFailure::Members { file: filename.into(), members });
    }
    Ok(super::judge::modules(&target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_the_results_reasons() {
        let file = || "a-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl".to_string();
        let cases = [
            (
                FetchFailure::PageNotCached { url: "https://pypi.org/simple/a/".into() },
                "offline: the cache has no copy of https://pypi.org/simple/a/; run once without --offline to fill it",
            ),
            (FetchFailure::Interrupted, "interrupted before this wheel was read"),
            (
                FetchFailure::NoUrl { file: file() },
                "a-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl: neither the lock file nor the index gives its URL",
            ),
            (
                FetchFailure::NoSha256 { file: file() },
                "a-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl: neither the lock file nor the index gives its sha256, so its bytes cannot be checked",
            ),
            (
                FetchFailure::Unreadable { file: file(), reason: "not a zip".into() },
                "a-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl: not a zip",
            ),
            (
                FetchFailure::Members { file: file(), members: vec!["a/x.so: bad".into(), "a/y.so: worse".into()] },
                "a-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl: a/x.so: bad; a/y.so: worse",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        let index = IndexError::NotFound { url: "https://x/a.whl".into() };
        assert_eq!(FetchFailure::from(index.clone()).to_string(), index.to_string());
    }
}
