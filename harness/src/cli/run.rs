//! `harness run`: scenarios on engines, each on its own image store, with
//! the live view, the grid and each cell's JSON report.

use super::cells::{execute, exit_for, load_scenarios, pick_engines, print_summary, CellArgs};
use super::exit::{CliError, CliResult};
use super::preflight;
use crate::catalogue::{workspace_root, Catalogue};
use crate::engine::{parse_disk_size, DISK_ENV};
use crate::report::{GridReporter, JsonReporter, Terminal};
use crate::runner::{Matrix, Reporter, StoreAxis};

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
    /// Cap each dind's data root (images, layers, build cache) at SIZE
    /// (`512M`, `2G`): a tmpfs held in memory instead of a volume on the
    /// host's disk, as on a CI runner with a small disk. A build that fills
    /// it ends the run with `disk_full` (exit 3).
    #[arg(long, value_name = "SIZE", env = DISK_ENV, value_parser = parse_disk_size)]
    dind_disk: Option<u64>,
    #[command(flatten)]
    cell: CellArgs,
    #[command(flatten)]
    project: super::run_context::ContextArgs,
}

pub fn run(args: Args) -> CliResult {
    if let Some(bytes) = args.dind_disk {
        // The runner reads the cap where it starts each dind; set before
        // any thread starts, as `--root` sets HARNESS_ROOT.
        std::env::set_var(DISK_ENV, bytes.to_string());
    }
    let root = workspace_root();
    let mut catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let out = args.cell.out_dir(&root, "run");
    let scenarios = match super::run_context::scenario(&args.project, args.engines.first(), &out, &catalogue)? {
        Some(scenario) => vec![scenario],
        None => load_scenarios(&args.scenarios, args.all, &root, &catalogue).map_err(CliError::bad_input)?,
    };
    preflight::run_inputs(&root, &scenarios, &out).map_err(CliError::bad_input)?;
    let mode = args.cell.decide_and_pin_images(&mut catalogue, &root);
    let engines = pick_engines(&args.engines, args.all_engines, &catalogue, mode.0).map_err(CliError::bad_input)?;
    let settings = args.cell.settings(mode, root, out);
    let matrix =
        Matrix::new(scenarios, &engines, StoreAxis::Declared, &catalogue, &settings).map_err(CliError::bad_input)?;
    let reporters: Vec<Box<dyn Reporter>> =
        vec![Box::new(Terminal::new(args.cell.verbose)), Box::new(JsonReporter), Box::new(GridReporter::stdout())];
    let executed = execute(&matrix, reporters, &settings.label)?;
    if let Some(exit) = executed.interrupted {
        return Ok(exit);
    }
    let (reports, failed) = (executed.reports, executed.failed);
    if reports.len() > 1 {
        print_summary(&reports);
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(exit_for(&reports)),
    }
}
