//! `ftprobe test` on real test suites: the fixture projects under
//! `fixtures/suites` (built here from source with setuptools, a C compiler
//! and the provisioned interpreters) and MarkupSafe 3.0.2's real sdist, all
//! installed from a package index on 127.0.0.1 (scripts/fetch-batch-index).
//! Each gets the category its suite earns, with the evidence a maintainer
//! needs; `report`, `flaky`, `compare` and `merge` read the run; Ctrl-C
//! keeps what finished; ThreadSanitizer reports are read from a real
//! `-fsanitize=thread` program.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{batch_index, chromium, ftprobe, provisioned, rows, serve};
use serde_json::Value;

fn suites() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/suites")
}

/// A copy of the fixture project `name` in `scratch`: builds happen in the
/// source tree (setuptools' `build/`), and tests run in parallel.
fn checkout(scratch: &Path, name: &str) -> PathBuf {
    let to = scratch.join("checkouts").join(name);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    copy_tree(&suites().join(name), &to);
    to
}

/// `ftprobe test` against the local index, with a private cache.
fn test_command(scratch: &Path, port: u16) -> Command {
    let mut command = ftprobe(scratch);
    command.args(["test", "--index-url", &format!("http://127.0.0.1:{port}/simple/")]);
    command
}

fn run_ok(command: &mut Command, expected: i32) -> Output {
    let out = command.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        common::stdout(&out),
        common::stderr(&out)
    );
    out
}

fn unit<'a>(rows: &'a [Value], package: &str, free_threaded: bool) -> &'a Value {
    rows.iter()
        .find(|r| r["package"] == package && r["python"]["free_threaded"] == free_threaded)
        .unwrap_or_else(|| panic!("no row for {package} (free-threaded: {free_threaded}) in {rows:#?}"))
}

fn category(row: &Value) -> &str {
    row["suite"]["category"].as_str().unwrap()
}

