//! Sharding and merging on recorded cell reports, no Docker: the cells a
//! run would produce are dealt into shards with `Shard::select`, each
//! shard's output folder is written as `harness matrix` writes it, and
//! `harness report merge` (the built binary) must give back exactly the
//! files of the unsharded run. Also: which cells `--rerun-failed` takes,
//! a later folder winning a merge, and the matrix report's schema.

mod matrix_support;

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use harness::report::{merge, read_cells, write_reports, MatrixReport};
use harness::runner::{failed_cells, CellKey, ImageStore, RunReport, RunStatus, Shard};
use matrix_support::{fixtures, sample_matrix};
use serde_json::Value;

/// The six sample cells on the classic store, and the same cells again on
/// the containerd store: twelve cells, two columns per engine.
fn recorded_cells() -> Vec<RunReport> {
    let classic = sample_matrix();
    let containerd = classic.iter().cloned().map(|cell| RunReport { store: ImageStore::Containerd, ..cell });
    classic.iter().cloned().chain(containerd).collect()
}

fn files(dir: &Path) -> Vec<(String, String)> {
    ["report.json", "junit.xml", "summary.md", "report.html"]
        .iter()
        .map(|name| (name.to_string(), std::fs::read_to_string(dir.join(name)).unwrap()))
        .collect()
}

#[test]
fn two_shards_merged_equal_the_unsharded_report() {
    let cells = recorded_cells();
    let keys: Vec<CellKey> = cells.iter().map(CellKey::of).collect();
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    write_reports(&whole, cells.clone()).unwrap();

    let mut shard_dirs = Vec::new();
    for index in 1..=2 {
        let mine = Shard::new(index, 2).unwrap().select(&keys);
        let shard: Vec<RunReport> = cells.iter().filter(|c| mine.contains(&CellKey::of(c))).cloned().collect();
        assert_eq!(shard.len(), 6, "shard {index}/2 takes half of 12 cells");
        let dir = tmp.path().join(format!("shard-{index}"));
        write_reports(&dir, shard).unwrap();
        shard_dirs.push(dir);
    }
    // Shards given in either order merge the same.
    for order in [[0, 1], [1, 0]] {
        let merged = tmp.path().join(format!("merged-{}{}", order[0], order[1]));
        cargo_bin_cmd!("harness")
            .args(["report", "merge", "--out"])
            .arg(&merged)
            .args(order.map(|i| &shard_dirs[i]))
            .assert()
            .success()
            .stderr(predicates::str::contains("merged 12 cell(s) from 2 report(s)"));
        assert_eq!(files(&merged), files(&whole), "merged shards {order:?} differ from the unsharded run");
    }
}

#[test]
fn the_unsharded_report_is_in_cell_order_whatever_the_run_order() {
    let mut cells = recorded_cells();
    let ordered = MatrixReport::new(cells.clone()).cells;
    cells.reverse();
    let keys = |r: &[RunReport]| r.iter().map(CellKey::of).collect::<Vec<_>>();
    assert_eq!(keys(&MatrixReport::new(cells).cells), keys(&ordered));
    let first = &ordered[0];
    assert_eq!(
        (first.scenario.as_str(), first.engine.as_str(), first.store),
        ("cache-mount-copy", "20.10.24", ImageStore::Classic)
    );
}

#[test]
fn rerun_takes_only_failed_and_error_cells() {
    let cells = sample_matrix();
    let rerun = failed_cells(&cells);
    let expected: BTreeSet<CellKey> = cells
        .iter()
        .filter(|c| matches!(c.status, RunStatus::Failed { .. } | RunStatus::Error { .. }))
        .map(CellKey::of)
        .collect();
    assert_eq!(rerun, expected);
    let names: Vec<String> = rerun.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["cache-mount-copy/28.5.2/classic", "ci-cache-from-all-stages/26.1.5/classic"]);
}

#[test]
fn a_later_folder_wins_a_merge() {
    let cells = sample_matrix();
    let mut rerun = cells[1].clone();
    rerun.status = RunStatus::Passed;
    let merged = merge([cells.clone(), vec![rerun.clone()]]);
    assert_eq!(merged.len(), cells.len());
    let cell = merged.iter().find(|c| CellKey::of(c) == CellKey::of(&rerun)).unwrap();
    assert_eq!(cell.status, RunStatus::Passed);
}

#[test]
fn a_cell_report_reads_as_a_one_cell_matrix() {
    let path = fixtures().join("reports/cache-mount-copy-26.1.5.json");
    let cells = read_cells(&path).unwrap();
    assert_eq!(cells.len(), 1);
    assert_eq!(cells[0].store, ImageStore::Classic);
}

/// Resolves `report.schema.json` next to the matrix schema, as an editor would.
struct SchemaFolder;

impl jsonschema::Retrieve for SchemaFolder {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().rsplit('/').next().unwrap_or_default().to_owned();
        let path = fixtures().join("../../schema").join(&name);
        Ok(serde_json::from_str(&std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?)?)
    }
}

#[test]
fn the_matrix_report_matches_its_schema_and_the_schema_can_fail() {
    let path = fixtures().join("../../schema/matrix-report.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::options().with_retriever(SchemaFolder).build(&schema).unwrap();
    let report = serde_json::to_value(MatrixReport::new(recorded_cells())).unwrap();
    let errors: Vec<String> = validator.iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let mut bad_store = report.clone();
    bad_store["cells"][0]["store"] = "zfs".into();
    let mut extra = report;
    extra["shard"] = "1/2".into();
    for (what, value) in [("an unknown store", bad_store), ("an extra field", extra)] {
        assert!(!validator.is_valid(&value), "the schema accepted {what}");
    }
}
