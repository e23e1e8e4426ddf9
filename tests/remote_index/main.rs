//! The index layer against a real HTTP server (`scripts/serve-index`, run
//! with `python3` from PATH): project pages, and wheels read through HTTP
//! range requests, verified and cached. The wheels are built here.

mod measure;
mod server;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ftprobe::index::digest::Sha256Digest;
use ftprobe::index::error::IndexError;
use ftprobe::index::http::{Client, ClientSettings, Traffic};
use ftprobe::index::project::{PageFormat, project_page};
use ftprobe::index::remote::record::sha256_field;
use ftprobe::index::remote::{
    Access, FetchOptions, RemoteFile, RemoteWheel, Verified, WheelCache, open_wheel, scanned_members,
};
use server::{IndexServer, Served};

const EXTENSION: &str = "pkg/_ext.cpython-313t-x86_64-linux-gnu.so";
const OTHER_EXTENSION: &str = "pkg/sub/_other.cpython-313t-x86_64-linux-gnu.so";
const FILENAME: &str = "pkg-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl";

/// Incompressible bytes, the same for the same seed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Bytes that start like an ELF file.
fn elf(seed: u64, len: usize) -> Vec<u8> {
    let mut data = b"\x7fELF\x02\x01\x01\0".to_vec();
    data.extend(noise(seed, len - data.len()));
    data
}

/// A member: name, bytes, and whether it is stored rather than deflated.
type Member = (&'static str, Vec<u8>, bool);

/// The members of the usual test wheel: two extension modules separated by
/// large data files (which partial reads must skip), then the dist-info.
fn usual_members() -> Vec<Member> {
    vec![
        ("pkg/__init__.py", b"from ._ext import *\n".to_vec(), false),
        ("pkg/data.bin", noise(1, 700 << 10), true),
        (EXTENSION, elf(2, 40 << 10), false),
        ("pkg/more_data.bin", noise(3, 500 << 10), true),
        (OTHER_EXTENSION, elf(4, 12 << 10), false),
        ("pkg/tail_data.bin", noise(5, 300 << 10), true),
    ]
}

/// A wheel file built here, and its index.
struct TestIndex {
    root: tempfile::TempDir,
    wheel: PathBuf,
    bytes: Vec<u8>,
}

/// Writes `members` plus METADATA, WHEEL and a RECORD (with `record_lies_about`
/// given a wrong digest) into `root/files/FILENAME`, and the project's pages.
fn build_index(members: &[Member], record_lies_about: Option<&str>) -> TestIndex {
    build_index_with_trailer(members, &[], record_lies_about)
}

/// [`build_index`] with `trailing` members written after RECORD.
fn build_index_with_trailer(members: &[Member], trailing: &[Member], record_lies_about: Option<&str>) -> TestIndex {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("files")).unwrap();
    let wheel = root.path().join("files").join(FILENAME);
    let dist_info = [
        ("pkg-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n".to_vec(), false),
        ("pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n".to_vec(), false),
    ];
    let all: Vec<&Member> = members.iter().chain(dist_info.iter()).collect();
    let mut record = String::new();
    for (name, data, _) in all.iter().chain(trailing.iter().collect::<Vec<_>>().iter()) {
        let digest =
            if Some(*name) == record_lies_about { sha256_field(b"not these bytes") } else { sha256_field(data) };
        record.push_str(&format!("{name},{digest},{}\n", data.len()));
    }
    record.push_str("pkg-1.0.dist-info/RECORD,,\n");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&wheel).unwrap());
    for (name, data, stored) in all {
        let method = if *stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        writer.start_file(*name, zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.start_file("pkg-1.0.dist-info/RECORD", zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(record.as_bytes()).unwrap();
    for (name, data, _) in trailing {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap();
    let bytes = std::fs::read(&wheel).unwrap();
    write_pages(root.path(), &bytes);
    TestIndex { root, wheel, bytes }
}

/// `simple/pkg/index.json` (PEP 691, with PEP 700 fields) and `index.html` (PEP 503).
fn write_pages(root: &Path, bytes: &[u8]) {
    let page = root.join("simple/pkg");
    std::fs::create_dir_all(&page).unwrap();
    let sha = Sha256Digest::of(bytes).to_hex();
    let json = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": "pkg",
        "versions": ["1.0"],
        "files": [{
            "filename": FILENAME,
            "url": format!("../../files/{FILENAME}"),
            "hashes": {"sha256": sha},
            "requires-python": ">=3.13",
            "size": bytes.len(),
            "upload-time": "2026-01-02T03:04:05.000000Z",
            "yanked": false,
        }],
    });
    std::fs::write(page.join("index.json"), json.to_string()).unwrap();
    let html = format!(
        "<!DOCTYPE html><html><body><a href=\"../../files/{FILENAME}#sha256={sha}\" \
         data-requires-python=\"&gt;=3.13\">{FILENAME}</a></body></html>"
    );
    std::fs::write(page.join("index.html"), html).unwrap();
}

impl TestIndex {
    fn remote(&self, server: &IndexServer) -> RemoteFile {
        self.remote_at(&server.file_url(FILENAME))
    }

    fn remote_at(&self, url: &str) -> RemoteFile {
        RemoteFile {
            filename: FILENAME.into(),
            url: url.into(),
            sha256: Sha256Digest::of(&self.bytes),
            size: Some(self.bytes.len() as u64),
        }
    }

    /// Where a member's compressed data lies in the wheel.
    fn data_range(&self, name: &str) -> (u64, u64) {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&self.wheel).unwrap()).unwrap();
        let member = archive.by_name(name).unwrap();
        let start = member.data_start().unwrap();
        (start, start + member.compressed_size())
    }

    fn member(&self, name: &str) -> Vec<u8> {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&self.bytes)).unwrap();
        let mut data = Vec::new();
        archive.by_name(name).unwrap().read_to_end(&mut data).unwrap();
        data
    }
}