#[test]
fn fixture_suites_get_their_categories_with_evidence_and_every_renderer_reads_them() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    for name in ["clean", "gil_fallback", "deadlock", "crash", "install_fails", "import_fails"] {
        command.arg(checkout(scratch.path(), name));
    }
    command.arg("-p").arg(provisioned("3.13t"));
    // --stall 20: short enough for the deadlock, long enough for pytest to
    // start on a loaded 2-core machine.
    command.args(["--iterations", "2", "--stall", "20", "--compare-with-gil", "-j", "2", "--out"]).arg(&run);
    // Something failed: exit 1, as a CI step wants.
    let out = run_ok(&mut command, 1);
    let said = common::stderr(&out);
    assert!(said.contains("6 of 6 units run"), "{said}");
    let rows = rows(&run);
    assert_eq!(rows.len(), 6);

    let clean = unit(&rows, "ftfixture-clean", true);
    assert_eq!(category(clean), "compatible", "{clean:#}");
    assert_eq!(clean["suite"]["pass_rate"], 1.0);
    assert_eq!(clean["suite"]["source"]["kind"], "path");
    assert_eq!(clean["suite"]["test_dependencies"][0], "extra test");
    let first = &clean["suite"]["iterations"][0];
    // The installed package was tested (the test checks site-packages), with the GIL off throughout.
    assert_eq!(first["tests"]["passed"], 3, "{first:#}");
    assert_eq!(first["gil"]["at_start"], false);
    assert_eq!(first["gil"]["at_end"], false);
    assert_eq!(clean["suite"]["gil_comparison"]["free_threading_specific"], serde_json::json!([]));

    let fallback = unit(&rows, "ftfixture-gil-fallback", true);
    assert_eq!(category(fallback), "compatible_gil_fallback", "{fallback:#}");
    let gil = &fallback["suite"]["iterations"][0]["gil"];
    assert_eq!(gil["enabled_during"], "collection", "{gil:#}");
    let culprit = &gil["culprits"][0];
    assert_eq!(culprit["module"], "gil_fallback._legacy");
    assert_eq!(culprit["verdict"], "used", "the scanner's verdict: {culprit:#}");
    assert_eq!(culprit["named_by_warning"], true);
    assert!(fallback["suite"]["reason"].as_str().unwrap().contains("gil_fallback._legacy"));

    let deadlock = unit(&rows, "ftfixture-deadlock", true);
    assert_eq!(category(deadlock), "deadlock", "{deadlock:#}");
    let hung = &deadlock["suite"]["iterations"][0];
    assert_eq!(hung["stalled"], true);
    assert_eq!(hung["running_test"], "tests/test_transfer.py::test_both_ways_at_once");
    assert!(hung["seconds"].as_f64().unwrap() < 60.0, "killed at the stall threshold, not the timeout: {hung:#}");

    let crash = unit(&rows, "ftfixture-crash", true);
    assert_eq!(category(crash), "crash", "{crash:#}");
    let crashed = &crash["suite"]["iterations"][0];
    assert_eq!(crashed["signal"], "SIGSEGV", "{crashed:#}");
    assert_eq!(crashed["running_test"], "tests/test_fill.py::test_fill_from_two_threads");
    let signature = crashed["crash_signature"].as_str().unwrap();
    assert!(signature.starts_with("Segmentation fault: fill_many (test_fill.py)"), "{signature}");
    // With the GIL the callers take turns: the crash is free-threading's.
    let comparison = &crash["suite"]["gil_comparison"];
    assert_eq!(comparison["pass_rate"], 1.0, "{comparison:#}");
    assert_eq!(comparison["free_threading_specific"], serde_json::json!(["(crash)"]));

    let unbuildable = unit(&rows, "ftfixture-install-fails", true);
    assert_eq!(category(unbuildable), "install_failure");
    let reason = unbuildable["suite"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("the package did not install: ") && reason.contains("#error"), "{unbuildable:#}");
    assert!(unbuildable["install"]["failed_to_build"].as_str().unwrap().starts_with("ftfixture-install-fails"));
    let broken = unit(&rows, "ftfixture-import-fails", true);
    assert_eq!(category(broken), "import_failure");
    assert!(broken["suite"]["reason"].as_str().unwrap().contains("No module named 'needs_missing._native'"));

    // One renderer, two kinds of run.
    let report = |format: &str| {
        let out = run_ok(ftprobe(scratch.path()).args(["report", "--format", format]).arg(&run), 0);
        common::stdout(&out)
    };
    let table = report("table");
    assert!(table.contains("compatible_gil_fallback") && table.contains("gil_fallback._legacy"), "{table}");
    assert!(
        table.contains(
            "6 units: 1 install_failure, 1 import_failure, 1 deadlock, 1 crash, 1 compatible_gil_fallback, 1 compatible"
        ),
        "{table}"
    );
    let markdown = report("markdown");
    assert!(markdown.starts_with("## ftprobe test"), "{markdown}");
    assert_eq!(markdown.lines().filter(|l| l.starts_with("| ftfixture-")).count(), 6);
    let csv = report("csv");
    assert!(csv.starts_with("package,version,python,source,tested,category,pass_rate"), "{csv}");
    assert_eq!(csv.lines().count(), 7);
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json["meta"]["kind"], "test");
    assert_eq!(json["results"].as_array().unwrap().len(), 6);

    let page = scratch.path().join("report.html");
    run_ok(ftprobe(scratch.path()).args(["report", "--format", "html", "-o"]).arg(&page).arg(&run), 0);
    let flaky = common::stdout(&run_ok(ftprobe(scratch.path()).arg("flaky").arg(&run), 0));
    assert!(flaky.contains("Crashes of ftfixture-crash on 3.13.5t: one signature in every crash"), "{flaky}");
    assert!(flaky.contains("2× Segmentation fault: fill_many"), "{flaky}");

    if !common::browser() {
        return;
    }
    let url = |fragment: &str| format!("file://{}#{fragment}", page.display());
    let dom = chromium(&["--dump-dom", &url("filter=crash&open=ftfixture-crash")]);
    let shown: Vec<&str> =
        dom.match_indices("<tr class=\"package").map(|(at, _)| &dom[at..at + dom[at..].find('>').unwrap()]).collect();
    assert_eq!(shown.iter().filter(|t| !t.contains("hidden")).count(), 1, "{shown:?}");
    assert!(dom.contains("Segmentation fault: fill_many"), "the opened row shows the crash signature");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts/test-report.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1500,900",
        &url("open=ftfixture-gil-fallback"),
    ]);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a screenshot at {}", shot.display());
}

