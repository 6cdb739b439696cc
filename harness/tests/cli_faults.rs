//! Faults a run meets, each ending with a message naming what failed, the
//! documented exit code, and nothing left behind: no Docker daemon at
//! start (exit 3 within seconds, no hang), a build that hangs past
//! `--timeout` (killed; report.json says `timeout`; exit 3), a dind
//! killed mid-build (`daemon_exited`, not a failed expectation; exit 3),
//! the registry stopping during a push (`registry`; exit 3), and a build
//! filling the dind's disk (`--dind-disk`: `disk_full`; exit 3).

mod common;

use std::time::{Duration, Instant};

use common::binary::BinaryRun;
use harness::engine::{leftovers, require_docker, sweep};

#[test]
fn no_docker_daemon_at_start_is_exit_3_without_a_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = format!("unix://{}/dead.sock", tmp.path().display());
    let started = Instant::now();
    let run = BinaryRun::new(
        "no-daemon",
        "description = \"x\"\n\n[[job]]\n[[job.command]]\nbuild = \"classic\"\n",
        "FROM {runtime}\n",
    );
    let out = run.command(&["--engine", "26.1.5"]).env("DOCKER_HOST", &dead).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("no Docker daemon answers at {dead}")), "{stderr}");
    assert!(stderr.contains("point DOCKER_HOST at a running daemon"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());

    let clean = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["clean"])
        .env("DOCKER_HOST", &dead)
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(3), "{}", String::from_utf8_lossy(&clean.stderr));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn a_build_hanging_past_the_timeout_is_killed_and_reported() {
    if !require_docker().await {
        return;
    }
    let toml = "description = \"hangs\"\n\n[[job]]\n[[job.command]]\nbuild = \"classic\"\ntags = [\"{image}:hang\"]\n";
    let run = BinaryRun::new("hanging-build", toml, "FROM {runtime}\nRUN echo hanging && sleep 3600\n");
    let out = run.command(&["--engine", "20.10.24", "--timeout", "40"]).output().unwrap();
    let left = leftovers(&run.label).await.unwrap();
    if !left.is_empty() {
        sweep(&run.label).await.unwrap();
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(left.is_empty(), "{left:?}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"]["kind"], "error", "{report:#}");
    assert_eq!(report["status"]["error_kind"], "timeout", "{report:#}");
    let message = report["status"]["message"].as_str().unwrap();
    assert!(message.contains("docker build") && message.contains("40"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn a_dind_killed_mid_build_is_an_infrastructure_error() {
    if !require_docker().await {
        return;
    }
    let toml =
        "description = \"killed dind\"\n\n[[job]]\n[[job.command]]\nbuild = \"classic\"\ntags = [\"{image}:x\"]\n";
    let run = BinaryRun::new("killed-dind", toml, "FROM {runtime}\nRUN echo building && sleep 600\n");
    let (mut child, rx) = common::binary::spawn(&run, &["--engine", "20.10.24", "-v"]);
    let mut seen = Vec::new();
    common::binary::wait_for(&rx, "docker build", &mut seen, Duration::from_secs(600));
    std::thread::sleep(Duration::from_secs(8));
    kill_role(&run, "dind");
    let report = exit_3_and_nothing_left(&run, &mut child, &rx, &mut seen).await;
    assert_eq!(report["status"]["error_kind"], "daemon_exited", "{report:#}");
    let message = report["status"]["message"].as_str().unwrap();
    assert!(message.contains("stopped while") && message.contains("docker build"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn the_registry_stopping_during_a_push_is_an_infrastructure_error() {
    if !require_docker().await {
        return;
    }
    let toml = "description = \"registry dies\"\n\n[[job]]\n[[job.command]]\nbuild = \"classic\"\ntags = [\"{image}:big\"]\n\n[[job.command]]\npush = \"{image}:big\"\n";
    // A layer big enough that the push takes a while.
    let dockerfile = "FROM {runtime}\nRUN head -c 300000000 /dev/urandom > /big\n";
    let run = BinaryRun::new("registry-dies", toml, dockerfile);
    let (mut child, rx) = common::binary::spawn(&run, &["--engine", "20.10.24", "-v"]);
    let mut seen = Vec::new();
    common::binary::wait_for(&rx, "$ docker push", &mut seen, Duration::from_secs(900));
    kill_role(&run, "registry");
    let report = exit_3_and_nothing_left(&run, &mut child, &rx, &mut seen).await;
    assert_eq!(report["status"]["error_kind"], "registry", "{report:#}");
    let message = report["status"]["message"].as_str().unwrap();
    assert!(message.contains("registry") && message.contains("docker push"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn a_build_filling_the_dinds_disk_is_an_infrastructure_error() {
    if !require_docker().await {
        return;
    }
    // Job 1 builds a small stage and passes; job 2, on a fresh daemon, writes
    // more than its 320 MiB data root holds (the runtime base takes ~130).
    let toml = "description = \"disk fills\"\n\n\
                [[job]]\n[[job.command]]\nbuild = \"classic\"\ntarget = \"small\"\ntags = [\"{image}:small\"]\n\n\
                [[job]]\n[[job.command]]\nbuild = \"classic\"\ntarget = \"big\"\ntags = [\"{image}:big\"]\n";
    let dockerfile = "FROM {runtime} AS small\nRUN echo small > /small\n\n\
                      FROM {runtime} AS big\nRUN head -c 2000000000 /dev/zero > /fill\n";
    let run = BinaryRun::new("disk-fills", toml, dockerfile);
    let (mut child, rx) = common::binary::spawn(&run, &["--engine", "20.10.24", "--dind-disk", "320M"]);
    let mut seen = Vec::new();
    let report = exit_3_and_nothing_left(&run, &mut child, &rx, &mut seen).await;
    assert_eq!(report["status"]["error_kind"], "disk_full", "{report:#}");
    let message = report["status"]["message"].as_str().unwrap();
    for needle in [
        "ran out of disk space",
        "no space left on device",
        "docker build",
        "--target big",
        &format!("harness-{}-dind-", run.label.value()),
        "a 320 MiB tmpfs",
    ] {
        assert!(message.contains(needle), "`{needle}` not in {message}");
    }
    let output = seen.join("\n");
    assert!(output.contains("ran out of disk space"), "the terminal says what failed:\n{output}");
    // The work done so far is in the report: job 1, which ran to its end;
    // job 2's build log is kept beside it.
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{report:#}");
    assert!(jobs[0]["error"].is_null(), "{:#}", jobs[0]);
    let logs: Vec<_> = std::fs::read_dir(run.out.join("job-2")).unwrap().flatten().collect();
    assert!(!logs.is_empty(), "job 2 kept its log");
}

/// `docker kill` of the run's container with label `harness.role=<role>`.
fn kill_role(run: &BinaryRun, role: &str) {
    let role = format!("label=harness.role={role}");
    let ps = std::process::Command::new("docker")
        .args(["ps", "-q", "--filter", &format!("label={}", run.label.filter()), "--filter", &role])
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&ps.stdout).trim().to_owned();
    assert!(!id.is_empty(), "no running container with {role}");
    assert!(std::process::Command::new("docker").args(["kill", &id]).output().unwrap().status.success());
}

/// Waits for the run, checks it exited 3 with nothing of it left on the
/// host daemon, and returns its report.json.
async fn exit_3_and_nothing_left(
    run: &BinaryRun,
    child: &mut std::process::Child,
    rx: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<String>,
) -> serde_json::Value {
    let status = child.wait().unwrap();
    seen.extend(rx.try_iter());
    let left = leftovers(&run.label).await.unwrap();
    if !left.is_empty() {
        sweep(&run.label).await.unwrap();
    }
    assert_eq!(status.code(), Some(3), "{}", seen.join("\n"));
    assert!(left.is_empty(), "{left:?}");
    serde_json::from_str(&std::fs::read_to_string(run.out.join("report.json")).unwrap()).unwrap()
}
