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
    for scenario in
        ["ci-inline-cache", "cache-mount-copy", "ci-registry-cache-max", "dependency-change", "ci-local-cache"]
    {
        let out = dir.path().join(scenario);
        pack(&[scenario, "--engine", "20.10.24", "--engine", "26.1.5", "-o", out.to_str().unwrap()]);
        shellcheck(&out.join("repro.sh"));
    }
}

/// A scenario's carried folder: one volume per engine, created before its
/// first dind, mounted in each, removed at the engine's end and on exit.
#[test]
fn repro_sh_carries_the_folder_in_a_volume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    pack(&["ci-local-cache", "--engine", "28.5.2", "-o", out.to_str().unwrap()]);
    let script = std::fs::read_to_string(out.join("repro.sh")).unwrap();
    assert!(script.contains("\n  engine_begin 28.5.2 \"$REPRO_DIND_28_5_2\" true /cache\n"), "{script}");
    assert!(script.contains("docker volume create --label \"$label\" \"$carry_vol\""));
    assert!(script.contains("${carry_vol:+\"type=volume,source=$carry_vol,target=$engine_carry\"}"));
    assert!(script.contains("for v in $volumes; do docker volume rm -f \"$v\""));
    pack(&["ci-inline-cache", "--engine", "28.5.2", "-o", dir.path().join("plain").to_str().unwrap()]);
    let plain = std::fs::read_to_string(dir.path().join("plain/repro.sh")).unwrap();
    assert!(plain.contains("\n  engine_begin 28.5.2 \"$REPRO_DIND_28_5_2\" false ''\n"), "no carry: an empty folder");
}

#[test]
fn readme_of_the_first_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack");
    pack(&["ci-inline-cache", "-o", out.to_str().unwrap()]);
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    insta::assert_snapshot!(readme);
}

/// One shell function of `repro_lib.sh`, from its `name() {` line to the
/// closing `}` at the start of a line.
fn shell_function(lib: &str, name: &str) -> String {
    let start = lib.find(&format!("\n{name}() {{")).unwrap_or_else(|| panic!("no {name} in repro_lib.sh"));
    let body = &lib[start + 1..];
    let end = body.find("\n}\n").unwrap() + 3;
    body[..end].to_owned()
}

/// `repro.sh` judges each asserted step from the job's recorded plain log
/// as the harness does: a registry-cache hit printed DONE (layers moved, no
/// process output) is `remote`, CACHED is `cached`, output is `executed`.
#[rstest::rstest]
#[case::registry_cache_hit_printed_done(
    "ci-registry-cache-max-26.1.5/job-2/01-builder.log",
    "builder",
    "RUN cargo chef cook",
    "remote"
)]
#[case::inline_cache_hit("ci-inline-cache-26.1.5/job-2/07-builder.log", "builder", "RUN cargo chef cook", "cached")]
#[case::inline_cache_miss("ci-inline-cache-26.1.5/job-3/07-builder.log", "builder", "RUN cargo chef cook", "executed")]
#[case::compiled("ci-registry-cache-max-26.1.5/job-2/01-builder.log", "builder", "RUN cargo build", "executed")]
#[case::not_in_the_log("ci-inline-cache-26.1.5/job-2/07-builder.log", "builder", "RUN make", "absent")]
fn repro_sh_reads_step_outcomes_like_the_harness(
    #[case] log: &str,
    #[case] stage: &str,
    #[case] step: &str,
    #[case] want: &str,
) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/pack/repro_lib.sh")).unwrap();
    let script = format!("{}\nstep_outcome \"$1\" \"$2\" \"$3\"\n", shell_function(&lib, "step_outcome"));
    let log = root.join("tests/fixtures/runs").join(log);
    let out = Process::new("sh").arg("-c").arg(&script).arg("sh").arg(&log).arg(stage).arg(step).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want);
}

/// `reused` accepts cached and remote; other expectations are exact.
#[rstest::rstest]
#[case("reused", "cached", true)]
#[case("reused", "remote", true)]
#[case("reused", "executed", false)]
#[case("remote", "cached", false)]
#[case("executed?", "executed", true)]
#[case("cached", "cached", true)]
fn repro_sh_matches_outcomes(#[case] expected: &str, #[case] observed: &str, #[case] holds: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/pack/repro_lib.sh")).unwrap();
    let script = format!("{}\noutcome_matches \"$1\" \"$2\"\n", shell_function(&lib, "outcome_matches"));
    let status = Process::new("sh").arg("-c").arg(&script).arg("sh").arg(expected).arg(observed).status().unwrap();
    assert_eq!(status.success(), holds, "expected {expected}, observed {observed}");
}
