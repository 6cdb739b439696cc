//! `harness matrix`: scenarios × engines × image stores, cells side by
//! side, one registry for the run, and the four reports (`report.json`,
//! `junit.xml`, `summary.md`, `report.html`) in `--out`. `--shard I/N`
//! runs a CI runner's share, `--rerun-failed` the cells a report says
//! failed; `harness report merge` joins the outputs.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use super::cells::{execute, exit_for, load_scenarios, pick_engines, print_summary, CellArgs};
use super::exit::{CliError, CliResult, Exit};
use super::parallel::{default_parallel, machine};
use super::preflight;
use crate::catalogue::{workspace_root, Catalogue};
use crate::report::{
    read_cells, write_reports, BarWriter, JsonReporter, MatrixFiles, MatrixProgress, ProgressStyleChoice, Terminal,
};
use crate::runner::{failed_cells, CellKey, Matrix, Reporter, Shard, StoreAxis};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario names (folders of `scenarios/`) or folders, comma-separated;
    /// default: every scenario in `scenarios/`.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    scenarios: Vec<String>,
    /// Engine versions from `ci/engines.toml`, comma-separated; default:
    /// every engine the image column can run (all stand-ins for `local`).
    #[arg(long, value_delimiter = ',', value_name = "VERSION,...")]
    engines: Vec<String>,
    /// Image stores: `classic`, `containerd`, `both`, or `scenario` (each
    /// scenario's own `[daemon]` setting). Engines without the containerd
    /// store report those cells as unsupported.
    #[arg(long, default_value = "both", value_name = "STORE")]
    store: StoreAxis,
    /// Run only shard I of N: the sorted cells dealt round-robin, the same
    /// split on every runner whatever the order of the flags.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Cells run side by side; default: what the machine's cores and
    /// memory allow (printed).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(1..))]
    parallel: Option<u16>,
    /// Run only the cells that failed or hit an error in this report (a
    /// matrix's or a cell's `report.json`, or the folder holding it).
    #[arg(long, value_name = "REPORT", conflicts_with_all = ["scenarios", "engines", "store"])]
    rerun_failed: Option<PathBuf>,
    /// Print the cells this invocation would run (after `--shard` and
    /// `--rerun-failed`), and why any is unsupported; run nothing.
    #[arg(long)]
    list: bool,
    /// `auto` (a bar on a terminal, else plain lines), `tty` or `plain`.
    #[arg(long, default_value = "auto", value_name = "MODE", value_parser = ["auto", "tty", "plain"])]
    progress: String,
    #[command(flatten)]
    cell: CellArgs,
}

/// The cells to run, named before anything loads.
struct Selection {
    scenarios: Vec<String>,
    engines: Vec<String>,
    store: StoreAxis,
    /// Only these cells (a rerun).
    only: Option<BTreeSet<CellKey>>,
}

