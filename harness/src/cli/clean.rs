//! `harness clean`: removes what killed runs left on the Docker daemon
//! (labelled containers, networks, volumes and temporary seeding tags).
//! Without `--run` or `--all` it only lists the runs it finds, because on a
//! shared daemon some of them may still be running.

use anyhow::Context;

use super::exit::{CliError, CliResult, Exit};
use crate::engine::{clean_run, runs_present, RunLabel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run id to clean (the `harness.run` label; repeatable). A run
    /// interrupted twice prints its id.
    #[arg(long = "run", value_name = "ID", conflicts_with = "all")]
    runs: Vec<String>,
    /// Every run found, live ones included.
    #[arg(long)]
    all: bool,
}

pub fn run(args: Args) -> CliResult {
    let labels = args
        .runs
        .iter()
        .map(|id| RunLabel::new(id.as_str()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::bad_input(anyhow::anyhow!("--run: {e}")))?;
    let runtime = tokio::runtime::Runtime::new()
        .context("failed to start the async runtime")
        .map_err(CliError::infrastructure)?;
    runtime.block_on(async {
        let found = runs_present().await.map_err(CliError::infrastructure)?;
        if labels.is_empty() && !args.all {
            if found.is_empty() {
                eprintln!("no run left anything on this Docker daemon");
            } else {
                eprintln!("runs with resources on this Docker daemon (some may still be running):");
                for label in &found {
                    println!("{label}");
                }
                eprintln!("remove one with `harness clean --run ID`, or all with `harness clean --all`");
            }
            return Ok(Exit::Pass);
        }
        let targets = if args.all { found } else { labels };
        for label in &targets {
            let cleaned = clean_run(label).await.map_err(CliError::infrastructure)?;
            let r = &cleaned.resources;
            eprintln!(
                "run {label}: removed {} container(s), {} network(s), {} volume(s), {} seeding tag(s)",
                r.containers.len(),
                r.networks.len(),
                r.volumes.len(),
                cleaned.tags.len()
            );
        }
        Ok(Exit::Pass)
    })
}
