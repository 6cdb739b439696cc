//! `harness diagnose`: names why steps missed the cache across consecutive
//! builds of one pipeline.
//!
//! It reads logs in the order given (any format [`crate::progress`] reads),
//! follows each target (the same Dockerfile target built job after job),
//! finds the first step of each stage that missed, compares that build with
//! the previous one, and names known patterns: the inline-cache
//! alternation (moby/buildkit#2274), an intermediate stage under inline
//! cache, a remote-cache hit printed as `DONE`, a refused cache export, a
//! failed or missing `--cache-from`, `COPY` from a cache mount, and the
//! honest misses (dependencies, base image, instruction, context,
//! `--no-cache`). A miss nothing explains is reported as unknown with what
//! changed before it. Each finding quotes its evidence by file and line.
//!
//! Pure and synchronous: it works on logs, never on Docker.

mod cache_io;
mod causes;
mod changes;
mod cite;
mod dockerfile;
mod facts;
mod input;
mod knowledge;
mod misses;
mod model;
mod mounts;
mod output;
mod remote;
mod render;
mod series;

pub use dockerfile::{Dockerfile, DockerfileError};
pub use input::{InputError, LogInput};
pub use model::{BuildId, Citation, Diagnosis, Finding, Pattern, Severity, Target, SCHEMA};
pub use render::text;

/// Diagnoses `logs`, consecutive builds of one pipeline in order.
pub fn diagnose(logs: &[LogInput], dockerfile: Option<&Dockerfile>) -> Diagnosis {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    let mut targets = Vec::new();
    for s in series::group(logs) {
        let runs = misses::runs(logs, &s);
        let first = misses::first_misses(logs, &runs);
        cache_io::findings(&s.name, &runs, &mut findings);
        remote::findings(&s.name, &runs, &mut findings);
        mounts::findings(&s.name, &runs, dockerfile, &mut findings);
        causes::findings(logs, &s.name, &runs, &first, &mut findings, &mut notes);
        if runs.len() < 2 {
            notes.push(format!(
                "`{}` was built once in these logs: nothing to compare it with; give the logs of the jobs before \
                 and after it.",
                s.name
            ));
        }
        targets.push(target_of(&s, &runs));
    }
    for log in logs.iter().filter(|l| l.builds.is_empty()) {
        cache_io::log_findings(log, &mut findings);
    }
    findings.sort_by_key(|f| (f.severity, f.pattern));
    Diagnosis {
        schema: SCHEMA,
        logs: logs.iter().map(|l| l.label.clone()).collect(),
        dockerfile: dockerfile.map(|d| d.label.clone()),
        targets,
        findings,
        notes,
    }
}

fn target_of(s: &series::Series, runs: &[misses::Run]) -> Target {
    let builds = runs
        .iter()
        .enumerate()
        .map(|(k, r)| BuildId { log: r.log.label.clone(), build: r.r.build + 1, run: k + 1 })
        .collect();
    Target { name: s.name.clone(), builds }
}
