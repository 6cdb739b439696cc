//! From evidence to outcomes: turns a finished [`BuildDraft`] into a
//! [`Build`], deciding each Dockerfile step's [`Outcome`] and saying why in
//! one line. The rules, in order, on the step's last result:
//!
//! - `ERROR` is `error`, `CANCELED` is `canceled`, `CACHED` is `cached`.
//! - `DONE` with process output is `executed`.
//! - `DONE` with layer transfer or extraction and no output is `remote`:
//!   plain progress shows a registry-cache hit this way, not as `CACHED`.
//! - A `FROM` that pulled layers is `remote`, one that pulled none `cached`.
//! - `DONE` with no evidence at all is `executed?`: a silent `COPY` looks
//!   the same whether it ran or not, and guessing would mislead.
//! - A step a stage should have (`[builder 3/4]` when 2 and 4 were printed)
//!   that never appeared is `absent`.
//!
//! Kept apart from the parsers so the rules read in one place.

use super::draft::{BuildDraft, VertexDraft};
use super::model::{Build, Evidence, Mark, Outcome, Step, Vertex, VertexStatus};
use super::name::{parse_step_name, StepName};

/// Finishes a build: numbers never-started rawjson vertices, splits steps
/// from BuildKit's own vertices, classifies steps and adds absent ones.
pub(crate) fn finish(mut draft: BuildDraft) -> Build {
    let mut next = draft.vertices.iter().filter(|v| !v.listed_only).map(|v| v.number).max().unwrap_or(0);
    for v in draft.vertices.iter_mut().filter(|v| v.listed_only) {
        next += 1;
        v.number = next;
    }
    let truncated = draft.cut || draft.vertices.iter().any(|v| v.open && !v.listed_only);
    let step_error = draft.vertices.iter().find_map(|v| match (v.marks.last(), parse_step_name(&v.name)) {
        (Some(Mark::Error { message }), Some(_)) => Some(message.clone()),
        _ => None,
    });
    let error = draft.error.take().or(step_error);
    let context = Context { failed: error.is_some(), truncated };

    let mut steps = Vec::new();
    let mut internal = Vec::new();
    for v in draft.vertices {
        match parse_step_name(&v.name) {
            Some(name) => {
                let (outcome, why, duration) = classify(&v, &name, context);
                steps.push(Step {
                    vertex: v.number,
                    digest: v.digest.clone(),
                    stage: name.stage.map(str::to_owned),
                    index: Some(name.index),
                    total: Some(name.total),
                    platform: name.platform.map(str::to_owned),
                    instruction: name.instruction.to_owned(),
                    outcome,
                    why,
                    duration,
                    evidence: evidence(v),
                });
            }
            None => internal.push(internal_vertex(v)),
        }
    }
    steps.sort_by_key(|s| s.vertex);
    // Never-started rawjson steps were numbered last; place them like
    // the absent steps synthesized below, after their stage's predecessor.
    let (unstarted, mut steps): (Vec<Step>, Vec<Step>) = steps.into_iter().partition(|s| s.outcome == Outcome::Absent);
    for step in unstarted {
        insert_in_stage(&mut steps, step);
    }
    add_absent(&mut steps, context);
    internal.sort_by_key(|v| v.vertex);
    Build {
        format: draft.format,
        builder: draft.builder,
        steps,
        internal,
        warnings: draft.warnings,
        error,
        truncated,
        lines: draft.lines,
    }
}

#[derive(Debug, Clone, Copy)]
struct Context {
    failed: bool,
    truncated: bool,
}

fn evidence(v: VertexDraft) -> Evidence {
    Evidence {
        results: v.marks,
        output_lines: v.output_lines,
        output_tail: v.tail.into_iter().collect(),
        layers_pulled: v.layers_pulled,
        layers_extracted: v.layers_extracted,
        status_lines: v.status_lines,
        warnings: v.warnings,
        lines: v.lines,
    }
}

fn internal_vertex(v: VertexDraft) -> Vertex {
    let (status, duration, error) = match v.marks.last() {
        None => (VertexStatus::Unfinished, None, None),
        Some(Mark::Cached) => (VertexStatus::Cached, None, None),
        Some(Mark::Done { seconds }) => (VertexStatus::Done, *seconds, None),
        Some(Mark::Error { message }) => (VertexStatus::Error, None, Some(message.clone())),
        Some(Mark::Canceled) => (VertexStatus::Canceled, None, None),
    };
    let name = if v.name.is_empty() { format!("#{} (header not in the log)", v.number) } else { v.name };
    Vertex { vertex: v.number, digest: v.digest, name, status, duration, error }
}

fn lines(n: u64) -> String {
    if n == 1 {
        "1 line".to_owned()
    } else {
        format!("{n} lines")
    }
}

fn layers(n: usize) -> String {
    if n == 1 {
        "1 layer".to_owned()
    } else {
        format!("{n} layers")
    }
}

fn done(seconds: Option<f64>) -> String {
    match seconds {
        Some(s) => format!("DONE {s:.1}s"),
        None => "DONE".to_owned(),
    }
}

