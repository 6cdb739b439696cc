//! The events a finished cell sent, rebuilt from its report.
//!
//! A recorded `report.json` holds everything the live events carried, so it
//! can be replayed through any reporter: to draw a past run again, and to
//! test reporters on real runs without Docker.

use super::events::EventKind;
use super::result::{JobReport, RunReport};

/// The events of `report`, in the order the runner sends them.
pub fn replay(report: &RunReport) -> Vec<EventKind> {
    let mut events = vec![EventKind::RunStarted {
        scenario: report.scenario.clone(),
        engine: report.engine.clone(),
        images: Box::new(report.images.clone()),
        jobs: report.jobs.len() as u32,
    }];
    if let super::RunStatus::Unsupported { reason } = &report.status {
        events.push(EventKind::Unsupported { reason: reason.clone() });
    }
    for job in &report.jobs {
        replay_job(job, &mut events);
    }
    events.push(EventKind::RunFinished { report: Box::new(report.clone()) });
    events
}

fn replay_job(job: &JobReport, events: &mut Vec<EventKind>) {
    let number = job.number;
    let commands = (job.commands.len() + job.runs.len()) as u32;
    events.push(EventKind::JobStarted { job: number, name: job.name.clone(), daemon: job.daemon, commands });
    if let (Some(versions), Some(took)) = (&job.versions, job.daemon_ready_secs) {
        events.push(EventKind::DaemonReady {
            job: number,
            versions: Box::new(versions.clone()),
            took: std::time::Duration::from_secs_f64(took),
            note: None,
        });
    }
    for command in &job.commands {
        events.push(EventKind::CommandStarted { job: number, script: command.script.clone() });
        if let Some(build) = &command.build {
            // Live, only steps that printed a result come out while building.
            for step in build.steps.iter().filter(|s| s.step.vertex > 0 && !s.step.evidence.results.is_empty()) {
                let step = Box::new(step.step.clone());
                events.push(EventKind::StepCompleted { job: number, build: build.id.clone(), step });
            }
            for step in &build.steps {
                let step = Box::new(step.clone());
                events.push(EventKind::StepObserved { job: number, build: build.id.clone(), step });
            }
        }
        events.push(EventKind::CommandFinished { job: number, command: Box::new(command.clone()) });
    }
    for verdict in &job.runs {
        events.push(EventKind::RunChecked { job: number, verdict: Box::new(verdict.clone()) });
    }
    for verdict in &job.verdicts {
        let why = job.why_line(verdict).map(str::to_owned);
        events.push(EventKind::ExpectationChecked { job: number, verdict: Box::new(verdict.clone()), why });
    }
    events.push(EventKind::JobFinished { job: Box::new(job.clone()) });
}
