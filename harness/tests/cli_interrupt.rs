//! Ctrl-C with a real signal on the built binary: SIGINT during the
//! registry's seeding, in the middle of a build, and between jobs. Each time the run
//! exits 130 within a minute, writes report.json with the cell's status
//! `interrupted` (the jobs that finished kept), and leaves nothing on the
//! host: no container, network or volume with the run's label, no
//! temporary seeding tag of its registry.

mod common;

use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::binary::{registry_port, spawn, tags_of, wait_for, BinaryRun};
use harness::engine::{leftovers, require_docker, sweep};

/// Sends SIGINT, waits for the exit, and checks code, report and leftovers.
async fn interrupt_and_check(
    run: &BinaryRun,
    mut child: Child,
    rx: &mpsc::Receiver<String>,
    mut seen: Vec<String>,
    port: &str,
) -> serde_json::Value {
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            sweep(&run.label).await.unwrap();
            panic!("no exit within 90 s of SIGINT:\n{}", seen.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = started.elapsed();
    seen.extend(rx.try_iter());
    let left = leftovers(&run.label).await.unwrap();
    let tags = tags_of(port);
    if !left.is_empty() {
        sweep(&run.label).await.unwrap();
    }
    for tag in &tags {
        let _ = std::process::Command::new("docker").args(["rmi", "--no-prune", tag]).output();
    }
    let log = seen.join("\n");
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(left.is_empty(), "the run left {left:?}\n{log}");
    assert!(tags.is_empty(), "seeding tags left: {tags:?}\n{log}");
    assert!(took < Duration::from_secs(60), "exit took {took:?}\n{log}");
    let report =
        std::fs::read_to_string(run.out.join("report.json")).unwrap_or_else(|e| panic!("report.json: {e}\n{log}"));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["status"]["kind"], "interrupted", "{report:#}");
    eprintln!("exited 130 {took:?} after SIGINT; status: {}", report["status"]);
    report
}

const SCENARIO: &str = r#"description = "a build to interrupt"

[[job]]
name = "quick"
[[job.command]]
build = "classic"
tags = ["{image}:quick"]

[[job]]
name = "slow"
[[job.edit]]
file = "slow.txt"
write = "slow"
[[job.command]]
build = "classic"
tags = ["{image}:slow"]
build_args = { SLOW = "1" }
"#;

const DOCKERFILE: &str = "FROM {runtime}\nARG SLOW\nRUN if [ -n \"$SLOW\" ]; then echo sleeping; sleep 600; fi\n";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn sigint_during_seeding_writes_the_report_and_leaves_nothing() {
    if !require_docker().await {
        return;
    }
    let run = BinaryRun::new("interrupt-seeding", SCENARIO, DOCKERFILE);
    let (child, rx) = spawn(&run, &["--engine", "20.10.24", "-v"]);
    let mut seen = Vec::new();
    wait_for(&rx, "ready in", &mut seen, Duration::from_secs(180));
    let port = registry_port(&run.label);
    let report = interrupt_and_check(&run, child, &rx, seen, &port).await;
    assert!(report["status"]["message"].as_str().unwrap().contains("seeding"), "{report:#}");
    assert_eq!(report["jobs"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn sigint_mid_build_keeps_the_finished_job() {
    if !require_docker().await {
        return;
    }
    let run = BinaryRun::new("interrupt-build", SCENARIO, DOCKERFILE);
    let (child, rx) = spawn(&run, &["--engine", "20.10.24", "-v"]);
    let mut seen = Vec::new();
    wait_for(&rx, "ready in", &mut seen, Duration::from_secs(180));
    let port = registry_port(&run.label);
    wait_for(&rx, "job 2", &mut seen, Duration::from_secs(600));
    wait_for(&rx, "SLOW=1", &mut seen, Duration::from_secs(120));
    // Into the build's `sleep`.
    std::thread::sleep(Duration::from_secs(8));
    let report = interrupt_and_check(&run, child, &rx, seen, &port).await;
    let message = report["status"]["message"].as_str().unwrap();
    assert!(message.contains("job 2") && message.contains("docker build"), "{report:#}");
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "job 1 finished and is kept: {report:#}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn sigint_between_jobs_starts_no_more_work() {
    if !require_docker().await {
        return;
    }
    let run = BinaryRun::new("interrupt-between", SCENARIO, DOCKERFILE);
    let (child, rx) = spawn(&run, &["--engine", "20.10.24", "-v"]);
    let mut seen = Vec::new();
    wait_for(&rx, "ready in", &mut seen, Duration::from_secs(180));
    let port = registry_port(&run.label);
    wait_for(&rx, "job 1 done", &mut seen, Duration::from_secs(600));
    let report = interrupt_and_check(&run, child, &rx, seen, &port).await;
    let message = report["status"]["message"].as_str().unwrap();
    // Job 2 had at most begun starting its daemon: no command of it ran.
    assert!(message.contains("job 2") && !message.contains("docker build"), "{report:#}");
    assert_eq!(report["jobs"].as_array().unwrap().len(), 1, "{report:#}");
}
