//! `harness diagnose` on the built binary: the report, `--json`,
//! `--dockerfile`, and exit code 2 naming the file for unreadable input.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn inline_logs() -> Vec<String> {
    (1..=4)
        .flat_map(|j| {
            [
                fixture(&format!("logs/docker26.1-inline-job{j}-planner.log")).display().to_string(),
                fixture(&format!("logs/docker26.1-inline-job{j}-builder.log")).display().to_string(),
            ]
        })
        .collect()
}

#[test]
fn the_report_names_the_alternation_and_exits_0() {
    let out =
        cargo_bin_cmd!("harness").arg("diagnose").args(inline_logs()).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("PROBLEM: inline cache alternates between hit and miss [inline-cache-alternation]"),
        "{text}"
    );
    assert!(text.contains("https://github.com/moby/buildkit/pull/7139"), "{text}");
    assert!(text.contains("docker26.1-inline-job3-builder.log:"), "evidence cites file:line\n{text}");
}

#[test]
fn json_is_stable_and_machine_readable() {
    let out = cargo_bin_cmd!("harness")
        .arg("diagnose")
        .arg("--json")
        .args(inline_logs())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["schema"], 1);
    let patterns: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["pattern"].as_str().unwrap()).collect();
    assert_eq!(patterns[0], "inline-cache-alternation", "{patterns:?}");
    let ev = &v["findings"][0]["evidence"][0];
    assert!(ev["file"].as_str().unwrap().ends_with(".log") && ev["line"].as_u64().unwrap() > 0, "{ev}");
}

#[test]
fn dockerfile_adds_its_lines_to_the_cache_mount_finding() {
    let df = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/cache-mount-copy/naive.Dockerfile");
    cargo_bin_cmd!("harness")
        .arg("diagnose")
        .arg("--dockerfile")
        .arg(&df)
        .arg(fixture("runs/cache-mount-copy-26.1.5/job-1/01-naive.log"))
        .arg(fixture("runs/cache-mount-copy-26.1.5/job-2/01-naive.log"))
        .assert()
        .success()
        .stdout(predicate::str::contains("[cache-mount-copy]").and(predicate::str::contains("naive.Dockerfile:")));
}

#[test]
fn stdin_is_read_once() {
    let log = std::fs::read(fixture("logs/docker26.1-inline-job2-builder.log")).unwrap();
    cargo_bin_cmd!("harness")
        .args(["diagnose", "-"])
        .write_stdin(log)
        .assert()
        .success()
        .stdout(predicate::str::contains("was built once"));
    cargo_bin_cmd!("harness").args(["diagnose", "-", "-"]).assert().code(2);
}

#[test]
fn unreadable_input_exits_2_naming_the_file() {
    cargo_bin_cmd!("harness")
        .args(["diagnose", "/nonexistent/job1.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read `/nonexistent/job1.log`"));
    cargo_bin_cmd!("harness")
        .arg("diagnose")
        .arg(fixture("logs/bad/no-build.log"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-build.log"));
    cargo_bin_cmd!("harness")
        .args(["diagnose", "--dockerfile", "/nonexistent/Dockerfile"])
        .arg(fixture("logs/docker26.1-inline-job2-builder.log"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read Dockerfile `/nonexistent/Dockerfile`"));
}
