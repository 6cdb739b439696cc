//! Judging what a job's builds and runs showed against the scenario's
//! expectations. Pure functions: the runner gathers parsed builds, layer ids
//! and run output; this module only compares.
//!
//! A step's outcome has two witnesses. The progress parser reads what
//! BuildKit printed; for steps that make a layer (`RUN`, `COPY`, `ADD`) the
//! layer's diff id can be compared with the previous job's. The layer wins
//! where they disagree, because plain progress prints `DONE`, not `CACHED`,
//! for a layer taken from a registry cache; every disagreement is noted.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{ExpandedJob, Expectation, Expected, OverrideAction, RunCheck};
use super::render::Vars;
use crate::progress::{Build, Outcome, Step};

/// How a step's layer compares with the previous job's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerCompare {
    Same,
    Different,
}

/// The layer diff ids of one job's builds, per build id and step.
///
/// The runner fills it from the images it built; steps it cannot map to a
/// layer are simply left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobLayers {
    by_step: HashMap<(String, String), String>,
}

impl JobLayers {
    pub fn insert(&mut self, build: &str, step: &Step, diff_id: impl Into<String>) {
        self.by_step.insert((build.to_owned(), step.key()), diff_id.into());
    }

    pub fn get(&self, build: &str, step: &Step) -> Option<&str> {
        self.by_step.get(&(build.to_owned(), step.key())).map(String::as_str)
    }
}

/// This job's layers and the previous job's, as far as known.
#[derive(Debug, Clone, Copy, Default)]
pub struct LayerEvidence<'a> {
    pub current: Option<&'a JobLayers>,
    pub previous: Option<&'a JobLayers>,
}

impl LayerEvidence<'_> {
    /// Compares the step's layer with the previous job's, for steps that make
    /// a layer and when both ids are known.
    pub fn compare(&self, build: &str, step: &Step) -> Option<LayerCompare> {
        if !matches!(step.keyword().as_str(), "RUN" | "COPY" | "ADD") {
            return None;
        }
        let now = self.current?.get(build, step)?;
        let before = self.previous?.get(build, step)?;
        Some(if now == before { LayerCompare::Same } else { LayerCompare::Different })
    }
}

/// How an expectation or run check turned out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The engine showed the outcome its known upstream bug predicts.
    KnownBug {
        link: String,
    },
    /// The engine is marked with a known bug but behaved correctly.
    NoLongerReproduces {
        link: String,
    },
    /// Not checked on this engine.
    Unsupported {
        reason: String,
    },
}

impl Status {
    /// Only a plain failure fails a run; the other kinds are reported apart.
    pub fn is_failure(&self) -> bool {
        matches!(self, Status::Fail)
    }
}

/// The verdict on one step expectation in one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub job: u32,
    pub build: String,
    pub stage: Option<String>,
    /// The expectation's step text.
    pub step: String,
    /// The step it matched, as BuildKit names it.
    pub matched: Option<String>,
    /// What this engine was expected to show (the override's outcome, if any).
    pub expected: Expected,
    /// The outcome judged: the parser's, corrected by layer evidence.
    pub observed: Option<Outcome>,
    /// The parser's outcome alone.
    pub progress: Option<Outcome>,
    pub layer: Option<LayerCompare>,
    pub status: Status,
    pub notes: Vec<String>,
}

/// Evaluates every expectation that applies to `job` on `engine`.
/// `builds` maps build ids (see [`super::BuildCommand::id`]) to their parsed logs.
pub fn evaluate_job(
    job: &ExpandedJob<'_>,
    engine: &str,
    builds: &HashMap<String, Build>,
    layers: LayerEvidence<'_>,
) -> Vec<Verdict> {
    job.expectations().map(|e| evaluate(e, engine, job.number, builds.get(&e.build), layers)).collect()
}

/// Evaluates one expectation against the build it names (`None` when that
/// build left no log).
pub fn evaluate(
    expectation: &Expectation,
    engine: &str,
    job: u32,
    build: Option<&Build>,
    layers: LayerEvidence<'_>,
) -> Verdict {
    let mut notes = Vec::new();
    let found = match build {
        None => {
            notes.push(format!("build `{}` left no progress log", expectation.build));
            Found::Unknown
        }
        Some(build) => find_step(expectation, build, &mut notes),
    };
    let step = match found {
        Found::One(step) => Some(step),
        Found::Absent | Found::Unknown => None,
    };
    let progress = match found {
        Found::One(step) => Some(step.outcome),
        Found::Absent => Some(Outcome::Absent),
        Found::Unknown => None,
    };
    let layer = step.and_then(|s| layers.compare(&expectation.build, s));
    let observed = progress.map(|p| {
        let (outcome, note) = weigh(p, layer, job);
        notes.extend(note);
        outcome
    });

    let base = expectation.expected;
    let (expected, status) = match expectation.override_for(engine, job).map(|o| &o.action) {
        Some(OverrideAction::Unsupported(reason)) => (base, Status::Unsupported { reason: reason.clone() }),
        Some(OverrideAction::Outcome { expected: alt, known_bug }) => {
            let status = match (observed, known_bug) {
                (Some(o), None) if alt.matches(o) => Status::Pass,
                (Some(o), Some(link)) if alt.matches(o) => Status::KnownBug { link: link.clone() },
                (Some(o), Some(link)) if base.matches(o) => Status::NoLongerReproduces { link: link.clone() },
                _ => {
                    if let Some(link) = known_bug {
                        notes.push(format!("neither the known bug's `{alt}` ({link}) nor the correct `{base}`"));
                    }
                    Status::Fail
                }
            };
            (*alt, status)
        }
        None => {
            let pass = observed.is_some_and(|o| base.matches(o));
            (base, if pass { Status::Pass } else { Status::Fail })
        }
    };

    Verdict {
        job,
        build: expectation.build.clone(),
        stage: expectation.stage.clone(),
        step: expectation.step.clone(),
        matched: step.map(Step::name),
        expected,
        observed,
        progress,
        layer,
        status,
        notes,
    }
}

