//! Runs a scenario for real on an offline stand-in engine, the way
//! `harness run --images local` does, and checks that nothing is left over.

use std::path::Path;
use std::time::Duration;

use harness::catalogue::{workspace_root, Catalogue, ResolvedMode};
use harness::engine::{leftovers, require_docker, require_images, Rights, RunLabel};
use harness::runner::{run_cell, Events, ImageStore, RunOptions, RunReport, Shared};
use harness::scenario::load_scenario;

/// Runs the scenario in `dir` on stand-in `version` (first `max_jobs` jobs),
/// asserts the run's containers are gone, and returns the report. `None`
/// when Docker tests are skipped locally (never in CI).
pub async fn run_local(dir: &Path, version: &str, max_jobs: Option<u32>) -> Option<RunReport> {
    if !require_docker().await {
        return None;
    }
    let catalogue = Catalogue::load_default().unwrap();
    let images = catalogue.resolve(version, ResolvedMode::Local).unwrap();
    require_images(&[&images.dind, &images.registry, &images.chef, &images.runtime]).await;
    let scenario = load_scenario(dir, &catalogue).expect("the scenario loads");
    let out = tempfile::tempdir().unwrap();
    let label = RunLabel::unique();
    let options = RunOptions {
        engine: catalogue.engine(version).unwrap().clone(),
        store: ImageStore::declared(&scenario),
        images: images.clone(),
        images_reason: "test".into(),
        root: workspace_root(),
        out_dir: out.path().to_owned(),
        command_timeout: Duration::from_secs(900),
        rights: Rights::Auto,
        label: label.clone(),
        max_jobs,
    };
    let events = Events::new(Vec::new());
    let shared = Shared::start(&scenario, &images, &label, &events).await.expect("registry starts and is seeded");
    let report = run_cell(&scenario, &options, &shared, &events).await;
    shared.stop().await.expect("registry stops");
    let left = leftovers(&label).await.unwrap();
    assert!(left.is_empty(), "the run left resources behind: {left:?}");
    // Keep the logs of a failing run where a person can read them.
    if !matches!(report.status, harness::runner::RunStatus::Passed) {
        let kept = out.keep();
        eprintln!("logs kept in {}", kept.display());
    }
    Some(report)
}
