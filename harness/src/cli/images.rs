//! `harness images`: builds the offline stand-ins.

use super::exit::{CliError, CliResult};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build every stand-in image (idempotent).
    Build {},
}

pub fn run(_cmd: Command) -> CliResult {
    Err(CliError::bad_input(anyhow::anyhow!("`harness images build` is not built yet")))
}
