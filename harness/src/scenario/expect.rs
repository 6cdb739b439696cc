//! Judging what a job's builds and runs showed against the scenario's
//! expectations. Pure functions: the runner gathers the observed steps
//! (each with its outcome decided once, in [`crate::evidence`]) and run
//! output; this module only compares, and never weighs evidence again.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::model::{ExpandedJob, Expectation, Expected, ImageStore, OverrideAction, RunCheck};
use super::template::Vars;
use crate::evidence::{LayerCompare, ObservedStep};
use crate::progress::Outcome;

/// The observed steps of a job's builds, by build id. A build whose log
/// could not be read is left out.
pub type ObservedBuilds<'a> = HashMap<&'a str, &'a [ObservedStep]>;

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
    /// The step's observed outcome, as [`crate::evidence`] decided it.
    pub observed: Option<Outcome>,
    /// The parser's outcome alone.
    pub progress: Option<Outcome>,
    pub layer: Option<LayerCompare>,
    pub status: Status,
    pub notes: Vec<String>,
}

/// Evaluates every expectation that applies to `job` on `engine` with
/// image store `store`. `builds` maps build ids (see
/// [`super::BuildCommand::id`]) to their observed steps.
pub fn evaluate_job(
    job: &ExpandedJob<'_>,
    engine: &str,
    store: ImageStore,
    builds: &ObservedBuilds<'_>,
) -> Vec<Verdict> {
    job.expectations().map(|e| evaluate(e, engine, store, job.number, builds.get(e.build.as_str()).copied())).collect()
}

/// Evaluates one expectation against the observed steps of the build it
/// names (`None` when that build left no log), on `engine` with `store`.
pub fn evaluate(
    expectation: &Expectation,
    engine: &str,
    store: ImageStore,
    job: u32,
    build: Option<&[ObservedStep]>,
) -> Verdict {
    let mut notes = Vec::new();
    let found = match build {
        None => {
            notes.push(format!("build `{}` left no progress log", expectation.build));
            Found::Unknown
        }
        Some(steps) => find_step(expectation, steps, &mut notes),
    };
    let step = match found {
        Found::One(step) => Some(step),
        Found::Absent | Found::Unknown => None,
    };
    let (progress, observed) = match found {
        Found::One(step) => {
            notes.extend(step.note.clone());
            (Some(step.progress()), Some(step.observed))
        }
        Found::Absent => (Some(Outcome::Absent), Some(Outcome::Absent)),
        Found::Unknown => (None, None),
    };
    let (expected, status) = judge(expectation, (engine, store), job, observed, &mut notes);
    Verdict {
        job,
        build: expectation.build.clone(),
        stage: expectation.stage.clone(),
        step: expectation.step.clone(),
        matched: step.map(|s| s.step.name()),
        expected,
        observed,
        progress,
        layer: step.and_then(|s| s.layer_vs_previous),
        status,
        notes,
    }
}

/// The outcome expected on an engine with an image store in `job`, and
/// whether `observed` holds it.
fn judge(
    expectation: &Expectation,
    (engine, store): (&str, ImageStore),
    job: u32,
    observed: Option<Outcome>,
    notes: &mut Vec<String>,
) -> (Expected, Status) {
    let base = expectation.expected;
    match expectation.override_for(engine, store, job).map(|o| &o.action) {
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
    }
}

/// What the log holds for an expectation.
enum Found<'b> {
    One(&'b ObservedStep),
    /// No step matches: the step is absent from the build.
    Absent,
    /// No log, or several steps match: nothing to judge.
    Unknown,
}

/// The one step the expectation names, noting why when there is none.
fn find_step<'b>(expectation: &Expectation, steps: &'b [ObservedStep], notes: &mut Vec<String>) -> Found<'b> {
    let needle = normalize(&expectation.step);
    let matches: Vec<&ObservedStep> = steps
        .iter()
        .filter(|s| expectation.stage.is_none() || s.step.stage == expectation.stage)
        .filter(|s| !s.step.instruction.is_empty() && normalize(&s.step.instruction).contains(&needle))
        .collect();
    match matches.as_slice() {
        [one] => Found::One(one),
        [] => {
            notes.push(format!("no step of build `{}` matches `{}`", expectation.build, expectation.step));
            Found::Absent
        }
        many => {
            let names: Vec<String> = many.iter().map(|s| s.step.name()).collect();
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
