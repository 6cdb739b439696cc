//! Runs a scenario for real on an offline stand-in engine, the way
//! `harness run --images local` does, and checks that nothing is left over.

use std::path::Path;
use std::time::Duration;

use harness::catalogue::{workspace_root, ResolvedMode};
use harness::engine::{leftovers, require_docker, require_images, Rights, RunLabel};
use harness::runner::{run_cell, Events, ImageStore, RunOptions, RunReport, Shared};
use harness::scenario::load_scenario;

/// Runs the scenario in `dir` on stand-in `version` (first `max_jobs` jobs),
/// asserts the run's containers are gone, and returns the report. `None`
/// when Docker tests are skipped locally (never in CI).
pub async fn run_local(dir: &Path, version: &str, max_jobs: Option<u32>) -> Option<RunReport> {
    let kept = run_keeping_registry(dir, version, max_jobs).await?;
    let report = kept.report.clone();
    kept.finish().await;
    Some(report)
}

/// A run whose registry is still up, for tests that read what the jobs
/// pushed; [`KeptRun::finish`] stops it and checks nothing is left.
pub struct KeptRun {
    pub report: RunReport,
    pub shared: Shared,
    label: RunLabel,
    out: tempfile::TempDir,
}

impl KeptRun {
    pub async fn finish(self) {
        self.shared.stop().await.expect("registry stops");
        let left = leftovers(&self.label).await.unwrap();
        assert!(left.is_empty(), "the run left resources behind: {left:?}");
        // Keep the logs of a failing run where a person can read them.
        if !matches!(self.report.status, harness::runner::RunStatus::Passed) {
            let kept = self.out.keep();
            eprintln!("logs kept in {}", kept.display());
        }
    }
}

/// [`run_local`] without stopping the registry.
pub async fn run_keeping_registry(dir: &Path, version: &str, max_jobs: Option<u32>) -> Option<KeptRun> {
    if !require_docker().await {
        return None;
    }
    let catalogue = harness::images::pinned_catalogue().unwrap();
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
    Some(KeptRun { report, shared, label, out })
}
