//! Smoke test per offline stand-in engine: a fresh dind with our
//! elevated-rights settings pulls the chef image from the run's registry,
//! builds the hello-world app with the first seed's cargo-chef Dockerfile,
//! and the image it made prints the greeting.

use std::path::PathBuf;
use std::time::Duration;

use harness::catalogue::{workspace_root, Catalogue, ResolvedMode};
use harness::engine::{leftovers, require_docker, require_images, Rights, RunLabel};
use harness::runner::{run_scenario, NoReporter, RunOptions, RunStatus, Shared};
use harness::scenario::load_scenario;
use rstest::rstest;

#[rstest]
#[case::docker_20_10("20.10.24")]
#[case::docker_26_1("26.1.5")]
#[case::docker_28_5("28.5.2")]
#[tokio::test(flavor = "multi_thread")]
async fn hello_world_builds_and_runs(#[case] version: &str) {
    if !require_docker().await {
        return;
    }
    let root = workspace_root();
    let catalogue = Catalogue::load_default().unwrap();
    let images = catalogue.resolve(version, ResolvedMode::Local).unwrap();
    require_images(&[&images.dind, &images.registry, &images.chef, &images.runtime]).await;
    let scenario = load_scenario(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smoke"), &catalogue)
        .expect("the smoke scenario loads");
    let out = tempfile::tempdir().unwrap();
    let label = RunLabel::unique();
    let options = RunOptions {
        engine: catalogue.engine(version).unwrap().clone(),
        images: images.clone(),
        images_reason: "test".into(),
        root,
        out_dir: out.path().to_owned(),
        command_timeout: Duration::from_secs(900),
        rights: Rights::Auto,
        label: label.clone(),
    };

    let shared = Shared::start(&scenario, &images, &label, &mut NoReporter).await.expect("registry starts and is seeded");
    let report = run_scenario(&scenario, &options, &shared, &mut NoReporter).await;
    shared.stop().await.expect("registry stops");

    let job = &report.jobs[0];
    let versions = job.versions.as_ref().expect("versions reported");
    assert!(versions.engine.starts_with(version), "engine {} is not {version}", versions.engine);
    assert_eq!(report.status, RunStatus::Passed, "{}", harness::report::render_grid(&report));
    assert_eq!(job.runs.len(), 1);
    let left = leftovers(&label).await.unwrap();
    assert!(left.is_empty(), "the run left resources behind: {left:?}");
}