fn client() -> Client {
    Client::new(ClientSettings {
        connect_timeout: Duration::from_secs(5),
        response_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(10),
        attempts: 3,
        first_backoff: Duration::from_millis(10),
        ..ClientSettings::default()
    })
}

fn open(
    access: Access<'_>,
    cache: &Path,
    file: &RemoteFile,
    options: &FetchOptions,
) -> Result<RemoteWheel, IndexError> {
    open_wheel(access, &WheelCache::new(cache), file, &scanned_members, options)
}

/// A member read through the fetched bytes, as the scanner would.
fn read_member(wheel: &RemoteWheel, name: &str) -> std::io::Result<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(wheel.file.reader()).map_err(std::io::Error::other)?;
    let mut member = archive.by_name(name).map_err(std::io::Error::other)?;
    let mut data = Vec::new();
    member.read_to_end(&mut data)?;
    Ok(data)
}

/// (start, end) of a `bytes=a-b` or `bytes=-n` request on a file of `len` bytes.
fn requested(range: &str, len: u64) -> (u64, u64) {
    let spec = range.strip_prefix("bytes=").unwrap();
    let (first, last) = spec.split_once('-').unwrap();
    if first.is_empty() {
        return (len - last.parse::<u64>().unwrap().min(len), len);
    }
    (first.parse().unwrap(), last.parse::<u64>().unwrap() + 1)
}

