//! Turns first misses into findings across a target's series: the honest
//! changes (dependencies, base image, instruction, context, `--no-cache`)
//! and, for misses with no change before them, the cache-loss patterns:
//! inline-cache alternation (needs three builds: a miss after a hit after
//! a miss, or a hit after the miss), an intermediate stage under inline
//! cache, or an unknown cause with what changed before it.

use std::collections::BTreeMap;

use super::changes;
use super::cite;
use super::input::LogInput;
use super::misses::{at, missed, Cause, Miss, Run};
use super::model::{Citation, Finding, Pattern};
use super::series::{self, copy_from, position};

/// Misses of one pattern at one step, gathered before becoming a finding.
struct Bucket {
    step: (usize, usize),
    runs: Vec<usize>,
    evidence: Vec<Citation>,
    extra: Vec<String>,
}

/// Findings for every explained miss of one target.
pub(crate) fn findings(
    logs: &[LogInput],
    target: &str,
    runs: &[Run],
    misses: &[Miss],
    out: &mut Vec<Finding>,
    notes: &mut Vec<String>,
) {
    let mut buckets: BTreeMap<(Pattern, String), Bucket> = BTreeMap::new();
    for m in misses {
        let Some((pattern, evidence, extra)) = explain(logs, target, runs, m, notes) else { continue };
        let step = &runs[m.run].build.steps[m.step];
        // `--no-cache` is one cause for the whole build, not one per stage.
        let key = match &m.cause {
            Cause::NoCache => String::new(),
            // One moved base image explains the misses of every stage on it.
            Cause::BaseChanged { after, .. } => position(&runs[m.run].build.steps[*after]),
            _ => position(step),
        };
        let b = buckets.entry((pattern, key)).or_insert_with(|| Bucket {
            step: (m.run, m.step),
            runs: Vec::new(),
            evidence: Vec::new(),
            extra: Vec::new(),
        });
        if !b.runs.contains(&m.run) {
            b.runs.push(m.run);
        }
        b.evidence.extend(evidence);
        b.extra.extend(extra.into_iter().filter(|e| !b.extra.contains(e)).collect::<Vec<_>>());
    }
    for ((pattern, _), b) in buckets {
        let step = &runs[b.step.0].build.steps[b.step.1];
        let names: Vec<String> = b.runs.iter().map(|&k| cite::run_name(&runs[k])).collect();
        if pattern == Pattern::NoCache {
            let summary = format!(
                "{} of {} builds of `{target}` ran with `--no-cache` ({}): every step ran.",
                b.runs.len(),
                runs.len(),
                names.join(", ")
            );
            out.push(cite::finding(pattern, Some(target), None, summary, b.evidence));
            continue;
        }
        let mut summary = format!(
            "`{}` of `{target}` missed in {} of {} builds ({}).",
            step.name(),
            b.runs.len(),
            runs.len(),
            names.join(", ")
        );
        for e in &b.extra {
            summary.push(' ');
            summary.push_str(e);
        }
        out.push(cite::finding(pattern, Some(target), Some(step), summary, b.evidence));
    }
}

type Explained = (Pattern, Vec<Citation>, Vec<String>);

fn explain(logs: &[LogInput], target: &str, runs: &[Run], m: &Miss, notes: &mut Vec<String>) -> Option<Explained> {
    let run = &runs[m.run];
    let step = &run.build.steps[m.step];
    let this = cite::step(run, step, format!("{}: first step of its stage that missed", step.outcome));
    let mut ev: Vec<Citation> = this.into_iter().collect();
    let prev = m.run.checked_sub(1).map(|p| &runs[p]);
    match &m.cause {
        Cause::FirstBuild | Cause::ImportFailed | Cause::Upstream { .. } => None,
        Cause::NoCache => {
            ev.extend(run.facts.command.map(|l| cite::line(run, l, "--no-cache")));
            Some((Pattern::NoCache, ev, Vec::new()))
        }
        Cause::BaseChanged { before, after } => {
            let prev = prev?;
            ev.extend(cite::step(prev, &prev.build.steps[*before], "was"));
            ev.extend(cite::step(run, &run.build.steps[*after], "is now"));
            Some((Pattern::BaseImageChanged, ev, Vec::new()))
        }
        Cause::InstructionChanged { before, after } => {
            let prev = prev?;
            ev.extend(cite::step(prev, &prev.build.steps[*before], "was"));
            ev.extend(cite::step(run, &run.build.steps[*after], "is now"));
            Some((Pattern::InstructionChanged, ev, Vec::new()))
        }
        Cause::DependenciesChanged { install, added, removed, earlier } => {
            let install_step = &run.build.steps[*install];
            let mut extra = Vec::new();
            if !added.is_empty() {
                let names: Vec<&str> = added.iter().take(5).map(|d| d.text.as_str()).collect();
                extra.push(format!("`{}` printed new dependency lines: {}.", install_step.name(), names.join(", ")));
            }
            if !removed.is_empty() {
                extra.push(format!("{} dependency line(s) of its last run are gone.", removed.len()));
            }
            ev.extend(added.iter().take(5).map(|d| cite::line(run, d.line, "new since the last run")));
            if let Some((j, idx)) = earlier {
                ev.extend(cite::step(&runs[*j], &runs[*j].build.steps[*idx], "its last run, for comparison"));
            }
            Some((Pattern::DependenciesChanged, ev, extra))
        }
        Cause::Shared { by: (r, idx), step: reused } => {
            let other = &logs[r.log];
            let other_step = &other.builds[r.build].steps[*idx];
            let reused = &run.build.steps[*reused];
            ev.extend(cite::step(run, reused, format!("{}: reused from the build below", reused.outcome)));
            let first = other_step.evidence.lines.first;
            ev.push(Citation {
                file: other.label.clone(),
                line: first,
                text: other.quote(first),
                note: Some(format!("{}: that build ran it first, with new input", other_step.outcome)),
            });
            let extra = vec![format!(
                "`{}` before it was reused from another build that ran it with new input in between: the \
                 input of this step changed too.",
                reused.name()
            )];
            let context =
                matches!(reused.keyword().as_str(), "COPY" | "ADD") && copy_from(&reused.instruction).is_none();
            context.then_some((Pattern::ContextChanged, ev, extra))
        }
        Cause::ContextChanged => {
            if let (Some(p), Some((ln, b))) = (prev, &run.facts.context) {
                if let Some((lp, a)) = p.facts.context.as_ref().filter(|(_, a)| a != b) {
                    ev.push(cite::line(p, *lp, format!("build context was {a}")));
                    ev.push(cite::line(run, *ln, format!("build context is {b}")));
                }
            }
            Some((Pattern::ContextChanged, ev, Vec::new()))
        }
        Cause::CacheLost { same_output, dependency_copy } => {
            cache_lost(target, runs, m, *same_output, *dependency_copy, ev, notes)
        }
    }
}

