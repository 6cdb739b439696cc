//! What one cell of the matrix (a scenario on an engine) amounts to, decided
//! once for every matrix report: its state, and the findings that explain it
//! (failed expectations with their log excerpt, known bugs, bugs gone).
//!
//! JUnit, Markdown and HTML all read these values; none of them re-weighs a
//! verdict.

use std::fmt;

use crate::runner::{JobReport, RunReport, RunStatus, StepReport};
use crate::scenario::{Status, Verdict};

/// Most output lines of a step quoted under a finding.
const EXCERPT_LINES: usize = 8;

/// The state a cell is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellState {
    /// Every expectation held, and no known bug was involved.
    AsExpected,
    /// Every expectation held, counting a known upstream bug that reproduced.
    KnownBug,
    /// Passed, but a known upstream bug no longer reproduces: news worth a look.
    BugGone,
    /// At least one expectation or run check failed.
    Failed,
    /// The scenario does not run on this engine.
    Unsupported,
    /// Docker, an engine or the registry failed before the scenario could tell.
    Error,
}

impl CellState {
    /// Every state, in legend order.
    pub const ALL: [CellState; 6] = [
        CellState::AsExpected,
        CellState::KnownBug,
        CellState::BugGone,
        CellState::Failed,
        CellState::Unsupported,
        CellState::Error,
    ];

    /// Decides a cell's state from its report. A bug that no longer
    /// reproduces outranks one that does: it is what a nightly must show.
    pub fn of(report: &RunReport) -> Self {
        match &report.status {
            // Stopped before the scenario could tell, like an error.
            RunStatus::Error { .. } | RunStatus::Interrupted { .. } => Self::Error,
            RunStatus::Unsupported { .. } => Self::Unsupported,
            RunStatus::Failed { .. } => Self::Failed,
            RunStatus::Passed => {
                let statuses = || report.jobs.iter().flat_map(verdict_statuses);
                if statuses().any(|s| matches!(s, Status::NoLongerReproduces { .. })) {
                    Self::BugGone
                } else if statuses().any(|s| matches!(s, Status::KnownBug { .. })) {
                    Self::KnownBug
                } else {
                    Self::AsExpected
                }
            }
        }
    }

    /// Short text shown in a matrix cell; readable without colour.
    pub fn label(self) -> &'static str {
        match self {
            Self::AsExpected => "as expected",
            Self::KnownBug => "known bug present",
            Self::BugGone => "known bug gone",
            Self::Failed => "failed",
            Self::Unsupported => "unsupported",
            Self::Error => "error",
        }
    }

    /// A symbol in front of the label, the same in every report.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::AsExpected => "✓",
            Self::KnownBug => "!",
            Self::BugGone => "↑",
            Self::Failed => "✗",
            Self::Unsupported => "–",
            Self::Error => "⚠",
        }
    }

    /// One sentence for legends.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::AsExpected => "every expectation held",
            Self::KnownBug => "held, counting a known upstream bug that still reproduces",
            Self::BugGone => "a known upstream bug no longer reproduces on this engine: check and update the scenario",
            Self::Failed => "an expectation or run check did not hold",
            Self::Unsupported => "the scenario does not run on this engine",
            Self::Error => "the engine, Docker or the registry failed before the scenario could tell",
        }
    }

    /// Stable identifier (CSS classes, JUnit types).
    pub fn slug(self) -> &'static str {
        match self {
            Self::AsExpected => "as-expected",
            Self::KnownBug => "known-bug",
            Self::BugGone => "bug-gone",
            Self::Failed => "failed",
            Self::Unsupported => "unsupported",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for CellState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.symbol(), self.label())
    }
}

fn verdict_statuses(job: &JobReport) -> impl Iterator<Item = &Status> {
    job.verdicts.iter().map(|v| &v.status).chain(job.runs.iter().map(|r| &r.status))
}

/// Why a finding is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// An expectation, run check or job that failed.
    Failed,
    /// A known upstream bug reproduced (the link).
    KnownBug(String),
    /// A known upstream bug did not reproduce (the link).
    BugGone(String),
}

