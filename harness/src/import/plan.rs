//! What an import found: a pipeline job as docker commands, before it is
//! written as a scenario.
//!
//! The GitLab and GitHub readers both produce a [`Plan`]; the writer turns
//! it into `scenario.toml`. Values are already in the scenario's terms
//! (`{image}`, `{registry}`, `{job}` placeholders), and everything the
//! importer changed or could not read is carried as a note or a warning so
//! the written file can say it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Where something came from in a CI file: file, line and key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    pub file: PathBuf,
    pub line: usize,
    /// Key path as the file spells it: `build.script[3]`, `jobs.build.steps[2].with.tags`.
    pub key: String,
}

impl fmt::Display for Spot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: at `{}`", self.file.display(), self.line, self.key)
    }
}

/// Something the importer kept but could not translate faithfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub spot: Spot,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.spot, self.message)
    }
}

/// One imported job (one matrix row for GitHub), ready to be written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Job name as the CI file spells it (with the matrix row, if any).
    pub name: String,
    /// The job's commands, in pipeline order.
    pub commands: Vec<Planned>,
    /// `docker run` lines, as run checks after the commands.
    pub runs: Vec<RunPlan>,
    /// Replacements that change what runs (gha cache, docker-container
    /// builder, ...): written in the description and as comments.
    pub notes: Vec<String>,
    pub warnings: Vec<Warning>,
    /// The Docker engine the CI job uses, as far as the file says.
    pub engine: EngineHint,
    /// The job needs the containerd image store (cache export with the
    /// docker driver); the reason.
    pub containerd: Option<String>,
}

/// What the CI file says about the Docker engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EngineHint {
    /// A version (`24.0.7`, `24`, `latest`) and where it was read.
    pub version: Option<String>,
    /// Where the version comes from (`service docker:24.0.7-dind`).
    pub source: String,
}

/// A command with the comments to write above it.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub cmd: Cmd,
    pub may_fail: bool,
    /// Lines written as `#` comments above the command.
    pub comments: Vec<String>,
}

impl Planned {
    pub fn new(cmd: Cmd) -> Self {
        Self { cmd, may_fail: false, comments: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cmd {
    /// `docker login`: always to the run's registry; a username only when
    /// the CI file spells one (secrets are never copied).
    Login {
        username: Option<String>,
    },
    Pull(String),
    Push(String),
    Build(Build),
    /// A line kept as written (after variables).
    Shell(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Build {
    pub buildx: bool,
    /// `--file`, as written (relative to the repository root).
    pub file: Option<String>,
    /// The build context, relative to the repository root (`.`).
    pub context: String,
    pub target: Option<String>,
    pub tags: Vec<String>,
    pub cache_from: Vec<String>,
    pub cache_to: Vec<String>,
    pub inline_cache: bool,
    pub build_args: BTreeMap<String, String>,
    pub extra_args: Vec<String>,
}

/// `docker run IMAGE [COMMAND...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunPlan {
    pub image: String,
    pub command: Vec<String>,
    pub comments: Vec<String>,
}

impl Plan {
    pub fn builds(&self) -> impl Iterator<Item = &Build> {
        self.commands.iter().filter_map(|p| match &p.cmd {
            Cmd::Build(b) => Some(b),
            _ => None,
        })
    }

    pub fn warn(&mut self, spot: Spot, message: impl Into<String>) {
        self.warnings.push(Warning { spot, message: message.into() });
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}
