//! `harness images`: builds and lists the offline stand-ins.

use std::time::Instant;

use anyhow::Context;

use super::exit::{CliError, CliResult, Exit};
use crate::catalogue::{workspace_root, Catalogue};
use crate::images::{self, Builder, Built, ExtraCa, HostDocker};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build every stand-in image; images whose inputs did not change are kept.
    Build(BuildArgs),
    /// List the stand-ins and whether the host has them.
    List(BuildArgs),
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Extra CA bundle (PEM) copied into the images that fetch over HTTPS
    /// (dind, cargo-chef): the answer behind a TLS-intercepting proxy.
    /// Default: the host's bundle when it exists; `none` for none.
    #[arg(long, value_name = "PATH|none")]
    extra_ca: Option<String>,
    /// Only these images (catalogue names such as `harness/dind:26.1.5`);
    /// the rootfs images they stand on are always included.
    #[arg(long = "only", value_name = "IMAGE")]
    only: Vec<String>,
}

pub fn run(command: Command) -> CliResult {
    let (args, build) = match command {
        Command::Build(args) => (args, true),
        Command::List(args) => (args, false),
    };
    let root = workspace_root();
    let catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let extra_ca = ExtraCa::from_option(args.extra_ca.as_deref());
    let ca_bytes = extra_ca
        .read()
        .with_context(|| format!("failed to read the extra CA bundle {extra_ca:?}"))
        .map_err(CliError::bad_input)?;
    let mut plan = images::plan(&catalogue, &root, &ca_bytes).map_err(CliError::bad_input)?;
    if !args.only.is_empty() {
        plan = select(plan, &args.only).map_err(CliError::bad_input)?;
    }
    let docker = HostDocker::detect().map_err(CliError::infrastructure)?;

    if !build {
        for spec in &plan {
            let state = if docker.has_image(&spec.hashed) { "present" } else { "missing" };
            println!("{state:8} {:28} {}", spec.name, spec.hashed);
        }
        return Ok(Exit::Pass);
    }

    eprintln!("images: building with {}; extra CA: {extra_ca:?}", docker.description);
    let builder = Builder { docker: &docker, log_dir: root.join(".harness/logs/images"), extra_ca: ca_bytes };
    let started = Instant::now();
    for spec in &plan {
        match builder.ensure(spec).map_err(CliError::infrastructure)? {
            Built::UpToDate => eprintln!("  up to date  {:28} {}", spec.name, spec.hashed),
            Built::Built(took) => eprintln!(
                "  built       {:28} {} in {:.1}s (log: {})",
                spec.name,
                spec.hashed,
                took.as_secs_f64(),
                builder.log_path(spec).display()
            ),
        }
    }
    eprintln!("images: {} images ready in {:.1}s", plan.len(), started.elapsed().as_secs_f64());
    Ok(Exit::Pass)
}

/// Keeps the asked images and the rootfs images they build on.
fn select(plan: Vec<images::ImageSpec>, only: &[String]) -> anyhow::Result<Vec<images::ImageSpec>> {
    for name in only {
        if !plan.iter().any(|spec| &spec.name == name) {
            let known: Vec<&str> = plan.iter().map(|s| s.name.as_str()).collect();
            anyhow::bail!("`{name}` is not a stand-in image; known: {}", known.join(", "));
        }
    }
    let bases: Vec<String> = plan
        .iter()
        .filter(|spec| only.contains(&spec.name))
        .filter_map(|spec| match &spec.recipe {
            images::Recipe::Dockerfile { build_args, .. } => build_args.get("BASE").cloned(),
            images::Recipe::Rootfs { .. } => None,
        })
        .collect();
    Ok(plan.into_iter().filter(|spec| only.contains(&spec.name) || bases.contains(&spec.hashed)).collect())
}
