//! Sinks for what the runner produces: the live terminal view, the final
//! job-by-step grid, and the JSON report. All of them read the runner's
//! events and [`RunReport`](crate::runner::RunReport); none talks to Docker.

mod grid;
mod json;
mod terminal;

pub use grid::render_grid;
pub use json::write_json;
pub use terminal::Terminal;
