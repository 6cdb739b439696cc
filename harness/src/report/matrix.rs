//! The layout every matrix report shares: scenarios as rows, engines with
//! their image stores as columns, each cell the one [`RunReport`] for that
//! scenario, engine and store (or none, when the run did not include it). Reports given in any order (shards merged in any
//! order) lay out the same way.

use crate::runner::{ImageStore, RunReport};

/// A column: an engine with an image store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    pub engine: &'a str,
    pub store: ImageStore,
}

impl<'a> Column<'a> {
    /// The column of a cell's report.
    pub fn of(report: &'a RunReport) -> Self {
        Self { engine: &report.engine, store: report.store }
    }

    /// `26.1.5` for the classic store (the default of every engine this
    /// harness ships), `26.1.5 containerd` for the containerd image store.
    pub fn label(&self) -> String {
        match self.store {
            ImageStore::Classic => self.engine.to_owned(),
            ImageStore::Containerd => format!("{} containerd", self.engine),
        }
    }

    fn holds(&self, report: &RunReport) -> bool {
        report.engine == self.engine && report.store == self.store
    }
}

/// Rows, columns and the report in each cell.
#[derive(Debug)]
pub struct Matrix<'a> {
    /// Scenario names, sorted.
    pub scenarios: Vec<&'a str>,
    /// Engines with their stores: oldest engine first, classic store first.
    pub columns: Vec<Column<'a>>,
    reports: &'a [RunReport],
}

impl<'a> Matrix<'a> {
    pub fn new(reports: &'a [RunReport]) -> Self {
        let mut scenarios: Vec<&str> = reports.iter().map(|r| r.scenario.as_str()).collect();
        scenarios.sort_unstable();
        scenarios.dedup();
        let mut columns: Vec<Column<'a>> = reports.iter().map(Column::of).collect();
        columns.sort_by(|a, b| {
            compare_versions(a.engine, b.engine).then(a.engine.cmp(b.engine)).then(a.store.cmp(&b.store))
        });
        columns.dedup();
        Self { scenarios, columns, reports }
    }

    /// How many distinct engines the columns cover.
    pub fn engine_count(&self) -> usize {
        let mut engines: Vec<&str> = self.columns.iter().map(|c| c.engine).collect();
        engines.dedup();
        engines.len()
    }

    /// ` × 2 image stores` when the columns hold both stores, else nothing
    /// (a matrix of one store reads as engines alone).
    pub fn stores_note(&self) -> String {
        let containerd = self.columns.iter().filter(|c| c.store == ImageStore::Containerd).count();
        if containerd == 0 || containerd == self.columns.len() {
            String::new()
        } else {
            " × 2 image stores".to_owned()
        }
    }

    /// The report of one cell; with several for the same cell, the last.
    pub fn cell(&self, scenario: &str, column: &Column<'_>) -> Option<&'a RunReport> {
        self.reports.iter().rev().find(|r| r.scenario == scenario && column.holds(r))
    }

    /// Every report of one scenario, in column order.
    pub fn row(&self, scenario: &'a str) -> impl Iterator<Item = &'a RunReport> + '_ {
        self.columns.iter().filter_map(move |column| self.cell(scenario, column))
    }

    /// Every present cell, row by row.
    pub fn cells(&self) -> impl Iterator<Item = &'a RunReport> + '_ {
        self.scenarios.iter().flat_map(move |s| self.row(s))
    }
}

pub(crate) use crate::catalogue::compare_versions;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["28.5.2", "20.10.24", "9.0", "26.1.5", "26.1.10", "29"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, ["9.0", "20.10.24", "26.1.5", "26.1.10", "28.5.2", "29"]);
    }

    #[test]
    fn columns_are_engine_then_store_and_labels_name_the_containerd_store() {
        let text = include_str!("../../tests/fixtures/reports/cache-mount-copy-26.1.5.json");
        let cell: RunReport = serde_json::from_str(text).unwrap();
        let mut cells = Vec::new();
        for (engine, store) in [
            ("28.5.2", ImageStore::Containerd),
            ("26.1.5", ImageStore::Containerd),
            ("28.5.2", ImageStore::Classic),
            ("20.10.24", ImageStore::Classic),
        ] {
            cells.push(RunReport { engine: engine.into(), store, ..cell.clone() });
        }
        let matrix = Matrix::new(&cells);
        let labels: Vec<String> = matrix.columns.iter().map(Column::label).collect();
        assert_eq!(labels, ["20.10.24", "26.1.5 containerd", "28.5.2", "28.5.2 containerd"]);
        assert_eq!(matrix.engine_count(), 3);
        assert_eq!(matrix.stores_note(), " × 2 image stores");
        assert_eq!(Matrix::new(&cells[..2]).stores_note(), "", "one store: engines alone");
        let row: Vec<(&str, ImageStore)> =
            matrix.row("cache-mount-copy").map(|r| (r.engine.as_str(), r.store)).collect();
        assert_eq!(row[1], ("26.1.5", ImageStore::Containerd));
        assert_eq!(row.len(), 4);
        let column = Column { engine: "26.1.5", store: ImageStore::Classic };
        assert!(matrix.cell("cache-mount-copy", &column).is_none(), "no classic cell on 26.1.5");
    }
}
