//! The seed reproductions, run for real on the default stand-in engine
//! (26.1.5, which shows the inline-cache bug): a fresh dind per CI job for
//! `ci-inline-cache`, a warm one for `cache-mount-copy`.

mod common;

use std::path::Path;

use harness::cache::MissCause;
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
    let Some(kept) = common::run::run_keeping_registry(&scenario_dir("ci-inline-cache"), ENGINE, Some(3)).await else {
        return;
    };
    diagnose_reads_the_run_registry(&kept);
    let report = kept.report.clone();
    kept.finish().await;
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
    cook_miss_is_a_result_lost_in_job_2(&report, &grid);
}

/// `harness diagnose --image` on the builder image each job pushed (by
/// digest, from the registry the run kept alive), with the run's CA and
/// the scenario's login in a Docker config: it names the result job 2's
/// export lost, and never prints the password.
fn diagnose_reads_the_run_registry(kept: &common::run::KeptRun) {
    use base64::Engine as _;
    let registry = kept.shared.registry();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), registry.ca_pem()).unwrap();
    let (user, password) = registry.credentials().expect("ci-inline-cache logs in");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let config = serde_json::json!({"auths": {registry.host_address(): {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let refs: Vec<String> = kept
        .report
        .jobs
        .iter()
        .map(|job| {
            let builder = job.caches.iter().find(|c| c.build.as_deref() == Some("builder")).expect("builder read");
            let repository = builder.reference.split_once('/').unwrap().1.rsplit_once(':').unwrap().0;
            format!("{}/{repository}@{}", registry.host_address(), builder.digest.as_deref().unwrap())
        })
        .collect();
    let out = assert_cmd::Command::cargo_bin("harness")
        .unwrap()
        .env("DOCKER_CONFIG", dir.path())
        .args(["diagnose", "--ca", dir.path().join("ca.pem").to_str().unwrap(), "--image"])
        .args(&refs)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let blocks: Vec<&str> = stdout.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{stdout}");
    assert!(blocks[1].contains("lost result: the key of `RUN cargo chef cook"), "{stdout}");
    assert!(!stdout.contains(password) && !stderr.contains(password), "the password was printed");
}

/// The runner read every pushed ref back after each job; job 3's cook miss
/// is explained as a result job 2's builder export lost, with its counts.
fn cook_miss_is_a_result_lost_in_job_2(report: &RunReport, grid: &str) {
    for job in &report.jobs {
        let targets: Vec<&str> = job.caches.iter().filter_map(|c| c.build.as_deref()).collect();
        assert_eq!(targets, ["chef", "planner", "builder"], "job {}: {:#?}", job.number, job.caches);
        assert!(job.caches.iter().all(|c| c.error.is_none() && c.export.is_some()), "{:#?}", job.caches);
    }
    let builder = |n: usize| {
        let cache = report.jobs[n].caches.iter().find(|c| c.build.as_deref() == Some("builder")).unwrap();
        cache.export.clone().unwrap()
    };
    let (job2, job3) = (builder(1), builder(2));
    let cook =
        |e: &harness::cache::JobCache| e.steps.iter().find(|s| s.step.contains("cargo chef cook")).cloned().unwrap();
    let figures = format!(
        "job 2: {} records, {} with layers, cook {:?}; job 3: {} records, {} with layers, cook {:?}",
        job2.records,
        job2.records_with_layers,
        cook(&job2),
        job3.records,
        job3.records_with_layers,
        cook(&job3)
    );
    eprintln!("{figures}");
    assert_eq!(cook(&job2).key, cook(&job3).key, "{figures}");
    assert!(!cook(&job2).has_layer && cook(&job3).has_layer, "{figures}");

    let misses: Vec<&harness::cache::Explanation> =
        report.jobs[2].misses.iter().filter(|m| m.step.contains("cargo chef cook")).collect();
    let [miss] = misses[..] else { panic!("one cook miss in job 3: {:#?}", report.jobs[2].misses) };
    match &miss.cause {
        MissCause::LostResult { lost_in_job, records, records_with_layers, key_present, .. } => {
            assert_eq!((*lost_in_job, *key_present), (2, true), "{miss:#?}");
            assert_eq!((*records, *records_with_layers), (job2.records, job2.records_with_layers), "{miss:#?}");
        }
        other => panic!("expected a lost result: {other:#?}\n{grid}"),
    }
    let why = format!(
        "why: lost result: job 2 exported {} records, {} with layers; the key of `RUN cargo chef cook",
        job2.records, job2.records_with_layers
    );
    assert!(grid.contains(&why), "{grid}");
    assert!(report.jobs[1].misses.iter().all(|m| !m.step.contains("cargo chef cook")), "{:#?}", report.jobs[1].misses);
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

/// The misses of job `job` on steps containing `step`, exactly one.
fn one_miss<'a>(report: &'a RunReport, job: u32, step: &str, grid: &str) -> &'a harness::cache::Explanation {
    let found: Vec<&harness::cache::Explanation> = report
        .jobs
        .iter()
        .filter(|j| j.number == job)
        .flat_map(|j| &j.misses)
        .filter(|m| m.step.contains(step))
        .collect();
    let [miss] = found[..] else { panic!("one miss of `{step}` in job {job}: {found:#?}\n{grid}") };
    miss
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 2 min: `make test-slow`"]
async fn dependency_change_explains_cook_by_the_changed_recipe() {
    let Some(report) = common::run::run_local(&scenario_dir("dependency-change"), ENGINE, None).await else {
        return;
    };
    let grid = render_grid(&report);
    assert_eq!(report.status, RunStatus::Passed, "{grid}");
    let miss = one_miss(&report, 3, "cargo chef cook", &grid);
    let MissCause::ChangedInput { first_change, changed_paths, via, .. } = &miss.cause else {
        panic!("expected a changed input: {miss:#?}")
    };
    assert!(via.iter().any(|s| s.contains("COPY --from=planner")), "{miss:#?}");
    assert!(first_change.contains("[planner 1/2] COPY . ."), "{miss:#?}");
    assert!(changed_paths.contains(&"Cargo.toml".to_owned()), "{miss:#?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "about 1.5 min: `make test-slow`"]
async fn local_source_edit_explains_the_final_build_by_the_edited_source() {
    let Some(report) = common::run::run_local(&scenario_dir("local-source-edit"), ENGINE, Some(2)).await else {
        return;
    };
    let grid = render_grid(&report);
    assert_eq!(report.status, RunStatus::Passed, "{grid}");
    let miss = one_miss(&report, 2, "cargo build --release", &grid);
    let MissCause::ChangedInput { first_change, changed_paths, .. } = &miss.cause else {
        panic!("expected a changed input: {miss:#?}")
    };
    assert!(first_change.contains("COPY . ."), "{miss:#?}");
    assert_eq!(changed_paths, &["src/main.rs"], "{miss:#?}");
    // Cook was reused: nothing to explain there.
    assert!(report.jobs[1].misses.iter().all(|m| !m.step.contains("cargo chef cook")), "{grid}");
}
