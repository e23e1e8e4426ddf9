//! `scripts/serve-index` on 127.0.0.1 for a test, stopped when dropped, and
//! what it served.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A running test index.
pub struct IndexServer {
    child: Child,
    pub port: u16,
}

/// One request the index answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
    pub bytes: u64,
}

/// `python3` from PATH. Without it the test fails, saying so: a silent skip
/// would pass a suite that tested nothing.
pub fn python3() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|candidate| candidate.is_file())
        .expect("python3 is not on PATH: the remote index tests serve scripts/serve-index with it; install Python 3")
}

impl IndexServer {
    /// Serves `root` (`simple/<name>/index.html|json`, `files/*`); `flags`
    /// go to the script (`--no-range`, `--fail-first N`).
    pub fn start(root: &Path, flags: &[&str]) -> IndexServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/serve-index");
        let mut child = Command::new(python3())
            .arg(&script)
            .arg(root)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut line).expect("the index prints its port");
        let Ok(port) = line.trim().parse() else {
            let mut stderr = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut stderr));
            let _ = child.kill();
            let _ = child.wait();
            panic!("scripts/serve-index did not start: {stderr}");
        };
        IndexServer { child, port }
    }

    /// The index's simple API root.
    pub fn simple_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    pub fn file_url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/files/{name}", self.port)
    }

    /// What was served since the start or the last reset.
    pub fn served(&self, reset: bool) -> Vec<Served> {
        let url = format!("http://127.0.0.1:{}/_stats{}", self.port, if reset { "?reset=1" } else { "" });
        let text = ureq::get(&url).call().expect("the index answers /_stats").body_mut().read_to_string().unwrap();
        let stats: Value = serde_json::from_str(&text).unwrap();
        stats["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| Served {
                path: entry["path"].as_str().unwrap().to_string(),
                range: entry["range"].as_str().map(str::to_string),
                status: entry["status"].as_u64().unwrap() as u16,
                bytes: entry["bytes"].as_u64().unwrap(),
            })
            .collect()
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