/// The issue's "done when": a maintainer runs `ftprobe test .` in their
/// checkout. The racy counter declares it needs no GIL but is not thread
/// safe: it fails free-threaded, passes with PYTHON_GIL=1 and on the default
/// build, and the comparison says so. Runs per interpreter merge into one.
#[test]
fn a_racy_extension_fails_only_free_threaded_and_runs_merge_and_compare() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let checkout = checkout(scratch.path(), "racy_counter");
    let free = scratch.path().join("free");
    let default = scratch.path().join("default");
    for (python, run, code) in [("3.13t", &free, 1), ("3.13", &default, 0)] {
        let mut command = test_command(scratch.path(), server.1);
        command.current_dir(&checkout).arg(".").arg("-p").arg(provisioned(python));
        command.args(["--iterations", "5", "--compare-with-gil", "--out"]).arg(run);
        run_ok(&mut command, code);
    }
    let racy = &rows(&free)[0];
    let suite = &racy["suite"];
    assert!(["incompatible", "intermittent"].contains(&category(racy)), "{racy:#}");
    assert_eq!(suite["source"]["location"], checkout.canonicalize().unwrap().to_str().unwrap());
    assert_eq!(suite["test_dependencies"], serde_json::json!(["dependency-groups.test"]));
    let test = "tests.test_counter::test_four_threads_count_every_bump";
    let failed =
        suite["iterations"].as_array().unwrap().iter().find(|i| i["failed_tests"] == serde_json::json!([test]));
    let failed = failed.unwrap_or_else(|| panic!("no iteration failed {test}: {suite:#}"));
    let signature = failed["failure_signatures"][test].as_str().unwrap_or("");
    assert!(signature.starts_with("AssertionError: assert N == N"), "{signature}");
    assert_eq!(suite["gil_comparison"]["pass_rate"], 1.0, "{suite:#}");
    assert_eq!(suite["gil_comparison"]["free_threading_specific"], serde_json::json!([test]));
    assert_eq!(suite["gil_comparison"]["pre_existing"], serde_json::json!([]));
    let calm = &rows(&default)[0];
    assert_eq!(category(calm), "compatible", "{calm:#}");
    assert!(calm["suite"]["gil_comparison"].is_null(), "PYTHON_GIL means nothing to a default build");

    // Shards of one run: same options, other interpreters, so --force.
    let merged = scratch.path().join("merged");
    let refused =
        ftprobe(scratch.path()).arg("merge").arg(&free).arg(&default).arg("--out").arg(&merged).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", common::stderr(&refused));
    run_ok(ftprobe(scratch.path()).arg("merge").arg(&free).arg(&default).arg("--force").arg("--out").arg(&merged), 0);
    assert_eq!(rows(&merged).len(), 2);

    // The fix: the test no longer runs the racy part. compare says fixed,
    // and the other way round, newly failing (exit 1).
    let fixed = scratch.path().join("fixed");
    let mut command = test_command(scratch.path(), server.1);
    command.current_dir(&checkout).arg(".").arg("-p").arg(provisioned("3.13t"));
    command.args(["--iterations", "2", "--test-command-suffix", "-k 'not four_threads'", "--out"]).arg(&fixed);
    run_ok(&mut command, 0);
    let out = run_ok(ftprobe(scratch.path()).args(["compare", "--format", "json"]).arg(&free).arg(&fixed), 0);
    let differences: Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = differences.as_array().unwrap().iter().find(|d| d["field"] == "category").unwrap();
    assert_eq!(
        (change["new"].as_str(), change["kind"].as_str()),
        (Some("compatible"), Some("improvement")),
        "{differences:#}"
    );
    run_ok(ftprobe(scratch.path()).arg("compare").arg(&fixed).arg(&free), 1);
}

#[test]
fn markupsafes_real_sdist_tests_pass_on_its_released_free_threaded_wheel() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    command.args(["markupsafe==3.0.2", "--iterations", "3", "-p"]).arg(provisioned("3.13t")).arg("--out").arg(&run);
    run_ok(&mut command, 0);
    let row = &rows(&run)[0];
    assert_eq!(category(row), "compatible", "{row:#}");
    assert_eq!(row["install"]["from"], "wheel");
    assert_eq!(row["install"]["wheel"], "MarkupSafe-3.0.2-cp313-cp313t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
    let suite = &row["suite"];
    assert_eq!(
        suite["source"],
        serde_json::json!({"kind": "sdist", "location": "markupsafe-3.0.2.tar.gz", "revision": "3.0.2"})
    );
    assert_eq!(suite["test_dependencies"], serde_json::json!(["requirements/tests.txt"]));
    for iteration in suite["iterations"].as_array().unwrap() {
        // Its suite runs every test against both the C speedups and the pure-Python code.
        assert_eq!(iteration["tests"]["passed"], 78, "{iteration:#}");
        assert_eq!(iteration["gil"]["at_end"], false, "markupsafe._speedups declares Py_MOD_GIL_NOT_USED");
    }
    // What the tests ran against, in the report.
    let table = common::stdout(&run_ok(ftprobe(scratch.path()).arg("report").arg(&run), 0));
    assert!(table.contains("sdist 3.0.2  wheel cp313t  compatible"), "{table}");
}

