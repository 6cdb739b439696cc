//! `harness import`: a CI file to a scenario folder, with its warnings.

use std::path::PathBuf;

use super::exit::{CliError, CliResult, Exit};
use crate::catalogue::Catalogue;
use crate::import::{import, ImportErrorKind, ImportOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A GitLab CI file (`.gitlab-ci.yml`) or a GitHub Actions workflow
    /// (`.github/workflows/*.yml`) of the repository to reproduce.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The job to import (default: the only job that builds an image).
    #[arg(long, value_name = "NAME")]
    job: Option<String>,
    /// Keep only the matrix rows with this value (repeatable): GitHub's
    /// `strategy.matrix`, or the GitLab `parallel: matrix` row to run.
    #[arg(long = "matrix", value_name = "KEY=VALUE")]
    matrix: Vec<String>,
    /// The file to edit between jobs, in the build context (default: a
    /// source file found there).
    #[arg(long, value_name = "PATH")]
    edit: Option<PathBuf>,
    /// The scenario folder to write (default: `imported-<job>`).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    let catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(default_folder(args.job.as_deref())));
    let options = ImportOptions {
        file: args.file,
        job: args.job,
        matrix: args.matrix,
        edit: args.edit.map(|p| p.display().to_string()),
        out,
    };
    let imported = import(&options, &catalogue).map_err(|e| match *e.kind {
        ImportErrorKind::Write { .. } => CliError::infrastructure(e),
        _ => CliError::bad_input(e),
    })?;
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    for note in &imported.notes {
        eprintln!("replaced: {note}");
    }
    println!("wrote {} (job {})", imported.out.join("scenario.toml").display(), imported.jobs.join(", "));
    println!("engine {}: {} (another: `--engine VERSION` on `harness run`)", imported.engine, imported.engine_reason);
    println!("run it: harness run {} --engine {}", imported.out.display(), imported.engine);
    if let Some(nearest) = crate::import::nearest_stand_in(&imported.engine, &catalogue) {
        println!(
            "offline, {} has no stand-in: harness run {} --engine {nearest} --images local",
            imported.engine,
            imported.out.display()
        );
    }
    Ok(Exit::Pass)
}

/// A folder name the scenario loader accepts (it becomes an image name).
fn default_folder(job: Option<&str>) -> String {
    let slug: String = job
        .unwrap_or("job")
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .collect();
    format!("imported-{}", slug.trim_matches('-'))
}
