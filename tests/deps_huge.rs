//! Huge lock files: `ftprobe deps` on a requirements file of 2,000 pins
//! (the 2,000 most-downloaded PyPI names, fixtures/deps-huge/top-2000.txt)
//! against a local index on 127.0.0.1 (`scripts/serve-index`) whose pages
//! are generated here. Most pins have a pure wheel; every tenth has none
//! for cp313t but a later pure release; every tenth has a real cp313t wheel
//! served under its own name (MarkupSafe's, ready; every fifth of those
//! blake3's, which re-enables the GIL). Every pin gets its answer, the
//! process's peak RSS (VmHWM, polled) stays under a generous bound, and the
//! index never answers more requests at once than `--jobs`. No timing is
//! asserted; nothing leaves the machine.

mod common;
// The test index of tests/remote_index; not every helper is used here.
#[allow(dead_code)]
#[path = "remote_index/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use server::IndexServer;
use sha2::{Digest, Sha256};

/// The bound on the peak resident memory of the run, in kB: generous (a
/// run over these pins stays far below it), but a run that held every
/// fetched wheel or page at once, or a thread per pin, would not.
const PEAK_RSS_KB: u64 = 400 * 1024;

/// Index requests and wheel reads at once.
const JOBS: u64 = 4;

/// What a pin is, by its place in the list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Pure,
    /// A cp313 wheel (and, for every other one, an sdist), then a pure 2.0.
    NoWheel {
        sdist: bool,
    },
    /// A real cp313t wheel under the project's name.
    Compiled {
        gil: bool,
    },
}

fn kind(at: usize) -> Kind {
    match at % 10 {
        3 => Kind::Compiled { gil: (at / 10).is_multiple_of(5) },
        7 => Kind::NoWheel { sdist: (at / 10).is_multiple_of(2) },
        _ => Kind::Pure,
    }
}

fn names() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/deps-huge/top-2000.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let names: Vec<String> =
        text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(str::to_string).collect();
    assert_eq!(names.len(), 2000, "{}", path.display());
    names
}

