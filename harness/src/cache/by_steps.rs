//! Explains a miss from the steps alone, when no export carries the keys: a
//! warm daemon's local cache, or a build that pushes no cache.
//!
//! A step's key covers its parent's result and its own input, so a step
//! that ran although it ran before points up its stage's chain to the first
//! step that changed (it executed, or its layer differs from the earlier
//! job's). A `COPY --from` leads into its source stage, a stage built `FROM`
//! another stage into that one, and a plain `COPY` or `ADD` to the context
//! paths it reads that the harness edited. Pure: the runner passes what it
//! observed and the Dockerfile's stage bases.

use std::collections::BTreeMap;

use super::explain::MissCause;
use crate::evidence::{LayerCompare, ObservedStep};
use crate::progress::Outcome;

/// What the explanation reads of one build in one job.
#[derive(Debug, Clone, Copy)]
pub struct StepsView<'a> {
    /// The build's steps as observed in the job that missed.
    pub steps: &'a [ObservedStep],
    /// Stage name (lower case) to the stage it is built `FROM`, for stages
    /// built on another stage of the same Dockerfile.
    pub stage_bases: &'a BTreeMap<String, String>,
    /// Context paths edited since the job compared with.
    pub changed_paths: &'a [String],
}

/// Why `step` (a step name) executed although an earlier job ran it.
pub fn explain_by_steps(view: &StepsView<'_>, step: &str) -> MissCause {
    let Some(missed) = view.steps.iter().find(|s| s.step.name() == step) else {
        return MissCause::Unknown { why: "the step is not in the build's log".into() };
    };
    let mut via = Vec::new();
    let mut at = missed;
    // Each pass moves strictly up a chain or into another stage; the bound
    // only guards against a Dockerfile whose stages name each other.
    for _ in 0..=view.steps.len() {
        let first = first_change(view, stage_of(at), at.step.index, 0);
        let Some(first) = first else {
            return unchanged_parents(at, missed);
        };
        if !std::ptr::eq(first, at) {
            passed(&mut via, at, missed);
            at = first;
            continue;
        }
        match copy_source_stage(at) {
            Some(source) if has_stage(view, &source) => {
                passed(&mut via, at, missed);
                match last_change_in(view, &source) {
                    Some(next) => at = next,
                    None => return changed(via, format!("the result of stage `{source}`")),
                }
            }
            _ => return root_cause(view, at, missed, via),
        }
    }
    MissCause::Unknown { why: "the stages of the Dockerfile refer to each other".into() }
}

/// Notes a step the walk went through (the missed step itself is not news).
fn passed(via: &mut Vec<String>, at: &ObservedStep, missed: &ObservedStep) {
    if !std::ptr::eq(at, missed) {
        via.push(at.step.name());
    }
}

/// The first changed step of `stage` up to index `upto`, looking into the
/// stage it is built on first (a changed base changes every step).
fn first_change<'a>(
    view: &StepsView<'a>,
    stage: Option<&str>,
    upto: Option<u32>,
    depth: usize,
) -> Option<&'a ObservedStep> {
    if let Some(base) = stage.and_then(|s| view.stage_bases.get(&s.to_ascii_lowercase())) {
        if depth <= view.stage_bases.len() {
            if let Some(found) = first_change(view, Some(base), None, depth + 1) {
                return Some(found);
            }
        }
    }
    let mut chain: Vec<&ObservedStep> = view
        .steps
        .iter()
        .filter(|s| same_stage(stage_of(s), stage) && s.step.index.is_some())
        .filter(|s| upto.is_none_or(|u| s.step.index.is_some_and(|i| i <= u)))
        .collect();
    chain.sort_by_key(|s| s.step.index);
    chain.into_iter().find(|s| is_change(s))
}

/// The first change behind stage `stage`'s result.
fn last_change_in<'a>(view: &StepsView<'a>, stage: &str) -> Option<&'a ObservedStep> {
    first_change(view, Some(stage), None, 0)
}

fn is_change(step: &ObservedStep) -> bool {
    matches!(step.observed, Outcome::Executed | Outcome::ExecutedUnsure | Outcome::Pulled)
        || step.layer_vs_previous == Some(LayerCompare::Different)
}

