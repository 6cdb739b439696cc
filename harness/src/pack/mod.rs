//! Reproduction packs: a folder (or a reproducible `tar.gz`) that anyone can
//! run with the docker CLI alone, ready to attach to an upstream bug.
//!
//! A pack holds the build context and the Dockerfiles as the harness runs
//! them, `repro.sh` (the same pipeline: its own registry, a fresh dind per
//! job, the edits, the commands, each asserted step's outcome), a README,
//! and the recorded run it came from. Secrets never enter it.
//!
//! - [`plan`]: the job plan, the one seam with the scenario model.
//! - [`context`], [`dockerignore`], [`secrets`]: what of the context goes in.
//! - [`edits`]: the files each job's edits change.
//! - [`script`], [`readme`]: `repro.sh` and `README.md`.
//! - [`recorded`]: the run a pack came from (`--from-run`).
//! - [`archive`], [`files`]: the pack as a tree, a folder or a `tar.gz`.

mod archive;
mod context;
mod edits;
mod files;
mod plan;
mod readme;
mod recorded;
mod script;
mod secrets;

use std::path::{Path, PathBuf};

use crate::catalogue::{Catalogue, EngineEntry};
use crate::scenario::{EditError, Scenario};
use files::{Entry, Tree};
use plan::{pack_plan, BaseImage, PackValues};
use script::EnginePack;

/// The registry's name inside every dind, as the harness names it, so the
/// pack's commands are the harness's.
const REGISTRY: &str = "registry.harness.test:5000";

/// Default for `--max-context-mb`.
pub const DEFAULT_MAX_CONTEXT_MB: u64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("failed to read or write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Ignore(#[from] crate::dockerignore::IgnoreError),
    #[error(
        "the build context `{}` is {size}, over the pack limit of {limit}; largest: {largest}. \
         Exclude build output in `.dockerignore`, or raise the limit with --max-context-mb",
        dir.display()
    )]
    ContextTooLarge { dir: PathBuf, size: String, limit: String, largest: String },
    #[error("job {job} on engine {engine}: the scenario's edit cannot be replayed")]
    Edit {
        job: u32,
        engine: String,
        #[source]
        source: EditError,
    },
    #[error("failed to read the recorded run `{}`", path.display())]
    Report {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the recorded run `{}` is of scenario `{found}` on engine {engine}, not of `{expected}`: \
         pass the run of this scenario",
        dir.display()
    )]
    WrongRun { dir: PathBuf, found: String, engine: String, expected: String },
}

/// What to pack.
#[derive(Debug, Clone)]
pub struct PackRequest<'a> {
    pub scenario: &'a Scenario,
    /// The build context before the first job (the scenario's fixture, or
    /// a project given with `--context`).
    pub context_dir: PathBuf,
    pub engines: Vec<EngineEntry>,
    pub catalogue: &'a Catalogue,
    /// A harness run's output folder (`report.json` and logs).
    pub from_run: Option<PathBuf>,
    pub max_context_bytes: u64,
}

/// A pack in memory, ready to be written.
#[derive(Debug)]
pub struct Pack {
    tree: Tree,
    /// What was left out, one line each (also in the README).
    pub left_out: Vec<String>,
}

impl Pack {
    /// Paths inside the pack, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.tree.keys().map(String::as_str)
    }

    /// Writes the pack as the folder `dir` (created; must not hold a pack already).
    pub fn write_dir(&self, dir: &Path) -> Result<(), PackError> {
        files::write_dir(&self.tree, dir).map_err(|e| PackError::Io { path: dir.to_owned(), source: e })
    }

    /// The pack as a reproducible `tar.gz`, everything under the folder `root`.
    pub fn tar_gz(&self, root: &str) -> Result<Vec<u8>, PackError> {
        archive::tar_gz(&self.tree, root).map_err(|e| PackError::Io { path: PathBuf::from(root), source: e })
    }
}

/// Builds the pack for `request`.
pub fn build(request: &PackRequest<'_>) -> Result<Pack, PackError> {
    let scenario = request.scenario;
    let cat = request.catalogue;
    let values = PackValues {
        registry: REGISTRY.to_owned(),
        chef: BaseImage::new(&cat.chef.official),
        runtime: BaseImage::new(&cat.runtime.official),
    };
    let mut findings = Vec::new();
    let recorded = match &request.from_run {
        Some(dir) => Some(recorded::read(dir, &mut findings)?),
        None => None,
    };
    if let Some(r) = &recorded {
        if r.report.scenario != scenario.name {
            return Err(PackError::WrongRun {
                dir: request.from_run.clone().unwrap_or_default(),
                found: r.report.scenario.clone(),
                engine: r.report.engine.clone(),
                expected: scenario.name.clone(),
            });
        }
    }
    let context = context::collect(&request.context_dir, request.max_context_bytes)?;
    findings.extend(context.findings.iter().cloned());

    let mut tree = Tree::new();
    for (rel, entry) in &context.files {
        tree.insert(format!("context/{rel}"), entry.clone());
    }
    let mut plans: Vec<_> = request.engines.iter().map(|engine| pack_plan(scenario, engine, &values)).collect();
    let mut job_files = Vec::new();
    for plan in &mut plans {
        // Rendered Dockerfiles join the context before the first job, as the
        // harness writes them; scrubbed in the plan too, so replaying the
        // jobs writes the same text.
        for (name, text) in &mut plan.dockerfiles {
            let place = format!("context/{name}");
            match context::scrub(&place, files::file(text.as_bytes()), &mut findings) {
                Some(Entry::File { data, .. }) => *text = String::from_utf8_lossy(&data).into_owned(),
                _ => text.clear(),
            }
            tree.insert(place, files::file(text.as_bytes()));
        }
        let base: Tree =
            tree.iter().filter_map(|(p, e)| Some((p.strip_prefix("context/")?.to_owned(), e.clone()))).collect();
        let changed = edits::job_files(&base, plan)?;
        job_files.push(changed);
    }
    let packs: Vec<EnginePack<'_>> =
        plans.iter().zip(&job_files).map(|(plan, files)| EnginePack { plan, files }).collect();
    for pack in &packs {
        for (job, changed) in pack.files {
            for (rel, entry) in changed {
                let place = format!("jobs/{}/job-{job}/{rel}", pack.plan.engine);
                if let Some(entry) = context::scrub(&place, entry.clone(), &mut findings) {
                    tree.insert(place, entry);
                }
            }
        }
    }
    let registry_image = cat.registry.official.clone();
    let script = script::render(&scenario.name, &packs, &values, &registry_image, &mut findings);
    tree.insert("repro.sh".into(), Entry::File { data: script.into_bytes(), executable: true });
    if let Some(r) = &recorded {
        tree.extend(r.files.clone());
    }
    findings.sort();
    findings.dedup();
    let readme = readme::render(&readme::ReadmeInput {
        scenario: &scenario.name,
        description: &scenario.description,
        links: &scenario.links,
        plans: &packs,
        values: &values,
        registry_image: &registry_image,
        recorded: recorded.as_ref().map(|r| &r.report),
        findings: &findings,
        ignored: context.ignored,
    });
    tree.insert("README.md".into(), files::file(readme));
    let left_out = findings.iter().map(|f| format!("{}: {} ({})", f.place, f.what, f.action)).collect();
    Ok(Pack { tree, left_out })
}
