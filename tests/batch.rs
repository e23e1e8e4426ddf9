//! `ftprobe batch` and `ftprobe report` against a package index served on
//! 127.0.0.1 (scripts/fetch-batch-index: real wheels from PyPI and fixture
//! packages), on both provisioned interpreters: every unit is one row, an
//! install failure and a hanging import are results, import names come from
//! the installed distribution, `--resume` runs nothing twice, and the report
//! formats agree.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{batch_index, chromium, ftprobe, provisioned, rows, serve};
use serde_json::Value;

fn find<'a>(rows: &'a [Value], package: &str, free_threaded: bool) -> &'a Value {
    rows.iter()
        .find(|r| r["package"] == package && r["python"]["free_threaded"] == free_threaded)
        .unwrap_or_else(|| panic!("no row for {package} (free-threaded: {free_threaded})"))
}

fn probe<'a>(row: &'a Value, kind: &str, config: Option<&str>) -> &'a Value {
    row["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["probe"] == kind && p["config"].as_str() == config)
        .unwrap_or_else(|| panic!("no {kind} probe in {row:#}"))
}

#[test]
fn a_batch_over_a_local_index_gives_one_row_per_unit_and_resumes() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    let batch = |extra: &[&str]| {
        let mut command = ftprobe(scratch.path());
        command
            .args([
                "batch",
                "markupsafe",
                "frozenlist",
                "python-dateutil",
                "ftprobe-fixture-hang",
                "ftprobe-fixture-broken",
            ])
            .arg("-p")
            .arg(provisioned("3.13t"))
            .arg("-p")
            .arg(provisioned("3.13"))
            .args(["--pip", "--index-url", &index, "--timeout", "10", "--stall", "5", "-j", "2"])
            .args(extra);
        command.output().unwrap()
    };
    let out = batch(&["--out", run.to_str().unwrap()]);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("[10/10]") && err.contains("10 of 10 units run"), "{err}");
    let rows = rows(&run);
    assert_eq!(rows.len(), 10);

    let meta: Value = serde_json::from_str(&std::fs::read_to_string(run.join("meta.json")).unwrap()).unwrap();
    assert_eq!((meta["completed"].as_bool(), meta["installer"].as_str()), (Some(true), Some("pip")));
    assert_eq!(meta["interpreters"].as_array().unwrap().len(), 2);

    for free_threaded in [true, false] {
        let markupsafe = find(&rows, "markupsafe", free_threaded);
        assert_eq!(markupsafe["version"], "3.0.2");
        assert_eq!(markupsafe["install"]["status"], "ok");
        assert_eq!(markupsafe["install"]["from"], "wheel");
        let abi = if free_threaded { "cp313t" } else { "cp313-cp313-" };
        let tags = markupsafe["install"]["wheel_tags"].as_array().unwrap();
        assert!(tags.iter().any(|t| t.as_str().unwrap().contains(abi)), "{tags:?}");
        // Which wheel: the very file the index served.
        let wheel = markupsafe["install"]["wheel"].as_str().unwrap();
        assert!(batch_index().join("files").join(wheel).is_file(), "{wheel} is not in the index");
        assert_eq!(markupsafe["import_names"], serde_json::json!(["markupsafe"]));
        let extension = &markupsafe["extensions"][0];
        assert_eq!(extension["import_name"], "markupsafe._speedups");
        // markupsafe 3.0.2's accelerator is single-phase: isolated
        // subinterpreters refuse it and markupsafe falls back to Python.
        let isolated = probe(markupsafe, "subinterpreter", Some("isolated"));
        assert_eq!(isolated["status"], "fallback", "{isolated:#}");
        assert_eq!(isolated["fallbacks"][0]["module"], "markupsafe._speedups");

        // The import name differs from the distribution's name.
        let dateutil = find(&rows, "python-dateutil", free_threaded);
        assert_eq!(dateutil["import_names"], serde_json::json!(["dateutil"]));
        assert_eq!(dateutil["extensions"], serde_json::json!([]));

        // frozenlist's accelerator refuses subinterpreters; the package falls back.
        let frozenlist = find(&rows, "frozenlist", free_threaded);
        let isolated = probe(frozenlist, "subinterpreter", Some("isolated"));
        assert_eq!(isolated["status"], "fallback", "{isolated:#}");
        assert_eq!(isolated["fallbacks"][0]["module"], "frozenlist._frozenlist");

        let broken = find(&rows, "ftprobe-fixture-broken", free_threaded);
        assert_eq!(broken["install"]["status"], "failed");
        assert!(broken["install"]["error"].as_str().unwrap().len() > 10, "{broken:#}");
        assert_eq!(broken["probes"], serde_json::json!([]));

        let hang = find(&rows, "ftprobe-fixture-hang", free_threaded);
        assert_eq!(hang["import_names"], serde_json::json!(["fixture_hang"]));
        let status = probe(hang, "subinterpreter", Some("legacy"))["status"].as_str().unwrap();
        assert!(matches!(status, "deadlock" | "timeout"), "{status}");
    }
    // Wheel availability, from the index's PEP 503 pages (http.server serves no JSON).
    let markupsafe = find(&rows, "markupsafe", true);
    let available = &markupsafe["wheels_available"];
    assert_eq!(available["version"], "3.0.2");
    assert_eq!(available["free_threaded"], serde_json::json!(["cp313t"]));
    assert_eq!((available["pure"].as_bool(), available["wheels"].as_u64()), (Some(false), Some(2)));
    assert_eq!(find(&rows, "python-dateutil", true)["wheels_available"]["pure"], true);
    let broken = &find(&rows, "ftprobe-fixture-broken", false)["wheels_available"];
    assert_eq!((broken["sdist"].as_bool(), broken["wheels"].as_u64()), (Some(true), Some(0)));
    assert_eq!(probe(markupsafe, "free_threading", None)["status"], "ok");
    assert_eq!(markupsafe["extensions"][0]["gil"], "not_used");

    // The answers match what the real interpreters do when a user installs
    // the same packages from the same index and imports them.
    for (python, free_threaded) in [(provisioned("3.13t"), true), (provisioned("3.13"), false)] {
        let dir = tempfile::tempdir().unwrap();
        let (venv, _) = common::make_venv(&python, dir.path());
        let install = Command::new(&python)
            .args(["-m", "pip", "--python"])
            .arg(venv.join("bin/python"))
            .args(["install", "-q", "--index-url", &index, "markupsafe", "frozenlist", "python-dateutil"])
            .output()
            .unwrap();
        assert!(install.status.success(), "{}", common::stderr(&install));
        for (package, module, accelerator) in [
            ("markupsafe", "markupsafe", "markupsafe._speedups"),
            ("frozenlist", "frozenlist", "frozenlist._frozenlist"),
        ] {
            let script = format!(
                "import sys, _interpreters\nimport {module}\n\
                 print('gil', getattr(sys, '_is_gil_enabled', lambda: True)())\n\
                 i = _interpreters.create('isolated')\n\
                 r = _interpreters.exec(i, 'import {accelerator}')\n\
                 print('isolated', 'ok' if r is None else 'refused')\n"
            );
            let real = Command::new(venv.join("bin/python")).arg("-c").arg(&script).output().unwrap();
            let said = common::stdout(&real);
            let row = find(&rows, package, free_threaded);
            if free_threaded {
                let gil_stayed_off = said.contains("gil False");
                assert_eq!(probe(row, "free_threading", None)["status"] == "ok", gil_stayed_off, "{package}: {said}");
            }
            let refused = said.contains("isolated refused");
            let isolated = probe(row, "subinterpreter", Some("isolated"));
            assert_eq!(isolated["status"] == "fallback", refused, "{package} ({python:?}): {said} vs {isolated:#}");
        }
    }

    // Resuming a finished run runs nothing again.
    let again = batch(&["--resume", run.to_str().unwrap()]);
    assert!(again.status.success());
    assert!(common::stderr(&again).contains("0 of 10 units run (10 already done)"), "{}", common::stderr(&again));
    assert_eq!(std::fs::read_to_string(run.join("results.jsonl")).unwrap().lines().count(), 10);

    // The report formats agree with the rows.
    let report = |format: &str| {
        let out = ftprobe(scratch.path()).args(["report", "--format", format]).arg(&run).output().unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::stdout(&out)
    };
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["results"].as_array().unwrap().len(), 10);
    let csv = report("csv");
    assert_eq!(csv.lines().count(), 11, "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("ftprobe-fixture-broken,-,3.13.")
            && l.contains(
                ",failed: ftprobe-fixture-broken failed to build: this package cannot be built (ftprobe fixture),"
            )),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l.starts_with("markupsafe,3.0.2,3.13.5t,") && l.ends_with(",cp313t")), "{csv}");
    let markdown = report("markdown");
    assert_eq!(markdown.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| package")).count(), 10);
    let table = report("table");
    assert!(table.contains("10 units: 8 installed"), "{table}");

    // The HTML page, in headless Chromium: the DOM after a filter, a sort and
    // an opened detail row (the page reads them from its address), and a
    // screenshot kept as an artifact.
    let page = scratch.path().join("report.html");
    let out = ftprobe(scratch.path()).args(["report", "--format", "html", "-o"]).arg(&page).arg(&run).output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    for fetch in ["src=", "<link", "url(", "@import", "fetch("] {
        assert!(!html.contains(fetch), "the page fetches nothing, yet holds {fetch}");
    }
    if !common::browser() {
        return;
    }
    let url = |fragment: &str| format!("file://{}#{fragment}", page.display());
    let dom = chromium(&["--dump-dom", &url("filter=markupsafe&open=markupsafe")]);
    let rows = tags(&dom, "<tr class=\"package");
    assert_eq!(rows.len(), 5, "one row per package");
    let visible: Vec<&&str> = rows.iter().filter(|r| !r.contains(" hidden")).collect();
    assert_eq!(visible.len(), 1, "{visible:?}");
    assert!(visible[0].contains("data-package=\"markupsafe\""), "{visible:?}");
    let details = tags(&dom, "<tr class=\"details\" id=\"details-markupsafe\"");
    assert!(!details[0].contains(" hidden"), "the detail row is open: {details:?}");
    assert!(dom.contains("markupsafe._speedups: GIL not_used"), "the detail row holds the evidence");
    let sorted = chromium(&["--dump-dom", &url("sort=package:desc")]);
    let order: Vec<String> = tags(&sorted, "<tr class=\"package")
        .iter()
        .map(|r| r.split("data-package=\"").nth(1).unwrap().split('"').next().unwrap().to_string())
        .collect();
    let mut descending = order.clone();
    descending.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, descending);
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("batch-report.png");
    chromium(&[&format!("--screenshot={}", shot.display()), "--window-size=1500,900", &url("open=frozenlist")]);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a screenshot at {}", shot.display());
}