#[test]
fn ranged_reads_fetch_only_the_tail_and_the_wanted_members() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let client = client();
    let wheel = open(Access::Online(&client), cache.path(), &index.remote(&server), &FetchOptions::default()).unwrap();

    assert_eq!(wheel.verified, Verified::AgainstRecord { members: 2 });
    assert_eq!(wheel.members, vec![EXTENSION.to_string(), OTHER_EXTENSION.to_string()]);
    assert!(!wheel.transfer.range_ignored && !wheel.transfer.from_cache);
    let served = server.served(false);
    let len = index.bytes.len() as u64;
    assert!(served.iter().all(|s| s.status == 206 && s.range.is_some()), "{served:?}");
    // The tail, then one request per extension module (the data between them is skipped).
    assert_eq!(served.len(), 3, "{served:?}");
    assert_eq!(served[0].range.as_deref(), Some(format!("bytes={}-{}", len - (65 << 10), len - 1).as_str()));
    let total: u64 = served.iter().map(|s| s.bytes).sum();
    assert_eq!((wheel.transfer.requests, wheel.transfer.bytes), (3, total));
    assert_eq!(client.traffic(), Traffic { requests: 3, bytes: total });
    let skipped: Vec<(u64, u64)> = ["pkg/data.bin", "pkg/more_data.bin"].iter().map(|m| index.data_range(m)).collect();
    for s in &served {
        let (start, end) = requested(s.range.as_deref().unwrap(), len);
        for (skip_start, skip_end) in &skipped {
            assert!(end <= *skip_start || start >= *skip_end, "{s:?} fetched data nobody wants");
        }
    }
    eprintln!("read {total} of {len} bytes in {} requests", served.len());
    assert!(total < len / 5, "{total} of {len}");

    // What was fetched reads like the wheel; what was not fetched cannot be read.
    assert_eq!(read_member(&wheel, EXTENSION).unwrap(), index.member(EXTENSION));
    assert_eq!(read_member(&wheel, OTHER_EXTENSION).unwrap(), index.member(OTHER_EXTENSION));
    let error = read_member(&wheel, "pkg/more_data.bin").unwrap_err().to_string();
    assert!(error.contains("was not fetched"), "{error}");
    // METADATA came with the tail but was not checked: it cannot be read either.
    let error = read_member(&wheel, "pkg-1.0.dist-info/METADATA").unwrap_err().to_string();
    assert!(error.contains("was not fetched and verified"), "{error}");
    assert!(read_member(&wheel, "pkg-1.0.dist-info/RECORD").is_ok());
}

#[test]
fn a_member_that_lies_in_the_zip_structure_read_anyway_is_verified_too() {
    let members = vec![("pkg/data.bin", noise(1, 700 << 10), true), (EXTENSION, elf(2, 40 << 10), false)];
    let trailing = vec![("pkg/zz.txt", b"tiny".to_vec(), false)];
    let good = build_index_with_trailer(&members, &trailing, None);
    let server = IndexServer::start(good.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let wheel = open(Access::Online(&client()), cache.path(), &good.remote(&server), &FetchOptions::default()).unwrap();
    assert!(matches!(wheel.verified, Verified::AgainstRecord { members } if members >= 2), "{:?}", wheel.verified);
    assert_eq!(read_member(&wheel, "pkg/zz.txt").unwrap(), b"tiny");

    let lying = build_index_with_trailer(&members, &trailing, Some("pkg/zz.txt"));
    let server = IndexServer::start(lying.root.path(), &[]);
    let error =
        open(Access::Online(&client()), cache.path(), &lying.remote(&server), &FetchOptions::default()).unwrap_err();
    assert!(error.to_string().contains("member `pkg/zz.txt` does not match its digest in RECORD"), "{error}");
}

#[test]
fn a_server_that_ignores_range_gives_the_whole_file_once() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &["--no-range"]);
    let cache = tempfile::tempdir().unwrap();
    let wheel =
        open(Access::Online(&client()), cache.path(), &index.remote(&server), &FetchOptions::default()).unwrap();
    assert_eq!(wheel.verified, Verified::WholeFile);
    assert!(wheel.transfer.range_ignored);
    assert!(wheel.file.is_complete());
    let served = server.served(false);
    assert_eq!(served.len(), 1, "{served:?}");
    assert_eq!((served[0].status, served[0].bytes), (200, index.bytes.len() as u64));
    assert_eq!(read_member(&wheel, "pkg/more_data.bin").unwrap(), index.member("pkg/more_data.bin"));
}

#[test]
fn verify_full_downloads_the_whole_file_in_one_request_and_checks_the_index_hash() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let options = FetchOptions { verify_full: true, ..FetchOptions::default() };
    let wheel = open(Access::Online(&client()), cache.path(), &index.remote(&server), &options).unwrap();
    assert_eq!(wheel.verified, Verified::WholeFile);
    assert!(!wheel.transfer.range_ignored);
    let served = server.served(false);
    assert_eq!(
        served,
        vec![Served { path: format!("/files/{FILENAME}"), range: None, status: 200, bytes: index.bytes.len() as u64 }]
    );
}

