//! The result model read back from real `report.json` files (recorded from
//! `make scenarios` on the stand-ins), as a sharded matrix will merge them,
//! and the grid every run prints, drawn from them.

use std::path::Path;

use harness::report::render_grid;
use harness::runner::{RunReport, RunStatus};
use harness::scenario::Status;

fn load(name: &str) -> (serde_json::Value, RunReport) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let report: RunReport = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (value, report)
}

#[test]
fn reports_round_trip_unchanged() {
    for name in ["cache-mount-copy-26.1.5.json", "ci-cache-from-all-stages-26.1.5.json", "ci-inline-cache-26.1.5.json"]
    {
        let (value, report) = load(name);
        assert_eq!(serde_json::to_value(&report).unwrap(), value, "{name} changed on the way through the model");
    }
}

#[test]
fn grid_marks_the_stale_copy_as_the_same_layer() {
    let (_, report) = load("cache-mount-copy-26.1.5.json");
    assert_eq!(report.status, RunStatus::Passed);
    let grid = render_grid(&report);
    let copy = grid.lines().find(|l| l.contains("naive: [stage-3 3/3] COPY --from=builder")).expect(&grid);
    assert!(copy.ends_with("cached= ✓   cached= ✓"), "{copy}");
}

#[test]
fn grid_explains_the_failed_expectation() {
    // Recorded before the scenario marked job 3 as moby/buildkit#2274.
    let (_, report) = load("ci-cache-from-all-stages-26.1.5.json");
    assert_eq!(report.status, RunStatus::Failed { failures: 1 });
    let failed: Vec<_> =
        report.jobs.iter().flat_map(|j| &j.verdicts).filter(|v| v.status == Status::Fail).map(|v| v.job).collect();
    assert_eq!(failed, [3]);
    let grid = render_grid(&report);
    assert!(grid.contains("job 3 builder: [builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json: expected reused, observed executed"), "{grid}");
}

#[test]
fn grid_says_why_cook_missed_under_the_known_bug() {
    // Recorded with the cache hook: every job's pushed refs read back.
    let (_, report) = load("ci-inline-cache-26.1.5.json");
    let grid = render_grid(&report);
    let lines: Vec<&str> = grid.lines().collect();
    let bug = lines.iter().position(|l| l.contains("job 3 builder: [builder 2/4] RUN cargo chef cook")).expect(&grid);
    assert!(
        lines[bug + 1].starts_with(
            "    why: lost result: job 2 exported 14 records, 4 with layers; the key of `RUN cargo chef cook"
        ),
        "{grid}"
    );
    // Expected misses (the final build after each source edit) get none.
    assert_eq!(grid.matches("why:").count(), 1, "{grid}");
    insta::assert_snapshot!(grid);
}
