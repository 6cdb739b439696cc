//! The layout every matrix report shares: scenarios as rows, engines as
//! columns, each cell the one [`RunReport`] for that pair (or none, when the
//! run did not include it). Reports given in any order (shards merged in any
//! order) lay out the same way.

use std::cmp::Ordering;

use crate::runner::RunReport;

/// Rows, columns and the report in each cell.
#[derive(Debug)]
pub struct Matrix<'a> {
    /// Scenario names, sorted.
    pub scenarios: Vec<&'a str>,
    /// Column keys (engine versions), oldest first.
    pub engines: Vec<&'a str>,
    reports: &'a [RunReport],
}

impl<'a> Matrix<'a> {
    pub fn new(reports: &'a [RunReport]) -> Self {
        let mut scenarios: Vec<&str> = reports.iter().map(|r| r.scenario.as_str()).collect();
        scenarios.sort_unstable();
        scenarios.dedup();
        let mut engines: Vec<&str> = reports.iter().map(|r| r.engine.as_str()).collect();
        engines.sort_by(|a, b| compare_versions(a, b));
        engines.dedup();
        Self { scenarios, engines, reports }
    }

    /// The report of one cell; with several for the same pair, the last.
    pub fn cell(&self, scenario: &str, engine: &str) -> Option<&'a RunReport> {
        self.reports.iter().rev().find(|r| r.scenario == scenario && r.engine == engine)
    }

    /// Every report of one scenario, in column order.
    pub fn row(&self, scenario: &'a str) -> impl Iterator<Item = &'a RunReport> + '_ {
        self.engines.iter().filter_map(move |engine| self.cell(scenario, engine))
    }

    /// Every present cell, row by row.
    pub fn cells(&self) -> impl Iterator<Item = &'a RunReport> + '_ {
        self.scenarios.iter().flat_map(move |s| self.row(s))
    }
}

/// Orders `20.10.24` before `26.1.5`: numeric parts as numbers, the rest as text.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (version_parts(a), version_parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    pa.len().cmp(&pb.len())
}

fn version_parts(version: &str) -> Vec<&str> {
    version.split(['.', '-', '+']).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_numerically() {
        let mut v = vec!["28.5.2", "20.10.24", "9.0", "26.1.5", "26.1.10", "29"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, ["9.0", "20.10.24", "26.1.5", "26.1.10", "28.5.2", "29"]);
    }
}
