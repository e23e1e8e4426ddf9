//! What reading real wheels through the test index costs: requests, bytes
//! and time, cold and warm, against a plain download. It prints a table
//! and asserts nothing about speed. Needs `scripts/fetch-real-wheels`; run
//! it with
//! `cargo test --release --test remote_index -- --ignored --nocapture measure`.

use std::path::PathBuf;
use std::time::Instant;

use ftprobe::index::digest::Sha256Digest;
use ftprobe::index::http::{Client, ClientSettings};
use ftprobe::index::remote::{
    Access, FetchOptions, RemoteFile, RemoteWheel, Verified, WheelCache, open_wheel, scanned_members,
};

use crate::server::IndexServer;

fn real_wheels() -> PathBuf {
    let cache = std::env::var_os("FTPROBE_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/ftprobe"));
    let folder = cache.join("real-wheels/linux_x86_64");
    assert!(folder.is_dir(), "{} is missing: run scripts/fetch-real-wheels", folder.display());
    folder
}

/// One read with a fresh cache, and how long it took in milliseconds.
fn timed(
    client: &Client,
    file: &RemoteFile,
    wanted: &dyn Fn(&str) -> bool,
    options: &FetchOptions,
) -> (RemoteWheel, f64) {
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let wheel = open_wheel(Access::Online(client), &WheelCache::new(cache.path()), file, wanted, options).unwrap();
    (wheel, start.elapsed().as_secs_f64() * 1e3)
}

#[test]
#[ignore = "a measurement over scripts/fetch-real-wheels' wheels; run it by name"]
fn measure_real_wheels() {
    let source = real_wheels();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("files")).unwrap();
    let mut names: Vec<String> =
        std::fs::read_dir(&source).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    for name in &names {
        std::fs::copy(source.join(name), root.path().join("files").join(name)).unwrap();
    }
    let server = IndexServer::start(root.path(), &[]);
    let client = Client::new(ClientSettings::default());
    let never_whole = FetchOptions { whole_file_above: 2.0, ..FetchOptions::default() };
    let full = FetchOptions { verify_full: true, ..FetchOptions::default() };
    println!(
        "| wheel | MB | default: check, requests, MB (share) | cold ms | warm ms | --verify-full ms | \
         RECORD only: requests, MB, ms | directory ms |"
    );
    println!("|:--|--:|:--|--:|--:|--:|:--|--:|");
    for name in &names {
        let bytes = std::fs::read(source.join(name)).unwrap();
        let size = bytes.len() as f64 / 1e6;
        let file = RemoteFile {
            filename: name.clone(),
            url: server.file_url(name),
            sha256: Sha256Digest::of(&bytes),
            size: Some(bytes.len() as u64),
        };
        let (cold, cold_ms) = timed(&client, &file, &scanned_members, &FetchOptions::default());
        let warm_cache = tempfile::tempdir().unwrap();
        let warm_at = WheelCache::new(warm_cache.path());
        open_wheel(Access::Online(&client), &warm_at, &file, &scanned_members, &FetchOptions::default()).unwrap();
        let start = Instant::now();
        let warm = open_wheel(Access::Offline, &warm_at, &file, &scanned_members, &FetchOptions::default()).unwrap();
        let warm_ms = start.elapsed().as_secs_f64() * 1e3;
        assert_eq!(warm.transfer.requests, 0);
        let (_, full_ms) = timed(&client, &file, &scanned_members, &full);
        let (partial, partial_ms) = timed(&client, &file, &scanned_members, &never_whole);
        let (_, directory_ms) = timed(&client, &file, &|_: &str| false, &never_whole);
        let check = |wheel: &RemoteWheel| match wheel.verified {
            Verified::WholeFile => "sha256".to_string(),
            Verified::AgainstRecord { members } => format!("RECORD ({members})"),
        };
        let mb = |wheel: &RemoteWheel| wheel.transfer.bytes as f64 / 1e6;
        println!(
            "| {} | {size:.1} | {}, {}, {:.2} ({:.0}%) | {cold_ms:.0} | {warm_ms:.0} | {full_ms:.0} | {}, {:.2}, {partial_ms:.0} | {directory_ms:.0} |",
            name.split('-').take(2).collect::<Vec<_>>().join(" "),
            check(&cold),
            cold.transfer.requests,
            mb(&cold),
            100.0 * mb(&cold) / size,
            partial.transfer.requests,
            mb(&partial),
        );
    }
}
