//! `harness run` (placeholder, filled by its issue).

use super::exit::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CliResult {
    Err(CliError::bad_input(anyhow::anyhow!("`harness run` is not built yet")))
}