/// A miss with no change before it: alternation, intermediate stage, an
/// unconfirmed dependency change, or unknown.
fn cache_lost(
    target: &str,
    runs: &[Run],
    m: &Miss,
    same_output: bool,
    dependency_copy: bool,
    mut ev: Vec<Citation>,
    notes: &mut Vec<String>,
) -> Option<Explained> {
    let run = &runs[m.run];
    let step = &run.build.steps[m.step];
    let key = position(step);
    let prev = &runs[m.run.checked_sub(1)?];
    let reused = |k: usize| at(runs[k].build, &key).is_some_and(|(_, s)| s.outcome.is_reused());
    let ran = |k: usize| at(runs[k].build, &key).is_some_and(|(_, s)| missed(s));
    let inline = prev.facts.inline() || run.facts.inline();
    let same = if same_output { " The install step printed the same dependencies as its last run." } else { "" };
    let imported: Vec<Citation> =
        run.facts.imports.iter().filter_map(|i| i.line.map(|l| cite::line(run, l, "cache imported"))).collect();
    if reused(m.run - 1) && inline && run.facts.imported() {
        let third = (m.run + 1 < runs.len() && reused(m.run + 1)) || (m.run >= 2 && ran(m.run - 2));
        ev.extend(
            at(prev.build, &key).and_then(|(_, s)| cite::step(prev, s, format!("{} in the build before", s.outcome))),
        );
        ev.extend(prev.facts.inline_export.map(|l| cite::line(prev, l, "that build exported inline cache metadata")));
        ev.extend(imported);
        if third {
            let later =
                run.build.steps.iter().skip(m.step + 1).filter(|s| s.stage == step.stage && s.keyword() == "RUN");
            let reran = later.filter(|s| missed(s)).take(2);
            ev.extend(
                reran.filter_map(|s| {
                    cite::step(run, s, format!("ran again: {} lines of output", s.evidence.output_lines))
                }),
            );
            let seq = sequence(runs, &key);
            return Some((
                Pattern::InlineCacheAlternation,
                ev,
                vec![format!("Across the builds it went {seq}.{same}")],
            ));
        }
        notes.push(format!(
            "`{}` of `{target}` missed after a hit with inline cache: that is how the inline-cache alternation \
             (moby/buildkit#2274) starts, but naming it needs a third build of `{target}` (a build after {}): if \
             that one hits again, it is the alternation.",
            step.name(),
            cite::run_name(run)
        ));
        let extra = vec![format!(
            "It missed after a hit, with the cache imported and nothing changed before it; with only these builds \
             the inline-cache alternation cannot be told apart.{same}"
        )];
        return Some((Pattern::Unknown, ev, extra));
    }
    let final_stage = step.stage.as_deref() == Some(series::final_stage(run.build).as_str());
    let min_mode = inline || (run.facts.remote_export.is_some() && !run.facts.mode_max);
    if !final_stage && ran(m.run - 1) && run.facts.imported() && min_mode {
        ev.extend(imported);
        ev.extend(run.facts.inline_export.or(run.facts.remote_export).map(|l| cite::line(run, l, "cache export")));
        let extra = vec![format!(
            "Stage `{}` is not the final stage `{}`.{same}",
            step.stage.as_deref().unwrap_or("?"),
            series::final_stage(run.build)
        )];
        return Some((Pattern::IntermediateStage, ev, extra));
    }
    if dependency_copy && !same_output {
        let extra = vec!["It copies a lockfile or recipe; the log cannot show whether its content changed \
                          (no earlier run of the install step to compare)."
            .to_owned()];
        return Some((Pattern::DependenciesChanged, ev, extra));
    }
    let changed = changes::before(prev, run, m.step);
    let extra = if changed.is_empty() {
        vec![format!("Nothing the logs show changed before it since the build before.{same}")]
    } else {
        vec![format!("What changed before it since the build before is cited below.{same}")]
    };
    ev.extend(
        at(prev.build, &key).and_then(|(_, s)| cite::step(prev, s, format!("{} in the build before", s.outcome))),
    );
    ev.extend(changed);
    Some((Pattern::Unknown, ev, extra))
}

/// `miss, hit, miss, hit`: the step's fate in each build.
fn sequence(runs: &[Run], key: &str) -> String {
    let word = |r: &Run| match at(r.build, key) {
        Some((_, s)) if s.outcome.is_reused() => "hit",
        Some((_, s)) if missed(s) => "miss",
        _ => "absent",
    };
    runs.iter().map(word).collect::<Vec<_>>().join(", ")
}