/// Decides one step's outcome, the line explaining it, and its duration.
fn classify(v: &VertexDraft, name: &StepName<'_>, cx: Context) -> (Outcome, String, Option<f64>) {
    let keyword = name.instruction.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    let output = v.output_lines;
    let layer_count = {
        let extra = v.layers_extracted.iter().filter(|d| !v.layers_pulled.contains(d)).count();
        v.layers_pulled.len() + extra
    };
    let was_cached = v.marks.contains(&Mark::Cached);
    if v.listed_only {
        return (Outcome::Absent, format!("in the build graph but never started: {}", absent_reason(cx)), None);
    }
    let (outcome, mut why, duration) = match v.marks.last() {
        None if output > 0 => {
            (Outcome::Executed, format!("ran ({} of output) but the log ends before it finished", lines(output)), None)
        }
        None if layer_count > 0 => (
            Outcome::ExecutedUnsure,
            format!("fetched {} but the log ends before any result", layers(layer_count)),
            None,
        ),
        None => (Outcome::ExecutedUnsure, "started but the log ends before any result".to_owned(), None),
        Some(Mark::Error { message }) => {
            let after = if output > 0 { format!(" (after {} of output)", lines(output)) } else { String::new() };
            (Outcome::Error, format!("ERROR: {message}{after}"), None)
        }
        Some(Mark::Canceled) => {
            (Outcome::Canceled, "CANCELED: BuildKit stopped it because another step failed".to_owned(), None)
        }
        Some(Mark::Cached) => (Outcome::Cached, "CACHED: reused from the build cache, no process ran".to_owned(), None),
        Some(Mark::Done { seconds }) => {
            let d = done(*seconds);
            let (outcome, why) = if keyword == "FROM" {
                if layer_count > 0 {
                    (Outcome::Remote, format!("FROM pulled {} of the base image, {d}", layers(layer_count)))
                } else {
                    (Outcome::Cached, format!("FROM with nothing pulled here: base image already present, {d}"))
                }
            } else if output > 0 {
                (Outcome::Executed, format!("ran: {} of process output, {d}", lines(output)))
            } else if layer_count > 0 && was_cached {
                (
                    Outcome::Remote,
                    format!(
                        "CACHED, then fetched {} and {d} with no process output: reused, layers from a remote cache",
                        layers(layer_count)
                    ),
                )
            } else if layer_count > 0 {
                (
                    Outcome::Remote,
                    format!(
                        "{d} with no process output, only {} fetched: reused from a remote cache",
                        layers(layer_count)
                    ),
                )
            } else if was_cached {
                (Outcome::Cached, format!("CACHED, then {d} with no process output"))
            } else {
                let what = match keyword.as_str() {
                    "COPY" | "ADD" => format!("a silent {keyword} looks the same whether it ran or was reused"),
                    "RUN" => "the command may have run silently, or been reused".to_owned(),
                    _ => "nothing tells a run from a reuse".to_owned(),
                };
                (Outcome::ExecutedUnsure, format!("{d} with no output and no layer transfer: {what}"))
            };
            (outcome, why, *seconds)
        }
    };
    if v.open && !v.marks.is_empty() {
        why.push_str(" (the log ends while it was active again)");
    }
    (outcome, why, duration)
}

fn absent_reason(cx: Context) -> &'static str {
    if cx.truncated {
        "the log ends before it"
    } else if cx.failed {
        "the build stopped before it, or BuildKit merged it with an identical step"
    } else {
        "pruned by --target, or BuildKit merged it with an identical step of another stage"
    }
}

/// Adds an absent step for each index a stage should have but never printed.
fn add_absent(steps: &mut Vec<Step>, cx: Context) {
    let mut stages: Vec<(Option<String>, Option<String>, u32)> = Vec::new();
    for s in steps.iter() {
        let total = s.total.unwrap_or(0);
        match stages.iter_mut().find(|(p, st, _)| *p == s.platform && *st == s.stage) {
            Some(entry) => entry.2 = entry.2.max(total),
            None => stages.push((s.platform.clone(), s.stage.clone(), total)),
        }
    }
    for (platform, stage, total) in stages {
        for index in 1..=total {
            if steps.iter().any(|s| s.platform == platform && s.stage == stage && s.index == Some(index)) {
                continue;
            }
            insert_in_stage(
                steps,
                Step {
                    vertex: 0,
                    digest: None,
                    stage: stage.clone(),
                    index: Some(index),
                    total: Some(total),
                    platform: platform.clone(),
                    instruction: String::new(),
                    outcome: Outcome::Absent,
                    why: format!("never printed: {}", absent_reason(cx)),
                    duration: None,
                    evidence: Evidence::default(),
                },
            );
        }
    }
}

/// Inserts `step` right after the step before it in its stage (or before
/// the one after it; at the end when the stage has no other step).
fn insert_in_stage(steps: &mut Vec<Step>, step: Step) {
    let same_stage = |s: &Step| s.platform == step.platform && s.stage == step.stage;
    let at = steps
        .iter()
        .rposition(|s| same_stage(s) && s.index < step.index)
        .map(|j| j + 1)
        .or_else(|| steps.iter().position(|s| same_stage(s) && s.index > step.index))
        .unwrap_or(steps.len());
    steps.insert(at, step);
}
