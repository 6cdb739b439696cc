//! The first step that missed in each stage of each build, and what the
//! logs say changed before it, comparing the build with the previous build
//! of its target. Later steps of a stage miss because the first one did, so
//! only the first is explained. The causes here are facts about one pair
//! of builds; [`super::patterns`] turns them, across the whole series, into
//! named patterns.

use crate::progress::{Build, Step};

use super::facts::{self, Facts};
use super::input::LogInput;
use super::output::{self, DepLine};
use super::series::{copy_from, copy_sources, normalized, position, BuildRef, Series};

/// File names whose change means the dependencies changed.
const DEPENDENCY_FILES: [&str; 20] = [
    "cargo.lock",
    "cargo.toml",
    "recipe.json",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "requirements",
    "poetry.lock",
    "pyproject.toml",
    "pipfile",
    "uv.lock",
    "go.mod",
    "go.sum",
    "gemfile",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
];

/// One build of a series with what it needs for comparisons.
pub(crate) struct Run<'a> {
    pub r: BuildRef,
    pub log: &'a LogInput,
    pub build: &'a Build,
    pub facts: Facts,
}

/// The runs of a series, in order.
pub(crate) fn runs<'a>(logs: &'a [LogInput], series: &Series) -> Vec<Run<'a>> {
    let read =
        |r: BuildRef| Run { r, log: &logs[r.log], build: &logs[r.log].builds[r.build], facts: facts::read(logs, r) };
    series.builds.iter().copied().map(read).collect()
}

/// Why the first step of a stage missed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cause {
    /// The first build of its target: nothing to compare with.
    FirstBuild,
    NoCache,
    /// Every cache import of this build failed, and nothing in the stage
    /// was reused.
    ImportFailed,
    /// The stage's `FROM` resolved to another digest; the step index in the
    /// previous build.
    BaseChanged {
        before: usize,
        after: usize,
    },
    /// This step (or an earlier one of its stage) reads differently now.
    InstructionChanged {
        before: usize,
        after: usize,
    },
    /// The install step's dependency lines differ from its last run.
    DependenciesChanged {
        install: usize,
        added: Vec<DepLine>,
        removed: Vec<String>,
        earlier: Option<(usize, usize)>,
    },
    /// A COPY of the build context.
    ContextChanged,
    /// A `COPY --from` of a stage that ran in this build: that stage's own
    /// first miss explains it.
    Upstream {
        stage: String,
    },
    /// Step `step` before it was reused from another target's build (`by`:
    /// that build and its step), which ran it with new input in between.
    Shared {
        by: (BuildRef, usize),
        step: usize,
    },
    /// Nothing the logs show changed before the step. `same_output`: the
    /// install step after it printed the same dependencies as its last run
    /// (so a copied lockfile or recipe did not change); `dependency_copy`:
    /// the step copies a lockfile or recipe.
    CacheLost {
        same_output: bool,
        dependency_copy: bool,
    },
}

/// The first miss of one stage in one run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Miss {
    /// Index of the run in its series.
    pub run: usize,
    /// Index of the step in the run's build.
    pub step: usize,
    pub cause: Cause,
}

/// Every first miss, per run and stage.
pub(crate) fn first_misses(logs: &[LogInput], runs: &[Run]) -> Vec<Miss> {
    let mut out = Vec::new();
    for (k, run) in runs.iter().enumerate() {
        let mut stages_seen: Vec<Option<&str>> = Vec::new();
        for (i, step) in run.build.steps.iter().enumerate() {
            if step.keyword() == "FROM" || stages_seen.contains(&step.stage.as_deref()) || !missed(step) {
                continue;
            }
            stages_seen.push(step.stage.as_deref());
            out.push(Miss { run: k, step: i, cause: classify(logs, runs, k, i) });
        }
    }
    out
}

/// A step that ran (as opposed to reused, failed, or never printed).
pub(crate) fn missed(step: &Step) -> bool {
    use crate::progress::Outcome::*;
    matches!(step.outcome, Executed | ExecutedUnsure)
}

/// The step at `position` in `build`.
pub(crate) fn at<'b>(build: &'b Build, position_key: &str) -> Option<(usize, &'b Step)> {
    build.steps.iter().enumerate().find(|(_, s)| position(s) == position_key)
}

