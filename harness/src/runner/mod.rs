//! Drives scenarios on engines and reports what happened.
//!
//! Plan, then act: [`plan`] turns a scenario, an engine and the run's values
//! into concrete jobs (pure data, no Docker); `job`'s `JobRunner` carries
//! out one planned job; `cell` runs one scenario on one engine; `matrix`
//! lays out the cells (scenario × engine × image store, `store`) and runs
//! them on one shared registry (`shared`); `select` picks a CI runner's
//! shard or the cells that failed. The engine module talks to Docker, the scenario module
//! judges, [`crate::evidence`] decides each step's outcome, and reporters
//! ([`crate::report`]) turn the runner's [`Envelope`]s into output.
//! [`interrupt`] stops the work on SIGINT/SIGTERM: checked before each piece
//! of work and raced against what runs, it ends cells as `interrupted`.

mod cache_hook;
mod cache_refs;
mod cell;
mod definition;
mod error;
mod events;
mod follow;
pub mod interrupt;
mod job;
mod layers;
mod matrix;
pub(crate) mod plan;
mod replay;
mod result;
mod select;
mod shared;
mod store;
mod workspace;

pub use cell::run_cell;
pub use definition::DefinitionReport;
pub use error::{ErrorKind, RunError};
pub use events::{Envelope, EventKind, Events, NoReporter, ReportError, Reporter};
pub use layers::map_layers;
pub use matrix::{CellKey, ImageStore, RunOptions};
pub(crate) use matrix::{Matrix, MatrixSettings};
pub use replay::replay;
pub use result::{BuildReport, CacheReport, CommandReport, JobReport, RunReport, RunStatus, StepReport, REPORT_SCHEMA};
pub use select::{failed_cells, Shard};
pub use shared::Shared;
pub use store::{store_unsupported, StoreAxis};
pub use workspace::{plan_scenario_base_images, RewriteError, Workspace};
