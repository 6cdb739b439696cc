//! `harness report merge`: joins the outputs of several matrix runs (CI
//! shards, a rerun of the failed cells) into one set of the four reports.

use std::path::PathBuf;

use super::exit::{CliError, CliResult, Exit};
use crate::report::{merge, read_cells, write_reports};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Merge matrix outputs: a later folder's cell replaces an earlier
    /// one's, so `merge full/ rerun/` keeps the rerun's results.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Folders `harness matrix --out` wrote (or their report.json files).
    #[arg(value_name = "DIR", required = true)]
    inputs: Vec<PathBuf>,
    /// Folder for the merged report.json, junit.xml, summary.md and report.html.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(command: Command) -> CliResult {
    let Command::Merge(args) = command;
    let sets = args.inputs.iter().map(|path| read_cells(path)).collect::<Result<Vec<_>, _>>();
    let cells = merge(sets.map_err(CliError::bad_input)?);
    eprintln!("merged {} cell(s) from {} report(s)", cells.len(), args.inputs.len());
    for path in write_reports(&args.out, cells).map_err(CliError::infrastructure)? {
        println!("wrote {}", path.display());
    }
    Ok(Exit::Pass)
}