#[test]
fn a_wheel_that_is_mostly_its_extension_is_fetched_whole_and_checked_against_the_index() {
    let members = vec![
        ("pkg/__init__.py", b"".to_vec(), false),
        ("pkg/small.bin", noise(9, 100 << 10), true),
        (EXTENSION, elf(2, 900 << 10), true),
    ];
    let index = build_index(&members, None);
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let wheel =
        open(Access::Online(&client()), cache.path(), &index.remote(&server), &FetchOptions::default()).unwrap();
    assert_eq!(wheel.verified, Verified::WholeFile);
    let served = server.served(false);
    assert!(served.iter().all(|s| s.status == 206), "{served:?}");
    assert_eq!(served.iter().map(|s| s.bytes).sum::<u64>(), index.bytes.len() as u64, "no byte twice: {served:?}");
}

#[test]
fn a_sha256_mismatch_is_an_error_and_nothing_is_cached() {
    let index = build_index(&usual_members(), None);
    let cache = tempfile::tempdir().unwrap();
    let wrong = RemoteFile { sha256: Sha256Digest::of(b"another file"), ..index.remote_at("http://127.0.0.1:9/x.whl") };
    for flags in [&["--no-range"][..], &[]] {
        let server = IndexServer::start(index.root.path(), flags);
        let file = RemoteFile { url: server.file_url(FILENAME), ..wrong.clone() };
        let options = FetchOptions { verify_full: flags.is_empty(), ..FetchOptions::default() };
        let error = open(Access::Online(&client()), cache.path(), &file, &options).unwrap_err();
        assert!(matches!(error, IndexError::HashMismatch { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains(&file.url) && text.contains("not scanned") && !text.contains('\n'), "{text}");
    }
    let offline = open(Access::Offline, cache.path(), &wrong, &FetchOptions::default()).unwrap_err();
    assert!(matches!(offline, IndexError::NotCached { .. }), "{offline}");
}

#[test]
fn a_member_that_does_not_match_record_is_an_error() {
    let index = build_index(&usual_members(), Some(OTHER_EXTENSION));
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let error =
        open(Access::Online(&client()), cache.path(), &index.remote(&server), &FetchOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: member `{OTHER_EXTENSION}` does not match its digest in RECORD; the download is corrupt or was \
             tampered with, so it is not scanned",
            server.file_url(FILENAME)
        )
    );
    let offline = open(Access::Offline, cache.path(), &index.remote(&server), &FetchOptions::default()).unwrap_err();
    assert!(matches!(offline, IndexError::NotCached { .. }), "nothing unverified is cached: {offline}");
}

#[test]
fn a_size_other_than_the_index_says_is_an_error() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let file = RemoteFile { size: Some(index.bytes.len() as u64 + 1), ..index.remote(&server) };
    let error = open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap_err();
    assert!(matches!(error, IndexError::SizeMismatch { .. }), "{error}");
}

#[test]
fn a_second_read_is_served_from_the_cache_without_requests() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let file = index.remote(&server);
    let first = open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap();
    assert!(!server.served(true).is_empty());

    let again = open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap();
    assert_eq!(server.served(false), vec![], "the second read made requests");
    assert_eq!((again.transfer.requests, again.transfer.bytes, again.transfer.from_cache), (0, 0, true));
    assert_eq!(again.verified, first.verified);
    assert_eq!(read_member(&again, EXTENSION).unwrap(), index.member(EXTENSION));

    drop(server);
    let offline = open(Access::Offline, cache.path(), &file, &FetchOptions::default()).unwrap();
    assert_eq!(offline.members, first.members);
    assert_eq!(read_member(&offline, OTHER_EXTENSION).unwrap(), index.member(OTHER_EXTENSION));
}

#[test]
fn offline_says_what_the_cache_lacks() {
    let index = build_index(&usual_members(), None);
    let cache = tempfile::tempdir().unwrap();
    let file = index.remote_at("http://127.0.0.1:9/files/x.whl");
    let cold = open(Access::Offline, cache.path(), &file, &FetchOptions::default()).unwrap_err();
    assert_eq!(
        cold.to_string(),
        format!("offline: the cache lacks a copy of {FILENAME}; run once without --offline to fetch it")
    );

    // Warm for the extension modules, cold for a data file.
    let server = IndexServer::start(index.root.path(), &[]);
    let file = index.remote(&server);
    open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap();
    let wants_data = |name: &str| name == "pkg/data.bin" || scanned_members(name);
    let error =
        open_wheel(Access::Offline, &WheelCache::new(cache.path()), &file, &wants_data, &FetchOptions::default())
            .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("offline: the cache lacks member `pkg/data.bin` of {FILENAME}; run once without --offline to fetch it")
    );
}

