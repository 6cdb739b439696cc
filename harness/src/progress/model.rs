//! The data model every other module reads: a log holds builds, a build
//! holds Dockerfile steps (each with an [`Outcome`] and the evidence behind
//! it) and, kept apart, BuildKit's own vertices (`[internal]`, `[auth]`,
//! cache import and export). These are plain serde types so the runner,
//! the reporters and `harness parse --json` share one shape.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What happened to one Dockerfile step in one build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// BuildKit printed `CACHED` (rawjson: `"cached": true`): no process ran.
    #[serde(rename = "cached")]
    Cached,
    /// Completed without running: only layer transfer or extraction, no
    /// process output. This is how plain progress shows a registry-cache hit.
    #[serde(rename = "remote")]
    Remote,
    /// A `FROM` that downloaded its base image from a registry: neither a
    /// cache hit nor a step that ran.
    #[serde(rename = "pulled")]
    Pulled,
    /// The step ran: it printed process output.
    #[serde(rename = "executed")]
    Executed,
    /// `DONE` with nothing to tell a run from a reuse (a silent `COPY`).
    #[serde(rename = "executed?")]
    ExecutedUnsure,
    /// The step failed.
    #[serde(rename = "error")]
    Error,
    /// BuildKit stopped the step because another one failed.
    #[serde(rename = "canceled")]
    Canceled,
    /// Expected but never printed (pruned by `--target`, merged with an
    /// identical step, not reached, or the log was cut).
    #[serde(rename = "absent")]
    Absent,
}

impl Outcome {
    /// Every outcome, in a stable order (handy for tables and tests).
    pub const ALL: [Outcome; 8] = [
        Outcome::Cached,
        Outcome::Remote,
        Outcome::Pulled,
        Outcome::Executed,
        Outcome::ExecutedUnsure,
        Outcome::Error,
        Outcome::Canceled,
        Outcome::Absent,
    ];

    /// The name used in JSON, tables and scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Cached => "cached",
            Outcome::Remote => "remote",
            Outcome::Pulled => "pulled",
            Outcome::Executed => "executed",
            Outcome::ExecutedUnsure => "executed?",
            Outcome::Error => "error",
            Outcome::Canceled => "canceled",
            Outcome::Absent => "absent",
        }
    }

    /// True when the step's result was reused rather than produced: a local
    /// cache hit or a layer fetched from a remote cache.
    pub fn is_reused(&self) -> bool {
        matches!(self, Outcome::Cached | Outcome::Remote)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of [`Outcome::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown step outcome `{0}`: expected one of cached, remote, pulled, executed, executed?, error, canceled, absent"
)]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s).ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

/// Which progress format a build was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `--progress=plain`: `#N ...` lines.
    Plain,
    /// `--progress=rawjson`: BuildKit `SolveStatus` JSON objects.
    Rawjson,
    /// `--progress=tty` (or auto on a terminal): `[+] Building` frames of
    /// `=> [stage i/n] ...` lines.
    Tty,
    /// The legacy builder (`DOCKER_BUILDKIT=0`): `Step i/n : ...`.
    Legacy,
    /// Buildah and Podman: `STEP i/n: ...`, `--> Using cache`.
    Buildah,
    /// Kaniko: `INFO[0003] ...` lines.
    Kaniko,
}

impl Format {
    /// Every format, in the order `--format` lists them.
    pub const ALL: [Format; 6] =
        [Format::Plain, Format::Rawjson, Format::Tty, Format::Legacy, Format::Buildah, Format::Kaniko];

    /// The name used by `--format` and in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Rawjson => "rawjson",
            Format::Tty => "tty",
            Format::Legacy => "legacy",
            Format::Buildah => "buildah",
            Format::Kaniko => "kaniko",
        }
    }

    /// True for BuildKit's own printers (plain, rawjson, tty).
    pub fn is_buildkit(&self) -> bool {
        matches!(self, Format::Plain | Format::Rawjson | Format::Tty)
    }
}

