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
use super::model::{Build, Evidence, Format, Mark, Outcome, Step, Vertex, VertexStatus};
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
    let context = Context {
        failed: error.is_some(),
        truncated,
        format: draft.format,
        no_cache_import: draft.vertices.iter().any(|v| is_build_start(&v.name))
            && !draft.vertices.iter().any(|v| is_cache_import(&v.name) || fetched_step_layers(v)),
    };

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
                    total: name.total,
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
    let lines = draft.lines.last.saturating_sub(draft.lines.first) + 1;
    let mut warnings = draft.warnings;
    let steps = super::absent::place(steps, context.absent_reason(), lines, &mut warnings);
    internal.sort_by_key(|v| v.vertex);
    Build {
        format: draft.format,
        builder: draft.builder,
        steps,
        internal,
        warnings,
        error,
        truncated,
        lines: draft.lines,
    }
}

/// `[internal] load build definition`: the log holds the build's start.
fn is_build_start(name: &str) -> bool {
    name.starts_with("[internal] load build definition") || name.starts_with("[internal] load .dockerignore")
}

/// A step other than `FROM` that fetched layers: some remote cache fed
/// the build even if its import is not in the log.
fn fetched_step_layers(v: &VertexDraft) -> bool {
    let fetched = !v.layers_pulled.is_empty() || !v.layers_extracted.is_empty();
    fetched && parse_step_name(&v.name).is_some_and(|n| !n.instruction.to_ascii_uppercase().starts_with("FROM"))
}

/// A vertex that imports a remote cache (`--cache-from`).
fn is_cache_import(name: &str) -> bool {
    name.starts_with("importing cache manifest") || name.starts_with("importing cache")
}

#[derive(Debug, Clone, Copy)]
struct Context {
    failed: bool,
    truncated: bool,
    format: Format,
    /// The log shows the build from its start and no cache import: a step
    /// that is not `CACHED` cannot have come from a remote cache.
    no_cache_import: bool,
}

impl Context {
    fn absent_reason(&self) -> &'static str {
        if self.truncated {
            "the log ends before it"
        } else if self.failed {
            "the build stopped before it, or BuildKit merged it with an identical step"
        } else {
            "pruned by --target, or BuildKit merged it with an identical step of another stage"
        }
    }
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
    if v.listed_only {
        return (Outcome::Absent, format!("in the build graph but never started: {}", cx.absent_reason()), None);
    }
    let facts = Facts { keyword: &keyword, output, layer_count, was_cached: v.marks.contains(&Mark::Cached) };
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
        Some(Mark::Cached) => {
            let (outcome, why) = cached(&facts, cx);
            (outcome, why, None)
        }
        Some(Mark::Done { seconds }) => {
            let (outcome, why) = done_outcome(&facts, &done(*seconds), cx);
            (outcome, why, *seconds)
        }
    };
    if v.open && !v.marks.is_empty() {
        why.push_str(" (the log ends while it was active again)");
    }
    (outcome, why, duration)
}

/// What a step showed besides its result.
struct Facts<'a> {
    keyword: &'a str,
    output: u64,
    layer_count: usize,
    was_cached: bool,
}

/// The last result is a cache hit (`CACHED`, `Using cache`).
fn cached(f: &Facts<'_>, cx: Context) -> (Outcome, String) {
    match cx.format {
        Format::Kaniko => (
            Outcome::Remote,
            "`Using caching version of cmd`: its layer came from Kaniko's cache repository".to_owned(),
        ),
        Format::Legacy | Format::Buildah => {
            (Outcome::Cached, "`Using cache`: reused from the local layer cache, no process ran".to_owned())
        }
        _ if f.keyword == "FROM" && f.layer_count > 0 => {
            (Outcome::Pulled, format!("FROM pulled {} of the base image", layers(f.layer_count)))
        }
        _ if f.layer_count > 0 => (
            Outcome::Remote,
            format!("CACHED after pulling {}: reused, layers from a remote cache", layers(f.layer_count)),
        ),
        _ => (Outcome::Cached, "CACHED: reused from the build cache, no process ran".to_owned()),
    }
}

/// The last result is `DONE` (or its equivalent: the step committed).
fn done_outcome(f: &Facts<'_>, d: &str, cx: Context) -> (Outcome, String) {
    let n = f.layer_count;
    if f.keyword == "FROM" {
        return if n > 0 {
            (Outcome::Pulled, format!("FROM pulled {} of the base image, {d}", layers(n)))
        } else {
            (Outcome::Cached, format!("FROM with nothing pulled here: base image already present, {d}"))
        };
    }
    if f.output > 0 {
        return (Outcome::Executed, format!("ran: {} of process output, {d}", lines(f.output)));
    }
    if !cx.format.is_buildkit() {
        let marker = if cx.format == Format::Kaniko { "`Using caching version of cmd`" } else { "`Using cache`" };
        return (
            Outcome::Executed,
            format!("committed with no {marker} line, which this builder prints for every reused step"),
        );
    }
    if n > 0 && f.was_cached {
        return (
            Outcome::Remote,
            format!(
                "CACHED, then fetched {} and {d} with no process output: reused, layers from a remote cache",
                layers(n)
            ),
        );
    }
    if n > 0 {
        return (
            Outcome::Remote,
            format!("{d} with no process output, only {} fetched: reused from a remote cache", layers(n)),
        );
    }
    if f.was_cached {
        return (Outcome::Cached, format!("CACHED, then {d} with no process output"));
    }
    if cx.no_cache_import {
        let shown = if cx.format == Format::Tty { "not CACHED" } else { "no process output" };
        return (
            Outcome::Executed,
            format!(
                "{d}, {shown}, no layer transfer, and the build imported no remote cache: only a run produces that"
            ),
        );
    }
    let what = match f.keyword {
        "COPY" | "ADD" => format!("a silent {} looks the same whether it ran or was reused", f.keyword),
        "RUN" => "the command may have run silently, or been reused".to_owned(),
        _ => "nothing tells a run from a reuse".to_owned(),
    };
    (Outcome::ExecutedUnsure, format!("{d} with no output and no layer transfer: {what}"))
}