/// The opening tags in `html` that start with `start`.
fn tags<'a>(html: &'a str, start: &str) -> Vec<&'a str> {
    html.match_indices(start).map(|(at, _)| &html[at..at + html[at..].find('>').unwrap()]).collect()
}

#[test]
fn an_existing_run_is_not_overwritten_and_bad_lists_are_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("meta.json"), "{}").unwrap();
    let out = ftprobe(scratch.path())
        .args(["batch", "six", "-p"])
        .arg(provisioned("3.13"))
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(common::stderr(&out).contains("already holds a run"), "{}", common::stderr(&out));
    let list = scratch.path().join("list.toml");
    std::fs::write(&list, "[[package]]\nnmae = \"six\"\n").unwrap();
    let out = ftprobe(scratch.path())
        .args(["batch", "-p"])
        .arg(provisioned("3.13"))
        .arg("--from")
        .arg(&list)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("is not a package list"), "{}", common::stderr(&out));
}

fn processes_mentioning(needle: &str) -> Vec<String> {
    let out = Command::new("pgrep").args(["-f", needle]).output().unwrap();
    common::stdout(&out).lines().map(str::to_string).collect()
}

/// `ftprobe batch` of python-dateutil and the fixture whose import hangs,
/// on 3.13t, with `limits` as the probe timeout and stall.
fn hanging_batch(scratch: &Path, index: &str, extra: &[&str], limits: &str) -> Command {
    let mut command = ftprobe(scratch);
    command
        .args(["batch", "python-dateutil", "ftprobe-fixture-hang", "--probe", "free-threading", "-j", "2", "--pip"])
        .arg("-p")
        .arg(provisioned("3.13t"))
        .args(["--index-url", index, "--timeout", limits, "--stall", limits])
        .args(extra);
    command
}

