//! Explains a miss where a hit was possible: a step executed although an
//! earlier job had run it. Pure functions over decoded exports.
//!
//! The cache a job imports is what the previous job exported. The step's
//! key as this job computed it is in this job's own export; a key matches
//! another when the digests are equal and, input by input, some pair of
//! alternatives matches (BuildKit's own lookup rule). Then:
//! - the imported cache holds the key without a result, or holds no record
//!   of the step while its parents match: **lost result**, lost by the
//!   previous job's export (moby/buildkit#2274, #7146);
//! - the key differs: **changed input**, found by walking up the chain to
//!   the first record that differs (the copied files, the base image, the
//!   operation itself, or a parent step);
//! - there was no export to import: **never imported**.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::by_steps::copied_paths;
use super::coverage::JobCache;
use super::model::{CacheConfig, CacheSource};

/// Issues about exports that drop results of cache hits.
pub const LOST_RESULT_LINKS: [&str; 2] =
    ["https://github.com/moby/buildkit/issues/2274", "https://github.com/moby/buildkit/issues/7146"];

/// One job as explain needs it.
#[derive(Debug, Clone)]
pub struct JobExport<'a> {
    pub job: u32,
    /// The decoded export of the ref the step's build pushed; `None` when it
    /// could not be read (with why).
    pub export: Result<(&'a CacheConfig, &'a JobCache), String>,
    /// Context paths changed since the previous job (the caller knows the
    /// edits it made).
    pub changed_paths: Vec<String>,
}

/// A step's outcome in one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRun {
    pub job: u32,
    pub step: String,
    pub executed: bool,
}

/// Why a step missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MissCause {
    /// The imported cache had the step's key but no layer (or no record).
    LostResult { lost_in_job: u32, records: usize, records_with_layers: usize, key_present: bool, links: Vec<String> },
    /// The key differs; `first_change` names the first differing input.
    ChangedInput {
        first_change: String,
        changed_paths: Vec<String>,
        /// The steps between the miss and the first change, nearest first
        /// (a `COPY --from` leads into its source stage).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        via: Vec<String>,
        /// The changed operation from the LLB definitions of the two jobs'
        /// builds ([`super::llb_diff`]), or why there is no such diff.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        llb: Option<String>,
    },
    /// Nothing to import, or the import could not have worked.
    NeverImported { why: String },
    /// The records do not tell.
    Unknown { why: String },
}

/// The why-line of one miss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub job: u32,
    /// The build the step belongs to (its id in the scenario), when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub build: String,
    pub step: String,
    pub cause: MissCause,
    /// One line for the grid and the terminal.
    pub line: String,
}