fn classify(logs: &[LogInput], runs: &[Run], k: usize, i: usize) -> Cause {
    let run = &runs[k];
    let step = &run.build.steps[i];
    if run.facts.no_cache {
        return Cause::NoCache;
    }
    let Some(prev) = k.checked_sub(1).map(|p| &runs[p]) else {
        return Cause::FirstBuild;
    };
    if let Some(cause) = changed_text(prev.build, run.build, step) {
        return cause;
    }
    let stage_reused =
        run.build.steps.iter().any(|s| s.stage == step.stage && s.outcome.is_reused() && s.keyword() != "FROM");
    if !run.facts.imports.is_empty() && !run.facts.imported() && !stage_reused {
        return Cause::ImportFailed;
    }
    let outputs = compare_install(runs, k, i);
    if let Some(cause) = outputs.changed {
        return cause;
    }
    if !outputs.same {
        if let Some(stage) = copy_from(&step.instruction).filter(|from| stage_ran(run.build, from)) {
            return Cause::Upstream { stage };
        }
    }
    if let Some((by, earlier)) = shared_input(logs, runs, k, i) {
        return Cause::Shared { by, step: earlier };
    }
    let dependency_copy = copies_dependencies(&step.instruction);
    let from_context = matches!(step.keyword().as_str(), "COPY" | "ADD") && copy_from(&step.instruction).is_none();
    if from_context && !dependency_copy {
        return Cause::ContextChanged;
    }
    Cause::CacheLost { same_output: outputs.same, dependency_copy }
}

/// An earlier step of the missed step's stage that this run reused, but
/// that another target's build ran after this target's previous build: its
/// input changed, and that build paid for it (two Dockerfiles sharing a
/// stage on one daemon). Returns that build and step, and the reused step.
fn shared_input(logs: &[LogInput], runs: &[Run], k: usize, i: usize) -> Option<((BuildRef, usize), usize)> {
    let (prev, run) = (runs.get(k.checked_sub(1)?)?.r, runs[k].r);
    let step = &runs[k].build.steps[i];
    let earlier = runs[k].build.steps.iter().enumerate().filter(|(_, s)| {
        s.stage == step.stage && s.index < step.index && s.outcome.is_reused() && s.keyword() != "FROM"
    });
    for (e, reused) in earlier {
        for (l, log) in logs.iter().enumerate() {
            for (b, build) in log.builds.iter().enumerate() {
                let at = (l, b);
                if at <= (prev.log, prev.build) || at >= (run.log, run.build) {
                    continue;
                }
                let ran = build.steps.iter().position(|s| s.name() == reused.name() && missed(s));
                if let Some(idx) = ran {
                    return Some(((BuildRef { log: l, build: b }, idx), e));
                }
            }
        }
    }
    None
}

/// True when a step of stage `stage` ran in `build`.
fn stage_ran(build: &Build, stage: &str) -> bool {
    build.steps.iter().any(|s| s.stage.as_deref() == Some(stage) && missed(s) && s.keyword() != "FROM")
}

/// A changed `FROM` digest or instruction in the step's stage, up to it.
fn changed_text(prev: &Build, now: &Build, step: &Step) -> Option<Cause> {
    let stage_steps = now.steps.iter().enumerate().filter(|(_, s)| s.stage == step.stage);
    for (after, s) in stage_steps.take_while(|(_, s)| s.index <= step.index) {
        let Some((before, p)) = at(prev, &position(s)) else { continue };
        if s.instruction == p.instruction || p.instruction.is_empty() || s.instruction.is_empty() {
            continue;
        }
        if s.keyword() == "FROM" && normalized(&s.instruction) == normalized(&p.instruction) {
            return Some(Cause::BaseChanged { before, after });
        }
        return Some(Cause::InstructionChanged { before, after });
    }
    // A stage built on another stage prints no FROM of its own: a changed
    // base anywhere in the build is then the likeliest cause.
    let own_from = now.steps.iter().any(|s| s.stage == step.stage && s.keyword() == "FROM");
    if own_from {
        return None;
    }
    now.steps.iter().enumerate().filter(|(_, s)| s.keyword() == "FROM").find_map(|(after, s)| {
        let (before, p) = at(prev, &position(s))?;
        let moved = s.instruction != p.instruction && normalized(&s.instruction) == normalized(&p.instruction);
        moved.then_some(Cause::BaseChanged { before, after })
    })
}

struct Outputs {
    changed: Option<Cause>,
    same: bool,
}

