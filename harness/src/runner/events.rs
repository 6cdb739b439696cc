//! What the runner tells its reporters while it works.
//!
//! Reporters never talk to Docker: they only see these events, in order,
//! and the final [`RunReport`](super::RunReport).

use std::time::Duration;

use super::result::{CommandReport, JobReport, RunReport, StepReport};
use crate::catalogue::RunImages;
use crate::engine::EngineVersions;
use crate::progress::Step;
use crate::scenario::{DaemonMode, RunVerdict, Verdict};

/// One thing that happened during a run.
#[derive(Debug)]
pub enum Event<'a> {
    RunStarted {
        scenario: &'a str,
        engine: &'a str,
        images: &'a RunImages,
        jobs: u32,
    },
    /// The scenario cannot run on this engine.
    Unsupported {
        reason: &'a str,
    },
    RegistryReady {
        address: &'a str,
        took: Duration,
    },
    ImageSeeded {
        reference: &'a str,
        took: Duration,
    },
    JobStarted {
        job: u32,
        name: &'a str,
        daemon: DaemonMode,
        commands: u32,
    },
    DaemonReady {
        job: u32,
        versions: &'a EngineVersions,
        took: Duration,
        note: Option<&'a str>,
    },
    CommandStarted {
        job: u32,
        script: &'a str,
    },
    /// A Dockerfile step printed its result while its build runs (the
    /// parser's outcome alone; live views).
    StepCompleted {
        job: u32,
        build: &'a str,
        step: &'a Step,
    },
    /// A Dockerfile step, once its build finished, with the outcome judged
    /// from progress and layer evidence.
    StepObserved {
        job: u32,
        build: &'a str,
        step: &'a StepReport,
    },
    CommandFinished {
        job: u32,
        command: &'a CommandReport,
    },
    ExpectationChecked {
        job: u32,
        verdict: &'a Verdict,
    },
    RunChecked {
        job: u32,
        verdict: &'a RunVerdict,
    },
    JobFinished {
        job: &'a JobReport,
    },
    RunFinished {
        report: &'a RunReport,
    },
}

/// Receives the runner's events.
///
/// Contract: events arrive in the order they happened, from one task; a
/// reporter must not block for long (it runs between Docker calls) and must
/// not fail the run (it handles its own output errors).
pub trait Reporter {
    fn event(&mut self, event: &Event<'_>);
}

/// A reporter that ignores everything (tests, `--quiet`).
pub struct NoReporter;

impl Reporter for NoReporter {
    fn event(&mut self, _event: &Event<'_>) {}
}
