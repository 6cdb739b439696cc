//! `harness check`: loads and validates scenarios without Docker; with
//! `--plan`, prints what `harness run` would do on each engine (and image
//! store, `--store`): the concrete jobs with their command lines and the
//! expectations that apply there, from the job plan.

use std::path::Path;

use super::exit::{CliError, CliResult, Exit};
use crate::catalogue::{workspace_root, Catalogue, ResolvedMode};
use crate::runner::plan::{Plan, RunValues, Target};
use crate::runner::StoreAxis;
use crate::scenario::{load_all, load_scenario, Scenario};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario names (folders of `scenarios/`) or paths to scenario folders;
    /// every scenario when none is given.
    #[arg(value_name = "SCENARIO")]
    scenarios: Vec<String>,
    /// Engine version from `ci/engines.toml` for `--plan` (repeatable);
    /// default: the catalogue's default engine.
    #[arg(long = "engine", value_name = "VERSION")]
    engines: Vec<String>,
    /// Image stores for `--plan`: `classic`, `containerd`, `both`, or
    /// `scenario` (each scenario's own); expectations limited to a store
    /// (`stores` in an override) differ between them.
    #[arg(long, default_value = "scenario", value_name = "STORE")]
    store: StoreAxis,
    /// Print each scenario's job plan: edits, command lines, run checks and
    /// expectations, with the registry name a run uses.
    #[arg(long)]
    plan: bool,
}

pub fn run(args: Args) -> CliResult {
    let root = workspace_root();
    let catalogue = Catalogue::load_default().map_err(CliError::bad_input)?;
    let scenarios = load(&args, &root, &catalogue).map_err(CliError::bad_input)?;
    for scenario in &scenarios {
        eprintln!("{}: ok ({} jobs)", scenario.name, scenario.jobs().count());
    }
    if args.plan {
        let engines = if args.engines.is_empty() { vec![catalogue.default_engine.clone()] } else { args.engines };
        for scenario in &scenarios {
            for version in &engines {
                let engine = catalogue.engine(version).map_err(CliError::bad_input)?;
                // Stand-in image names give the seeded references a run
                // would use offline; an official run differs only there.
                let images = catalogue
                    .resolve(version, ResolvedMode::Local)
                    .or_else(|_| catalogue.resolve(version, ResolvedMode::Official))
                    .map_err(CliError::bad_input)?;
                for store in args.store.stores(scenario) {
                    let plan = Plan::build_on(scenario, Target { engine, store }, RunValues::offline(&images), None);
                    println!("{plan}");
                }
            }
        }
    }
    Ok(Exit::Pass)
}

fn load(args: &Args, root: &Path, catalogue: &Catalogue) -> anyhow::Result<Vec<Scenario>> {
    let folder = root.join("scenarios");
    if args.scenarios.is_empty() {
        return Ok(load_all(&folder, catalogue)?);
    }
    args.scenarios
        .iter()
        .map(|name| {
            let path = Path::new(name);
            let dir = if path.is_dir() { path.to_owned() } else { folder.join(name) };
            Ok(load_scenario(&dir, catalogue)?)
        })
        .collect()
}