/// Compares the dependency lines of the install step (the missed step if
/// it is a RUN, else the next RUN of its stage) with its last earlier run.
fn compare_install(runs: &[Run], k: usize, i: usize) -> Outputs {
    let none = Outputs { changed: None, same: false };
    let run = &runs[k];
    let step = &run.build.steps[i];
    let install =
        run.build.steps.iter().enumerate().skip(i).find(|(_, s)| s.stage == step.stage && s.keyword() == "RUN");
    let Some((install, install_step)) = install else { return none };
    let Some(now) = output::dependency_lines(run.log, run.build.format, install_step).filter(|d| !d.is_empty()) else {
        return none;
    };
    let key = position(install_step);
    let earlier = (0..k).rev().find_map(|j| {
        let (idx, s) = at(runs[j].build, &key)?;
        let deps = output::dependency_lines(runs[j].log, runs[j].build.format, s)?;
        (!deps.is_empty()).then_some((j, idx, deps))
    });
    let Some((j, idx, before)) = earlier else { return none };
    let (added, removed) = output::diff(&before, &now);
    if added.is_empty() && removed.is_empty() {
        return Outputs { changed: None, same: true };
    }
    // Fewer lines alone is a warm cache mount or an incremental build, not
    // a change of dependencies.
    if added.is_empty() {
        return none;
    }
    let added = added.into_iter().cloned().collect();
    Outputs {
        changed: Some(Cause::DependenciesChanged { install, added, removed, earlier: Some((j, idx)) }),
        same: false,
    }
}

/// True when a COPY/ADD copies a lockfile, manifest or recipe.
pub(crate) fn copies_dependencies(instruction: &str) -> bool {
    copy_sources(instruction).iter().any(|src| {
        let name = src.rsplit('/').next().unwrap_or(src).to_ascii_lowercase();
        DEPENDENCY_FILES.iter().any(|f| name.starts_with(f))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::series;

    fn runs_of(logs: &[LogInput]) -> Vec<Run<'_>> {
        let s = series::group(logs);
        assert_eq!(s.len(), 1);
        runs(logs, &s[0])
    }

    fn log(name: &str, text: &str) -> LogInput {
        LogInput::from_bytes(name, text.as_bytes()).unwrap()
    }

    fn build(from: &str, copy: &str, run: &str) -> String {
        format!(
            "#1 [b 1/3] FROM rust@sha256:{from}\n#1 DONE 0.0s\n#2 [b 2/3] COPY {copy}\n{}\n#3 [b 3/3] RUN cook\n{run}\n",
            if run.contains("CACHED") { "#2 CACHED" } else { "#2 DONE 0.0s" }
        )
    }

    const RAN: &str = "#3 0.1  Compiling tokio v1.0.0\n#3 DONE 1.0s";
    const RAN_NEW: &str = "#3 0.1  Compiling tokio v1.0.0\n#3 0.2  Compiling itoa v1.0.11\n#3 DONE 1.0s";

    #[test]
    fn a_new_dependency_in_the_output_is_a_dependency_change() {
        let logs = [log("1", &build("aa", "Cargo.lock .", RAN)), log("2", &build("aa", "Cargo.lock .", RAN_NEW))];
        let runs = runs_of(&logs);
        let misses = first_misses(&logs, &runs);
        assert_eq!(misses[0].cause, Cause::FirstBuild);
        let Cause::DependenciesChanged { added, .. } = &misses[1].cause else { panic!("{misses:?}") };
        assert_eq!(added[0].text, "Compiling itoa v1.0.11");
    }

    #[test]
    fn the_same_output_means_the_cache_was_lost() {
        let logs = [log("1", &build("aa", "Cargo.lock .", RAN)), log("2", &build("aa", "Cargo.lock .", RAN))];
        let misses = first_misses(&logs, &runs_of(&logs));
        assert_eq!(misses[1].cause, Cause::CacheLost { same_output: true, dependency_copy: true });
    }

    #[test]
    fn base_digest_and_context_copies() {
        let logs = [
            log("1", &build("aa", ". .", RAN)),
            log("2", &build("bb", ". .", RAN)),
            log("3", &build("bb", ". .", RAN)),
        ];
        let misses = first_misses(&logs, &runs_of(&logs));
        assert_eq!(misses[1].cause, Cause::BaseChanged { before: 0, after: 0 });
        assert_eq!(misses[2].cause, Cause::ContextChanged);
    }

    #[test]
    fn no_cache_in_the_echoed_command() {
        let text = format!("$ docker build --no-cache .\n{}", build("aa", ". .", RAN));
        let logs = [log("1", &build("aa", ". .", RAN)), log("2", &text)];
        let misses = first_misses(&logs, &runs_of(&logs));
        assert_eq!(misses[1].cause, Cause::NoCache);
    }
}