/// Waits until the hanging import's worker runs (and, with `finished`, that
/// package's row is written).
fn wait_for_hanging_import(run: &Path, finished: Option<&str>) {
    let started = Instant::now();
    loop {
        let rows = std::fs::read_to_string(run.join("results.jsonl")).unwrap_or_default();
        // This run's worker: other tests run the same fixture at the same time.
        let hanging =
            processes_mentioning(&format!("worker --request.*{}/environments/ftprobe-fixture-hang", run.display()));
        if !hanging.is_empty() && finished.is_none_or(|p| rows.contains(p)) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the run did not get going");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn meta(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("meta.json")).unwrap()).unwrap()
}

/// Ctrl-C while one unit's import hangs: the finished row stays, the run is
/// marked incomplete, nothing is left running, exit 130; `--resume` then
/// runs only what did not finish.
#[test]
fn ctrl_c_keeps_finished_rows_and_resume_runs_the_rest() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    let batch = |extra: &[&str], limits: &str| hanging_batch(scratch.path(), &index, extra, limits);
    let child =
        batch(&["--out", run.to_str().unwrap()], "120").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let needle = run.display().to_string();
    wait_for_hanging_import(&run, Some("python-dateutil"));
    std::thread::sleep(Duration::from_millis(800));
    let interrupted = Instant::now();
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert!(interrupted.elapsed() < Duration::from_secs(10), "took {:?} after Ctrl-C", interrupted.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", common::stderr(&out));
    assert_eq!(meta(&run)["completed"], false);
    let kept = rows(&run);
    assert_eq!(find(&kept, "python-dateutil", true)["install"]["status"], "ok");
    let hang = find(&kept, "ftprobe-fixture-hang", true);
    assert_eq!(probe(hang, "free_threading", None)["status"], "interrupted", "{hang:#}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(processes_mentioning(&needle).is_empty(), "left behind: {:?}", processes_mentioning(&needle));

    let snapshot = scratch.path().join("interrupted");
    std::fs::create_dir(&snapshot).unwrap();
    for file in ["meta.json", "results.jsonl"] {
        std::fs::copy(run.join(file), snapshot.join(file)).unwrap();
    }
    let again = batch(&["--resume", run.to_str().unwrap()], "5").output().unwrap();
    assert!(again.status.success(), "{}", common::stderr(&again));
    assert!(common::stderr(&again).contains("1 of 2 units run (1 already done)"), "{}", common::stderr(&again));
    assert_eq!(meta(&run)["completed"], true);
    let report = ftprobe(scratch.path()).args(["report", "--format", "json"]).arg(&run).output().unwrap();
    let results: Value = serde_json::from_slice(&report.stdout).unwrap();
    let results = results["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "one row per unit, the resumed one replacing the interrupted one");
    let status = probe(find(results, "ftprobe-fixture-hang", true), "free_threading", None)["status"].clone();
    assert!(matches!(status.as_str(), Some("deadlock" | "timeout")), "{status}");

    // From interrupted to hanging is newly failing: compare says so and exits 1.
    let compared =
        ftprobe(scratch.path()).args(["compare", "--format", "json"]).arg(&snapshot).arg(&run).output().unwrap();
    assert_eq!(compared.status.code(), Some(1), "{}", common::stderr(&compared));
    let differences: Vec<Value> = serde_json::from_slice(&compared.stdout).unwrap();
    assert_eq!(differences.len(), 1, "{differences:#?}");
    let difference = &differences[0];
    assert_eq!(
        (difference["package"].as_str(), difference["python"].as_str()),
        (Some("ftprobe-fixture-hang"), Some("3.13t"))
    );
    assert_eq!((difference["field"].as_str(), difference["old"].as_str()), (Some("gil"), Some("interrupted")));
    assert_eq!(difference["kind"], "regression");
}

/// Two shards merged give the same rows as one run, and runs made with
/// other options are refused.
#[test]
fn shards_merge_into_what_one_run_gives() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    let packages = ["markupsafe", "frozenlist", "python-dateutil", "six", "ftprobe-fixture-broken"];
    let batch = |out: &Path, extra: &[&str]| {
        let out = ftprobe(scratch.path())
            .arg("batch")
            .args(packages)
            .arg("-p")
            .arg(provisioned("3.13t"))
            .args(["--pip", "--probe", "free-threading", "--index-url", &index, "--out"])
            .arg(out)
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
    };
    let (whole, first, second, merged) =
        ["whole", "shard-0", "shard-1", "merged"].map(|n| scratch.path().join(n)).into();
    batch(&whole, &[]);
    batch(&first, &["--shard", "0/2"]);
    batch(&second, &["--shard", "1/2"]);
    assert!(!rows(&first).is_empty() && !rows(&second).is_empty(), "both shards hold packages");
    assert_eq!(rows(&first).len() + rows(&second).len(), packages.len());
    let out = ftprobe(scratch.path()).args(["merge", "--out"]).arg(&merged).arg(&first).arg(&second).output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let essence = |run: &Path| {
        let mut rows: Vec<String> = rows(run)
            .iter()
            .map(|r| {
                let probes: Vec<String> =
                    r["probes"].as_array().unwrap().iter().map(|p| p["status"].to_string()).collect();
                format!(
                    "{} {} {} {} {:?}",
                    r["package"], r["version"], r["install"]["status"], r["import_names"], probes
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(essence(&merged), essence(&whole));
    assert_eq!(meta(&merged)["completed"], true);
    // One shard against the whole: only the other shard's units are added.
    let compared =
        ftprobe(scratch.path()).args(["compare", "--format", "json"]).arg(&first).arg(&whole).output().unwrap();
    assert!(compared.status.success(), "{}", common::stderr(&compared));
    let differences: Vec<Value> = serde_json::from_slice(&compared.stdout).unwrap();
    assert_eq!(differences.len(), rows(&second).len(), "{differences:#?}");
    assert!(differences.iter().all(|d| d["kind"] == "added"), "{differences:#?}");

    // A run with other options is not a shard of the same run.
    let other = scratch.path().join("other");
    batch(&other, &["--shard", "1/2", "--timeout", "7"]);
    let refused = ftprobe(scratch.path())
        .args(["merge", "--out"])
        .arg(scratch.path().join("m2"))
        .arg(&first)
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", common::stderr(&refused));
    assert!(common::stderr(&refused).contains("other interpreters or options"), "{}", common::stderr(&refused));
}

/// A long run outlives its own binary being replaced (an upgrade, a
/// rebuild): workers started after the file is gone still run.
#[test]
fn workers_start_after_the_binary_was_replaced() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let copy = scratch.path().join("ftprobe-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_ftprobe"), &copy).unwrap();
    let run = scratch.path().join("run");
    let child = Command::new(&copy)
        .env("FTPROBE_CACHE_DIR", scratch.path())
        .args(["batch", "python-dateutil", "--pip", "--probe", "free-threading", "--index-url"])
        .arg(format!("http://127.0.0.1:{}/simple/", server.1))
        .arg("-p")
        .arg(provisioned("3.13t"))
        .arg("--out")
        .arg(&run)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The install takes a second or more; the probe starts after it.
    std::thread::sleep(Duration::from_millis(200));
    std::fs::remove_file(&copy).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let row = &rows(&run)[0];
    assert_eq!(row["install"]["status"], "ok");
    assert_eq!(probe(row, "free_threading", None)["status"], "ok", "{row:#}");
}

/// `--from`: a list's overrides (import names, probes) are used and a
/// skipped package is left out.
#[test]
fn a_package_list_overrides_import_names_and_probes() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let list = scratch.path().join("packages.toml");
    std::fs::write(
        &list,
        "[[package]]\nname = \"python-dateutil\"\nimport_names = [\"dateutil.parser\", \"dateutil.tz\"]\nprobes = [\"free-threading\"]\n\n\
         [[package]]\nname = \"ftprobe-fixture-broken\"\nskip = \"cannot be built\"\n\n\
         [[package]]\nname = \"backports.tarfile\"\n",
    )
    .unwrap();
    let run = scratch.path().join("run");
    let out = ftprobe(scratch.path())
        .args(["batch", "--pip", "--from"])
        .arg(&list)
        .arg("-p")
        .arg(provisioned("3.13t"))
        .args(["--index-url", &format!("http://127.0.0.1:{}/simple/", server.1), "--out"])
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let rows = rows(&run);
    assert_eq!(rows.len(), 2, "the skipped package is left out");
    let dateutil = find(&rows, "python-dateutil", true);
    assert_eq!(dateutil["import_names"], serde_json::json!(["dateutil.parser", "dateutil.tz"]));
    let probes: Vec<&str> =
        dateutil["probes"].as_array().unwrap().iter().map(|p| p["probe"].as_str().unwrap()).collect();
    assert_eq!(probes, ["free_threading", "free_threading"]);
    // A pkgutil-style namespace package is followed down to its code, with no override.
    let backports = find(&rows, "backports-tarfile", true);
    assert_eq!(backports["import_names"], serde_json::json!(["backports.tarfile"]));
    assert_eq!(probe(backports, "subinterpreter", Some("isolated"))["status"], "ok");
}

/// A run killed outright (SIGKILL, no chance to clean up) leaves no installer
/// or worker behind, and `--resume` finishes it.
#[test]
fn a_killed_run_leaves_nothing_running_and_resumes() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    let batch = |extra: &[&str], limits: &str| hanging_batch(scratch.path(), &index, extra, limits);
    let mut child =
        batch(&["--out", run.to_str().unwrap()], "120").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for_hanging_import(&run, None);
    child.kill().unwrap();
    child.wait().unwrap();
    // The children get SIGKILL as their parent dies (PR_SET_PDEATHSIG); on a
    // loaded machine their exit can take a moment, never minutes.
    let needle = run.display().to_string();
    let started = Instant::now();
    while !processes_mentioning(&needle).is_empty() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(processes_mentioning(&needle).is_empty(), "left behind: {:?}", processes_mentioning(&needle));
    assert_eq!(meta(&run)["completed"], false);

    let again = batch(&["--resume", run.to_str().unwrap()], "5").output().unwrap();
    assert!(again.status.success(), "{}", common::stderr(&again));
    assert_eq!(meta(&run)["completed"], true);
    let report = ftprobe(scratch.path()).args(["report", "--format", "json"]).arg(&run).output().unwrap();
    let results: Value = serde_json::from_slice(&report.stdout).unwrap();
    let packages: Vec<&str> =
        results["results"].as_array().unwrap().iter().map(|r| r["package"].as_str().unwrap()).collect();
    assert_eq!(packages.len(), 2, "{packages:?}");
    assert!(packages.contains(&"python-dateutil") && packages.contains(&"ftprobe-fixture-hang"));
}

/// With uv on PATH, environments are made and filled by uv (the faster
/// path), with the same answers.
#[test]
fn uv_makes_the_environments_when_it_is_on_path() {
    let server = serve(batch_index());
    let uv_dir = batch_index().parent().unwrap().join("batch-index-tools/bin");
    assert!(uv_dir.join("uv").is_file(), "scripts/fetch-batch-index installs uv");
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let path = format!("{}:{}", uv_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = ftprobe(scratch.path())
        .env("PATH", path)
        .env("UV_CACHE_DIR", scratch.path().join("uv-cache"))
        .args(["batch", "markupsafe", "python-dateutil", "--probe", "free-threading", "--index-url"])
        .arg(format!("http://127.0.0.1:{}/simple/", server.1))
        .arg("-p")
        .arg(provisioned("3.13t"))
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(meta(&run)["installer"], "uv");
    let rows = rows(&run);
    let markupsafe = find(&rows, "markupsafe", true);
    assert_eq!(
        (markupsafe["version"].as_str(), markupsafe["install"]["from"].as_str()),
        (Some("3.0.2"), Some("wheel"))
    );
    assert!(batch_index().join("files").join(markupsafe["install"]["wheel"].as_str().unwrap()).is_file());
    assert_eq!(probe(markupsafe, "free_threading", None)["status"], "ok");
    assert_eq!(find(&rows, "python-dateutil", true)["import_names"], serde_json::json!(["dateutil"]));
}

/// pyyaml 6.0.4 on the default build: in an isolated subinterpreter
/// `yaml._yaml` refuses to load and `yaml` falls back to pure Python, and
/// the `_yaml` shim then raises ModuleNotFoundError. `batch` and `import`
/// say the same: a fallback, naming `yaml._yaml`; the shim's own failure
/// names it as its cause.
#[test]
fn a_shim_failing_after_its_accelerator_refused_is_the_fallback_import_reports() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    let run = scratch.path().join("run");
    let out = ftprobe(scratch.path())
        .args(["batch", "pyyaml==6.0.4", "--pip", "--index-url", &index, "--out"])
        .arg(&run)
        .arg("-p")
        .arg(provisioned("3.13"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let rows = rows(&run);
    let row = find(&rows, "pyyaml", false);
    let names = row["import_names"].as_array().unwrap();
    assert!(names.contains(&"_yaml".into()) && names.contains(&"yaml".into()), "{names:?}");
    let isolated: Vec<&Value> = row["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["probe"] == "subinterpreter" && p["config"] == "isolated")
        .collect();
    assert!(isolated.iter().all(|p| p["status"] == "fallback"), "{isolated:#?}");
    let shim = isolated.iter().find(|p| p["module"] == "_yaml").unwrap();
    assert_eq!(shim["fallbacks"][0]["module"], "yaml._yaml", "{shim:#}");
    let reason = shim["error"].as_str().unwrap();
    assert!(reason.contains("yaml._yaml refused to load") && reason.contains("No module named '_yaml'"), "{reason}");

    let report = ftprobe(scratch.path()).args(["report", "--format", "csv"]).arg(&run).output().unwrap();
    let csv = common::stdout(&report);
    let line = csv.lines().find(|l| l.starts_with("pyyaml,")).unwrap_or_else(|| panic!("{csv}"));
    assert!(line.contains(",fallback,") && line.contains("yaml._yaml") && !line.contains("import_error"), "{line}");

    // `ftprobe import` in an environment with the same wheel.
    let venv = scratch.path().join("venv");
    let made = std::process::Command::new(provisioned("3.13")).args(["-m", "venv"]).arg(&venv).output().unwrap();
    assert!(made.status.success(), "{}", common::stderr(&made));
    let pip = std::process::Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--no-index", "--find-links"])
        .arg(batch_index().join("files"))
        .arg("pyyaml==6.0.4")
        .output()
        .unwrap();
    assert!(pip.status.success(), "{}", common::stderr(&pip));
    let probe_json = |module: &str| -> Vec<Value> {
        let out = ftprobe(scratch.path())
            .args(["import", module, "--probe", "subinterpreter", "--format", "json", "-p"])
            .arg(venv.join("bin/python"))
            .output()
            .unwrap();
        let all: Vec<Value> =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stderr(&out)));
        all.into_iter().filter(|p| p["config"] == "isolated").collect()
    };
    let yaml = probe_json("yaml");
    assert_eq!(yaml[0]["status"], "fallback", "{yaml:#?}");
    assert_eq!(yaml[0]["fallbacks"][0]["module"], "yaml._yaml");
    let underscore = probe_json("_yaml");
    assert_eq!(underscore[0]["status"], "import_error", "{underscore:#?}");
    assert_eq!(underscore[0]["refusals"][0]["module"], "yaml._yaml");
    assert!(underscore[0]["error"].as_str().unwrap().starts_with("yaml._yaml refused to load (ImportError: "));
}

/// A package whose dependency fails to build: with pip and with uv, the row
/// names the failed distribution, what pulled it in and the build's own
/// error line, and every format says it in one line; the summary counts
/// failures by cause.
#[test]
fn an_install_failure_names_the_failed_dependency_its_chain_and_its_reason() {
    let server = serve(batch_index());
    let index = format!("http://127.0.0.1:{}/simple/", server.1);
    let uv_dir = batch_index().parent().unwrap().join("batch-index-tools/bin");
    for installer in ["--pip", "uv"] {
        let scratch = tempfile::tempdir().unwrap();
        let run = scratch.path().join("run");
        let mut command = ftprobe(scratch.path());
        command.args(["batch", "ftprobe-fixture-needs-broken", "--index-url", &index, "--out"]).arg(&run);
        command.arg("-p").arg(provisioned("3.13t"));
        if installer == "--pip" {
            command.arg("--pip");
        } else {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![uv_dir.clone()];
            dirs.extend(std::env::split_paths(&path));
            command.env("PATH", std::env::join_paths(dirs).unwrap());
        }
        let out = command.output().unwrap();
        let said = common::stderr(&out);
        assert!(out.status.success(), "{said}");
        let rows = rows(&run);
        let install = &find(&rows, "ftprobe-fixture-needs-broken", true)["install"];
        assert_eq!(install["status"], "failed", "{installer}: {install:#}");
        assert_eq!(install["failed_dist"], "ftprobe-fixture-broken==1.0", "{installer}: {install:#}");
        assert_eq!(install["required_by"], serde_json::json!(["ftprobe-fixture-needs-broken"]), "{installer}");
        assert_eq!(install["reason"], "this package cannot be built (ftprobe fixture)", "{installer}");
        let line = "ftprobe-fixture-broken==1.0 (via ftprobe-fixture-needs-broken) failed to build: \
                    this package cannot be built (ftprobe fixture)";
        assert!(said.contains(line), "{installer}: the progress line: {said}");
        for format in ["table", "csv", "markdown"] {
            let report = ftprobe(scratch.path()).args(["report", "--format", format]).arg(&run).output().unwrap();
            let text = common::stdout(&report);
            assert!(text.contains(line), "{installer} {format}: {text}");
            // The summary line (CSV has none).
            let counted = "1 failed to install: 1 because ftprobe-fixture-broken==1.0: this package cannot be built";
            assert!(format == "csv" || text.contains(counted), "{installer} {format}: {text}");
        }
        let page = scratch.path().join("report.html");
        let html =
            ftprobe(scratch.path()).args(["report", "--format", "html", "-o"]).arg(&page).arg(&run).output().unwrap();
        assert!(html.status.success());
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            html.contains("✘ failed: ftprobe-fixture-broken==1.0 (via ftprobe-fixture-needs-broken)"),
            "{installer}"
        );
        if installer == "uv" && common::browser() {
            let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts/install-failure.png");
            std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
            let url = format!("file://{}#open=ftprobe-fixture-needs-broken", page.display());
            chromium(&[&format!("--screenshot={}", shot.display()), "--window-size=1500,700", &url]);
            assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
        }
    }
}

/// The answer of each probe, without what may differ between runs (times,
/// paths of the temporary environments, the worker's environment).
fn answers(rows: &[Value]) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    for row in rows {
        for probe in row["probes"].as_array().unwrap() {
            let key = format!(
                "{} {} on {}: {} {}",
                row["package"],
                probe["module"],
                if row["python"]["free_threaded"] == true { "3.13t" } else { "3.13" },
                probe["probe"],
                probe["config"]
            );
            let names = |field: &str| -> Vec<Value> {
                probe[field].as_array().map_or(Vec::new(), |a| a.iter().map(|e| e["module"].clone()).collect())
            };
            let answer = serde_json::json!({
                "status": probe["status"],
                "error": probe["error"],
                "gil_enabled_after": probe["gil_enabled_after"],
                "gil_required_by": probe["gil_required_by"],
                "extensions": names("extensions"),
                "fixes": probe["extensions"].as_array().unwrap().iter().map(|e| e["fix"].clone()).collect::<Vec<_>>(),
                "fallbacks": names("fallbacks"),
                "refusals": names("refusals"),
                "disagreements": probe["disagreements"],
            });
            out.insert(key, answer);
        }
    }
    out
}

/// A distribution's import names share one worker per probe, and every
/// per-module answer is the one a worker per name gives: googleapis-common-
/// protos (68 names, all on protobuf, whose `_upb._message` refuses isolated
/// subinterpreters) and opentelemetry-api (18), pyyaml (`_yaml` and `yaml`
/// share `yaml._yaml`), and a fixture whose names share a compiled module
/// that turns the GIL on: the name imported after the one that loaded it
/// is named a culprit too, and the name that does not import it is not.
#[test]
fn many_import_names_share_a_worker_per_probe_with_the_answers_of_a_worker_each() {
    let server = serve(batch_index());
    let uv_dir = batch_index().parent().unwrap().join("batch-index-tools/bin");
    let scratch = tempfile::tempdir().unwrap();
    let path = format!("{}:{}", uv_dir.display(), std::env::var("PATH").unwrap_or_default());
    let batch = |one_each: bool, packages: &[&str], python: &str| {
        let run = scratch.path().join(format!("run-{one_each}-{python}-{}", packages.len()));
        let out = ftprobe(scratch.path())
            .env("PATH", &path)
            .env("UV_CACHE_DIR", scratch.path().join("uv-cache"))
            .env("FTPROBE_ONE_WORKER_PER_NAME", if one_each { "1" } else { "0" })
            .arg("batch")
            .args(packages)
            .args(["-j", "2", "--index-url"])
            .arg(format!("http://127.0.0.1:{}/simple/", server.1))
            .arg("-p")
            .arg(provisioned(python))
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
        rows(&run)
    };
    // The quick loop leaves out googleapis-common-protos: its 136 workers a
    // name are most of this test's time.
    let default_build: &[&str] = if common::quick() {
        &["opentelemetry-api==1.45.2", "pyyaml==6.0.4"]
    } else {
        &["googleapis-common-protos==1.76.0", "opentelemetry-api==1.45.2", "pyyaml==6.0.4"]
    };
    let free_threaded = ["opentelemetry-api==1.45.2", "ftprobe-fixture-gil-shared"];
    let mut shared = batch(false, default_build, "3.13");
    shared.extend(batch(false, &free_threaded, "3.13t"));
    shared.extend(batch(false, &["ftprobe-fixture-gil-shared"], "3.13"));
    let mut each = batch(true, default_build, "3.13");
    each.extend(batch(true, &free_threaded, "3.13t"));
    each.extend(batch(true, &["ftprobe-fixture-gil-shared"], "3.13"));

    let (shared_answers, each_answers) = (answers(&shared), answers(&each));
    assert!(shared_answers.len() > if common::quick() { 50 } else { 3 * 68 }, "{} answers", shared_answers.len());
    for (key, answer) in &each_answers {
        assert_eq!(shared_answers.get(key), Some(answer), "{key}");
    }
    assert_eq!(shared_answers.len(), each_answers.len());

    // Shared where it should be, and not where it was turned off.
    let otel = find(&shared, "opentelemetry-api", false);
    let subinterpreter = otel["probes"].as_array().unwrap().iter().filter(|p| p["probe"] == "subinterpreter");
    assert!(subinterpreter.clone().count() == 36 && subinterpreter.clone().all(|p| p["shared_with"] == 18), "{otel:#}");
    if common::quick() {
        return check_culprits(&shared);
    }
    let protos = find(&shared, "googleapis-common-protos", false);
    assert_eq!(protos["import_names"].as_array().unwrap().len(), 68);
    for probe in protos["probes"].as_array().unwrap().iter().filter(|p| p["probe"] == "subinterpreter") {
        assert_eq!(probe["shared_with"], 68, "{probe:#}");
    }
    let isolated = probe(protos, "subinterpreter", Some("isolated"));
    assert_eq!(isolated["status"], "fallback", "{isolated:#}");
    assert_eq!(isolated["fallbacks"][0]["module"], "google._upb._message");
    assert!(
        find(&each, "googleapis-common-protos", false)["probes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("shared_with").is_none())
    );
    check_culprits(&shared);
}

/// The culprit, for each name whose import reaches it.
fn check_culprits(shared: &[Value]) {
    let fixture = find(shared, "ftprobe-fixture-gil-shared", true);
    let gil = |module: &str| {
        let probe = fixture["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["module"] == module && p["probe"] == "free_threading")
            .unwrap_or_else(|| panic!("no free-threading probe of {module} in {fixture:#}"));
        assert_eq!(probe["shared_with"], 4, "{probe:#}");
        (probe["status"].as_str().unwrap().to_string(), probe["gil_required_by"].clone())
    };
    let culprit = serde_json::json!(["shared_gil._needs_gil"]);
    assert_eq!(gil("gil_first"), ("gil_enabled".to_string(), culprit.clone()));
    assert_eq!(gil("gil_second"), ("gil_enabled".to_string(), culprit));
    assert_eq!(gil("gil_free"), ("ok".to_string(), serde_json::json!([])));
}

/// A shared worker that crashes costs no answer: the names it did not
/// finish get a worker each, and the crash is the crashing module's alone.
#[test]
fn a_crash_in_a_shared_worker_is_attributed_to_its_own_module() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let out = ftprobe(scratch.path())
        .args(["batch", "ftprobe-fixture-crashes", "--pip", "--index-url"])
        .arg(format!("http://127.0.0.1:{}/simple/", server.1))
        .arg("-p")
        .arg(provisioned("3.13t"))
        .arg("-p")
        .arg(provisioned("3.13"))
        .arg("--out")
        .arg(&run)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let rows = rows(&run);
    for free_threaded in [true, false] {
        let row = find(&rows, "ftprobe-fixture-crashes", free_threaded);
        let probes = row["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 9, "{row:#}");
        for probe in probes {
            let expected = match (probe["module"].as_str().unwrap(), probe["probe"].as_str().unwrap()) {
                (_, "free_threading") if !free_threaded => "not_applicable",
                ("crashes_second", _) => "crash",
                _ => "ok",
            };
            assert_eq!(probe["status"], expected, "{probe:#}");
            if expected == "crash" {
                assert!(probe["error"].as_str().unwrap().contains("SIGSEGV"), "{probe:#}");
            }
        }
    }
}
