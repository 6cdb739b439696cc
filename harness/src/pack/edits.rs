//! The context as each job sees it: the pack stores, per job, the files its
//! edits changed, found by replaying the harness's own steps on a scratch
//! copy (Dockerfiles rendered again before each job, then the job's edits,
//! applied with the scenario's [`Edit::apply`](crate::scenario::Edit)).
//! `repro.sh` then only copies files, whatever the edit was.

use std::collections::BTreeMap;

use super::files::{self, Entry, Tree};
use super::plan::PackPlan;
use super::PackError;
use crate::scenario::Vars;

/// Job number to the files (path to entry) that change before its commands.
pub(crate) type JobFiles = BTreeMap<u32, Tree>;

/// Replays `plan`'s edits on `context` and returns each job's changed files.
pub(crate) fn job_files(context: &Tree, plan: &PackPlan) -> Result<JobFiles, PackError> {
    let scratch = tempfile::Builder::new()
        .prefix("harness-pack-")
        .tempdir()
        .map_err(|e| PackError::Io { path: std::env::temp_dir(), source: e })?;
    let io = |e: std::io::Error| PackError::Io { path: scratch.path().to_owned(), source: e };
    files::write_dir(context, scratch.path()).map_err(io)?;
    let mut state = files::read_dir(scratch.path()).map_err(io)?;
    let mut out = JobFiles::new();
    // Edits are rendered already; the vars are only what `apply` asks for.
    let vars = Vars {
        registry: String::new(),
        job: 0,
        image: String::new(),
        scenario: plan.scenario.clone(),
        engine: plan.engine.clone(),
        chef: String::new(),
        runtime: String::new(),
    };
    for job in &plan.jobs {
        for (name, text) in &plan.dockerfiles {
            std::fs::write(scratch.path().join(name), text).map_err(io)?;
        }
        for edit in &job.edits {
            edit.apply(scratch.path(), &vars).map_err(|e| PackError::Edit {
                job: job.number,
                engine: plan.engine.clone(),
                source: e,
            })?;
        }
        let now = files::read_dir(scratch.path()).map_err(io)?;
        let changed: Tree =
            now.iter().filter(|(rel, e)| state.get(*rel) != Some(*e)).map(|(r, e)| (r.clone(), e.clone())).collect();
        out.insert(job.number, changed);
        state = now;
    }
    Ok(out)
}

/// Paths of `changed` that are executable files (`repro.sh` sets their mode).
pub(crate) fn executables(changed: &Tree) -> impl Iterator<Item = &str> {
    changed.iter().filter(|(_, e)| matches!(e, Entry::File { executable: true, .. })).map(|(r, _)| r.as_str())
}