/// A git URL (here a local repository with a release tag) is cloned; a
/// registry entry skips a test and adds a dependency; pytest-run-parallel
/// runs each test in two threads (pytest would refuse the option without it);
/// `--stop-on-first-pass` stops after the first passing iteration.
#[test]
fn a_git_repository_and_a_registry_entry() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let repo = scratch.path().join("repo");
    copy_tree(&suites().join("clean"), &repo);
    for args in [&["init", "-q", "-b", "main"][..], &["add", "."], &["commit", "-q", "-m", "release"], &["tag", "v1.0"]]
    {
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=ftprobe", "-c", "user.email=ftprobe@example.invalid"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
    }
    let registry = scratch.path().join("registry.toml");
    std::fs::write(
        &registry,
        "[[package]]\nname = \"ftfixture-clean\"\nskip_tests = [\"tests/test_counter.py::test_four_threads\"]\nextra_deps = [\"six\"]\n",
    )
    .unwrap();
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    command.arg(format!("file://{}", repo.display())).arg("-p").arg(provisioned("3.13t"));
    command.args(["--iterations", "3", "--stop-on-first-pass", "--parallel-threads", "2", "--registry"]);
    command.arg(&registry).arg("--out").arg(&run);
    run_ok(&mut command, 0);
    let row = &rows(&run)[0];
    assert_eq!(row["package"], "repo", "named by the repository before it is cloned");
    assert_eq!(category(row), "compatible", "{row:#}");
    let source = &row["suite"]["source"];
    assert_eq!(source["kind"], "git");
    assert!(source["revision"].as_str().unwrap().len() >= 40, "{source:#}");
    let command = row["suite"]["test_command"].as_array().unwrap();
    assert!(command.contains(&Value::from("--deselect=tests/test_counter.py::test_four_threads")), "{command:?}");
    assert!(command.contains(&Value::from("--parallel-threads=2")), "{command:?}");
    assert_eq!(row["suite"]["iterations"][0]["tests"]["passed"], 2);
    assert_eq!(row["suite"]["iterations"].as_array().unwrap().len(), 1, "--stop-on-first-pass");
}

/// A real ThreadSanitizer report, from a C program built with
/// `-fsanitize=thread`, read by the parser and by a `--tsan` run.
#[test]
fn thread_sanitizer_reports_are_parsed_and_classified() {
    let scratch = tempfile::tempdir().unwrap();
    let source = scratch.path().join("race.c");
    std::fs::write(
        &source,
        "#include <pthread.h>\n#include <stdio.h>\nint shared;\n\
         void *bump(void *unused) { for (int i = 0; i < 100000; i++) shared++; return NULL; }\n\
         int main(void) { pthread_t a, b; pthread_create(&a, NULL, bump, NULL); pthread_create(&b, NULL, bump, NULL);\n\
         pthread_join(a, NULL); pthread_join(b, NULL); printf(\"%d\\n\", shared); return 0; }\n",
    )
    .unwrap();
    let binary = scratch.path().join("race");
    let built = Command::new("gcc")
        .args(["-g", "-O1", "-fsanitize=thread", "-o"])
        .arg(&binary)
        .arg(&source)
        .arg("-lpthread")
        .output()
        .unwrap();
    assert!(built.status.success(), "gcc -fsanitize=thread: {}", common::stderr(&built));
    // setarch -R: TSAN refuses some kernels' address-space randomisation.
    let out = Command::new("setarch").args(["-R"]).arg(&binary).env("TSAN_OPTIONS", "exitcode=0").output().unwrap();
    let reports = ftprobe::testrun::tsan::parse(&common::stderr(&out));
    assert_eq!(reports.len(), 1, "one distinct race: {reports:#?}\n{}", common::stderr(&out));
    assert_eq!(reports[0].kind, "data race");
    assert!(reports[0].summary.starts_with("data race") && reports[0].summary.contains("race.c"), "{:?}", reports[0]);
    assert!(reports[0].frames[0].starts_with("#0 bump"), "{:?}", reports[0].frames);
    assert!(!reports[0].frames.iter().any(|f| f.contains("0x")), "{:?}", reports[0].frames);

    // Through `ftprobe test --tsan`: the report makes the category.
    let server = serve(batch_index());
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    command.arg(checkout(scratch.path(), "clean")).arg("-p").arg(provisioned("3.13t"));
    command.args(["--iterations", "1", "--tsan", "--test-command"]);
    command.arg(format!("setarch -R {} && python -m pytest tests", binary.display()));
    command.arg("--out").arg(&run);
    run_ok(&mut command, 1);
    let row = &rows(&run)[0];
    assert_eq!(category(row), "tsan_warnings", "{row:#}");
    let iteration = &row["suite"]["iterations"][0];
    assert_eq!(iteration["status"], "passed", "TSAN_OPTIONS=exitcode=0 keeps the tests' own result: {iteration:#}");
    assert_eq!(iteration["tsan"][0]["kind"], "data race");
}

