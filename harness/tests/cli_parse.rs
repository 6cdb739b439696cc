//! `harness parse` on the built binary: tables, `--explain`, the step-by-job
//! grid, `--json`, stdin, and exit code 2 with a clear message for input
//! that is not a progress log.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn log(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs").join(name)
}

fn stdout_of(args: &[&str]) -> String {
    let out = cargo_bin_cmd!("harness").arg("parse").args(args).assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

/// Fixture paths are absolute and differ per checkout: print them relative.
fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&log("").display().to_string()), "[fixtures]/");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn regex_escape(s: &str) -> String {
    s.chars().flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

#[test]
fn one_log_prints_a_table_per_build() {
    let out = stdout_of(&[log("docker28.5-containerd-registry-max-job3-builder.log").to_str().unwrap()]);
    snapshot("cli_parse_table", &out);
    assert!(out.contains("[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json  remote"));
}

#[test]
fn explain_adds_why() {
    let out = stdout_of(&["--explain", log("docker26.1-inline-job1-builder.log").to_str().unwrap()]);
    snapshot("cli_parse_explain", &out);
    assert!(out.contains("ran: 43 lines of process output, DONE 21.9s"));
}

#[test]
fn several_logs_print_a_step_by_job_grid() {
    let logs: Vec<String> =
        (1..=4).map(|j| log(&format!("docker26.1-inline-job{j}-builder.log")).display().to_string()).collect();
    let args: Vec<&str> = logs.iter().map(String::as_str).collect();
    let out = stdout_of(&args);
    snapshot("cli_parse_grid_26_1", &out);
    let cook = out.lines().find(|l| l.contains("cargo chef cook")).unwrap();
    assert_eq!(cook.split_whitespace().rev().take(4).collect::<Vec<_>>(), ["cached", "executed", "cached", "executed"]);
}

#[test]
fn the_28_5_grid_shows_remote_cook_steps() {
    let logs: Vec<String> = (2..=4)
        .map(|j| log(&format!("docker28.5-containerd-registry-max-job{j}-builder.log")).display().to_string())
        .collect();
    let args: Vec<&str> = logs.iter().map(String::as_str).collect();
    let out = stdout_of(&args);
    snapshot("cli_parse_grid_28_5", &out);
}

#[test]
fn a_log_with_several_builds_in_a_grid_gets_numbered_columns() {
    let out = stdout_of(&[
        log("synthetic-gitlab-three-builds.log").to_str().unwrap(),
        log("seed-local-two-builds.log").to_str().unwrap(),
    ]);
    snapshot("cli_parse_grid_multi_build", &out);
    assert!(out.contains("synthetic-gitlab-three#3"), "{out}");
}

#[test]
fn json_is_the_model() {
    let out = stdout_of(&["--json", log("docker28.5-containerd-registry-max-job3-builder.log").to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let steps = &v[0]["builds"][0]["steps"];
    let cook = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["instruction"].as_str().unwrap().contains("cargo chef cook"))
        .unwrap();
    assert_eq!(cook["outcome"], "remote");
    assert_eq!(cook["vertex"], 11);
    assert_eq!(cook["stage"], "builder");
    assert!(v[0]["log"].as_str().unwrap().ends_with("job3-builder.log"));
}

#[test]
fn dash_reads_stdin() {
    let input = std::fs::read(log("docker20.10-inline-job2-builder.log")).unwrap();
    let out = cargo_bin_cmd!("harness").args(["parse", "--internal", "-"]).write_stdin(input).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("<stdin>: ok (plain progress, 8 steps)"), "{text}");
    assert!(text.contains("BUILDKIT VERTEX"));
    assert!(text.contains("exporting to image"));
}

#[test]
fn failures_and_truncation_are_reported_under_the_table() {
    let out = stdout_of(&[
        log("recorded-docker28.5-plain-fail.log").to_str().unwrap(),
        log("synthetic-truncated.log").to_str().unwrap(),
        "--explain",
    ]);
    assert!(out.contains("error: failed to build: failed to solve"), "{out}");
    assert!(out.contains("note: the log ends while a vertex was still running (truncated)"), "{out}");
}

#[rstest::rstest]
#[case("bad/empty.log", "it is empty")]
#[case("bad/binary.png", "at line 3: it holds binary data (a NUL byte)")]
#[case("bad/no-build.log", "no build found in 5 lines")]
#[case("bad/corrupt-middle.rawjson", "at line 6: invalid rawjson object")]
#[case("bad/does-not-exist.log", "cannot read it: No such file or directory")]
fn bad_input_exits_2_with_a_clear_message(#[case] name: &str, #[case] says: &str) {
    let path = log(name);
    cargo_bin_cmd!("harness")
        .arg("parse")
        .arg(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "error: failed to parse BuildKit progress log `{}`",
            path.display()
        )))
        .stderr(predicate::str::contains(says));
}

#[test]
fn empty_stdin_exits_2() {
    cargo_bin_cmd!("harness")
        .args(["parse", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr("error: failed to parse BuildKit progress log `<stdin>`: it is empty: expected the output of `docker build --progress=plain` (`#N ...` lines) or `--progress=rawjson` (JSON objects)\n");
}

#[test]
fn stdin_twice_and_no_log_are_usage_errors() {
    cargo_bin_cmd!("harness").args(["parse", "-", "-"]).assert().code(2).stderr(predicate::str::contains("only once"));
    cargo_bin_cmd!("harness").arg("parse").assert().code(2).stderr(predicate::str::contains("<LOG>"));
}

fn formats_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats")
}

#[test]
fn every_format_fixture_parses_and_exits_0() {
    let mut count = 0;
    for entry in std::fs::read_dir(formats_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "log") {
            cargo_bin_cmd!("harness").arg("parse").arg(&path).assert().success();
            count += 1;
        }
    }
    assert!(count >= 30, "only {count} fixtures");
}

#[test]
fn format_forces_one_reader() {
    let kaniko = formats_dir().join("kaniko-gitlab-prefixed.log");
    let out = stdout_of(&["--format", "kaniko", kaniko.to_str().unwrap()]);
    assert!(out.contains("(kaniko progress"), "{out}");
    cargo_bin_cmd!("harness")
        .args(["parse", "--format", "tty"])
        .arg(&kaniko)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no build found"));
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    cargo_bin_cmd!("harness")
        .args(["parse", "--format", "xml", "x.log"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown log format `xml`: expected one of auto, plain, rawjson, tty"));
}