/// The error of [`Format::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log format `{0}`: expected one of auto, plain, rawjson, tty, legacy, buildah, kaniko")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One result BuildKit reported for a vertex. A vertex may report several
/// (`CACHED`, then `DONE` after pulling its layers); the last one wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Mark {
    /// `CACHED`.
    Cached,
    /// `DONE 1.2s` (the seconds are missing when BuildKit printed none).
    Done { seconds: Option<f64> },
    /// `ERROR: message`.
    Error { message: String },
    /// `CANCELED`.
    Canceled,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mark::Cached => f.write_str("CACHED"),
            Mark::Done { seconds: Some(s) } => write!(f, "DONE {s:.1}s"),
            Mark::Done { seconds: None } => f.write_str("DONE"),
            Mark::Error { message } => write!(f, "ERROR: {message}"),
            Mark::Canceled => f.write_str("CANCELED"),
        }
    }
}

/// First and last line (1-based) of the input that fed a build or a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lines {
    pub first: u64,
    pub last: u64,
}

/// What the log showed for one vertex, bounded in size: counts plus short
/// excerpts, so memory follows the number of steps, not the log's length.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Every result line, in order (at most the last 16).
    pub results: Vec<Mark>,
    /// Lines of process output (`#N 0.123 text`; rawjson `logs`).
    pub output_lines: u64,
    /// The last few lines of process output.
    pub output_tail: Vec<String>,
    /// Layers downloaded under this vertex (`sha256:... 1.2MB / 3.4MB`).
    pub layers_pulled: Vec<String>,
    /// Layers extracted under this vertex (`extracting sha256:...`).
    pub layers_extracted: Vec<String>,
    /// Other status lines (`transferring context`, `resolve ...`, ...).
    pub status_lines: u64,
    /// `WARN:` lines and rawjson warnings attached to this vertex.
    pub warnings: Vec<String>,
    /// Where the vertex appeared in the input.
    pub lines: Lines,
}

impl Evidence {
    /// The message of the last `ERROR` result, if the last result is one.
    pub fn error(&self) -> Option<&str> {
        match self.results.last() {
            Some(Mark::Error { message }) => Some(message),
            _ => None,
        }
    }

    /// Layers transferred or extracted, counted once each.
    pub fn layer_count(&self) -> usize {
        let extra = self.layers_extracted.iter().filter(|d| !self.layers_pulled.contains(d)).count();
        self.layers_pulled.len() + extra
    }
}

/// One Dockerfile step (`[stage i/n] INSTRUCTION`) of one build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// BuildKit's vertex number (`#N`); for rawjson, the order in which the
    /// vertex started. 0 when the step was never printed ([`Outcome::Absent`]).
    pub vertex: u32,
    /// The vertex digest, where the log gives it (20.10 `#N sha256:` lines,
    /// rawjson).
    pub digest: Option<String>,
    /// Stage name as printed (`builder`, `stage-1`); `None` for `[2/3]`.
    pub stage: Option<String>,
    /// 1-based index of the step within its stage.
    pub index: Option<u32>,
    /// Number of steps in the stage.
    pub total: Option<u32>,
    /// Platform prefix (`linux/amd64`), when BuildKit printed one.
    pub platform: Option<String>,
    /// The instruction as printed, e.g. `RUN cargo chef cook --release`;
    /// empty for a step that was never printed.
    pub instruction: String,
    pub outcome: Outcome,
    /// One line saying why, from the evidence.
    pub why: String,
    /// Seconds from the last `DONE`, or from rawjson's started/completed.
    pub duration: Option<f64>,
    pub evidence: Evidence,
}

impl Step {
    /// The step as BuildKit names it: `[builder 2/4] RUN cargo chef cook ...`.
    pub fn name(&self) -> String {
        let mut label = String::new();
        for part in [self.platform.as_deref(), self.stage.as_deref()].into_iter().flatten() {
            label.push_str(part);
            label.push(' ');
        }
        match (self.index, self.total) {
            (Some(i), Some(n)) => label.push_str(&format!("{i}/{n}")),
            // Kaniko and old Buildah number steps without a total.
            (Some(i), None) => label.push_str(&format!("{i}/?")),
            _ => {
                label.pop();
            }
        }
        if self.instruction.is_empty() {
            format!("[{label}]")
        } else {
            format!("[{label}] {}", self.instruction)
        }
    }

    /// The step's identity across builds: the name without vertex number or
    /// digest, which change from build to build.
    pub fn key(&self) -> String {
        self.name()
    }

