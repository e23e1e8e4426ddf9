//! The options that change what a run finds, as `meta.json` records them
//! (`options`), for `merge` to compare and the reports to show.
//!
//! On disk they are a map of strings, sorted by key, as runs have always
//! written them; in memory they are typed. A map this version does not
//! read back exactly as a batch's or a test run's (a run made before
//! options were recorded holds `{}`) is kept as it was written, so it
//! loads, compares and is written again unchanged.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::venv::InstallerKind;
use crate::worker::protocol::ProbeKind;

/// How `ftprobe test` sets `PYTHON_GIL`; a test run's `meta.json` records
/// it as `default` or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GilChoice {
    /// Leave it unset, so that a module that needs the GIL turns it back on, and that shows.
    Default,
    /// `PYTHON_GIL=0`: keep it off even when a module needs it.
    #[value(name = "0")]
    Off,
}

/// A run's recorded options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordedOptions {
    Batch(BatchRecord),
    Test(TestRecord),
    /// A map read as neither, kept as written: `{}` from a run made before
    /// options were recorded, or a hand-edited `meta.json`.
    Unread(BTreeMap<String, String>),
}

impl Default for RecordedOptions {
    fn default() -> Self {
        RecordedOptions::Unread(BTreeMap::new())
    }
}

/// `ftprobe batch`'s options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRecord {
    pub installer: InstallerKind,
    pub probes: Vec<ProbeKind>,
    pub submodules: u32,
    pub timeout: Duration,
    pub stall: Duration,
    pub install_timeout: Duration,
    /// `--index-url` as given; empty when it was not.
    pub index_url: String,
    /// The `--extra-index-url`s joined by spaces, as recorded.
    pub extra_index_urls: String,
    pub no_index: bool,
    pub only_binary: bool,
}

/// `ftprobe test`'s options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestRecord {
    pub installer: InstallerKind,
    pub iterations: u32,
    pub stop_on_first_pass: bool,
    pub compare_with_gil: bool,
    pub gil: GilChoice,
    pub parallel_threads: Option<u32>,
    pub tsan: bool,
    pub timeout: Duration,
    pub stall: Duration,
    /// `--test-command` as given; empty when it was not.
    pub test_command: String,
    /// `--test-command-suffix` as given; empty when it was not.
    pub test_command_suffix: String,
    /// The `--extra-deps` joined by commas, as recorded.
    pub extra_deps: String,
    /// `--index-url` as given; empty when it was not.
    pub index_url: String,
}

impl RecordedOptions {
    /// The map `meta.json` holds.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let pairs: Vec<(&str, String)> = match self {
            RecordedOptions::Unread(map) => return map.clone(),
            RecordedOptions::Batch(b) => vec![
                ("installer", b.installer.as_str().to_string()),
                ("probes", b.probes.iter().map(crate::model::snake).collect::<Vec<_>>().join(",")),
                ("submodules", b.submodules.to_string()),
                ("timeout", duration_text(b.timeout)),
                ("stall", duration_text(b.stall)),
                ("install_timeout", duration_text(b.install_timeout)),
                ("index_url", b.index_url.clone()),
                ("extra_index_urls", b.extra_index_urls.clone()),
                ("no_index", b.no_index.to_string()),
                ("only_binary", b.only_binary.to_string()),
            ],
            RecordedOptions::Test(t) => vec![
                ("installer", t.installer.as_str().to_string()),
                ("iterations", t.iterations.to_string()),
                ("stop_on_first_pass", t.stop_on_first_pass.to_string()),
                ("compare_with_gil", t.compare_with_gil.to_string()),
                ("gil", crate::model::snake(&t.gil)),
                ("parallel_threads", t.parallel_threads.map(|n| n.to_string()).unwrap_or_default()),
                ("tsan", t.tsan.to_string()),
                ("timeout", duration_text(t.timeout)),
                ("stall", duration_text(t.stall)),
                ("test_command", t.test_command.clone()),
                ("test_command_suffix", t.test_command_suffix.clone()),
                ("extra_deps", t.extra_deps.clone()),
                ("index_url", t.index_url.clone()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The typed options a map holds, when it is exactly a batch's or a
    /// test run's (it reads back to the same map); else the map itself.
    pub fn from_map(map: BTreeMap<String, String>) -> RecordedOptions {
        let typed = batch_from(&map)
            .map(RecordedOptions::Batch)
            .or_else(|| test_from(&map).map(RecordedOptions::Test))
            .filter(|typed| typed.to_map() == map);
        typed.unwrap_or(RecordedOptions::Unread(map))
    }
}

impl Serialize for RecordedOptions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RecordedOptions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, String>::deserialize(deserializer).map(RecordedOptions::from_map)
    }
}

