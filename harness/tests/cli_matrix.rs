//! `harness matrix` and `harness report merge` on the built binary, without
//! Docker: bad flags exit with 2 and say what to fix; a rerun of a report
//! with nothing failed runs nothing.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use rstest::rstest;

#[rstest]
#[case(&["--shard", "3/2"], "shard 3/2 does not exist: the index runs from 1 to 2")]
#[case(&["--shard", "0/2"], "shard 0/2 does not exist: the index runs from 1 to 2")]
#[case(&["--shard", "1/0"], "the shard count must be at least 1")]
#[case(&["--shard", "half"], "bad shard `half`: expected I/N")]
#[case(&["--parallel", "0"], "invalid value '0' for '--parallel <K>'")]
#[case(&["--store", "overlay"], "unknown image store `overlay`: expected `classic`, `containerd`, `both` or `scenario`")]
#[case(&["--progress", "fancy"], "invalid value 'fancy' for '--progress <MODE>'")]
#[case(&["--rerun-failed", "r.json", "--engines", "26.1.5"], "cannot be used with")]
#[case(&["--scenarios", "no-such-scenario", "--images", "local"], "no scenario `no-such-scenario`")]
#[case(&["--engines", "99.0", "--images", "local"], "engine `99.0` is not in the catalogue")]
fn bad_flags_are_usage_errors(#[case] args: &[&str], #[case] message: &str) {
    cargo_bin_cmd!("harness").arg("matrix").args(args).assert().code(2).stderr(predicate::str::contains(message));
}

#[test]
fn a_missing_rerun_report_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("harness")
        .args(["matrix", "--rerun-failed"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("failed to read `{}", tmp.path().join("report.json").display())));
}

#[test]
fn a_rerun_of_a_report_without_failures_runs_nothing() {
    let report =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/cache-mount-copy-26.1.5.json");
    cargo_bin_cmd!("harness")
        .args(["matrix", "--images", "local", "--rerun-failed"])
        .arg(&report)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("no failed cells in the report: nothing to run again"));
}

#[test]
fn merge_needs_an_input_and_reads_only_reports() {
    let tmp = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("harness")
        .args(["report", "merge", "--out"])
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<DIR>"));
    std::fs::write(tmp.path().join("report.json"), "[]").unwrap();
    cargo_bin_cmd!("harness")
        .args(["report", "merge", "--out"])
        .arg(tmp.path().join("out"))
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is neither a matrix report"));
}
