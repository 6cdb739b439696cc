//! The result model: one scenario on one engine, as every report reads it.
//!
//! It is plain data, serialised as the run's `report.json` (versioned by
//! [`REPORT_SCHEMA`]); the terminal grid, and later JUnit, Markdown and HTML,
//! are views of it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{ErrorKind, RunError};
use super::matrix::ImageStore;
use crate::cache::{CacheSource, Explanation, JobCache};
use crate::catalogue::RunImages;
use crate::engine::EngineVersions;
use crate::scenario::{DaemonMode, EditReport, RunVerdict, Verdict};

/// Version of the JSON shape; bumped on incompatible changes.
pub const REPORT_SCHEMA: u32 = 1;

/// One scenario run on one engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub schema: u32,
    pub scenario: String,
    pub description: String,
    pub links: Vec<String>,
    pub engine: String,
    /// The image store of the cell's daemons; reports written before the
    /// store axis have none and read as classic.
    #[serde(default)]
    pub store: ImageStore,
    pub images: RunImages,
    /// Why this image column was used (`--images auto` explains itself).
    pub images_reason: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_at: u64,
    pub duration_secs: f64,
    pub status: RunStatus,
    pub jobs: Vec<JobReport>,
    /// Where logs and this report were written.
    pub out_dir: PathBuf,
}

/// How the run ended as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunStatus {
    /// Every expectation held (known bugs reproduced count as held).
    Passed,
    /// At least one expectation or run check failed.
    Failed { failures: usize },
    /// The scenario does not run on this engine.
    Unsupported { reason: String },
    /// SIGINT or SIGTERM stopped the run; the jobs that finished are kept.
    Interrupted {
        /// What was under way (`job 2: docker build ...`, `seeding`).
        message: String,
    },
    /// Docker, an engine or the registry failed; the jobs so far are kept.
    Error {
        /// What failed (`timeout`, `daemon_not_ready`, ...).
        #[serde(default)]
        error_kind: ErrorKind,
        message: String,
    },
}

impl RunStatus {
    /// Derives the status from the jobs' verdicts.
    pub fn from_jobs(jobs: &[JobReport]) -> Self {
        let failures = jobs.iter().map(JobReport::failures).sum();
        if failures == 0 {
            Self::Passed
        } else {
            Self::Failed { failures }
        }
    }

    /// The status of a run that `error` ended.
    pub fn error(error: &RunError) -> Self {
        match error {
            RunError::Interrupted { .. } => Self::Interrupted { message: error.to_string() },
            _ => Self::Error { error_kind: error.kind(), message: super::error::chain(error) },
        }
    }
}

impl std::fmt::Display for RunStatus {
    /// The one wording of a run's status, shared by every view.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Passed => f.write_str("passed"),
            Self::Failed { failures } => write!(f, "FAILED ({failures} failure(s))"),
            Self::Unsupported { reason } => write!(f, "unsupported: {reason}"),
            Self::Interrupted { message } => write!(f, "INTERRUPTED: {message}"),
            Self::Error { error_kind: ErrorKind::Other, message } => write!(f, "ERROR: {message}"),
            Self::Error { error_kind, message } => write!(f, "ERROR ({error_kind}): {message}"),
        }
    }
}

/// One job (one CI job, or one round on a warm laptop daemon).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobReport {
    pub number: u32,
    pub name: String,
    pub daemon: DaemonMode,
    /// Versions of the daemon the job ran on.
    pub versions: Option<EngineVersions>,
    /// Seconds a fresh daemon took to answer `docker info` (absent when warm).
    pub daemon_ready_secs: Option<f64>,
    /// Edits applied to the build context before the job.
    pub edits: Vec<EditReport>,
    pub commands: Vec<CommandReport>,
    pub verdicts: Vec<Verdict>,
    pub runs: Vec<RunVerdict>,
    /// Set when the job stopped early (a command that may not fail failed).
    pub error: Option<String>,
    pub duration_secs: f64,
    /// The cache every image and cache ref the job pushed carries, read
    /// back from the run's registry after the job.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caches: Vec<CacheReport>,
    /// Why steps missed where a hit was possible (a step that executed
    /// although an earlier job ran it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<Explanation>,
}