/// The real wheels served under other names: (file on disk, its sha256).
fn real_wheel(gil: bool) -> PathBuf {
    if gil {
        common::real_wheels()
            .join("linux_x86_64/blake3-1.0.4-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    } else {
        common::batch_index().join("files/MarkupSafe-3.0.2-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    }
}

fn sha256(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap()).iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// Writes the index below `root` (a PEP 503 page per name; the compiled
/// wheels as symlinks to the real ones, the files no run reads not at all)
/// and returns the requirements file's text.
fn make_index(root: &Path, names: &[String]) -> String {
    let files = root.join("files");
    std::fs::create_dir_all(&files).unwrap();
    let hashes: BTreeMap<bool, (PathBuf, String)> = [false, true]
        .into_iter()
        .map(|gil| {
            let path = real_wheel(gil);
            let digest = sha256(&path);
            (gil, (path, digest))
        })
        .collect();
    let mut requirements = String::from("# 2,000 pins, written by tests/deps_huge.rs\n");
    for (at, name) in names.iter().enumerate() {
        let escaped = name.replace('-', "_");
        let mut links = Vec::new();
        match kind(at) {
            Kind::Pure => links.push(format!("{escaped}-1.0-py3-none-any.whl")),
            Kind::NoWheel { sdist } => {
                links.push(format!("{escaped}-1.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"));
                if sdist {
                    links.push(format!("{escaped}-1.0.tar.gz"));
                }
                links.push(format!("{escaped}-2.0-py3-none-any.whl"));
            }
            Kind::Compiled { gil } => {
                let file = format!("{escaped}-1.0-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
                let (real, digest) = &hashes[&gil];
                std::os::unix::fs::symlink(real, files.join(&file)).unwrap();
                links.push(format!("{file}#sha256={digest}"));
            }
        }
        let page = root.join("simple").join(name);
        std::fs::create_dir_all(&page).unwrap();
        let body: String = links
            .iter()
            .map(|link| {
                let shown = link.split('#').next().unwrap();
                format!("<a href=\"../../files/{link}\">{shown}</a><br>\n")
            })
            .collect();
        std::fs::write(page.join("index.html"), format!("<html><body>\n{body}</body></html>\n")).unwrap();
        // Some pins spelled as people write them: the reader normalizes.
        let written = if at.is_multiple_of(7) { escaped.to_uppercase() } else { name.clone() };
        requirements.push_str(&format!("{written}==1.0\n"));
    }
    requirements
}

/// The largest resident set the process has had (VmHWM, kB), if it still runs.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn two_thousand_pins_are_answered_with_bounded_memory_and_concurrency() {
    let scratch = tempfile::tempdir().unwrap();
    let names = names();
    let root = scratch.path().join("index");
    let lock = scratch.path().join("requirements.txt");
    std::fs::write(&lock, make_index(&root, &names)).unwrap();
    let server = IndexServer::start(&root, &[]);
    let report_path = scratch.path().join("report.json");
    let stderr_path = scratch.path().join("stderr.txt");

    let mut child = common::ftprobe(&scratch.path().join("cache"))
        .arg("deps")
        .arg(&lock)
        .args(["-t", "3.13t", "--platform", "linux", "--index-url", &server.simple_url()])
        .args(["-j", &JOBS.to_string(), "--format", "json", "--output"])
        .arg(&report_path)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    // VmHWM only grows: polled until the process ends, the last reading is
    // its peak up to the last few milliseconds. The guard stops a hung run.
    let (mut peak, mut readings) = (0, 0);
    let guard = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(kb) = peak_rss_kb(child.id()) {
            (peak, readings) = (peak.max(kb), readings + 1);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > guard {
            let _ = child.kill();
            panic!("ftprobe deps hung on 2,000 pins");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(status.code(), Some(1), "pins need the GIL or have no wheel: {stderr}");
    assert!(readings > 0, "the run ended before its memory was read once");
    assert!(peak < PEAK_RSS_KB, "peak RSS {peak} kB, over {PEAK_RSS_KB} kB");
    eprintln!("2,000 pins: peak RSS {} MB over {readings} readings", peak / 1024);

    let stats = server.served(false);
    let pages = stats.iter().filter(|s| s.path.starts_with("/simple/")).count();
    assert_eq!(pages, 2000, "one page per pin");
    let at_once = max_in_flight(&server);
    assert!((1..=JOBS).contains(&at_once), "the index answered {at_once} requests at once with -j {JOBS}");
    eprintln!("{} requests, at most {at_once} at once; {}", stats.len(), stderr.lines().last().unwrap_or_default());

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    let packages = report["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2000, "{stderr}");
    let by_name: BTreeMap<&str, &Value> = packages.iter().map(|p| (p["name"].as_str().unwrap(), p)).collect();
    assert_eq!(by_name.len(), 2000, "each pin answered once");
    for (at, name) in names.iter().enumerate() {
        let p = by_name.get(name.as_str()).unwrap_or_else(|| panic!("{name} was not answered"));
        let status = p["status"].as_str().unwrap();
        match kind(at) {
            Kind::Pure => assert_eq!(status, "pure", "{p:#}"),
            Kind::Compiled { gil: false } => assert_eq!(status, "ready", "{p:#}"),
            Kind::Compiled { gil: true } => assert_eq!(status, "gil_required", "{p:#}"),
            Kind::NoWheel { sdist } => {
                assert_eq!(status, "no_wheel", "{p:#}");
                assert_eq!(p["first_ready_version"]["version"], "2.0", "{p:#}");
                let builds = p["install"].as_str().unwrap().starts_with("an install builds the sdist");
                assert_eq!(builds, sdist, "{p:#}");
            }
        }
    }
    assert_eq!(report["summary"][0]["packages"], 2000, "{:#}", report["summary"]);
}

/// The most requests the index answered at once (scripts/serve-index).
fn max_in_flight(server: &IndexServer) -> u64 {
    let url = format!("http://127.0.0.1:{}/_stats", server.port);
    let text = ureq::get(&url).call().unwrap().body_mut().read_to_string().unwrap();
    let stats: Value = serde_json::from_str(&text).unwrap();
    stats["max_in_flight"].as_u64().expect("serve-index reports max_in_flight")
}
