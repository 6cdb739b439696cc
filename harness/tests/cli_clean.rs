//! `harness clean` after `kill -9`: a run killed while seeding its registry
//! leaves its containers and the temporary seeding tag; `harness clean
//! --run ID` removes them all, and a second clean finds nothing.

mod common;

use std::time::Duration;

use common::binary::{registry_port, spawn, tags_of, wait_for, BinaryRun};
use harness::engine::{leftovers, require_docker, sweep};

const SCENARIO: &str = "description = \"killed\"\n\n[[job]]\n[[job.command]]\nbuild = \"classic\"\n";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "fault test (Docker, minutes): `make test-faults`, which .ci/run runs"]
async fn clean_removes_what_kill_9_left() {
    if !require_docker().await {
        return;
    }
    let run = BinaryRun::new("killed-run", SCENARIO, "FROM {runtime}\nRUN true\n");
    let (mut child, rx) = spawn(&run, &["--engine", "20.10.24"]);
    let mut seen = Vec::new();
    wait_for(&rx, "ready in", &mut seen, Duration::from_secs(180));
    let port = registry_port(&run.label);
    // Seeding is under way: its temporary tag exists.
    let mut waited = 0;
    while tags_of(&port).is_empty() && waited < 100 {
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    }
    child.kill().unwrap(); // SIGKILL: no teardown at all
    child.wait().unwrap();
    let before = leftovers(&run.label).await.unwrap();
    let tags_before = tags_of(&port);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["clean", "--run", run.label.value()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let after = leftovers(&run.label).await.unwrap();
    let tags_after = tags_of(&port);
    if !after.is_empty() {
        sweep(&run.label).await.unwrap();
    }
    assert!(!before.containers.is_empty(), "kill -9 left the registry: {before:?}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("run {}: removed {} container(s)", run.label, before.containers.len())),
        "{stderr}"
    );
    assert!(after.is_empty(), "left after clean: {after:?}");
    assert!(tags_after.is_empty(), "seeding tags left after clean: {tags_after:?} (before: {tags_before:?})");
    eprintln!("cleaned {before:?} and tags {tags_before:?}");

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["clean", "--run", run.label.value()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stderr)
        .contains("removed 0 container(s), 0 network(s), 0 volume(s), 0 seeding tag(s)"));
}

#[test]
fn clean_refuses_a_bad_run_id() {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_harness")).args(["clean", "--run", "Bad Id"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--run:"), "{}", String::from_utf8_lossy(&out.stderr));
}
