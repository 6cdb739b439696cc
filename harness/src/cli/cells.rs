//! What `harness run` and `harness matrix` share: the options of a cell
//! (images, output, timeout, rights), loading scenarios and engines by
//! name, running a [`Matrix`] under a runtime, and the exit code of its
//! reports.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use super::exit::{CliError, Exit};
use super::{interrupted, preflight};
use crate::catalogue::{Catalogue, EngineEntry, ImageMode, ResolvedMode};
use crate::engine::{daemon_answers, Rights, RunLabel};
use crate::images::Pins;
use crate::runner::{Events, Matrix, MatrixSettings, Reporter, RunReport, RunStatus};
use crate::scenario::{load_all, load_scenario, Scenario};

/// Options every cell of a run shares.
#[derive(Debug, clap::Args)]
pub(super) struct CellArgs {
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
    pub(super) verbose: bool,
}

fn parse_rights(text: &str) -> Result<Rights, String> {
    match text {
        "auto" => Ok(Rights::Auto),
        "privileged" => Ok(Rights::Privileged),
        "capabilities" => Ok(Rights::Capabilities),
        other => Err(format!("unknown rights `{other}`: expected auto, privileged or capabilities")),
    }
}

impl CellArgs {
    /// The image column, decided and printed with its reason.
    pub(super) fn decide_images(&self) -> (ResolvedMode, String) {
        let (mode, reason) = self.images.decide();
        eprintln!("images: {} ({reason})", format!("{mode:?}").to_lowercase());
        (mode, reason)
    }

    /// The image column, decided and printed; in local mode `catalogue`
    /// is pinned to the stand-ins this checkout builds (warning about any
    /// that are not).
    pub(super) fn decide_and_pin_images(&self, catalogue: &mut Catalogue, root: &Path) -> (ResolvedMode, String) {
        let mode = self.decide_images();
        if mode.0 == ResolvedMode::Local {
            let pins = Pins::for_checkout(catalogue, root);
            for warning in pins.warnings() {
                eprintln!("{warning}");
            }
            catalogue.pin_local(&pins.pinned);
        }
        mode
    }

    /// The run's folder: `--out`, or `.harness/runs/<prefix>-<time>`.
    pub(super) fn out_dir(&self, root: &Path, prefix: &str) -> PathBuf {
        self.out.clone().unwrap_or_else(|| root.join(".harness/runs").join(timestamp(prefix)))
    }

    /// The settings of a run in image column `mode`, writing under `out`.
    pub(super) fn settings(&self, mode: (ResolvedMode, String), root: PathBuf, out: PathBuf) -> MatrixSettings {
        MatrixSettings {
            mode: mode.0,
            images_reason: mode.1,
            out,
            root,
            command_timeout: Duration::from_secs(self.timeout),
            rights: self.rights,
            label: RunLabel::current(),
            max_jobs: self.jobs,
            concurrency: 1,
            single_cell_in_out: true,
        }
    }
}

/// Loads scenarios by name (folders of `scenarios/`) or path, or all of
/// them when `names` is empty and `all` is set.
pub(super) fn load_scenarios(
    names: &[String],
    all: bool,
    root: &Path,
    catalogue: &Catalogue,
) -> anyhow::Result<Vec<Scenario>> {
    let folder = root.join("scenarios");
    if all {
        return Ok(load_all(&folder, catalogue)?);
    }
    names
        .iter()
        .map(|name| {
            let path = Path::new(name);
            let dir = if path.is_dir() { path.to_owned() } else { folder.join(name) };
            if !dir.is_dir() {
                anyhow::bail!(
                    "no scenario `{name}`: expected a folder of {} ({})",
                    folder.display(),
                    known_scenarios(&folder)
                );
            }
            Ok(load_scenario(&dir, catalogue)?)
        })
        .collect()
}

fn known_scenarios(folder: &Path) -> String {
    std::fs::read_dir(folder)
        .map(|entries| {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names.join(", ")
        })
        .unwrap_or_default()
}

/// The engines named, or every engine image column `mode` can run (all
/// stand-ins for `local`) when `names` is empty and `all` is set, else the
/// catalogue's default.
pub(super) fn pick_engines(
    names: &[String],
    all: bool,
    catalogue: &Catalogue,
    mode: ResolvedMode,
) -> anyhow::Result<Vec<EngineEntry>> {
    if all {
        return Ok(match mode {
            ResolvedMode::Local => catalogue.local_engines().cloned().collect(),
            ResolvedMode::Official => catalogue.engines.clone(),
        });
    }
    let wanted = if names.is_empty() { vec![catalogue.default_engine.clone()] } else { names.to_vec() };
    wanted.iter().map(|v| Ok(catalogue.engine(v)?.clone())).collect()
}

/// What running a matrix gave.
pub(super) struct Executed {
    pub(super) reports: Vec<RunReport>,
    /// The first reporter that failed: an infrastructure error the caller
    /// reports once it has written what it could.
    pub(super) failed: Option<CliError>,
    /// `Some(130)` when SIGINT or SIGTERM stopped the run (its leftovers
    /// are swept by then).
    pub(super) interrupted: Option<Exit>,
}

/// Checks that the host daemon answers, then runs every cell of `matrix`
/// with `reporters`, listening for SIGINT and SIGTERM.
pub(super) fn execute(
    matrix: &Matrix,
    reporters: Vec<Box<dyn Reporter>>,
    label: &RunLabel,
) -> Result<Executed, CliError> {
    let runtime = tokio::runtime::Runtime::new()
        .context("failed to start the async runtime")
        .map_err(CliError::infrastructure)?;
    runtime
        .block_on(daemon_answers(Duration::from_secs(10)))
        .map_err(|e| CliError::infrastructure(anyhow::anyhow!(e)))?;
    let events = Events::new(reporters);
    let reports = runtime.block_on(async {
        interrupted::listen(label);
        matrix.run(&events).await
    });
    let failed = events.finish().into_iter().next().map(CliError::infrastructure);
    let interrupted = interrupted::finish(&runtime, label);
    Ok(Executed { reports, failed, interrupted })
}

fn timestamp(prefix: &str) -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{prefix}-{secs}")
}

/// One line per cell.
pub(super) fn print_summary(reports: &[RunReport]) {
    println!("summary");
    for report in reports {
        let engine = crate::report::Column::of(report).label();
        println!("  {:28} {:19} {:>7.1}s  {}", report.scenario, engine, report.duration_secs, report.status);
    }
}

/// 3 when any run hit an infrastructure error, else 1 when any failed.
pub(super) fn exit_for(reports: &[RunReport]) -> Exit {
    if reports.iter().any(|r| matches!(r.status, RunStatus::Error { .. })) {
        Exit::Infrastructure
    } else if reports.iter().any(|r| matches!(r.status, RunStatus::Failed { .. })) {
        Exit::ExpectationFailed
    } else {
        Exit::Pass
    }
}
