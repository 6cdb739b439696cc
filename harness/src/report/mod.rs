//! Reporters for what the runner produces: the live terminal view, the
//! job-by-step grid, and the JSON report. Each reads the runner's events and
//! its [`RunReport`](crate::runner::RunReport); none talks to Docker.

mod grid;
mod json;
pub(crate) mod table;
mod terminal;

pub use grid::render_grid;
pub(crate) use grid::GridReporter;
pub(crate) use json::JsonReporter;
pub use terminal::Terminal;