#[test]
fn a_cached_copy_that_changed_is_removed_and_fetched_again() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &[]);
    let cache = tempfile::tempdir().unwrap();
    let file = index.remote(&server);
    open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap();
    // Flip one byte of the extension module's data in the cached copy.
    let folder = cache.path().join("remote-wheels").join(file.sha256.to_hex());
    let copy = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("data-"))
        .unwrap();
    let mut bytes = std::fs::read(&copy).unwrap();
    let (start, _) = index.data_range(EXTENSION);
    bytes[start as usize + 100] ^= 0xff;
    std::fs::write(&copy, bytes).unwrap();

    let error = open(Access::Offline, cache.path(), &file, &FetchOptions::default()).unwrap_err();
    assert!(matches!(error, IndexError::CacheCorrupt { .. }), "{error}");
    assert!(error.to_string().contains("was removed; run again"), "{error}");
    server.served(true);
    let fresh = open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap();
    assert!(!fresh.transfer.from_cache && !server.served(false).is_empty());
}

#[test]
fn answers_503_are_retried() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &["--fail-first", "2"]);
    let cache = tempfile::tempdir().unwrap();
    let wheel =
        open(Access::Online(&client()), cache.path(), &index.remote(&server), &FetchOptions::default()).unwrap();
    assert_eq!(wheel.verified, Verified::AgainstRecord { members: 2 });
    let statuses: Vec<u16> = server.served(false).iter().map(|s| s.status).collect();
    assert_eq!(statuses[..3], [503, 503, 206]);
}

#[test]
fn a_server_that_is_down_gives_one_line_that_says_what_to_do() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let index = format!("http://127.0.0.1:{port}/simple/");
    let error = project_page(&client(), &index, "Pkg").unwrap_err().to_string();
    let prefix = format!("could not reach http://127.0.0.1:{port}/simple/pkg/: ");
    assert!(error.starts_with(&prefix), "{error}");
    assert!(error.ends_with("(3 attempts); check the URL or use --offline with a warm cache"), "{error}");
    assert!(!error.contains('\n'), "{error}");

    let cache = tempfile::tempdir().unwrap();
    let file = RemoteFile {
        filename: FILENAME.into(),
        url: format!("http://127.0.0.1:{port}/files/{FILENAME}"),
        sha256: Sha256Digest::of(b"x"),
        size: None,
    };
    let error = open(Access::Online(&client()), cache.path(), &file, &FetchOptions::default()).unwrap_err();
    assert!(error.to_string().starts_with(&format!("could not reach {}: ", file.url)), "{error}");
}

#[test]
fn project_pages_come_as_pep_691_json_or_pep_503_html() {
    let index = build_index(&usual_members(), None);
    let server = IndexServer::start(index.root.path(), &[]);
    let sha = Sha256Digest::of(&index.bytes);
    let page = project_page(&client(), &server.simple_url(), "PKG").unwrap();
    assert_eq!(page.format, PageFormat::Json);
    let file = &page.files[0];
    assert_eq!((file.filename.as_str(), file.url.as_str()), (FILENAME, server.file_url(FILENAME).as_str()));
    assert_eq!((file.sha256, file.size), (Some(sha), Some(index.bytes.len() as u64)));
    assert_eq!(file.upload_time.as_deref(), Some("2026-01-02T03:04:05.000000Z"));
    assert_eq!(file.requires_python.as_deref(), Some(">=3.13"));
    assert!(!file.yanked.is_yanked());
    assert_eq!(file.remote().unwrap(), index.remote(&server));

    std::fs::remove_file(index.root.path().join("simple/pkg/index.json")).unwrap();
    let page = project_page(&client(), &server.simple_url(), "pkg").unwrap();
    assert_eq!(page.format, PageFormat::Html);
    let file = &page.files[0];
    assert_eq!((file.url.as_str(), file.sha256, file.size), (server.file_url(FILENAME).as_str(), Some(sha), None));
    assert_eq!(file.requires_python.as_deref(), Some(">=3.13"));

    let missing = project_page(&client(), &server.simple_url(), "nothing-here").unwrap_err();
    assert!(matches!(missing, IndexError::NoSuchProject { .. }), "{missing}");
}