/// Reads the value of `key` as serde reads a unit variant's name.
fn variant<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    T::deserialize(serde::de::value::BorrowedStrDeserializer::<serde::de::value::Error>::new(text)).ok()
}

fn batch_from(map: &BTreeMap<String, String>) -> Option<BatchRecord> {
    let get = |key: &str| map.get(key).map(String::as_str);
    let probes = match get("probes")? {
        "" => Vec::new(),
        names => names.split(',').map(variant).collect::<Option<_>>()?,
    };
    Some(BatchRecord {
        installer: variant(get("installer")?)?,
        probes,
        submodules: get("submodules")?.parse().ok()?,
        timeout: parse_duration_text(get("timeout")?)?,
        stall: parse_duration_text(get("stall")?)?,
        install_timeout: parse_duration_text(get("install_timeout")?)?,
        index_url: get("index_url")?.to_string(),
        extra_index_urls: get("extra_index_urls")?.to_string(),
        no_index: get("no_index")?.parse().ok()?,
        only_binary: get("only_binary")?.parse().ok()?,
    })
}

fn test_from(map: &BTreeMap<String, String>) -> Option<TestRecord> {
    let get = |key: &str| map.get(key).map(String::as_str);
    let parallel_threads = match get("parallel_threads")? {
        "" => None,
        n => Some(n.parse().ok()?),
    };
    Some(TestRecord {
        installer: variant(get("installer")?)?,
        iterations: get("iterations")?.parse().ok()?,
        stop_on_first_pass: get("stop_on_first_pass")?.parse().ok()?,
        compare_with_gil: get("compare_with_gil")?.parse().ok()?,
        gil: variant(get("gil")?)?,
        parallel_threads,
        tsan: get("tsan")?.parse().ok()?,
        timeout: parse_duration_text(get("timeout")?)?,
        stall: parse_duration_text(get("stall")?)?,
        test_command: get("test_command")?.to_string(),
        test_command_suffix: get("test_command_suffix")?.to_string(),
        extra_deps: get("extra_deps")?.to_string(),
        index_url: get("index_url")?.to_string(),
    })
}

/// A duration as runs record it: Rust's `Debug` form (`120s`, `1.5s`,
/// `250ms`), which every `meta.json` so far holds.
pub fn duration_text(duration: Duration) -> String {
    format!("{duration:?}")
}

