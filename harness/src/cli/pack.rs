//! `harness pack`: a reproduction pack of a scenario, as a folder or a
//! reproducible `tar.gz`.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::exit::{CliError, CliResult, Exit};
use crate::catalogue::{workspace_root, Catalogue};
use crate::pack::{self, PackRequest, DEFAULT_MAX_CONTEXT_MB};
use crate::runner::RunReport;
use crate::scenario::load_scenario;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario name (a folder of `scenarios/`) or path to a scenario folder.
    #[arg(value_name = "SCENARIO")]
    scenario: String,
    /// Engine version from `ci/engines.toml` (repeatable); default: the
    /// recorded run's engine, else the catalogue's default.
    #[arg(long = "engine", value_name = "VERSION")]
    engines: Vec<String>,
    /// A `harness run` output folder (with `report.json`) to include.
    #[arg(long, value_name = "DIR")]
    from_run: Option<PathBuf>,
    /// Use this folder as the build context instead of the scenario's fixture.
    #[arg(long, value_name = "DIR")]
    context: Option<PathBuf>,
    /// Refuse a build context larger than this.
    #[arg(long, default_value_t = DEFAULT_MAX_CONTEXT_MB, value_name = "MB")]
    max_context_mb: u64,
    /// Output: a folder, or a file ending in `.tar.gz` (or `.tgz`).
    #[arg(short, long, value_name = "DIR|FILE.tar.gz")]
    output: PathBuf,
}

pub fn run(args: Args) -> CliResult {
    let root = workspace_root();
    let catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let path = Path::new(&args.scenario);
    let dir = if path.is_dir() { path.to_owned() } else { root.join("scenarios").join(&args.scenario) };
    let scenario = load_scenario(&dir, &catalogue).map_err(CliError::bad_input)?;
    if is_archive_name(&args.output).is_none() && !is_empty_or_missing(&args.output) {
        return Err(CliError::bad_input(anyhow::anyhow!(
            "`{}` exists and is not empty: pick a new folder, or a name ending in .tar.gz",
            args.output.display()
        )));
    }
    let versions = if !args.engines.is_empty() {
        args.engines.clone()
    } else if let Some(run) = &args.from_run {
        vec![recorded_engine(run).map_err(CliError::bad_input)?]
    } else {
        vec![catalogue.default_engine.clone()]
    };
    let engines = versions
        .iter()
        .map(|v| catalogue.engine(v).cloned())
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::bad_input)?;
    let request = PackRequest {
        scenario: &scenario,
        context_dir: args.context.clone().unwrap_or_else(|| root.join(&scenario.fixture)),
        engines,
        catalogue: &catalogue,
        from_run: args.from_run.clone(),
        max_context_bytes: args.max_context_mb.saturating_mul(1_000_000),
    };
    let pack = pack::build(&request).map_err(CliError::bad_input)?;
    write(&pack, &args.output, &scenario.name).map_err(CliError::infrastructure)?;
    for line in &pack.left_out {
        eprintln!("left out: {line}");
    }
    println!("pack: {} (run it with: sh repro.sh)", args.output.display());
    Ok(Exit::Pass)
}

/// The engine of the run in `dir`.
fn recorded_engine(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
    let report: RunReport =
        serde_json::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))?;
    Ok(report.engine)
}

/// The archive's folder name when `output` names a `.tar.gz` or `.tgz`.
fn is_archive_name(output: &Path) -> Option<String> {
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.strip_suffix(".tar.gz").or_else(|| name.strip_suffix(".tgz")).map(str::to_owned)
}

fn is_empty_or_missing(dir: &Path) -> bool {
    !dir.exists() || std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

fn write(pack: &pack::Pack, output: &Path, scenario: &str) -> anyhow::Result<()> {
    match is_archive_name(output) {
        Some(stem) => {
            let root = if stem.is_empty() { format!("repro-{scenario}") } else { stem.to_owned() };
            let bytes = pack.tar_gz(&root)?;
            std::fs::write(output, bytes).with_context(|| format!("failed to write `{}`", output.display()))
        }
        None => Ok(pack.write_dir(output)?),
    }
}