impl JobReport {
    /// Plain failures: verdicts, run checks and an early stop.
    pub fn failures(&self) -> usize {
        let verdicts = self.verdicts.iter().filter(|v| v.status.is_failure()).count();
        let runs = self.runs.iter().filter(|r| r.status.is_failure()).count();
        verdicts + runs + usize::from(self.error.is_some())
    }

    /// The cause the cache hook found for a verdict's step, shown under an
    /// unexpected miss and a known-bug hit (an expected miss needs no why).
    pub fn why_line(&self, verdict: &Verdict) -> Option<&str> {
        let relevant = match verdict.status {
            crate::scenario::Status::Fail => verdict.observed == Some(crate::progress::Outcome::Executed),
            crate::scenario::Status::KnownBug { .. } => true,
            _ => false,
        };
        let step = verdict.matched.as_deref().filter(|_| relevant)?;
        let found = self.misses.iter().find(|m| m.step == step && (m.build.is_empty() || m.build == verdict.build))?;
        Some(found.line.as_str())
    }
}

/// The cache one pushed ref carries, as read after the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheReport {
    /// The image or registry cache ref, as the job pushed it.
    pub reference: String,
    /// The build that made it (its id), when the job says.
    pub build: Option<String>,
    /// `inline` (an image's config) or `registry` (a cache export).
    pub source: CacheSource,
    /// Digest of the manifest the ref resolved to.
    pub digest: Option<String>,
    /// Where the registry's documents were saved (decodable offline).
    pub documents: Option<PathBuf>,
    /// What the export covers: counts, and each step's key; null when
    /// the read failed.
    pub export: Option<JobCache>,
    /// Why it could not be read; a failed read never fails the run.
    pub error: Option<String>,
}

/// One command of a job's pipeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandReport {
    /// The exact `sh -c` line run inside the dind.
    pub script: String,
    pub exit_code: i64,
    pub may_fail: bool,
    pub duration_secs: f64,
    /// Its output, as it came.
    pub log: PathBuf,
    /// For builds: the parsed steps.
    pub build: Option<BuildReport>,
}

/// What a build command showed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildReport {
    /// The id expectations use (`builder`, `build-2`).
    pub id: String,
    pub steps: Vec<StepReport>,
    /// Why the log could not be parsed, if it could not.
    pub parse_error: Option<String>,
    /// Why layer evidence is missing, if it is.
    pub layers_note: Option<String>,
    /// The build's LLB definition (buildx's metadata file), or why none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<super::definition::DefinitionReport>,
}

/// A Dockerfile step with its outcome decided from all its evidence.
pub type StepReport = crate::evidence::ObservedStep;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_status_keeps_its_kind_and_reads_old_reports() {
        let status = RunStatus::Error { error_kind: ErrorKind::Timeout, message: "`build` was killed".into() };
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "error", "error_kind": "timeout", "message": "`build` was killed"})
        );
        assert_eq!(status.to_string(), "ERROR (timeout): `build` was killed");
        let old: RunStatus = serde_json::from_value(serde_json::json!({"kind": "error", "message": "m"})).unwrap();
        assert_eq!(old, RunStatus::Error { error_kind: ErrorKind::Other, message: "m".into() });
        assert_eq!(old.to_string(), "ERROR: m");
    }

    #[test]
    fn an_interrupted_run_has_its_own_status() {
        let status = RunStatus::error(&RunError::Interrupted { during: "job 2: `docker build .`".into() });
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "interrupted", "message": "interrupted during job 2: `docker build .`"})
        );
        assert_eq!(status.to_string(), "INTERRUPTED: interrupted during job 2: `docker build .`");
    }
}
