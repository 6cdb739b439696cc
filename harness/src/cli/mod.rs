//! The `harness` command line: parses arguments, runs one subcommand, and
//! maps its result to the documented exit codes. Only this module uses
//! `anyhow`; the library returns typed errors.

mod cache;
mod cells;
mod check;
mod clean;
mod diagnose;
mod exit;
mod images;
mod import;
mod interrupted;
mod matrix;
mod pack;
mod parallel;
mod parse;
mod preflight;
mod report;
mod run;
mod run_context;

use clap::{Parser, Subcommand};

pub(crate) use exit::Exit;

/// Reproduces Docker build-cache behaviour on real engines and tells, per
/// Dockerfile step, whether the cache was used.
#[derive(Debug, Parser)]
#[command(name = "harness", version, about, long_about = None)]
struct Cli {
    /// The checkout to work in (catalogue, scenarios, images); default: the
    /// nearest folder from here upward with `ci/engines.toml`.
    #[arg(long, global = true, value_name = "DIR", env = "HARNESS_ROOT")]
    root: Option<std::path::PathBuf>,
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
    /// Run scenarios × engines × image stores and write the four reports.
    Matrix(matrix::Args),
    /// Work with matrix reports (`merge` shard outputs).
    #[command(subcommand)]
    Report(report::Command),
    /// Name why steps missed the cache across consecutive builds' logs.
    Diagnose(diagnose::Args),
    /// Write a scenario from a GitLab CI file or a GitHub Actions workflow.
    Import(import::Args),
    /// Validate scenarios without Docker; `--plan` prints their job plans.
    Check(check::Args),
    /// Read the BuildKit cache records of images or cache refs in a registry.
    #[command(subcommand)]
    Cache(cache::Command),
    /// Write a reproduction pack: a folder anyone can run with the docker CLI alone.
    Pack(pack::Args),
    /// Remove what killed runs left on the Docker daemon (labelled
    /// containers, networks, volumes, seeding tags).
    Clean(clean::Args),
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
    if let Some(root) = &cli.root {
        // One process-wide answer to "which checkout", read by
        // `catalogue::workspace_root`; set before any thread starts.
        std::env::set_var("HARNESS_ROOT", root);
    }
    let result = match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Images(cmd) => images::run(cmd),
        Command::Run(args) => run::run(args),
        Command::Matrix(args) => matrix::run(args),
        Command::Report(cmd) => report::run(cmd),
        Command::Diagnose(args) => diagnose::run(args),
        Command::Import(args) => import::run(args),
        Command::Check(args) => check::run(args),
        Command::Cache(cmd) => cache::run(cmd),
        Command::Pack(args) => pack::run(args),
        Command::Clean(args) => clean::run(args),
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