    /// The first word of the instruction, upper-cased (`RUN`, `COPY`, ...).
    pub fn keyword(&self) -> String {
        self.instruction.split_whitespace().next().unwrap_or("").to_ascii_uppercase()
    }

    /// [`Step::duration`] as a [`Duration`].
    pub fn elapsed(&self) -> Option<Duration> {
        self.duration.filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
    }
}

/// Where a BuildKit vertex that is not a Dockerfile step ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VertexStatus {
    Done,
    Cached,
    Error,
    Canceled,
    /// No result before the build (or the log) ended.
    Unfinished,
}

/// A vertex that is not a Dockerfile step: `[internal] load ...`, `[auth]`,
/// `importing cache manifest ...`, `exporting to image`, and so on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vertex {
    pub vertex: u32,
    pub digest: Option<String>,
    pub name: String,
    pub status: VertexStatus,
    pub duration: Option<f64>,
    /// The error message when `status` is `error`: a failed cache import
    /// shows up here, and is not a failed build.
    pub error: Option<String>,
}

/// One `docker build` as read from a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    pub format: Format,
    /// From `#0 building with "default" instance using docker driver`.
    pub builder: Option<String>,
    /// Dockerfile steps, in the order BuildKit numbered them; absent steps
    /// sit after their stage's previous step.
    pub steps: Vec<Step>,
    /// BuildKit's own vertices, kept apart from Dockerfile steps.
    pub internal: Vec<Vertex>,
    /// Build-level warnings (`WARN:` lines, lint summaries, `WARNING:`).
    pub warnings: Vec<String>,
    /// Why the build failed: the final `ERROR:` line, or the failed step's
    /// message when the log has no such line. `None` for a build that did
    /// not fail (a failed cache import alone is not a failure).
    pub error: Option<String>,
    /// True when the log ends while a vertex was still running, or in the
    /// middle of a rawjson object.
    pub truncated: bool,
    /// Where the build appeared in the input.
    pub lines: Lines,
}

impl Build {
    /// The first step whose name contains `needle`
    /// (e.g. `build.step("cargo chef cook")`).
    pub fn step(&self, needle: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name().contains(needle))
    }

    /// True when BuildKit reported the build as failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_names_round_trip_through_display_fromstr_and_serde() {
        for o in Outcome::ALL {
            assert_eq!(o.to_string().parse::<Outcome>().unwrap(), o);
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(json, format!("\"{o}\""));
            assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), o);
        }
        assert_eq!(Outcome::ExecutedUnsure.to_string(), "executed?");
    }

    #[test]
    fn unknown_outcome_names_the_choices() {
        let err = "hit".parse::<Outcome>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown step outcome `hit`: expected one of cached, remote, pulled, executed, executed?, error, canceled, absent"
        );
    }

    #[test]
    fn only_cached_and_remote_are_reused() {
        let reused: Vec<_> = Outcome::ALL.into_iter().filter(Outcome::is_reused).collect();
        assert_eq!(reused, [Outcome::Cached, Outcome::Remote]);
    }

    fn step(stage: Option<&str>, platform: Option<&str>, instruction: &str) -> Step {
        Step {
            vertex: 3,
            digest: None,
            stage: stage.map(str::to_owned),
            index: Some(2),
            total: Some(4),
            platform: platform.map(str::to_owned),
            instruction: instruction.to_owned(),
            outcome: Outcome::Cached,
            why: String::new(),
            duration: Some(1.5),
            evidence: Evidence::default(),
        }
    }

    #[test]
    fn step_name_matches_buildkit() {
        assert_eq!(step(Some("builder"), None, "RUN x").name(), "[builder 2/4] RUN x");
        assert_eq!(step(None, None, "RUN x").name(), "[2/4] RUN x");
        assert_eq!(step(Some("b"), Some("linux/amd64"), "RUN x").name(), "[linux/amd64 b 2/4] RUN x");
        assert_eq!(step(Some("builder"), None, "").name(), "[builder 2/4]");
        assert_eq!(step(Some("builder"), None, "run x").keyword(), "RUN");
        assert_eq!(step(None, None, "").elapsed(), Some(Duration::from_millis(1500)));
    }
}
