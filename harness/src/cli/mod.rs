//! The `harness` command line: parses arguments, runs one subcommand, and
//! maps its result to the documented exit codes. Only this module uses
//! `anyhow`; the library returns typed errors.

mod exit;
mod images;
mod pack;
mod parse;
mod run;

use clap::{Parser, Subcommand};

pub use exit::{CliError, Exit};

/// Reproduces Docker build-cache behaviour on real engines and tells, per
/// Dockerfile step, whether the cache was used.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read BuildKit progress logs and print the outcome of every step.
    Parse(parse::Args),
    /// Build the offline stand-in images from Debian packages.
    #[command(subcommand)]
    Images(images::Command),
    /// Run a scenario on an engine and check its expectations.
    Run(run::Args),
    /// Write a reproduction pack: a folder anyone can run with the docker CLI alone.
    Pack(pack::Args),
}

/// Entry point of the binary.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { Exit::BadInput.into() } else { Exit::Pass.into() };
        }
    };
    init_tracing();
    let result = match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Images(cmd) => images::run(cmd),
        Command::Run(args) => run::run(args),
        Command::Pack(args) => pack::run(args),
    };
    match result {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("error: {:#}", err.error);
            err.exit.into()
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
