//! What `harness diagnose` reports, as plain serde types: the targets it
//! followed across builds, and findings, each naming a known [`Pattern`]
//! with the log lines that show it. `--json` prints this shape; its field
//! names are a stable interface (additions only).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Version of the JSON shape below.
pub const SCHEMA: u32 = 1;

/// The known causes of a cache miss (or of a misread hit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// moby/buildkit#2274: a build that hit the inline cache exports
    /// truncated cache metadata, so the next build misses.
    InlineCacheAlternation,
    /// Inline (or `mode=min`) cache keeps only the final stage: an
    /// intermediate stage runs on every fresh daemon.
    IntermediateStage,
    /// The docker driver cannot export a cache without the containerd store.
    CacheExportUnsupported,
    /// A `--cache-from` source that failed to import for another reason.
    CacheImportFailed,
    /// A `--cache-from` image or cache ref that does not exist (yet).
    CacheFromMissing,
    /// `COPY --from=stage` of a path under that stage's cache mount.
    CacheMountCopy,
    /// `--no-cache`.
    NoCache,
    /// A lockfile, manifest or recipe really changed: new dependencies.
    DependenciesChanged,
    /// A `FROM` image resolved to another digest.
    BaseImageChanged,
    /// An instruction's text changed: a build argument or ENV it expands,
    /// or the Dockerfile itself.
    InstructionChanged,
    /// A `COPY`/`ADD` from the build context whose files changed.
    ContextChanged,
    /// A registry-cache hit that plain progress prints as `DONE`.
    RemoteHitAsDone,
    /// A miss no known pattern explains.
    Unknown,
}

impl Pattern {
    /// The name used in JSON and in the text report.
    pub fn as_str(&self) -> &'static str {
        match self {
            Pattern::InlineCacheAlternation => "inline-cache-alternation",
            Pattern::IntermediateStage => "intermediate-stage",
            Pattern::CacheExportUnsupported => "cache-export-unsupported",
            Pattern::CacheImportFailed => "cache-import-failed",
            Pattern::CacheFromMissing => "cache-from-missing",
            Pattern::CacheMountCopy => "cache-mount-copy",
            Pattern::NoCache => "no-cache",
            Pattern::DependenciesChanged => "dependencies-changed",
            Pattern::BaseImageChanged => "base-image-changed",
            Pattern::InstructionChanged => "instruction-changed",
            Pattern::ContextChanged => "context-changed",
            Pattern::RemoteHitAsDone => "remote-hit-as-done",
            Pattern::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding matters, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The cache is lost or misused: fix it.
    Problem,
    /// Not a miss, but easy to misread.
    Notice,
    /// An honest miss: something the step depends on changed.
    Expected,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Problem => "problem",
            Severity::Notice => "notice",
            Severity::Expected => "expected",
        }
    }
}

/// One line of an input, quoted as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    /// The log (or Dockerfile) as given on the command line.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// The line, trimmed and shortened.
    pub text: String,
    /// What this line shows, when that is not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Citation {
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// One build of the input: which log, and which build inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildId {
    pub log: String,
    /// 1-based index of the build inside its log.
    pub build: usize,
    /// 1-based position of the build in its target's series.
    pub run: usize,
}

/// The builds of one target (the same Dockerfile stage built again and
/// again), in the order given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The final stage's name (`builder`, `stage-3`, `default`).
    pub name: String,
    pub builds: Vec<BuildId>,
}

/// A known pattern seen in the logs, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub pattern: Pattern,
    pub severity: Severity,
    /// The target it was seen in, when it belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The Dockerfile step it is about, as BuildKit names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The pattern's name for people.
    pub title: String,
    /// What was seen here, in one or two sentences.
    pub summary: String,
    /// Why it happens.
    pub explanation: String,
    /// What to do about it.
    pub fix: String,
    pub links: Vec<String>,
    pub evidence: Vec<Citation>,
}

/// Everything `harness diagnose` found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub schema: u32,
    pub logs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    pub targets: Vec<Target>,
    /// Most important first.
    pub findings: Vec<Finding>,
    /// What the logs could not tell (too few builds, nothing to compare).
    pub notes: Vec<String>,
}

impl Diagnosis {
    /// True when a finding of this pattern is present.
    pub fn has(&self, pattern: Pattern) -> bool {
        self.findings.iter().any(|f| f.pattern == pattern)
    }
}
