//! Reading a run's `report.json` as a user's script would: outcomes of
//! named steps, job by job.

/// The outcome of the first step whose instruction starts with
/// `instruction` in the build `id` of job `job`.
pub fn outcome(report: &serde_json::Value, job: u64, id: &str, instruction: &str) -> String {
    let jobs = report["jobs"].as_array().expect("report.json has jobs");
    let job_value = jobs.iter().find(|j| j["number"] == job).unwrap_or_else(|| panic!("no job {job} in the report"));
    let build = job_value["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.get("build").filter(|b| !b.is_null()))
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("job {job}: no build `{id}`"));
    let step = build["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["step"])
        .find(|s| s["instruction"].as_str().is_some_and(|i| i.starts_with(instruction)))
        .unwrap_or_else(|| panic!("job {job}: build `{id}` has no step `{instruction}`"));
    step["outcome"].as_str().unwrap().to_owned()
}

/// The outcomes of one step in jobs `1..=jobs`.
pub fn outcomes(report: &serde_json::Value, jobs: u64, id: &str, instruction: &str) -> Vec<String> {
    (1..=jobs).map(|job| outcome(report, job, id, instruction)).collect()
}

/// Whether an outcome means the step's result came from a cache.
pub fn reused(outcome: &str) -> bool {
    matches!(outcome, "cached" | "remote")
}

/// `dir/report.json`, parsed.
pub fn read(dir: &std::path::Path) -> serde_json::Value {
    let bytes = std::fs::read(dir.join("report.json")).expect("report.json is written");
    serde_json::from_slice(&bytes).expect("report.json is JSON")
}
