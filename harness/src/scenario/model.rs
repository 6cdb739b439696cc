//! The validated scenario: what the runner executes and the evaluator checks.
//!
//! Every value here has passed the loader's checks (placeholders known,
//! engines in the catalogue, build ids unique and referenced ones present,
//! job filters inside their block), so the runner can use it without
//! re-checking. Construct it with [`super::load_scenario`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::template::Template;
use crate::catalogue::EngineEntry;
use crate::progress::Outcome;

/// One scenario folder: a fixture, Dockerfiles, and the jobs to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Folder name; also the `{scenario}` placeholder.
    pub name: String,
    /// The scenario folder.
    pub dir: PathBuf,
    pub description: String,
    /// Upstream reports and issues the scenario reproduces.
    pub links: Vec<String>,
    /// The folder copied as the build context: `hello-world` (relative to
    /// the workspace root) unless the scenario names one; a named one is
    /// resolved at load time to an absolute path (written absolute, or
    /// relative to the scenario folder), so `root.join(fixture)` is right
    /// either way.
    pub fixture: String,
    /// Dockerfiles copied from the scenario folder into the context.
    pub dockerfiles: Vec<Dockerfile>,
    pub daemon: DaemonConfig,
    /// Engines the scenario cannot run on, with the reason.
    pub unsupported: BTreeMap<String, String>,
    /// Job blocks as written; see [`Scenario::jobs`] for the numbered jobs.
    pub blocks: Vec<Job>,
}

/// A Dockerfile of the scenario, with `{chef}`/`{runtime}` still to render.
#[derive(Debug, Clone)]
pub struct Dockerfile {
    /// File name in the scenario folder and in the build context.
    pub name: String,
    pub template: Template,
}

/// How every daemon of the scenario is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonConfig {
    /// `"features": {"containerd-snapshotter": true}` in daemon.json.
    pub containerd_snapshotter: bool,
    /// An absolute path in every job's daemon container whose content
    /// survives from one job's daemon to the next (a CI cache folder).
    pub carry: Option<String>,
}

/// Which image store a daemon uses: an axis of the matrix, and what an
/// expectation's override may be limited to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageStore {
    /// The classic graph-driver store.
    #[default]
    Classic,
    /// The containerd image store (`containerd-snapshotter`).
    Containerd,
}

impl ImageStore {
    /// Both stores, in order.
    pub const ALL: [ImageStore; 2] = [ImageStore::Classic, ImageStore::Containerd];
}

impl std::fmt::Display for ImageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Classic => "classic",
            Self::Containerd => "containerd",
        })
    }
}

/// Whether a job gets a new daemon or keeps the previous job's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonMode {
    /// A new daemon with an empty cache, as a CI job gets.
    Fresh,
    /// The previous job's daemon and its cache, as on a laptop. The
    /// scenario's first job has no previous daemon and starts one.
    Warm,
}

/// A `[[job]]` block: one job, or `repeat` identical ones.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub daemon: DaemonMode,
    /// Number of the block's first job (jobs are numbered from 1 across the
    /// whole scenario).
    pub first: u32,
    pub repeat: u32,
    pub edits: Vec<Edit>,
    pub commands: Vec<Command>,
    pub runs: Vec<RunCheck>,
    pub expectations: Vec<Expectation>,
}

impl Job {
    /// The numbers of the jobs this block stands for.
    pub fn numbers(&self) -> std::ops::RangeInclusive<u32> {
        self.first..=self.first + self.repeat - 1
    }

    /// The build commands, in order.
    pub fn builds(&self) -> impl Iterator<Item = &BuildCommand> {
        self.commands.iter().filter_map(|c| match &c.kind {
            CommandKind::Build(b) => Some(b),
            _ => None,
        })
    }
}

/// One numbered job, with `repeat` expanded.
#[derive(Debug, Clone, Copy)]
pub struct ExpandedJob<'a> {
    /// 1-based job number across the scenario (`{job}`).
    pub number: u32,
    pub job: &'a Job,
}

impl<'a> ExpandedJob<'a> {
    /// The daemon this job runs on: always a fresh one for job 1.
    pub fn daemon(&self) -> DaemonMode {
        if self.number == 1 {
            DaemonMode::Fresh
        } else {
            self.job.daemon
        }
    }

    /// The run checks that apply to this job number.
    pub fn runs(&self) -> impl Iterator<Item = &'a RunCheck> + 'a {
        let number = self.number;
        self.job.runs.iter().filter(move |r| applies(&r.jobs, number))
    }

    /// The step expectations that apply to this job number.
    pub fn expectations(&self) -> impl Iterator<Item = &'a Expectation> + 'a {
        let number = self.number;
        self.job.expectations.iter().filter(move |e| applies(&e.jobs, number))
    }
}

impl Scenario {
    /// Every job in order, `repeat` expanded, numbered from 1.
    pub fn jobs(&self) -> impl Iterator<Item = ExpandedJob<'_>> {
        self.blocks.iter().flat_map(|job| job.numbers().map(move |number| ExpandedJob { number, job }))
    }

    /// Why the scenario cannot run on `engine`, if it cannot: the reason the
    /// scenario gives, else a missing buildx plugin when a command needs it.
    pub fn unsupported_reason(&self, engine: &EngineEntry) -> Option<String> {
        if let Some(reason) = self.unsupported.get(&engine.version) {
            return Some(reason.clone());
        }
        let buildx = self.blocks.iter().flat_map(Job::builds).any(|b| b.frontend == Frontend::Buildx);
        (buildx && !engine.buildx).then(|| {
            format!("engine {} has no buildx plugin, and this scenario runs `docker buildx build`", engine.version)
        })
    }
}

