//! What the cache recording test writes and the fixture tests read back:
//! one folder per engine and cache mode, one per job, holding the registry
//! documents of every ref the job pushed and the builder's steps.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use harness::cache::{decode_documents, decode_metadata, BuildDefinition, CacheConfig, CacheDocuments, StepLayer};
use serde::{Deserialize, Serialize};

/// The builder build's steps as one job saw them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedBuild {
    pub engine: String,
    pub buildkit: Option<String>,
    pub containerd_store: bool,
    pub job: u32,
    pub steps: Vec<RecordedStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordedStep {
    pub step: StepLayer,
    /// The progress outcome (`cached`, `executed`, ...).
    pub outcome: String,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cache")
}

/// `tests/fixtures/cache/<set>/job-<n>/`.
pub fn job_dir(set: &str, job: u32) -> PathBuf {
    fixtures().join(set).join(format!("job-{job}"))
}

pub fn write_json(path: &Path, value: &impl Serialize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The decoded cache of `<target>.json` in a recorded job.
pub fn recorded_cache(set: &str, job: u32, target: &str) -> CacheConfig {
    let documents: CacheDocuments = read_json(&job_dir(set, job).join(format!("{target}.json")));
    decode_documents(&documents).unwrap_or_else(|e| panic!("{set} job {job} {target}: {e}")).0
}

pub fn recorded_build(set: &str, job: u32) -> RecordedBuild {
    read_json(&job_dir(set, job).join("builder.steps.json"))
}

/// Jobs recorded for `set`, in order.
pub fn recorded_jobs(set: &str) -> Vec<u32> {
    let mut jobs: Vec<u32> = std::fs::read_dir(fixtures().join(set))
        .map(|dir| dir.filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("job-")?.parse().ok()).collect())
        .unwrap_or_default();
    jobs.sort();
    jobs
}

/// The LLB definition in `<target>.metadata.json` of a recorded job.
pub fn recorded_definition(set: &str, job: u32, target: &str) -> BuildDefinition {
    let path = job_dir(set, job).join(format!("{target}.metadata.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode_metadata(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
