//! Scenario files: `scenarios/<name>/scenario.toml` and its Dockerfiles, read
//! into a validated model, rendered into docker command lines, and judged.
//!
//! This module knows nothing of how jobs are run: the runner asks it what to
//! run ([`Scenario::jobs`], [`Edit::apply`], [`Command::render`],
//! [`Dockerfile::render`]) and how it went ([`evaluate_job`], [`check_run`]).
//! The format is documented in `scenarios/README.md`.
//!
//! - [`raw`]: serde mirror of the file (first parsing stage).
//! - [`load`]: reading and parsing.
//! - [`error`]: load errors with `file:line:column` and key path.
//! - [`validate`]: the format's rules, from [`raw`] to [`model`].
//! - [`template`]: the `{placeholder}` language.
//! - [`render`]: command lines.
//! - [`edit`]: edits to the build context.
//! - [`expect`]: verdicts on steps and runs.

mod edit;
mod error;
mod expect;
mod load;
mod model;
mod raw;
mod render;
mod template;
mod validate;

pub use edit::{EditError, EditErrorKind, EditReport};
pub use error::{Location, Problem, ScenarioError, ScenarioErrorKind};
pub use expect::{check_run, evaluate, evaluate_job, ObservedBuilds, RunOutput, RunVerdict, Status, Verdict};
pub use load::{load_all, load_scenario, SCENARIO_FILE};
pub use model::{
    BuildCommand, Command, CommandKind, DaemonConfig, DaemonMode, Dockerfile, Edit, EditAction, ExpandedJob,
    Expectation, Expected, Frontend, ImageStore, Job, Override, OverrideAction, RunCheck, Scenario,
};
pub use render::{quote, RenderedCommand};
pub use template::{PlaceholderError, Template, Var, Vars, COMMAND_VARS, DOCKERFILE_VARS};
pub use validate::MAX_JOBS;