/// What the log holds for an expectation.
enum Found<'b> {
    One(&'b Step),
    /// No step matches: the step is absent from the build.
    Absent,
    /// No log, or several steps match: nothing to judge.
    Unknown,
}

/// The one step the expectation names, noting why when there is none.
fn find_step<'b>(expectation: &Expectation, build: &'b Build, notes: &mut Vec<String>) -> Found<'b> {
    let needle = normalize(&expectation.step);
    let matches: Vec<&Step> = build
        .steps
        .iter()
        .filter(|s| expectation.stage.is_none() || s.stage == expectation.stage)
        .filter(|s| !s.instruction.is_empty() && normalize(&s.instruction).contains(&needle))
        .collect();
    match matches.as_slice() {
        [one] => Found::One(one),
        [] => {
            notes.push(format!("no step of build `{}` matches `{}`", expectation.build, expectation.step));
            Found::Absent
        }
        many => {
            let names: Vec<String> = many.iter().map(|s| s.name()).collect();
            notes.push(format!(
                "{} steps match `{}` ({}): name the stage with `stage`",
                many.len(),
                expectation.step,
                names.join("; ")
            ));
            Found::Unknown
        }
    }
}

/// The outcome to judge, from the parser's and the layer's testimony.
/// Weighs the parser's outcome against layer evidence: the layer wins, and
/// every disagreement gets a note. `job` names the job being judged.
pub fn weigh(progress: Outcome, layer: Option<LayerCompare>, job: u32) -> (Outcome, Option<String>) {
    let previous = job.saturating_sub(1);
    match (progress, layer) {
        (Outcome::Executed | Outcome::ExecutedUnsure, Some(LayerCompare::Same)) => (
            Outcome::Remote,
            Some(format!(
                "progress shows `{progress}` but the layer is the same as job {previous}'s: counted as reused (remote)"
            )),
        ),
        (Outcome::ExecutedUnsure, Some(LayerCompare::Different)) => (
            Outcome::Executed,
            Some(format!(
                "progress shows `executed?` and the layer differs from job {previous}'s: counted as executed"
            )),
        ),
        (Outcome::Cached | Outcome::Remote, Some(LayerCompare::Different)) => {
            (progress, Some(format!("progress shows `{progress}` but the layer differs from job {previous}'s")))
        }
        _ => (progress, None),
    }
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What `docker run` gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOutput {
    pub exit_code: i64,
    pub stdout: String,
}

/// The verdict on one run check in one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunVerdict {
    pub job: u32,
    /// The image as run.
    pub image: String,
    /// Each condition, as checked (`stdout contains "..."`).
    pub expected: Vec<String>,
    /// The conditions that did not hold, with what was seen.
    pub failures: Vec<String>,
    pub status: Status,
}

/// Checks a run's output against its check, placeholders rendered with `vars`.
pub fn check_run(check: &RunCheck, vars: &Vars, output: &RunOutput) -> RunVerdict {
    let mut expected = Vec::new();
    let mut failures = Vec::new();
    let stdout = output.stdout.trim_end();
    expected.push(format!("exit code {}", check.exit_code));
    if output.exit_code != check.exit_code {
        failures.push(format!("exit code was {}", output.exit_code));
    }
    let conditions = [(&check.stdout_contains, true), (&check.stdout_not_contains, false)];
    for (text, wanted) in conditions {
        let Some(text) = text.as_ref().map(|t| t.render(vars)) else { continue };
        let verb = if wanted { "contains" } else { "does not contain" };
        expected.push(format!("stdout {verb} {text:?}"));
        if output.stdout.contains(&text) != wanted {
            failures.push(format!("stdout was {:?}", excerpt(stdout)));
        }
    }
    failures.dedup();
    let status = if failures.is_empty() { Status::Pass } else { Status::Fail };
    RunVerdict { job: vars.job, image: check.image.render(vars), expected, failures, status }
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}