/// One thing worth telling about a cell, with what to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    pub job: u32,
    /// The step as BuildKit named it, `run IMAGE`, or `job` for an early stop.
    pub step: String,
    pub expected: String,
    pub observed: String,
    /// The last lines of the step's output, its one-line reason first.
    pub excerpt: Vec<String>,
    /// The command log holding the whole output, when known.
    pub log: Option<String>,
}

impl Finding {
    /// `job 3, [builder 2/4] RUN cargo chef cook: expected reused, observed executed`.
    pub fn headline(&self) -> String {
        format!("job {}, {}: expected {}, observed {}", self.job, self.step, self.expected, self.observed)
    }
}

/// Every finding of a cell, job by job: failures, known bugs and bugs gone,
/// then the run-wide error when the cell ended in one.
pub fn findings(report: &RunReport) -> Vec<Finding> {
    let mut out = Vec::new();
    for job in &report.jobs {
        out.extend(job.verdicts.iter().filter_map(|v| verdict_finding(job, v)));
        for run in job.runs.iter().filter(|r| !r.failures.is_empty() || r.status != Status::Pass) {
            let Some(kind) = kind_of(&run.status) else { continue };
            out.push(Finding {
                kind,
                job: job.number,
                step: format!("run {}", run.image),
                expected: run.expected.join(", "),
                observed: if run.failures.is_empty() { "as expected".into() } else { run.failures.join(", ") },
                excerpt: Vec::new(),
                log: None,
            });
        }
        if let Some(error) = &job.error {
            out.push(Finding {
                kind: FindingKind::Failed,
                job: job.number,
                step: "job".into(),
                expected: "every command that may not fail succeeds".into(),
                observed: error.clone(),
                excerpt: Vec::new(),
                log: job
                    .commands
                    .iter()
                    .rfind(|c| c.exit_code != 0 && !c.may_fail)
                    .map(|c| c.log.display().to_string()),
            });
        }
    }
    out
}

fn kind_of(status: &Status) -> Option<FindingKind> {
    match status {
        Status::Pass | Status::Unsupported { .. } => None,
        Status::Fail => Some(FindingKind::Failed),
        Status::KnownBug { link } => Some(FindingKind::KnownBug(link.clone())),
        Status::NoLongerReproduces { link } => Some(FindingKind::BugGone(link.clone())),
    }
}

fn verdict_finding(job: &JobReport, verdict: &Verdict) -> Option<Finding> {
    let kind = kind_of(&verdict.status)?;
    let seen = matched_step(job, verdict);
    let mut excerpt: Vec<String> = seen.as_ref().map(|(s, _)| s.step.why.clone()).into_iter().collect();
    excerpt.extend(verdict.notes.iter().cloned());
    if let Some(why) = why_line(job, verdict) {
        excerpt.push(format!("why: {why}"));
    }
    if let Some((step, _)) = &seen {
        let tail = &step.step.evidence.output_tail;
        excerpt.extend(tail[tail.len().saturating_sub(EXCERPT_LINES)..].iter().cloned());
        if let Some(message) = step.step.evidence.error() {
            excerpt.push(format!("ERROR: {message}"));
        }
    }
    Some(Finding {
        kind,
        job: verdict.job,
        step: format!("{}: {}", verdict.build, verdict.matched.as_deref().unwrap_or(&verdict.step)),
        expected: verdict.expected.to_string(),
        observed: verdict.observed.map_or_else(|| "nothing".to_owned(), |o| o.to_string()),
        excerpt,
        log: seen.map(|(_, log)| log),
    })
}

/// The cause the cache hook found for a verdict's step, shown under an
/// unexpected miss and a known-bug hit (an expected miss needs no why).
pub(crate) fn why_line<'a>(job: &'a JobReport, verdict: &Verdict) -> Option<&'a str> {
    job.why_line(verdict)
}

/// The step a verdict matched, with the log of the command that built it.
fn matched_step<'a>(job: &'a JobReport, verdict: &Verdict) -> Option<(&'a StepReport, String)> {
    let matched = verdict.matched.as_deref()?;
    job.commands.iter().find_map(|command| {
        let build = command.build.as_ref().filter(|b| b.id == verdict.build)?;
        let step = build.steps.iter().find(|s| s.step.name() == matched)?;
        Some((step, command.log.display().to_string()))
    })
}
