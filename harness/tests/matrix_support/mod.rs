//! A small matrix for the report tests, made from the recorded reports of
//! `make scenarios` (tests/fixtures/reports/): the two recorded cells as they
//! are, plus four cells derived from them so that every state appears
//! (known bug present, known bug gone, unsupported, error). Only verdict
//! statuses, engine names and run statuses are changed; steps, logs and
//! evidence stay as recorded.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use harness::evidence::LayerCompare;
use harness::progress::Outcome;
use harness::runner::{RunReport, RunStatus};
use harness::scenario::Status;

pub const BUG: &str = "https://github.com/moby/buildkit/issues/2274";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A recorded report, read through the model.
pub fn recorded(name: &str) -> RunReport {
    let path = fixtures().join("reports").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Both scenarios on 20.10.24, 26.1.5 and 28.5.2: six cells, six states.
pub fn sample_matrix() -> Vec<RunReport> {
    let mount = recorded("cache-mount-copy-26.1.5.json");
    let stages = recorded("ci-cache-from-all-stages-26.1.5.json");

    // 28.5.2: job 3's cook executed as moby/buildkit#2274 predicts.
    let mut known = on_engine(&stages, "28.5.2");
    set_cook_status(&mut known, 3, Status::KnownBug { link: BUG.into() });
    known.status = RunStatus::Passed;

    // 20.10.24: marked with the bug, but job 3's cook was reused.
    let mut gone = on_engine(&stages, "20.10.24");
    set_cook_status(&mut gone, 3, Status::NoLongerReproduces { link: BUG.into() });
    for verdict in gone.jobs[2].verdicts.iter_mut().filter(|v| v.step == "RUN cargo chef cook") {
        verdict.observed = Some(Outcome::Cached);
        verdict.progress = Some(Outcome::Cached);
        verdict.layer = Some(LayerCompare::Same);
    }
    gone.status = RunStatus::Passed;

    let mut unsupported = on_engine(&mount, "20.10.24");
    unsupported.jobs.clear();
    unsupported.duration_secs = 0.0;
    unsupported.status =
        RunStatus::Unsupported { reason: "engine 20.10.24 has no buildx for `--mount=type=cache` here".into() };

    let mut error = on_engine(&mount, "28.5.2");
    error.jobs.truncate(1);
    error.status = RunStatus::Error {
        error_kind: harness::runner::ErrorKind::DaemonNotReady,
        message: "job 2: the dind daemon (harness/dind:28.5.2) did not answer `docker info` within 60 s".into(),
    };

    vec![mount, stages, known, gone, unsupported, error]
}

/// The same cell, as if run on another engine.
pub fn on_engine(report: &RunReport, engine: &str) -> RunReport {
    let mut copy = report.clone();
    copy.engine = engine.into();
    copy.images.engine_version = engine.into();
    copy.images.dind = format!("harness/dind:{engine}");
    copy.out_dir = PathBuf::from(format!("/tmp/matrix/{}-{engine}", report.scenario));
    copy
}

fn set_cook_status(report: &mut RunReport, job: u32, status: Status) {
    let job = report.jobs.iter_mut().find(|j| j.number == job).expect("job");
    for verdict in job.verdicts.iter_mut().filter(|v| v.step == "RUN cargo chef cook") {
        verdict.status = status.clone();
    }
}

/// `n` cells: every scenario × engine pair of a big synthetic matrix, cycling
/// through the six sample cells.
pub fn big_matrix(n: usize) -> Vec<RunReport> {
    let sample = sample_matrix();
    (0..n)
        .map(|i| {
            let mut cell = sample[i % sample.len()].clone();
            cell.scenario = format!("scenario-{:03}", i / 20);
            cell.engine = format!("{}.0.0", 20 + (i % 20));
            cell
        })
        .collect()
}

/// Scrubs what changes between recordings: durations, times, temp paths.
pub fn redact(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r#"time="[0-9.]+""#, r#"time="[secs]""#);
    settings.add_filter(r"\b[0-9]+(\.[0-9]+)? (s|min)\b", "[duration]");
    settings.add_filter(r"DONE [0-9.]+s", "DONE [secs]s");
    settings.bind(f);
}
