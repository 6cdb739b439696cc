//! `harness run`: scenarios on engines, live view, grid, JSON report.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use super::exit::{CliError, CliResult, Exit};
use super::{interrupted, preflight};
use crate::catalogue::{workspace_root, Catalogue, EngineEntry, ImageMode};
use crate::engine::{daemon_answers, Rights, RunLabel};
use crate::report::{GridReporter, JsonReporter, Terminal};
use crate::runner::{Events, Matrix, MatrixSettings, RunReport, RunStatus};
use crate::scenario::{load_all, load_scenario, Scenario};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario names (folders of `scenarios/`) or paths to scenario folders.
    #[arg(value_name = "SCENARIO", required_unless_present_any = ["all", "context"])]
    scenarios: Vec<String>,
    /// Every scenario in `scenarios/`.
    #[arg(long)]
    all: bool,
    /// Engine version from `ci/engines.toml` (repeatable); default: the
    /// catalogue's default engine.
    #[arg(long = "engine", value_name = "VERSION")]
    engines: Vec<String>,
    /// Every engine the image mode can run (all stand-ins for `local`).
    #[arg(long, conflicts_with = "engines")]
    all_engines: bool,
    /// Image column: `official` (pull), `local` (stand-ins), `auto`.
    #[arg(long, default_value = "auto", value_name = "MODE")]
    images: ImageMode,
    /// Folder for logs and reports (default: `.harness/runs/<time>`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Kill any single command (a build) running longer than this.
    #[arg(long, default_value_t = 1800, value_name = "SECONDS", value_parser = preflight::timeout_secs)]
    timeout: u64,
    /// Rights of the dind containers: `auto` tries `--privileged` first.
    #[arg(long, default_value = "auto", value_parser = parse_rights)]
    rights: Rights,
    /// Run only the first N jobs of each scenario.
    #[arg(long, value_name = "N", value_parser = preflight::job_count)]
    jobs: Option<u32>,
    /// Print every command line before it runs.
    #[arg(long, short)]
    verbose: bool,
    #[command(flatten)]
    project: super::run_context::ContextArgs,
}

fn parse_rights(text: &str) -> Result<Rights, String> {
    match text {
        "auto" => Ok(Rights::Auto),
        "privileged" => Ok(Rights::Privileged),
        "capabilities" => Ok(Rights::Capabilities),
        other => Err(format!("unknown rights `{other}`: expected auto, privileged or capabilities")),
    }
}

pub fn run(args: Args) -> CliResult {
    let root = workspace_root();
    let catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let out = args.out.clone().unwrap_or_else(|| root.join(".harness/runs").join(timestamp()));
    let scenarios = match super::run_context::scenario(&args.project, args.engines.first(), &out, &catalogue)? {
        Some(scenario) => vec![scenario],
        None => load_scenarios(&args, &root, &catalogue).map_err(CliError::bad_input)?,
    };
    preflight::run_inputs(&root, &scenarios, &out).map_err(CliError::bad_input)?;
    let (mode, reason) = args.images.decide();
    eprintln!("images: {} ({reason})", format!("{mode:?}").to_lowercase());
    let engines = pick_engines(&args, &catalogue, mode).map_err(CliError::bad_input)?;
    let settings = MatrixSettings {
        mode,
        images_reason: reason,
        out,
        root,
        command_timeout: Duration::from_secs(args.timeout),
        rights: args.rights,
        label: RunLabel::current(),
        max_jobs: args.jobs,
        concurrency: 1,
    };
    let matrix = Matrix::new(scenarios, &engines, &catalogue, &settings).map_err(CliError::bad_input)?;

    let runtime = tokio::runtime::Runtime::new()
        .context("failed to start the async runtime")
        .map_err(CliError::infrastructure)?;
    let events = Events::new(vec![
        Box::new(Terminal::new(args.verbose)),
        Box::new(JsonReporter),
        Box::new(GridReporter::stdout()),
    ]);
    runtime
        .block_on(daemon_answers(Duration::from_secs(10)))
        .map_err(|e| CliError::infrastructure(anyhow::anyhow!(e)))?;
    let reports = runtime.block_on(async {
        interrupted::listen(&settings.label);
        matrix.run(&events).await
    });
    let failed = events.finish();
    if let Some(exit) = interrupted::finish(&runtime, &settings.label) {
        return Ok(exit);
    }
    if reports.len() > 1 {
        print_summary(&reports);
    }
    if let Some(first) = failed.into_iter().next() {
        return Err(CliError::infrastructure(first));
    }
    Ok(exit_for(&reports))
}

fn load_scenarios(args: &Args, root: &Path, catalogue: &Catalogue) -> anyhow::Result<Vec<Scenario>> {
    let folder = root.join("scenarios");
    if args.all {
        return Ok(load_all(&folder, catalogue)?);
    }
    args.scenarios
        .iter()
        .map(|name| {
            let path = Path::new(name);
            let dir = if path.is_dir() { path.to_owned() } else { folder.join(name) };
            if !dir.is_dir() {
                let known = std::fs::read_dir(&folder)
                    .map(|entries| {
                        let mut names: Vec<String> = entries
                            .filter_map(|e| e.ok())
                            .filter(|e| e.path().is_dir())
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect();
                        names.sort();
                        names.join(", ")
                    })
                    .unwrap_or_default();
                anyhow::bail!("no scenario `{name}`: expected a folder of {} ({known})", folder.display());
            }
            Ok(load_scenario(&dir, catalogue)?)
        })
        .collect()
}

fn pick_engines(
    args: &Args,
    catalogue: &Catalogue,
    mode: crate::catalogue::ResolvedMode,
) -> anyhow::Result<Vec<EngineEntry>> {
    if args.all_engines {
        return Ok(match mode {
            crate::catalogue::ResolvedMode::Local => catalogue.local_engines().cloned().collect(),
            crate::catalogue::ResolvedMode::Official => catalogue.engines.clone(),
        });
    }
    let wanted = if args.engines.is_empty() { vec![catalogue.default_engine.clone()] } else { args.engines.clone() };
    wanted.iter().map(|v| Ok(catalogue.engine(v)?.clone())).collect()
}

fn timestamp() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("run-{secs}")
}

/// One line per scenario and engine.
fn print_summary(reports: &[RunReport]) {
    println!("summary");
    for report in reports {
        println!("  {:28} {:10} {:>7.1}s  {}", report.scenario, report.engine, report.duration_secs, report.status);
    }
}

/// 3 when any run hit an infrastructure error, else 1 when any failed.
fn exit_for(reports: &[RunReport]) -> Exit {
    if reports.iter().any(|r| matches!(r.status, RunStatus::Error { .. })) {
        Exit::Infrastructure
    } else if reports.iter().any(|r| matches!(r.status, RunStatus::Failed { .. })) {
        Exit::ExpectationFailed
    } else {
        Exit::Pass
    }
}
