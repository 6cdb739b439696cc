//! Runs one cell (one scenario on one engine) against the scenario's shared
//! registry: plan, then each planned job in turn, then the report.
//!
//! Infrastructure failures do not lose the jobs already done: they end the
//! cell with [`RunStatus::Error`] (its kind kept) and the report keeps what
//! was seen. The daemon is stopped on every path out.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::error::RunError;
use super::events::{EventKind, Events};
use super::interrupt;
use super::job::JobRunner;
use super::matrix::ImageStore;
use super::plan::{Plan, Target};
use super::result::{JobReport, RunReport, RunStatus, REPORT_SCHEMA};
use super::shared::Shared;
use super::workspace::Workspace;
use super::RunOptions;
use crate::engine::CarryVolume;
use crate::scenario::Scenario;

/// Runs `scenario` on `opts.engine` and returns its report; never fails:
/// errors become [`RunStatus::Error`]. Sends `RunFinished` last.
pub async fn run_cell(scenario: &Scenario, opts: &RunOptions, shared: &Shared, events: &Events) -> RunReport {
    let started = Instant::now();
    let mut report = new_report(scenario, opts);
    let target = Target { engine: &opts.engine, store: opts.store };
    let plan = Plan::build_on(scenario, target, shared.values().clone(), opts.max_jobs);
    events.emit(EventKind::RunStarted {
        scenario: scenario.name.clone(),
        engine: opts.engine.version.clone(),
        images: Box::new(opts.images.clone()),
        jobs: plan.jobs.len() as u32,
    });
    if let Some(reason) = &plan.unsupported {
        mark_unsupported(&mut report, reason, events);
    } else {
        report.status = match run_jobs(scenario, &plan, opts, shared, events, &mut report.jobs).await {
            Ok(()) => RunStatus::from_jobs(&report.jobs),
            Err(e) => RunStatus::error(&e),
        };
    }
    report.duration_secs = started.elapsed().as_secs_f64();
    events.emit(EventKind::RunFinished { report: Box::new(report.clone()) });
    report
}

/// The report of a cell that cannot run, without a registry: a matrix
/// whose cells of a scenario are all unsupported starts none for it.
pub fn unsupported_cell(scenario: &Scenario, opts: &RunOptions, reason: &str, events: &Events) -> RunReport {
    let mut report = new_report(scenario, opts);
    events.emit(EventKind::RunStarted {
        scenario: scenario.name.clone(),
        engine: opts.engine.version.clone(),
        images: Box::new(opts.images.clone()),
        jobs: scenario.jobs().take(opts.max_jobs.map_or(usize::MAX, |n| n as usize)).count() as u32,
    });
    mark_unsupported(&mut report, reason, events);
    events.emit(EventKind::RunFinished { report: Box::new(report.clone()) });
    report
}

fn mark_unsupported(report: &mut RunReport, reason: &str, events: &Events) {
    events.emit(EventKind::Unsupported { reason: reason.to_owned() });
    report.status = RunStatus::Unsupported { reason: reason.to_owned() };
}

async fn run_jobs(
    scenario: &Scenario,
    plan: &Plan<'_>,
    opts: &RunOptions,
    shared: &Shared,
    events: &Events,
    jobs: &mut Vec<JobReport>,
) -> Result<(), RunError> {
    let rewrites = shared.rewrites(&opts.engine.version, opts.store == ImageStore::Containerd);
    let workspace = Workspace::create(&opts.root, scenario)
        .map_err(|source| RunError::Workspace { fixture: scenario.fixture.clone(), source })?
        .with_rewrites(rewrites, scenario);
    let carry = match &plan.carry {
        Some(path) => Some(CarryVolume::create(&opts.label, path).await?),
        None => None,
    };
    let mut runner = JobRunner::new(opts, shared, events, workspace, &plan.dockerfiles, scenario).with_carry(carry);
    let mut outcome = Ok(());
    for job in &plan.jobs {
        if let Err(e) = interrupt::check(&format!("the run, before job {}", job.number)) {
            outcome = Err(e);
            break;
        }
        match runner.run(job).await {
            Ok(report) => {
                events.emit(EventKind::JobFinished { job: Box::new(report.clone()) });
                jobs.push(report);
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    runner.stop().await;
    outcome
}

/// A report with no jobs yet.
fn new_report(scenario: &Scenario, opts: &RunOptions) -> RunReport {
    RunReport {
        schema: REPORT_SCHEMA,
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        links: scenario.links.clone(),
        engine: opts.engine.version.clone(),
        store: opts.store,
        images: opts.images.clone(),
        images_reason: opts.images_reason.clone(),
        started_at: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        duration_secs: 0.0,
        status: RunStatus::Passed,
        jobs: Vec::new(),
        out_dir: opts.out_dir.clone(),
    }
}

/// The report of a cell that could not start (its registry failed).
pub(crate) fn start_failed(scenario: &Scenario, opts: &RunOptions, error: &RunError) -> RunReport {
    RunReport { status: RunStatus::error(error), ..new_report(scenario, opts) }
}
