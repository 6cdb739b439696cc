//! Sinks for what the runner produces: the live terminal view, the final
//! job-by-step grid, the JSON report, and the matrix reports (JUnit,
//! Markdown, HTML). All of them read the runner's events and
//! [`RunReport`](crate::runner::RunReport); none talks to Docker.
//!
//! The matrix reports are pure functions of a set of cells
//! (`&[RunReport]`, one per scenario × engine); the state of a cell is
//! decided once, in [`CellState::of`].
mod cell;
mod files;
mod grid;
mod html;
mod json;
mod junit;
mod markdown;
mod matrix;
mod progress;
pub(crate) mod table;
mod terminal;

pub use cell::{findings, CellState, Finding, FindingKind};
pub use files::{
    merge, read_cells, write_reports, MatrixFiles, MatrixReport, ReportFileError, HTML_FILE, JUNIT_FILE, MARKDOWN_FILE,
};
pub use grid::render_grid;
pub(crate) use grid::GridReporter;
pub use html::{render_html, write_html};
pub(crate) use json::JsonReporter;
pub use junit::{render_junit, write_junit};
pub use markdown::{render_markdown, render_markdown_within, write_markdown, MARKDOWN_LIMIT};
pub use matrix::{Column, Matrix};
pub use progress::{BarWriter, MatrixProgress, ProgressStyleChoice};
pub use terminal::Terminal;
