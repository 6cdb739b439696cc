//! `harness/schema/report.schema.json` matches the serde model exactly: the
//! recorded reports and cells in every state validate; every outcome and
//! result mark validates; a field the model lacks, a missing field or an
//! unknown kind does not. The schema forbids extra properties and requires
//! every field, so a change to the model that the schema misses fails here.

mod matrix_support;

use harness::progress::{Mark, Outcome};
use harness::runner::RunReport;
use matrix_support::{fixtures, sample_matrix};
use serde_json::{json, Value};

fn validator() -> jsonschema::Validator {
    let path = fixtures().join("../../schema/report.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{} is not a valid schema: {e}", path.display()))
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match the schema:\n{}", errors.join("\n"));
}

#[test]
fn recorded_reports_match_the_schema() {
    let validator = validator();
    for name in [
        "cache-mount-copy-26.1.5.json",
        "ci-cache-from-all-stages-26.1.5.json",
        "ci-inline-cache-26.1.5.json",
        // With each build's LLB definition and the LLB clause of its misses.
        "local-source-edit-28.5.2.json",
    ] {
        let path = fixtures().join("reports").join(name);
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_valid(&validator, &value, name);
    }
}

#[test]
fn cells_in_every_state_match_the_schema() {
    let validator = validator();
    for cell in sample_matrix() {
        let value = serde_json::to_value(&cell).unwrap();
        assert_valid(&validator, &value, &format!("{} on {}", cell.scenario, cell.engine));
    }
}

#[test]
fn every_outcome_and_result_mark_matches_the_schema() {
    let validator = validator();
    let mut cell: RunReport = sample_matrix().remove(1);
    let marks = [
        Mark::Cached,
        Mark::Done { seconds: Some(1.5) },
        Mark::Done { seconds: None },
        Mark::Error { message: "exit code 101".into() },
        Mark::Canceled,
    ];
    for outcome in Outcome::ALL {
        let build = cell.jobs[0].commands.iter_mut().find_map(|c| c.build.as_mut()).unwrap();
        let step = build.steps.first_mut().unwrap();
        step.step.evidence.results = marks.to_vec();
        step.observed = outcome;
        step.step.outcome = outcome;
        let value = serde_json::to_value(&cell).unwrap();
        assert_valid(&validator, &value, &format!("outcome {outcome}"));
    }
}

#[test]
fn an_interrupted_cell_matches_the_schema() {
    let validator = validator();
    let mut cell: RunReport = sample_matrix().remove(1);
    cell.status =
        harness::runner::RunStatus::Interrupted { message: "interrupted during job 2: `docker build .`".into() };
    let value = serde_json::to_value(&cell).unwrap();
    assert_eq!(value["status"]["kind"], "interrupted");
    assert_valid(&validator, &value, "an interrupted cell");
}

#[test]
fn the_schema_rejects_what_the_model_does_not_write() {
    let validator = validator();
    let good = serde_json::to_value(&sample_matrix()[0]).unwrap();
    let mut extra = good.clone();
    extra["jobs"][0]["commands"][0]["surprise"] = json!(1);
    let mut missing = good.clone();
    missing["jobs"][0].as_object_mut().unwrap().remove("duration_secs");
    let mut kind = good.clone();
    kind["status"] = json!({"kind": "flaky"});
    let mut outcome = good;
    outcome["jobs"][1]["verdicts"][0]["observed"] = json!("hit");
    for (what, value) in
        [("extra field", extra), ("missing field", missing), ("unknown kind", kind), ("unknown outcome", outcome)]
    {
        assert!(!validator.is_valid(&value), "the schema accepted a report with an {what}");
    }
}