fn stage_of(step: &ObservedStep) -> Option<&str> {
    step.step.stage.as_deref()
}

fn same_stage(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

fn has_stage(view: &StepsView<'_>, stage: &str) -> bool {
    view.steps.iter().any(|s| stage_of(s).is_some_and(|t| t.eq_ignore_ascii_case(stage)))
}

/// `--from=NAME` of a `COPY` or `ADD`.
fn copy_source_stage(step: &ObservedStep) -> Option<String> {
    if !matches!(step.step.keyword().as_str(), "COPY" | "ADD") {
        return None;
    }
    step.step.instruction.split_whitespace().find_map(|w| w.strip_prefix("--from=")).map(str::to_owned)
}

/// The first change is `at` itself and its parents did not change.
fn root_cause(view: &StepsView<'_>, at: &ObservedStep, missed: &ObservedStep, via: Vec<String>) -> MissCause {
    match at.step.keyword().as_str() {
        "COPY" | "ADD" => {
            let read = copied_paths(&at.step.instruction, view.changed_paths);
            let what = if read.is_empty() {
                format!("the files `{}` copies (no edit of the harness touched them)", at.step.name())
            } else {
                format!("the files `{}` copies", at.step.name())
            };
            MissCause::ChangedInput { first_change: what, changed_paths: read, via, llb: None }
        }
        "FROM" => changed(via, "the base image".into()),
        _ if std::ptr::eq(at, missed) => unchanged_parents(at, missed),
        _ => changed(via, format!("`{}`, whose parents did not change", instruction(at))),
    }
}

fn changed(via: Vec<String>, first_change: String) -> MissCause {
    MissCause::ChangedInput { first_change, changed_paths: Vec::new(), via, llb: None }
}

/// Nothing up the chain changed: the key can only differ by what the log
/// does not show, or the result was gone.
fn unchanged_parents(at: &ObservedStep, missed: &ObservedStep) -> MissCause {
    let whose = if std::ptr::eq(at, missed) { "its".to_owned() } else { format!("`{}`'s", instruction(at)) };
    MissCause::Unknown {
        why: format!(
            "{whose} parent steps were reused and the instruction is unchanged: a build argument or the \
             environment changed, or the cache no longer held the result; push the build's cache (inline or \
             registry) for the harness to read its keys"
        ),
    }
}

fn instruction(step: &ObservedStep) -> &str {
    step.step.instruction.trim()
}

/// The changed paths a `COPY`/`ADD` reads: its sources are every word but
/// the last that is not a flag.
pub(crate) fn copied_paths(instruction: &str, changed: &[String]) -> Vec<String> {
    let words: Vec<&str> = instruction.split_whitespace().skip(1).filter(|w| !w.starts_with("--")).collect();
    let Some((_, sources)) = words.split_last() else { return Vec::new() };
    changed.iter().filter(|path| sources.iter().any(|source| reads(source, path))).cloned().collect()
}

fn reads(source: &str, path: &str) -> bool {
    let source = source.trim_start_matches("./").trim_end_matches('/');
    let path = path.trim_start_matches("./");
    if source.is_empty() || source == "." || source == "*" {
        return true;
    }
    if source.contains(['*', '?', '[']) {
        // A glob: compare the directory part, which is what edits differ in.
        let dir = source.rsplit_once('/').map_or("", |(d, _)| d);
        return dir.is_empty() || path.starts_with(&format!("{dir}/"));
    }
    path == source || path.starts_with(&format!("{source}/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{observe, Witnesses};
    use crate::progress::parse_reader;

    fn observed(log: &str, changed_layers: &[&str]) -> Vec<ObservedStep> {
        let build = parse_reader(log.as_bytes()).unwrap().remove(0);
        build
            .steps
            .into_iter()
            .map(|step| {
                let different = changed_layers.iter().any(|c| step.name().contains(c));
                let witnesses =
                    Witnesses { layer_vs_previous: different.then_some(LayerCompare::Different), ..Default::default() };
                observe(step, witnesses, 3)
            })
            .collect()
    }

    const DEPENDENCY_CHANGE: &str = "\
#4 [chef 1/2] FROM registry:5000/chef:latest@sha256:87ef
#4 CACHED
#6 [chef 2/2] WORKDIR /app
#6 CACHED
#8 [planner 1/2] COPY . .
#8 DONE 0.1s
#9 [planner 2/2] RUN cargo chef prepare --recipe-path recipe.json
#9 0.301 done
#9 DONE 0.4s
#10 [builder 1/4] COPY --from=planner /app/recipe.json recipe.json
#10 DONE 0.0s
#11 [builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json
#11 0.5 Compiling itoa
#11 DONE 9.0s
#12 [builder 3/4] COPY . .
#12 DONE 0.1s
#13 [builder 4/4] RUN cargo build --release --bin hello-world
#13 0.5 Compiling hello-world
#13 DONE 3.0s
";

    fn bases() -> BTreeMap<String, String> {
        [("planner", "chef"), ("builder", "chef")].map(|(a, b)| (a.to_owned(), b.to_owned())).into()
    }

    #[test]
    fn a_changed_recipe_leads_through_copy_from_to_the_planner_s_context() {
        let steps = observed(DEPENDENCY_CHANGE, &["COPY --from=planner"]);
        let changed = ["Cargo.toml".to_owned()];
        let bases = bases();
        let view = StepsView { steps: &steps, stage_bases: &bases, changed_paths: &changed };
        let cause = explain_by_steps(&view, "[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json");
        assert_eq!(
            cause,
            MissCause::ChangedInput {
                first_change: "the files `[planner 1/2] COPY . .` copies".into(),
                changed_paths: vec!["Cargo.toml".into()],
                via: vec!["[builder 1/4] COPY --from=planner /app/recipe.json recipe.json".into()],
                llb: None,
            }
        );
    }

    #[test]
    fn a_source_edit_is_named_by_the_copy_that_reads_it() {
        let log = DEPENDENCY_CHANGE
            .replace("#10 DONE 0.0s", "#10 CACHED")
            .replace("#11 0.5 Compiling itoa\n#11 DONE 9.0s", "#11 CACHED");
        let steps = observed(&log, &[]);
        let changed = ["src/main.rs".to_owned(), "docs/x.md".to_owned()];
        let bases = bases();
        let view = StepsView { steps: &steps, stage_bases: &bases, changed_paths: &changed };
        let cause = explain_by_steps(&view, "[builder 4/4] RUN cargo build --release --bin hello-world");
        let MissCause::ChangedInput { first_change, changed_paths, via, .. } = cause else { panic!("{cause:?}") };
        assert_eq!(first_change, "the files `[builder 3/4] COPY . .` copies");
        assert_eq!(changed_paths, ["src/main.rs", "docs/x.md"]);
        assert!(via.is_empty(), "{via:?}");
    }

    #[test]
    fn a_run_whose_parents_were_reused_is_not_blamed_on_an_input() {
        let log = DEPENDENCY_CHANGE
            .replace("#8 DONE 0.1s", "#8 CACHED")
            .replace("#9 0.301 done\n#9 DONE 0.4s", "#9 CACHED")
            .replace("#10 DONE 0.0s", "#10 CACHED");
        let steps = observed(&log, &[]);
        let bases = bases();
        let view = StepsView { steps: &steps, stage_bases: &bases, changed_paths: &[] };
        let cause = explain_by_steps(&view, "[builder 2/4] RUN cargo chef cook --release --recipe-path recipe.json");
        assert!(matches!(&cause, MissCause::Unknown { why } if why.starts_with("its parent steps were reused")));
    }

    #[test]
    fn copy_sources_select_the_paths_they_read() {
        let changed: Vec<String> = ["src/main.rs", "Cargo.toml", "web/app.js"].map(Into::into).to_vec();
        assert_eq!(copied_paths("COPY src ./src", &changed), ["src/main.rs"]);
        assert_eq!(copied_paths("COPY Cargo.toml Cargo.lock ./", &changed), ["Cargo.toml"]);
        assert_eq!(copied_paths("COPY --chown=1 . .", &changed), changed);
        assert_eq!(copied_paths("COPY web/*.js /srv/", &changed), ["web/app.js"]);
        assert!(copied_paths("COPY x", &changed).is_empty());
    }
}
