//! `ftprobe check` on a small package built from the fixtures: a good wheel
//! and a bad one (it claims free-threading support but re-enables the GIL),
//! each installed in a 3.13t venv; policies from pyproject.toml; every report
//! format validated against its schema; the CI examples validated too.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_json_schema, assert_junit_schema, fixtures, ftprobe, provisioned, stderr, stdout};
use serde_json::Value;

const GOOD: &str = "ftfix-1.0-cp313-cp313t-linux_x86_64.whl";
const BAD: &str = "ftfix_gil-1.0-cp313-cp313t-linux_x86_64.whl";

/// A project folder with `dist/<wheel>` and a 3.13t venv with the wheel installed.
fn make_project(dir: &Path, wheel: &str) -> (PathBuf, PathBuf) {
    let project = dir.join("project");
    fs::create_dir_all(project.join("dist")).unwrap();
    let built = project.join("dist").join(wheel);
    fs::copy(fixtures().join("wheels").join(wheel), &built).unwrap();
    let venv = dir.join("venv");
    assert!(Command::new(provisioned("3.13t")).args(["-m", "venv"]).arg(&venv).status().unwrap().success());
    let pip = Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check"])
        .arg(&built)
        .output()
        .unwrap();
    assert!(pip.status.success(), "{}", stderr(&pip));
    (project, venv)
}

fn check(project: &Path, args: &[&str]) -> std::process::Output {
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path())
        .arg("check")
        .args(args)
        .current_dir(project)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    out
}

fn rules(json: &Value, outcome: &str) -> Vec<String> {
    let mut rules: Vec<String> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == outcome)
        .filter_map(|c| c["rule"].as_str().map(str::to_string))
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

