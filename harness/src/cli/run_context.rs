//! `harness run --context DIR`: the options that run any folder, and the
//! scenario they make (see [`crate::project`]).

use std::path::{Path, PathBuf};

use super::exit::CliError;
use crate::catalogue::Catalogue;
use crate::import::ImportErrorKind;
use crate::project::{Project, ProjectError};
use crate::scenario::Scenario;

#[derive(Debug, clap::Args)]
pub struct ContextArgs {
    /// Run this folder (a repository, its Dockerfile unchanged) instead of
    /// a scenario; by default through the first seed's pipeline.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["scenarios", "all"])]
    pub context: Option<PathBuf>,
    /// The Dockerfile, relative to the current folder (as `docker build -f`)
    /// or to the context; default: `DIR/Dockerfile`.
    #[arg(long, value_name = "FILE", requires = "context")]
    dockerfile: Option<PathBuf>,
    /// Run this scenario's jobs (a folder or its `scenario.toml`) on the
    /// context instead of the default pipeline.
    #[arg(long, value_name = "SCENARIO", requires = "context")]
    pipeline: Option<PathBuf>,
    /// The file to edit between jobs, relative to the context (default
    /// pipeline only; default: a source file the context holds).
    #[arg(long, value_name = "PATH", requires = "context", conflicts_with = "pipeline")]
    edit: Option<String>,
}

/// The scenario for `--context`, or `None` without it. `out` is the run's
/// folder: the default pipeline is written under `out/pipeline/`.
pub fn scenario(
    args: &ContextArgs,
    engine: Option<&String>,
    out: &Path,
    catalogue: &Catalogue,
) -> Result<Option<Scenario>, CliError> {
    let Some(context) = &args.context else {
        // clap's `requires` does not fire beside a positional SCENARIO.
        let given = [
            ("--dockerfile", args.dockerfile.is_some()),
            ("--pipeline", args.pipeline.is_some()),
            ("--edit", args.edit.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
            return Err(CliError::bad_input(anyhow::anyhow!(
                "`{flag}` belongs to `--context DIR`: add the folder to run, or drop `{flag}` to run scenarios"
            )));
        }
        return Ok(None);
    };
    let project = Project::new(context, args.dockerfile.as_deref()).map_err(error)?;
    eprintln!("context: {} (Dockerfile `{}`)", project.context.display(), project.dockerfile.display());
    if let Some(pipeline) = &args.pipeline {
        let (scenario, notes) = project.on_pipeline(pipeline, catalogue).map_err(error)?;
        eprintln!("pipeline: {} ({} jobs)", pipeline.display(), scenario.jobs().count());
        for note in notes {
            eprintln!("  dockerfile {note}");
        }
        return Ok(Some(scenario));
    }
    let (scenario, imported) = project
        .default_scenario(&out.join("pipeline"), engine.cloned(), args.edit.clone(), catalogue)
        .map_err(error)?;
    eprintln!(
        "pipeline: the first seed's ({} jobs, a fresh daemon each, inline cache), written to {}",
        scenario.jobs().count(),
        imported.out.join(crate::scenario::SCENARIO_FILE).display()
    );
    eprintln!("  edit before each job: a comment appended to `{}` (change it with --edit PATH)", imported.edit);
    eprintln!("  expectations for the dependency step are guesses: see the file's \"To be confirmed\" comments");
    Ok(Some(scenario))
}

fn error(e: ProjectError) -> CliError {
    match &e {
        ProjectError::Import(i) if matches!(*i.kind, ImportErrorKind::Write { .. }) => CliError::infrastructure(e),
        _ => CliError::bad_input(e),
    }
}
