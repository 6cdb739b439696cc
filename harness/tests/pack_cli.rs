//! `harness pack` on the shipped scenarios, without Docker: the archive is
//! byte-identical across runs, the folder has the documented layout with
//! executable bits kept, `repro.sh` passes shellcheck (Debian's package),
//! and the README reads as snapshotted.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;

fn harness() -> Command {
    Command::cargo_bin("harness").unwrap()
}

fn pack(args: &[&str]) {
    harness().arg("pack").args(args).assert().success();
}

#[test]
fn archives_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a/ci.tar.gz"), dir.path().join("b/ci.tar.gz"));
    for out in [&a, &b] {
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        pack(&["ci-inline-cache", "--engine", "26.1.5", "--engine", "28.5.2", "-o", out.to_str().unwrap()]);
    }
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert_eq!(a, b, "two packs of the same inputs differ");
    assert_eq!(&a[4..8], &[0, 0, 0, 0], "the gzip header carries no time");
}

#[test]
fn folder_layout_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    pack(&["cache-mount-copy", "-o", out.to_str().unwrap()]);
    let mode = |rel: &str| std::fs::metadata(out.join(rel)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("repro.sh"), 0o755);
    assert_eq!(mode("README.md"), 0o644);
    assert_eq!(mode("context/naive.Dockerfile"), 0o644);
    assert_eq!(mode("jobs/26.1.5/job-1/target/release/hello-world"), 0o755, "an executable edit stays executable");
    assert!(out.join("jobs/26.1.5/job-1/.dockerignore").is_file());
    assert!(out.join("jobs/26.1.5/job-2/src/main.rs").is_file());
    assert!(!out.join("context/target").exists(), "target/ is never part of the context");
    let naive = std::fs::read_to_string(out.join("context/naive.Dockerfile")).unwrap();
    assert!(
        naive.contains("FROM registry.harness.test:5000/lukemathwalker/cargo-chef:latest-rust-1 AS chef"),
        "{naive}"
    );
    assert!(naive.contains("FROM registry.harness.test:5000/debian:bookworm-slim"), "{naive}");
    // Packing into a folder that holds something is refused.
    harness().args(["pack", "cache-mount-copy", "-o", out.to_str().unwrap()]).assert().code(2);
}

#[test]
fn unknown_scenario_and_engine_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.tar.gz");
    harness().args(["pack", "no-such-scenario", "-o", out.to_str().unwrap()]).assert().code(2);
    harness().args(["pack", "ci-inline-cache", "--engine", "1.0", "-o", out.to_str().unwrap()]).assert().code(2);
}

fn shellcheck(script: &Path) {
    let found = Process::new("shellcheck").arg("--version").output();
    if found.is_err() {
        panic!("shellcheck is not installed: `apt-get install shellcheck` (Debian's package) and run again");
    }
    let out = Process::new("shellcheck").args(["--shell=sh", "--severity=style"]).arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "shellcheck {}:\n{}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn repro_sh_passes_shellcheck() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in ["ci-inline-cache", "cache-mount-copy", "ci-registry-cache-max", "dependency-change"] {
        let out = dir.path().join(scenario);
        pack(&[scenario, "--engine", "20.10.24", "--engine", "26.1.5", "-o", out.to_str().unwrap()]);
        shellcheck(&out.join("repro.sh"));
    }
}

#[test]
fn readme_of_the_first_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    pack(&["ci-inline-cache", "-o", out.to_str().unwrap()]);
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    insta::assert_snapshot!(readme);
}