pub fn run(args: Args) -> CliResult {
    let root = workspace_root();
    let mut catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let Some(selection) = select(&args).map_err(CliError::bad_input)? else {
        eprintln!("no failed cells in the report: nothing to run again");
        return Ok(Exit::Pass);
    };
    let every = selection.scenarios.is_empty();
    let scenarios = load_scenarios(&selection.scenarios, every, &root, &catalogue).map_err(CliError::bad_input)?;
    let mode = args.cell.decide_and_pin_images(&mut catalogue, &root);
    let all_engines = selection.engines.is_empty();
    let engines = pick_engines(&selection.engines, all_engines, &catalogue, mode.0).map_err(CliError::bad_input)?;
    let out = args.cell.out_dir(&root, "matrix");
    preflight::run_inputs(&root, &scenarios, &out).map_err(CliError::bad_input)?;
    let mut settings = args.cell.settings(mode, root, out);
    settings.single_cell_in_out = false;
    settings.concurrency = parallel(args.parallel);
    let mut matrix =
        Matrix::new(scenarios, &engines, selection.store, &catalogue, &settings).map_err(CliError::bad_input)?;
    if let Some(only) = &selection.only {
        matrix.retain(only);
    }
    let planned = matrix.keys().len();
    if let Some(shard) = args.shard {
        matrix.retain(&shard.select(&matrix.keys()));
        eprintln!("shard {shard}: {} of {planned} cells", matrix.keys().len());
    }
    if args.list {
        for (key, unsupported) in matrix.describe() {
            match unsupported {
                Some(why) => println!("{key}  unsupported: {why}"),
                None => println!("{key}"),
            }
        }
        return Ok(Exit::Pass);
    }
    let unsupported = matrix.describe().into_iter().filter_map(|(key, why)| why.map(|_| key)).collect();
    let reporters = reporters(&args, matrix.keys().len(), unsupported, settings.concurrency, &settings.out);
    let executed = execute(&matrix, reporters, &settings.label)?;
    let (reports, failed) = (executed.reports, executed.failed);
    print_summary(&reports);
    write_all(&settings.out, reports.clone())?;
    if let Some(exit) = executed.interrupted {
        return Ok(exit);
    }
    match failed {
        Some(error) => Err(error),
        None => Ok(exit_for(&reports)),
    }
}

/// What the flags ask for; `None` for a rerun of a report with no failed cell.
fn select(args: &Args) -> anyhow::Result<Option<Selection>> {
    let Some(path) = &args.rerun_failed else {
        return Ok(Some(Selection {
            scenarios: args.scenarios.clone(),
            engines: args.engines.clone(),
            store: args.store,
            only: None,
        }));
    };
    let failed = failed_cells(&read_cells(path)?);
    if failed.is_empty() {
        return Ok(None);
    }
    let names = |get: fn(&CellKey) -> &String| {
        let set: BTreeSet<String> = failed.iter().map(|k| get(k).clone()).collect();
        set.into_iter().collect::<Vec<_>>()
    };
    eprintln!("rerun: {} failed cell(s) of {}", failed.len(), path.display());
    Ok(Some(Selection {
        scenarios: names(|k| &k.scenario),
        engines: names(|k| &k.engine),
        store: StoreAxis::Both,
        only: Some(failed),
    }))
}

/// `--parallel`, or the machine's default; printed either way.
fn parallel(asked: Option<u16>) -> usize {
    let (parallel, why) = match asked {
        Some(k) => (usize::from(k), "--parallel".to_owned()),
        None => {
            let (cores, memory) = machine();
            default_parallel(cores, memory)
        }
    };
    eprintln!("parallel {parallel} ({why})");
    parallel
}

/// Progress, the live view (cell-prefixed when cells run side by side),
/// each cell's `report.json`, and the four reports of the cells so far.
fn reporters(
    args: &Args,
    cells: usize,
    unsupported: BTreeSet<CellKey>,
    parallel: usize,
    out: &Path,
) -> Vec<Box<dyn Reporter>> {
    let tty = match args.progress.as_str() {
        "tty" => true,
        "plain" => false,
        _ => std::io::stderr().is_terminal(),
    };
    let style = if tty { ProgressStyleChoice::Tty } else { ProgressStyleChoice::Plain };
    let progress = MatrixProgress::new(cells, unsupported, parallel, style);
    let verbose = args.cell.verbose;
    // On a terminal the live view writes above the bar; each cell's own job
    // bar would fight it.
    let terminal = match progress.bar() {
        Some(bar) => Terminal::to_writer(BarWriter::new(bar), verbose),
        None => Terminal::new(verbose),
    };
    vec![
        Box::new(progress),
        Box::new(terminal.with_cell_prefix(parallel > 1)),
        Box::new(JsonReporter),
        Box::new(MatrixFiles::new(out)),
    ]
}

/// The four reports into `out`, their paths printed.
fn write_all(out: &Path, reports: Vec<crate::runner::RunReport>) -> Result<(), CliError> {
    let written = write_reports(out, reports).map_err(CliError::infrastructure)?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