#[test]
fn a_good_package_passes_and_a_bad_one_fails_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (project, venv) = make_project(dir.path(), GOOD);
    let out = check(&project, &["--python", venv.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{:#}", json["checks"]);
    assert_eq!(json["wheels"][0]["claims_free_threading"], true);
    assert_eq!(json["wheels"][0]["top_level"][0], "ftfix");
    // The runtime probes ran: free-threading on every module, subinterpreters where declared.
    let probes = json["probes"].as_array().unwrap();
    assert!(
        probes
            .iter()
            .any(|p| p["module"] == "ftfix.c_subinterp_per_gil" && p["config"] == "isolated" && p["status"] == "ok")
    );
    assert!(
        probes
            .iter()
            .any(|p| p["probe"] == "free_threading" && p["module"] == "ftfix.cy_ft_true" && p["status"] == "ok")
    );

    let dir = tempfile::tempdir().unwrap();
    let (project, venv) = make_project(dir.path(), BAD);
    let out = check(&project, &["--python", venv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for expected in [
        "gil-reenabled",
        "classifier-but-gil-enabled",
        "gil-enabled-at-runtime",
        "ftfix.c_multi_no_slots",
        "ftfix.cy_ft_false",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
}

#[test]
fn the_policy_in_pyproject_decides_what_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (project, _) = make_project(dir.path(), GOOD);
    let policy = |table: &str| {
        fs::write(project.join("pyproject.toml"), format!("[project]\nname = \"ftfix\"\n\n[tool.ftprobe]\n{table}"))
            .unwrap()
    };
    policy("require-isolated-subinterpreters = true\n");
    let out = check(&project, &["--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(rules(&json, "fail"), ["isolated-subinterpreters-required"]);
    let failing: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "fail")
        .map(|c| c["module"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["ftfix.c_multi_gil_not_used", "ftfix.cy_ft_true"]);

    policy("require-isolated-subinterpreters = true\nallow = [\"ftfix.c_multi_gil_not_used\", \"ftfix.cy_ft_true\"]\n");
    assert_eq!(check(&project, &[]).status.code(), Some(0));
    policy("require-isolated-subinterpreters = true\nignore = [\"isolated-subinterpreters-required\"]\n");
    assert_eq!(check(&project, &[]).status.code(), Some(0));
    // A flag adds to the file's policy.
    policy("");
    assert_eq!(check(&project, &["--require-isolated-subinterpreters"]).status.code(), Some(1));
    // A mistyped key is an error, not a silently empty policy.
    policy("require-isolated-subinterpreter = true\n");
    let out = check(&project, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("require-isolated-subinterpreter"), "{}", stderr(&out));
}

#[test]
fn a_claim_without_a_free_threaded_wheel_and_a_missing_dist_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    fs::create_dir_all(project.join("dist")).unwrap();
    // A default-build wheel whose METADATA claims free-threading support.
    fs::copy(
        fixtures().join("wheels/ftfix-1.0-cp313-cp313-linux_x86_64.whl"),
        project.join("dist/ftfix-1.0-cp313-cp313-linux_x86_64.whl"),
    )
    .unwrap();
    let out = check(&project, &["--require-free-threading", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rules(&json, "fail"), ["classifier-without-free-threaded-wheel", "free-threading-required"]);
    assert_eq!(out.status.code(), Some(1));

    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let out = check(&empty, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`dist` does not exist"), "{}", stderr(&out));
}

#[test]
fn a_package_missing_from_the_interpreter_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (project, _) = make_project(dir.path(), GOOD);
    let out = check(&project, &["--python", provisioned("3.13t").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(stdout(&out).contains("not installed"), "{}", stdout(&out));
}

#[test]
fn every_report_format_validates() {
    let dir = tempfile::tempdir().unwrap();
    let (project, venv) = make_project(dir.path(), BAD);
    let python = venv.to_str().unwrap();
    let reports = dir.path().join("reports");
    fs::create_dir_all(&reports).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let bad_wheel = project.join("dist").join(BAD);
    let runs: Vec<(&str, Vec<String>)> = vec![
        ("check", vec!["check".into(), "--python".into(), python.into()]),
        ("scan", vec!["scan".into(), bad_wheel.display().to_string()]),
        ("import", vec!["import".into(), "numpy".into(), "-p".into(), provisioned("3.13t").display().to_string()]),
    ];
    for (name, args) in &runs {
        for format in ["junit", "sarif", "markdown"] {
            let file = reports.join(format!("{name}.{format}"));
            let out = ftprobe(cache.path())
                .args(args)
                .args(["--format", format, "--output"])
                .arg(&file)
                .current_dir(&project)
                .output()
                .unwrap();
            assert!(file.is_file(), "{name} {format}: no report; {}", stderr(&out));
            match format {
                "junit" => assert_junit_schema(&file),
                "sarif" => assert_json_schema("sarif-2.1.0.json", &file),
                _ => assert!(fs::read_to_string(&file).unwrap().starts_with("## "), "{name} markdown"),
            }
        }
    }
    let sarif: Value = serde_json::from_str(&fs::read_to_string(reports.join("check.sarif")).unwrap()).unwrap();
    let ids: Vec<&str> =
        sarif["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert!(ids.contains(&"gil-reenabled") && ids.contains(&"gil-enabled-at-runtime"), "{ids:?}");
}

#[test]
fn github_actions_get_annotations_and_a_job_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (project, _) = make_project(dir.path(), BAD);
    let summary = dir.path().join("summary.md");
    let cache = tempfile::tempdir().unwrap();
    let out = ftprobe(cache.path())
        .args(["check", "--format", "sarif", "--output"])
        .arg(dir.path().join("out.sarif"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .current_dir(&project)
        .output()
        .unwrap();
    let annotations = stdout(&out).lines().filter(|l| l.starts_with("::error ")).count();
    assert!(annotations >= 2, "{}", stdout(&out));
    assert!(stdout(&out).contains("title=ftprobe gil-reenabled"), "{}", stdout(&out));
    let text = fs::read_to_string(&summary).unwrap();
    assert!(text.contains("ftprobe: check") && text.contains("`gil-reenabled`"), "{text}");
}

#[test]
fn the_action_and_ci_examples_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_json_schema("github-action.json", &root.join("action.yml"));
    assert_json_schema("github-workflow.json", &root.join("examples/github-workflow.yml"));
    assert_json_schema("gitlab-ci.json", &root.join("examples/gitlab-ci.yml"));
    // The ecosystem run: GitHub shards merged and published; a Kubernetes Indexed Job.
    assert_json_schema("github-workflow.json", &root.join("examples/batch-shards-workflow.yml"));
    assert_json_schema("github-workflow.json", &root.join("examples/test-suite-workflow.yml"));
    assert_json_schema("github-workflow.json", &root.join("examples/release-workflow.yml"));
    assert_json_schema("kubernetes/job-batch-v1.json", &root.join("examples/kubernetes-batch-job.yml"));
}
