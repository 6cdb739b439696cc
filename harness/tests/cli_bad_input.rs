//! Bad input to `harness run` is found before anything starts: exit 2
//! within seconds, a message naming the file or flag and the fix. Each case
//! is a row of the README's "bad input and what it gets" table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

/// Nothing in these cases may reach Docker: a run that starts the registry
/// takes far longer than this.
const QUICK: Duration = Duration::from_secs(10);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// A scenario folder `name` in `tmp` with a one-line Dockerfile.
fn scenario(tmp: &Path, name: &str, toml: &str) -> PathBuf {
    let dir = tmp.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Dockerfile"), "FROM {chef}\n").unwrap();
    std::fs::write(dir.join("scenario.toml"), toml).unwrap();
    dir
}

const ONE_JOB: &str = "description = \"x\"\n\n[[job]]\n[[job.command]]\nbuild = \"classic\"\n";

/// Runs `harness run ARGS --images local` and checks exit 2, quickly, with
/// every `needle` in stderr.
fn refused(args: &[&str], needles: &[&str]) {
    let started = Instant::now();
    let mut cmd = cargo_bin_cmd!("harness");
    cmd.arg("run").args(args).args(["--images", "local"]).timeout(QUICK * 3);
    let mut assert = cmd.assert().code(2);
    for needle in needles {
        assert = assert.stderr(predicate::str::contains(*needle));
    }
    assert!(started.elapsed() < QUICK, "{args:?} took {:?}", started.elapsed());
}

#[test]
fn jobs_zero_is_a_usage_error() {
    refused(&["local-source-edit", "--jobs", "0"], &["--jobs", "at least 1 job"]);
    refused(&["local-source-edit", "--jobs", "5000"], &["--jobs", "at most 100 jobs"]);
}

#[test]
fn timeout_zero_and_huge_are_usage_errors_without_a_panic() {
    refused(&["local-source-edit", "--timeout", "0"], &["--timeout", "at least 1 second"]);
    refused(&["local-source-edit", "--timeout", "18446744073709551615"], &["--timeout", "at most 86400 seconds"]);
    refused(&["local-source-edit", "--timeout", "1e9"], &["--timeout", "whole number"]);
}

#[test]
fn an_unwritable_out_is_found_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("out");
    refused(&["local-source-edit", "--out", out.to_str().unwrap()], &["a-file/out", "`--out DIR`"]);
}

#[test]
fn a_missing_fixture_is_found_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = scenario(tmp.path(), "gone", &format!("fixture = \"no-such-folder\"\n{ONE_JOB}"));
    refused(&[dir.to_str().unwrap()], &["scenario.toml:1:11", "the fixture `no-such-folder` is not a folder"]);

    // The default fixture (hello-world) missing from the checkout.
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir_all(checkout.join("ci")).unwrap();
    std::fs::copy(repo_root().join("ci/engines.toml"), checkout.join("ci/engines.toml")).unwrap();
    let dir = scenario(&checkout.join("scenarios"), "plain", ONE_JOB);
    let root = checkout.to_str().unwrap();
    refused(
        &["--root", root, dir.to_str().unwrap()],
        &["scenario `plain`: its fixture", "hello-world", "create it, or point `fixture`"],
    );
}

#[test]
fn repeat_has_an_upper_bound() {
    let tmp = tempfile::tempdir().unwrap();
    let toml = ONE_JOB.replace("[[job]]\n", "[[job]]\nrepeat = 4294967295\n");
    let dir = scenario(tmp.path(), "many", &toml);
    refused(&[dir.to_str().unwrap()], &["scenario.toml:4:10", "job[0].repeat", "at most 100"]);
}

#[test]
fn a_fifo_or_a_device_as_scenario_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    std::fs::create_dir(&fifo).unwrap();
    let made = std::process::Command::new("mkfifo").arg(fifo.join("scenario.toml")).status().unwrap();
    assert!(made.success());
    refused(&[fifo.to_str().unwrap()], &["scenario.toml", "a FIFO (named pipe), not a regular file"]);

    let zero = tmp.path().join("zero");
    std::fs::create_dir(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.join("scenario.toml")).unwrap();
    refused(&[zero.to_str().unwrap()], &["a character device, not a regular file"]);

    let big = scenario(tmp.path(), "big", &format!("{ONE_JOB}# {}\n", "x".repeat(2 << 20)));
    refused(&[big.to_str().unwrap()], &["more than the 1048576 bytes"]);
}

#[test]
fn a_dockerfile_linked_out_of_the_scenario_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = scenario(tmp.path(), "linked", ONE_JOB);
    std::fs::remove_file(dir.join("Dockerfile")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("Dockerfile")).unwrap();
    refused(&[dir.to_str().unwrap()], &["a symlink to `/etc/passwd`, outside the scenario folder"]);
}

#[test]
fn a_dind_disk_cap_that_is_no_size_or_out_of_bounds_is_a_usage_error() {
    refused(&["local-source-edit", "--dind-disk", "1M"], &["--dind-disk", "too small: a daemon needs at least 64M"]);
    refused(&["local-source-edit", "--dind-disk", "5X"], &["--dind-disk", "unknown unit `X`"]);
    refused(&["local-source-edit", "--dind-disk", "2T"], &["--dind-disk", "too large"]);
    // The variable serves `harness matrix` too, checked before anything starts.
    let started = Instant::now();
    let mut cmd = cargo_bin_cmd!("harness");
    cmd.args(["matrix", "--scenarios", "local-source-edit", "--engines", "20.10.24", "--images", "local"])
        .env("HARNESS_DIND_DISK", "lots")
        .timeout(QUICK * 3);
    cmd.assert().code(2).stderr(predicate::str::contains("`HARNESS_DIND_DISK=lots`: expected a size"));
    assert!(started.elapsed() < QUICK, "took {:?}", started.elapsed());
}
