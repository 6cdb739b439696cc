//! Remote-cache hits that plain progress prints as `DONE`: the progress
//! parser already tells them apart ([`Outcome::Remote`]); this names the
//! pattern so a person reading `DONE` does not count a miss. A `FROM` that
//! pulled its base image is a pull, not a cache hit, and is left out.

use crate::progress::Outcome;

use super::cite;
use super::misses::Run;
use super::model::{Finding, Pattern};

/// One finding per target that has remote hits.
pub(crate) fn findings(target: &str, runs: &[Run], out: &mut Vec<Finding>) {
    let mut evidence = Vec::new();
    let mut steps: Vec<String> = Vec::new();
    let mut hits = 0;
    for run in runs {
        for step in run.build.steps.iter().filter(|s| s.outcome == Outcome::Remote && s.keyword() != "FROM") {
            hits += 1;
            if !steps.contains(&step.name()) {
                steps.push(step.name());
            }
            let note = format!(
                "{} layer(s) fetched, {} lines of process output",
                step.evidence.layer_count(),
                step.evidence.output_lines
            );
            evidence.extend(cite::step(run, step, note));
        }
    }
    if hits == 0 {
        return;
    }
    let summary = format!(
        "{hits} step result(s) in builds of `{target}` came from the remote cache although the log prints DONE, not \
         CACHED: {}.",
        steps.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
    );
    out.push(cite::finding(Pattern::RemoteHitAsDone, Some(target), None, summary, evidence));
}
