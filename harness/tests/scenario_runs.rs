//! The seed reproductions, run for real on the default stand-in engine
//! (26.1.5, which shows the inline-cache bug): a fresh dind per CI job for
//! `ci-inline-cache`, a warm one for `cache-mount-copy`.

mod common;

use std::path::Path;

use harness::report::render_grid;
use harness::runner::{RunReport, RunStatus};
use harness::scenario::Status;

const ENGINE: &str = "26.1.5";

fn scenario_dir(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name)
}

/// The verdict statuses of expectations on `step` (a substring of the
/// instruction), job by job.
fn statuses(report: &RunReport, step: &str) -> Vec<(u32, Status)> {
    report
        .jobs
        .iter()
        .flat_map(|job| &job.verdicts)
        .filter(|v| v.step.contains(step))
        .map(|v| (v.job, v.status.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ci_inline_cache_alternates_on_26_1() {
    // Three jobs are the fewest that show the alternation.
    let Some(report) = common::run::run_local(&scenario_dir("ci-inline-cache"), ENGINE, Some(3)).await else {
        return;
    };
    let grid = render_grid(&report);
    assert_eq!(report.status, RunStatus::Passed, "{grid}");
    assert_eq!(report.jobs.len(), 3, "{grid}");
    let bug = "https://github.com/moby/buildkit/issues/2274".to_owned();
    assert_eq!(
        statuses(&report, "cargo chef cook"),
        [(1, Status::Pass), (2, Status::Pass), (3, Status::KnownBug { link: bug })],
        "{grid}"
    );
    for job in &report.jobs {
        assert!(job.runs.iter().all(|r| r.status == Status::Pass), "job {} ran a stale binary\n{grid}", job.number);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_mount_copy_ships_the_stale_binary_only_when_naive() {
    let Some(report) = common::run::run_local(&scenario_dir("cache-mount-copy"), ENGINE, None).await else {
        return;
    };
    let grid = render_grid(&report);
    assert_eq!(report.status, RunStatus::Passed, "{grid}");
    // Every job ran both images, and every run check held: the naive image
    // printed the stale greeting, the fixed one the edited greeting.
    let runs: usize = report.jobs.iter().map(|j| j.runs.len()).sum();
    assert!(runs >= 2 * report.jobs.len() - 2, "too few runs checked\n{grid}");
}