/// Explains every step of `runs` that executed in a job after an earlier
/// job ran it. `jobs` are in order; `runs` hold every job's steps.
pub fn explain_misses(jobs: &[JobExport<'_>], runs: &[StepRun]) -> Vec<Explanation> {
    let mut out = Vec::new();
    for run in runs.iter().filter(|r| r.executed) {
        let ran_before = runs.iter().any(|r| r.step == run.step && r.job < run.job);
        let Some(pos) = jobs.iter().position(|j| j.job == run.job) else { continue };
        if !ran_before || pos == 0 {
            continue;
        }
        let cause = explain_step(&jobs[pos - 1], &jobs[pos], &run.step);
        let line = describe(&run.step, &cause);
        out.push(Explanation { job: run.job, build: String::new(), step: run.step.clone(), cause, line });
    }
    out
}

/// Why `step` missed in `current` although `previous` (the export the
/// build imported) could have given it.
pub fn explain_step(previous: &JobExport<'_>, current: &JobExport<'_>, step: &str) -> MissCause {
    let (imported, imported_cover) = match &previous.export {
        Ok(pair) => *pair,
        Err(why) => {
            return MissCause::NeverImported { why: format!("job {} left no readable cache: {why}", previous.job) }
        }
    };
    let (now, now_cover) = match &current.export {
        Ok(pair) => *pair,
        Err(why) => return MissCause::Unknown { why: format!("this job's own export could not be read: {why}") },
    };
    let Some(record) = now_cover.step(step).and_then(|s| s.record) else {
        return MissCause::Unknown { why: "this job's export has no record of the step".into() };
    };
    let lost = |key_present| MissCause::LostResult {
        lost_in_job: previous.job,
        records: imported_cover.records,
        records_with_layers: imported_cover.records_with_layers,
        key_present,
        links: LOST_RESULT_LINKS.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut matcher = Matcher::new(now, imported);
    if let Some(found) = matcher.find(record) {
        return if imported.records[found].has_result() {
            MissCause::NeverImported {
                why: format!(
                    "job {}'s export had the step's key with its layer, so the import itself failed \
                     (look for an import error in the build log)",
                    previous.job
                ),
            }
        } else {
            lost(true)
        };
    }
    let parents_match = now.records[record]
        .inputs
        .iter()
        .all(|alternatives| alternatives.iter().any(|i| matcher.find(i.link).is_some()));
    let same_op = imported.records.iter().any(|r| r.digest == now.records[record].digest);
    if parents_match && imported_cover.step(step).is_none_or(|s| s.record.is_none()) {
        return lost(false);
    }
    if parents_match && !same_op {
        return MissCause::ChangedInput {
            first_change: "the step itself (its instruction, a build argument or its environment)".into(),
            changed_paths: Vec::new(),
            via: Vec::new(),
            llb: None,
        };
    }
    let path = matcher.first_change(record);
    let first = path.last().copied().unwrap_or(record);
    let step_of = |r: usize| now_cover.steps.iter().find(|s| s.record == Some(r)).map(|s| s.step.clone());
    // Steps between the miss and the change, as a person follows them.
    let via: Vec<String> = path[1..].iter().filter_map(|&r| step_of(r)).filter(|s| s != step).collect();
    // A content checksum is named by the step that reads it, and the
    // changed paths narrowed to what that step copies.
    let reader = (now.records[first].inputs.is_empty() && path.len() >= 2)
        .then(|| step_of(path[path.len() - 2]))
        .flatten()
        .filter(|s| is_copy(s));
    match reader {
        Some(reader) if !feeds_base(now, first) => MissCause::ChangedInput {
            first_change: format!("the files `{reader}` copies (checksum {})", short(&now.records[first].digest)),
            changed_paths: copied_paths(instruction_of(&reader), &current.changed_paths),
            via: via.into_iter().filter(|s| *s != reader).collect(),
            llb: None,
        },
        _ => MissCause::ChangedInput {
            first_change: name_record(now, now_cover, first, record),
            changed_paths: current.changed_paths.clone(),
            via,
            llb: None,
        },
    }
}

/// Chain-aware matching of records of `a` against records of `b`.
pub(crate) struct Matcher<'a> {
    a: &'a CacheConfig,
    b: &'a CacheConfig,
    memo: HashMap<(usize, usize), bool>,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(a: &'a CacheConfig, b: &'a CacheConfig) -> Self {
        Self { a, b, memo: HashMap::new() }
    }

    /// A record of `b` equal to record `ra` of `a`, key and inputs.
    pub(crate) fn find(&mut self, ra: usize) -> Option<usize> {
        (0..self.b.records.len()).find(|&rb| self.same(ra, rb))
    }

    fn same(&mut self, ra: usize, rb: usize) -> bool {
        if let Some(&known) = self.memo.get(&(ra, rb)) {
            return known;
        }
        let (a, b) = (self.a, self.b);
        let (x, y) = (&a.records[ra], &b.records[rb]);
        let mut equal = x.digest == y.digest && x.inputs.len() == y.inputs.len();
        if equal {
            // Decoding rejected loops, so this recursion ends.
            let pairs: Vec<Vec<(usize, usize)>> = x
                .inputs
                .iter()
                .zip(&y.inputs)
                .map(|(xs, ys)| {
                    xs.iter()
                        .flat_map(|i| {
                            ys.iter().filter(move |j| j.selector == i.selector).map(move |j| (i.link, j.link))
                        })
                        .collect()
                })
                .collect();
            equal = pairs.into_iter().all(|alternatives| alternatives.into_iter().any(|(p, q)| self.same(p, q)));
        }
        self.memo.insert((ra, rb), equal);
        equal
    }

    /// Walks up from `record` along inputs that have no match, to the first
    /// record (nearest the roots) that differs; returns the records walked,
    /// `record` first, that one last.
    fn first_change(&mut self, record: usize) -> Vec<usize> {
        let a = self.a;
        let mut path = vec![record];
        for _ in 0..a.records.len() {
            let at = *path.last().unwrap_or(&record);
            let unmatched = a.records[at]
                .inputs
                .iter()
                .find(|alternatives| !alternatives.iter().any(|i| self.find(i.link).is_some()))
                .and_then(|alternatives| alternatives.first())
                .map(|i| i.link);
            match unmatched {
                Some(parent) => path.push(parent),
                None => break,
            }
        }
        path
    }
}

/// Names a record for a person: a step when the coverage knows it, else
/// what a record without inputs stands for.
fn name_record(config: &CacheConfig, cover: &JobCache, record: usize, missed: usize) -> String {
    if let Some(step) = cover.steps.iter().find(|s| s.record == Some(record)) {
        if record == missed {
            return "the step itself (its instruction, a build argument or its environment)".into();
        }
        return format!("`{}`", step.step);
    }
    if config.records[record].inputs.is_empty() {
        return if feeds_base(config, record) {
            format!("the base image (source key {})", short(&config.records[record].digest))
        } else {
            format!("the content of the files a step copies (checksum {})", short(&config.records[record].digest))
        };
    }
    format!("an earlier operation outside the built stage (key {})", short(&config.records[record].digest))
}

/// A root feeding input 0 starts a stage (its base image); any other root
/// is a content checksum of files a COPY or mount reads.
fn feeds_base(config: &CacheConfig, record: usize) -> bool {
    config
        .dependants(record)
        .any(|d| config.records[d].inputs.first().is_some_and(|a| a.iter().any(|i| i.link == record)))
}

fn is_copy(step: &str) -> bool {
    matches!(instruction_of(step).split_whitespace().next(), Some("COPY" | "ADD"))
}

/// `COPY . .` of `[builder 3/4] COPY . .`.
fn instruction_of(step: &str) -> &str {
    step.split_once("] ").map_or(step, |(_, rest)| rest)
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}

/// The grid's why-line.
pub fn describe(step: &str, cause: &MissCause) -> String {
    let instruction = step.split_once("] ").map_or(step, |(_, rest)| rest);
    match cause {
        MissCause::LostResult { lost_in_job, records, records_with_layers, key_present, links } => format!(
            "lost result: job {lost_in_job} exported {records} records, {records_with_layers} with layers; the key of \
             `{instruction}` is {} ({})",
            if *key_present { "there without its layer" } else { "not there, though its parents are" },
            links.join(", ")
        ),
        MissCause::ChangedInput { first_change, changed_paths, via, llb } => {
            let mut line = format!(
                "changed input: the key of `{instruction}` differs from the earlier job's; first change: {first_change}"
            );
            if !via.is_empty() {
                line.push_str(&format!(
                    " (through {})",
                    via.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                ));
            }
            if !changed_paths.is_empty() {
                line.push_str(&format!("; changed paths: {}", changed_paths.join(", ")));
            }
            if let Some(llb) = llb {
                line.push_str(&format!("; {llb}"));
            }
            line
        }
        MissCause::NeverImported { why } => format!("never imported: {why}"),
        MissCause::Unknown { why } => format!("unexplained: {why}"),
    }
}

/// Which known bug a lost result matches, by the export's source.
pub fn bug_for(source: CacheSource) -> &'static str {
    match source {
        CacheSource::Inline => LOST_RESULT_LINKS[0],
        CacheSource::Registry => LOST_RESULT_LINKS[1],
    }
}
