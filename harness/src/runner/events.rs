//! What the runner tells its reporters while it works.
//!
//! Each event is owned and sits in an [`Envelope`] that names its cell, when
//! it happened and how long after the run began, so events of cells running
//! side by side can cross a channel and still be told apart. Reporters never
//! talk to Docker: they only see these events, in order per cell.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::matrix::CellKey;
use super::result::{CommandReport, JobReport, RunReport, StepReport};
use crate::catalogue::RunImages;
use crate::engine::EngineVersions;
use crate::progress::Step;
use crate::scenario::{DaemonMode, RunVerdict, Verdict};

/// One event with where and when it happened.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The cell the event belongs to; `None` for what several cells share
    /// (the scenario's registry and its seeded images).
    pub cell: Option<CellKey>,
    pub timestamp: SystemTime,
    /// Since the run (all cells) began.
    pub elapsed: Duration,
    pub kind: EventKind,
}

/// One thing that happened during a run.
#[derive(Debug, Clone)]
pub enum EventKind {
    RunStarted {
        scenario: String,
        engine: String,
        images: Box<RunImages>,
        jobs: u32,
    },
    /// The scenario cannot run on this engine.
    Unsupported {
        reason: String,
    },
    RegistryReady {
        address: String,
        took: Duration,
    },
    ImageSeeded {
        reference: String,
        took: Duration,
    },
    JobStarted {
        job: u32,
        name: String,
        daemon: DaemonMode,
        commands: u32,
    },
    DaemonReady {
        job: u32,
        versions: Box<EngineVersions>,
        took: Duration,
        note: Option<String>,
    },
    CommandStarted {
        job: u32,
        script: String,
    },
    /// A Dockerfile step printed its result while its build runs (the
    /// parser's outcome alone, which evidence may still revise: for
    /// progress displays, not for a step's final line).
    StepCompleted {
        job: u32,
        build: String,
        step: Box<Step>,
    },
    /// A Dockerfile step once its build finished, with its outcome decided
    /// from every witness ([`crate::evidence`]). Sent exactly once per step.
    StepObserved {
        job: u32,
        build: String,
        step: Box<StepReport>,
    },
    CommandFinished {
        job: u32,
        command: Box<CommandReport>,
    },
    ExpectationChecked {
        job: u32,
        verdict: Box<Verdict>,
        /// Why the step missed (or hit a known bug), from the cache the
        /// jobs pushed: the grid's why-line, shown as the run goes.
        why: Option<String>,
    },
    RunChecked {
        job: u32,
        verdict: Box<RunVerdict>,
    },
    JobFinished {
        job: Box<JobReport>,
    },
    /// The cell's final report.
    RunFinished {
        report: Box<RunReport>,
    },
}

/// A reporter could not go on (a file it writes, a closed terminal).
#[derive(Debug, thiserror::Error)]
#[error("reporter `{reporter}` failed")]
pub struct ReportError {
    pub reporter: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ReportError {
    pub fn new(reporter: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { reporter, source: source.into() }
    }
}

/// Receives the runner's events.
///
/// Contract: events arrive in the order they happened within a cell (cells
/// may interleave); a reporter must not block for long, since it runs
/// between Docker calls. Returning an error means this reporter cannot go
/// on: [`Fanout`] sends it nothing more and hands the error back when the run
/// ends (exit code 3), while the run itself goes on so that the other
/// reporters still see it and every container is still stopped.
pub trait Reporter: Send {
    fn report(&mut self, event: &Envelope) -> Result<(), ReportError>;
}

/// A reporter that ignores everything (tests).
pub struct NoReporter;

impl Reporter for NoReporter {
    fn report(&mut self, _event: &Envelope) -> Result<(), ReportError> {
        Ok(())
    }
}

/// Sends every event to each of its reporters, in order; stamps envelopes.
pub(crate) struct Fanout {
    reporters: Vec<Box<dyn Reporter>>,
    failed: Vec<ReportError>,
    started: Instant,
}

impl Fanout {
    pub(crate) fn new(reporters: Vec<Box<dyn Reporter>>) -> Self {
        Self { reporters, failed: Vec::new(), started: Instant::now() }
    }

    /// Wraps `kind` in an envelope for `cell` and hands it to every reporter
    /// still going.
    pub(crate) fn emit(&mut self, cell: Option<&CellKey>, kind: EventKind) {
        let envelope =
            Envelope { cell: cell.cloned(), timestamp: SystemTime::now(), elapsed: self.started.elapsed(), kind };
        self.send(&envelope);
    }

    /// Hands a ready envelope to every reporter still going.
    pub(crate) fn send(&mut self, envelope: &Envelope) {
        let mut i = 0;
        while i < self.reporters.len() {
            match self.reporters[i].report(envelope) {
                Ok(()) => i += 1,
                Err(e) => {
                    tracing::warn!("{e}: it gets no more events");
                    self.reporters.remove(i);
                    self.failed.push(e);
                }
            }
        }
    }

    #[cfg(test)]
    fn finish(self) -> Vec<ReportError> {
        self.failed
    }
}

/// Where a cell's code sends its events: a handle on the run's [`Fanout`],
/// cheap to clone, stamped with the cell it speaks for.
#[derive(Clone)]
pub struct Events {
    fanout: Arc<Mutex<Fanout>>,
    cell: Option<CellKey>,
}

impl Events {
    /// Events of the run as a whole, sent to `reporters`.
    pub fn new(reporters: Vec<Box<dyn Reporter>>) -> Self {
        Self { fanout: Arc::new(Mutex::new(Fanout::new(reporters))), cell: None }
    }

    /// The same reporters, for events of `cell`.
    pub fn for_cell(&self, cell: CellKey) -> Self {
        Self { fanout: Arc::clone(&self.fanout), cell: Some(cell) }
    }

    pub fn emit(&self, kind: EventKind) {
        // A reporter that panicked poisons the lock; the others still report.
        let mut fanout = self.fanout.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        fanout.emit(self.cell.as_ref(), kind);
    }

    /// Errors of reporters that stopped during the run.
    pub fn finish(self) -> Vec<ReportError> {
        let mut fanout = self.fanout.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut fanout.failed)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").field("cell", &self.cell).finish_non_exhaustive()
    }
}

impl fmt::Debug for Fanout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fanout").field("reporters", &self.reporters.len()).field("failed", &self.failed).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Count(usize);
    impl Reporter for Count {
        fn report(&mut self, _: &Envelope) -> Result<(), ReportError> {
            self.0 += 1;
            Ok(())
        }
    }

    struct FailsSecond(usize);
    impl Reporter for FailsSecond {
        fn report(&mut self, _: &Envelope) -> Result<(), ReportError> {
            self.0 += 1;
            if self.0 == 2 {
                return Err(ReportError::new("fails-second", "disk full"));
            }
            assert!(self.0 < 2, "a failed reporter gets no more events");
            Ok(())
        }
    }

    #[test]
    fn a_failing_reporter_is_dropped_and_its_error_kept() {
        let mut fanout = Fanout::new(vec![Box::new(FailsSecond(0)), Box::new(Count(0))]);
        for _ in 0..3 {
            fanout.emit(None, EventKind::Unsupported { reason: "x".into() });
        }
        let failed = fanout.finish();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].to_string(), "reporter `fails-second` failed");
    }
}