/// A change to the build context before a job's commands.
#[derive(Debug, Clone)]
pub struct Edit {
    /// Path inside the build context.
    pub file: String,
    pub action: EditAction,
}

#[derive(Debug, Clone)]
pub enum EditAction {
    /// Append text (the file is created when missing).
    Append(Template),
    /// Replace every occurrence of `find` with `with`.
    Replace { find: Template, with: Template },
    /// Write the whole file (parents created), optionally executable.
    Write { content: Template, executable: bool },
}

/// One command of a job's pipeline, run with `sh -c` inside the daemon's
/// container, with the build context as working directory.
#[derive(Debug, Clone)]
pub struct Command {
    pub kind: CommandKind,
    /// A failure is recorded but does not stop the job (`docker pull ... || true`).
    pub may_fail: bool,
}

#[derive(Debug, Clone)]
pub enum CommandKind {
    /// `docker login` to a registry.
    Login {
        registry: Template,
        username: String,
        password: String,
    },
    /// `docker pull <image>`.
    Pull(Template),
    Build(BuildCommand),
    /// `docker push <image>`.
    Push(Template),
    /// Any other shell line, rendered as written.
    Shell(Template),
}

/// `docker build` or `docker buildx build`.
#[derive(Debug, Clone)]
pub struct BuildCommand {
    /// Names the build in expectations: `id`, else `target`, else `build-N`.
    pub id: String,
    pub frontend: Frontend,
    /// `-f`: a Dockerfile of the scenario.
    pub file: Option<String>,
    pub target: Option<String>,
    pub tags: Vec<Template>,
    pub cache_from: Vec<Template>,
    pub cache_to: Vec<Template>,
    /// `--build-arg BUILDKIT_INLINE_CACHE=1`.
    pub inline_cache: bool,
    pub build_args: Vec<(String, Template)>,
    /// Passed as written, before the context argument.
    pub extra_args: Vec<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frontend {
    /// `DOCKER_BUILDKIT=1 docker build`.
    Classic,
    /// `docker buildx build`.
    Buildx,
}

/// `docker run --rm <image> [command]` and what its output must show.
#[derive(Debug, Clone)]
pub struct RunCheck {
    pub image: Template,
    pub command: Vec<Template>,
    pub stdout_contains: Option<Template>,
    pub stdout_not_contains: Option<Template>,
    pub exit_code: i64,
    /// Job numbers the check applies to; all of the block's when `None`.
    pub jobs: Option<Vec<u32>>,
}

/// The expected outcome of one step of one build.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// Build id within the job.
    pub build: String,
    /// Stage name the step must belong to, when given.
    pub stage: Option<String>,
    /// Text the step's instruction must contain (whitespace-insensitive).
    pub step: String,
    pub expected: Expected,
    /// Job numbers the expectation applies to; all of the block's when `None`.
    pub jobs: Option<Vec<u32>>,
    pub overrides: Vec<Override>,
}

impl Expectation {
    /// The override for `engine` with image store `store` on job `number`,
    /// if any.
    pub fn override_for(&self, engine: &str, store: ImageStore, number: u32) -> Option<&Override> {
        self.overrides.iter().find(|o| o.covers(engine, store, number))
    }
}

/// What some engines do instead of the base expectation.
#[derive(Debug, Clone)]
pub struct Override {
    pub engines: Vec<String>,
    /// The image stores it applies to (both unless the scenario narrows it).
    pub stores: Vec<ImageStore>,
    /// Job numbers the override applies to; all of the expectation's when `None`.
    pub jobs: Option<Vec<u32>>,
    pub action: OverrideAction,
}

impl Override {
    /// Whether the override applies to `engine` with `store` on job `number`.
    pub fn covers(&self, engine: &str, store: ImageStore, number: u32) -> bool {
        self.engines.iter().any(|e| e == engine) && self.stores.contains(&store) && applies(&self.jobs, number)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideAction {
    /// These engines show `expected`; with `known_bug`, that is an upstream
    /// bug and the base expectation is the correct behaviour.
    Outcome { expected: Expected, known_bug: Option<String> },
    /// The step cannot be checked on these engines.
    Unsupported(String),
}

/// An expected outcome: one outcome, or the `reused` set (cached or remote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    Is(Outcome),
    Reused,
}

impl Expected {
    pub fn matches(self, observed: Outcome) -> bool {
        match self {
            Self::Is(outcome) => outcome == observed,
            Self::Reused => observed.is_reused(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Reused => "reused",
            Self::Is(outcome) => outcome.as_str(),
        }
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Expected {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Expected {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name == "reused" {
            return Ok(Self::Reused);
        }
        name.parse::<Outcome>().map(Self::Is).map_err(serde::de::Error::custom)
    }
}

fn applies(jobs: &Option<Vec<u32>>, number: u32) -> bool {
    jobs.as_ref().is_none_or(|jobs| jobs.contains(&number))
}
