//! Drives a scenario's jobs on one engine and reports what happened.
//!
//! The runner owns the order of things (registry, seeding, per-job daemon,
//! edits, commands, runs, verdicts) and nothing else: the engine module talks
//! to Docker, the scenario module decides what to run and judges it, and
//! reporters ([`crate::report`]) turn the runner's [`Event`]s and its final
//! [`RunReport`] into output. Every report format reads that one model.

mod events;
mod execute;
mod follow;
mod layers;
mod result;
mod workspace;

pub use events::{Event, NoReporter, Reporter};
pub use execute::{run_scenario, start_failed, RunOptions, Shared};
pub use layers::map_layers;
pub use result::{BuildReport, CommandReport, JobReport, RunReport, RunStatus, StepReport, REPORT_SCHEMA};
pub use workspace::{plan_scenario_base_images, RewriteError, Workspace};