/// Ctrl-C during a hanging iteration: exit 130, the run marked incomplete,
/// and `--resume` runs the unit again.
#[test]
fn ctrl_c_keeps_the_run_and_resume_finishes_it() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    let (deadlock, clean) = (checkout(scratch.path(), "deadlock"), checkout(scratch.path(), "clean"));
    command.arg(&deadlock).arg(&clean).arg("-p").arg(provisioned("3.13t"));
    command.args(["--iterations", "1", "--stall", "300", "-j", "1", "--out"]).arg(&run);
    let log = scratch.path().join("stderr.txt");
    let child = command.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    // Wait until the deadlocking test has started (the plugin's record says so).
    let started = Instant::now();
    let hung = loop {
        let records: Vec<PathBuf> = glob_records(&run.join("work"));
        if records.iter().any(|r| std::fs::read_to_string(r).unwrap_or_default().contains("test_both_ways_at_once")) {
            break true;
        }
        if started.elapsed() > Duration::from_secs(240) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(hung, "the deadlocking test never started");
    send_sigint(child.id());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", std::fs::read_to_string(&log).unwrap());
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(run.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["completed"], false);
    let mut resume = ftprobe(scratch.path());
    resume.args(["test", "--index-url", &format!("http://127.0.0.1:{}/simple/", server.1)]);
    resume.arg(&deadlock).arg(&clean).arg("-p").arg(provisioned("3.13t"));
    resume.args(["--iterations", "1", "--stall", "15", "--resume"]).arg(&run);
    run_ok(&mut resume, 1);
    let rows = rows(&run);
    let last = |package: &str| rows.iter().rev().find(|r| r["package"] == package).unwrap().clone();
    assert_eq!(category(&last("ftfixture-deadlock")), "deadlock");
    assert_eq!(category(&last("ftfixture-clean")), "compatible");
}

fn glob_records(work: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(work) else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("ftprobe-iterations"))
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect()
}

/// Sends SIGINT with `kill`, as a terminal's Ctrl-C would.
fn send_sigint(pid: u32) {
    let status = Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

/// `--gil 0` keeps the GIL off even for a module that needs it, as labeille
/// does: the fallback no longer shows, and the row says how it was run.
#[test]
fn gil_0_hides_the_fallback_and_says_so() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    command.arg(checkout(scratch.path(), "gil_fallback")).arg("-p").arg(provisioned("3.13t"));
    command.args(["--iterations", "1", "--gil", "0", "--out"]).arg(&run);
    run_ok(&mut command, 0);
    let row = &rows(&run)[0];
    assert_eq!(category(row), "compatible", "{row:#}");
    assert_eq!(row["suite"]["gil_setting"], "off");
    let iteration = &row["suite"]["iterations"][0];
    assert_eq!(iteration["gil_setting"], "off");
    assert_eq!(iteration["gil"]["at_end"], false, "{iteration:#}");
}

/// A test dependency that does not build is not the package's failure: the
/// package is tried alone, and the reason names the dependency.
#[test]
fn a_test_dependency_that_does_not_build_is_named_as_such() {
    let server = serve(batch_index());
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    let mut command = test_command(scratch.path(), server.1);
    command.arg(checkout(scratch.path(), "clean")).arg("-p").arg(provisioned("3.13t"));
    command.args(["--iterations", "1", "--extra-deps", "ftprobe-fixture-broken", "--out"]).arg(&run);
    run_ok(&mut command, 1);
    let row = &rows(&run)[0];
    assert_eq!(category(row), "install_failure", "{row:#}");
    let reason = row["suite"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the package installed, but a test dependency did not: ftprobe-fixture-broken"),
        "{reason}"
    );
    assert!(reason.ends_with("(a version that installs can be pinned with --extra-deps)"), "{reason}");
}
