//! The four files a matrix run leaves in its folder (`report.json` with
//! every cell, `junit.xml`, `summary.md`, `report.html`), and the merge of
//! several such folders (CI shards, a rerun of the failed cells) into one.
//!
//! Merging is pure: cells are keyed by [`CellKey`], a later folder's cell
//! replaces an earlier one's (so `merge first/ rerun/` keeps the rerun), and
//! the result is in key order, the order a single unsharded run writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::json::{write_json, REPORT_FILE};
use super::{render_html, render_junit, render_markdown};
use crate::runner::{CellKey, Envelope, EventKind, ReportError, Reporter, RunReport, REPORT_SCHEMA};

/// The JUnit file's name in a matrix folder.
pub const JUNIT_FILE: &str = "junit.xml";
/// The Markdown summary's name in a matrix folder.
pub const MARKDOWN_FILE: &str = "summary.md";
/// The HTML page's name in a matrix folder.
pub const HTML_FILE: &str = "report.html";

/// `report.json` of a matrix: every cell's report, in key order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatrixReport {
    /// The same version as each cell's `schema`.
    pub schema: u32,
    pub cells: Vec<RunReport>,
}

impl MatrixReport {
    pub fn new(cells: Vec<RunReport>) -> Self {
        Self { schema: REPORT_SCHEMA, cells: merge([cells]) }
    }
}

/// Reading a report folder or file failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportFileError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{path}` is neither a matrix report (`harness matrix`) nor a cell report (`harness run`): \
         expected the report.json one of them wrote"
    )]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("failed to write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The cells of a report: `path` is a `report.json` (a matrix's or one
/// cell's) or a folder holding one.
pub fn read_cells(path: &Path) -> Result<Vec<RunReport>, ReportFileError> {
    let file = if path.is_dir() { path.join(REPORT_FILE) } else { path.to_owned() };
    let text = std::fs::read_to_string(&file).map_err(|source| ReportFileError::Read { path: file.clone(), source })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| ReportFileError::Parse { path: file.clone(), source })?;
    let parsed = if value.get("cells").is_some() {
        serde_json::from_value::<MatrixReport>(value).map(|m| m.cells)
    } else {
        serde_json::from_value::<RunReport>(value).map(|cell| vec![cell])
    };
    parsed.map_err(|source| ReportFileError::Parse { path: file, source })
}

/// Joins sets of cells: one per key, the last set's winning, in key order.
pub fn merge(sets: impl IntoIterator<Item = Vec<RunReport>>) -> Vec<RunReport> {
    let mut cells: BTreeMap<CellKey, RunReport> = BTreeMap::new();
    for cell in sets.into_iter().flatten() {
        cells.insert(CellKey::of(&cell), cell);
    }
    cells.into_values().collect()
}

/// Writes the four reports of `cells` into `dir` (created if missing);
/// returns the paths written.
pub fn write_reports(dir: &Path, cells: Vec<RunReport>) -> Result<Vec<PathBuf>, ReportFileError> {
    let report = MatrixReport::new(cells);
    let json = dir.join(REPORT_FILE);
    write_json(&json, &report).map_err(|source| ReportFileError::Write { path: json.clone(), source })?;
    let mut written = vec![json];
    for (name, text) in [
        (JUNIT_FILE, render_junit(&report.cells)),
        (MARKDOWN_FILE, render_markdown(&report.cells)),
        (HTML_FILE, render_html(&report.cells)),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportFileError::Write { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(written)
}

/// Rewrites the four reports in its folder each time a cell finishes, so a
/// long run that is stopped still leaves the cells it finished, and a
/// person can open `report.html` while the rest runs.
pub struct MatrixFiles {
    dir: PathBuf,
    cells: Vec<RunReport>,
}

impl MatrixFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), cells: Vec::new() }
    }
}

impl Reporter for MatrixFiles {
    fn report(&mut self, event: &Envelope) -> Result<(), ReportError> {
        let EventKind::RunFinished { report } = &event.kind else { return Ok(()) };
        self.cells.push(report.as_ref().clone());
        write_reports(&self.dir, self.cells.clone()).map(drop).map_err(|e| ReportError::new("matrix files", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_grow_with_each_finished_cell() {
        let text = include_str!("../../tests/fixtures/reports/cache-mount-copy-26.1.5.json");
        let cell: RunReport = serde_json::from_str(text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut files = MatrixFiles::new(dir.path());
        for engine in ["28.5.2", "26.1.5"] {
            let report = Box::new(RunReport { engine: engine.into(), ..cell.clone() });
            let event = Envelope {
                cell: None,
                timestamp: std::time::SystemTime::now(),
                elapsed: std::time::Duration::ZERO,
                kind: EventKind::RunFinished { report },
            };
            files.report(&event).unwrap();
            let engines: Vec<String> = read_cells(dir.path()).unwrap().into_iter().map(|c| c.engine).collect();
            assert_eq!(engines.last().map(String::as_str), Some("28.5.2"), "cells in key order: {engines:?}");
        }
        assert_eq!(read_cells(dir.path()).unwrap().len(), 2);
        for name in [JUNIT_FILE, MARKDOWN_FILE, HTML_FILE] {
            assert!(dir.path().join(name).is_file(), "{name}");
        }
    }

    #[test]
    fn a_folder_without_a_report_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_cells(dir.path()).unwrap_err();
        assert_eq!(err.to_string(), format!("failed to read `{}`", dir.path().join("report.json").display()));
    }

    #[test]
    fn a_file_of_another_shape_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, r#"{"cells": 3}"#).unwrap();
        let err = read_cells(&path).unwrap_err();
        assert!(err.to_string().contains("is neither a matrix report"), "{err}");
    }
}