/// Reads [`duration_text`]'s form back: a decimal number and `s`, `ms`,
/// `µs` or `ns`.
pub fn parse_duration_text(text: &str) -> Option<Duration> {
    let (number, nanos_per_unit): (&str, u128) = if let Some(n) = text.strip_suffix("ns") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix("µs") {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000_000)
    } else {
        (text.strip_suffix('s')?, 1_000_000_000)
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let mut nanos = whole.parse::<u128>().ok()?.checked_mul(nanos_per_unit)?;
    if !fraction.is_empty() {
        let scale = 10u128.pow(fraction.len() as u32);
        nanos = nanos.checked_add(fraction.parse::<u128>().ok()? * nanos_per_unit / scale)?;
    }
    let seconds = u64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Duration::new(seconds, (nanos % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn durations_read_back_from_their_debug_form() {
        for duration in [
            Duration::from_secs(600),
            Duration::from_secs_f64(1.5),
            Duration::from_secs_f64(0.1),
            Duration::from_millis(250),
            Duration::from_nanos(1_500),
            Duration::from_nanos(7),
            Duration::new(3, 1),
            Duration::from_secs(7 * 24 * 3600),
        ] {
            let text = duration_text(duration);
            assert_eq!(parse_duration_text(&text), Some(duration), "{text}");
        }
        assert_eq!(duration_text(Duration::from_secs(120)), "120s");
        for bad in ["", "s", "1.5", "-1s", "1.s5", "x ms", "1.0000000001s"] {
            assert_eq!(parse_duration_text(bad), None, "{bad}");
        }
    }

    /// What `ftprobe batch` wrote before the options were typed.
    #[test]
    fn a_batch_runs_options_round_trip_to_the_same_map() {
        let written = map(&[
            ("extra_index_urls", ""),
            ("index_url", "http://127.0.0.1:8000/simple/"),
            ("install_timeout", "600s"),
            ("installer", "pip"),
            ("no_index", "false"),
            ("only_binary", "true"),
            ("probes", "free_threading,subinterpreter,threads"),
            ("stall", "60s"),
            ("submodules", "0"),
            ("timeout", "1.5s"),
        ]);
        let read = RecordedOptions::from_map(written.clone());
        let RecordedOptions::Batch(batch) = &read else { panic!("{read:?}") };
        assert_eq!(batch.installer, InstallerKind::Pip);
        assert_eq!(batch.probes, [ProbeKind::FreeThreading, ProbeKind::Subinterpreter, ProbeKind::Threads]);
        assert_eq!((batch.timeout, batch.install_timeout), (Duration::from_millis(1500), Duration::from_secs(600)));
        assert_eq!(read.to_map(), written);
        let json = serde_json::to_string(&read).unwrap();
        assert_eq!(json, serde_json::to_string(&written).unwrap());
        assert_eq!(serde_json::from_str::<RecordedOptions>(&json).unwrap(), read);
    }

    /// What `ftprobe test` wrote before the options were typed.
    #[test]
    fn a_test_runs_options_round_trip_to_the_same_map() {
        let written = map(&[
            ("compare_with_gil", "true"),
            ("extra_deps", "hypothesis,pytest-timeout"),
            ("gil", "default"),
            ("index_url", ""),
            ("installer", "uv"),
            ("iterations", "10"),
            ("parallel_threads", ""),
            ("stall", "60s"),
            ("stop_on_first_pass", "false"),
            ("test_command", ""),
            ("test_command_suffix", "-x -q"),
            ("timeout", "900s"),
            ("tsan", "false"),
        ]);
        let read = RecordedOptions::from_map(written.clone());
        let RecordedOptions::Test(test) = &read else { panic!("{read:?}") };
        assert_eq!((test.gil, test.iterations, test.parallel_threads), (GilChoice::Default, 10, None));
        assert_eq!(read.to_map(), written);
        let mut off = written.clone();
        off.insert("gil".into(), "off".into());
        off.insert("parallel_threads".into(), "4".into());
        let RecordedOptions::Test(test) = RecordedOptions::from_map(off.clone()) else { panic!() };
        assert_eq!((test.gil, test.parallel_threads), (GilChoice::Off, Some(4)));
        assert_eq!(RecordedOptions::Test(test).to_map(), off);
    }

    /// A run made before options were recorded, and maps this version
    /// cannot type, load and are written back unchanged.
    #[test]
    fn other_maps_are_kept_as_written() {
        let empty: RecordedOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, RecordedOptions::default());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
        for odd in [
            map(&[("installer", "poetry")]),
            map(&[("timeout", "2 minutes"), ("probes", "threads")]),
            map(&[("iterations", "ten"), ("installer", "uv")]),
        ] {
            let read = RecordedOptions::from_map(odd.clone());
            assert_eq!(read, RecordedOptions::Unread(odd.clone()));
            assert_eq!(read.to_map(), odd);
        }
    }
}
