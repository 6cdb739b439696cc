//! Smoke test per offline stand-in engine: a fresh dind with our
//! elevated-rights settings pulls the chef image from the run's registry,
//! builds the hello-world app with the first seed's cargo-chef Dockerfile,
//! and the image it made prints the greeting.

mod common;

use std::path::Path;

use harness::report::render_grid;
use harness::runner::RunStatus;
use rstest::rstest;

#[rstest]
#[case::docker_20_10("20.10.24")]
#[case::docker_26_1("26.1.5")]
#[case::docker_28_5("28.5.2")]
#[tokio::test(flavor = "multi_thread")]
async fn hello_world_builds_and_runs(#[case] version: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smoke");
    let Some(report) = common::run::run_local(&dir, version, None).await else { return };
    let job = &report.jobs[0];
    let versions = job.versions.as_ref().expect("versions reported");
    assert!(versions.engine.starts_with(version), "engine {} is not {version}", versions.engine);
    assert_eq!(report.status, RunStatus::Passed, "{}", render_grid(&report));
    assert_eq!(job.runs.len(), 1, "the image was run once");
}
