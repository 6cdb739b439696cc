//! The matrix of cells a run covers: scenario × engine × image store, each
//! with a [`CellKey`] and an output folder.
//!
//! Every cell of the run shares one registry (one per distinct `docker
//! login`), seeded once with the chef and runtime images and the union of
//! the base images the scenarios need: seeding is the slow part of a start.
//! Cells may run side by side, at most `concurrency` at a time.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

use super::cell::{run_cell, start_failed, unsupported_cell};
use super::error::RunError;
use super::events::{EventKind, Events};
use super::result::RunReport;
use super::shared::{scenario_login, BaseNeeds, Shared};
use super::store::{store_unsupported, StoreAxis};
use super::workspace::plan_scenario_base_images;
use crate::catalogue::{compare_versions, Catalogue, CatalogueError, EngineEntry, ResolvedMode, RunImages};
use crate::engine::{Credentials, Provision, Rights, RunLabel};
pub use crate::scenario::ImageStore;
use crate::scenario::Scenario;

/// Names one cell: `ci-inline-cache/26.1.5/classic`. Keys order by
/// scenario, then engine version (numerically), then store: the one order of
/// cells in every report and the order shards are cut from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CellKey {
    pub scenario: String,
    pub engine: String,
    pub store: ImageStore,
}

impl CellKey {
    /// The key of the cell a report is about.
    pub fn of(report: &RunReport) -> Self {
        Self { scenario: report.scenario.clone(), engine: report.engine.clone(), store: report.store }
    }
}

impl Ord for CellKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.scenario
            .cmp(&other.scenario)
            .then_with(|| compare_versions(&self.engine, &other.engine))
            .then_with(|| self.engine.cmp(&other.engine))
            .then_with(|| self.store.cmp(&other.store))
    }
}

impl PartialOrd for CellKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CellKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.scenario, self.engine, self.store)
    }
}

/// Everything a cell needs besides the scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub engine: EngineEntry,
    /// The image store of every daemon of the cell ([`ImageStore::declared`]
    /// for the scenario's own).
    pub store: ImageStore,
    pub images: crate::catalogue::RunImages,
    /// Why this image column (shown and reported).
    pub images_reason: String,
    /// Workspace root: fixtures are found here.
    pub root: PathBuf,
    /// Logs go under `out_dir/job-N/`.
    pub out_dir: PathBuf,
    /// A build (or any command) running longer is killed.
    pub command_timeout: Duration,
    pub rights: Rights,
    /// Label put on every container of the run.
    pub label: RunLabel,
    /// Run only the first N jobs (a quicker check of a long pipeline).
    pub max_jobs: Option<u32>,
}

/// The settings every cell of a matrix shares.
#[derive(Debug, Clone)]
pub(crate) struct MatrixSettings {
    pub mode: ResolvedMode,
    pub images_reason: String,
    pub root: PathBuf,
    /// The run's folder: cells write into it, or into sub-folders of it
    /// when there are several.
    pub out: PathBuf,
    pub command_timeout: Duration,
    pub rights: Rights,
    pub label: RunLabel,
    pub max_jobs: Option<u32>,
    /// Cells run at most this many at a time (at least 1).
    pub concurrency: usize,
    /// A run of one cell writes straight into `out` (`harness run`); else
    /// every cell gets a sub-folder (`harness matrix`, whose own reports
    /// go in `out`).
    pub single_cell_in_out: bool,
}

/// One scenario on one engine with one image store.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub key: CellKey,
    /// Index into the matrix's scenarios.
    scenario: usize,
    pub options: RunOptions,
}

/// The cells of a run, in [`CellKey`] order.
#[derive(Debug)]
pub(crate) struct Matrix {
    scenarios: Vec<Scenario>,
    cells: Vec<Cell>,
    concurrency: usize,
}

impl Matrix {
    /// Every scenario on every engine, on the stores `stores` gives it.
    pub fn new(
        scenarios: Vec<Scenario>,
        engines: &[EngineEntry],
        stores: StoreAxis,
        catalogue: &Catalogue,
        settings: &MatrixSettings,
    ) -> Result<Self, CatalogueError> {
        let total: usize = scenarios.iter().map(|s| stores.stores(s).len()).sum::<usize>() * engines.len();
        let mut cells = Vec::new();
        for (index, scenario) in scenarios.iter().enumerate() {
            for engine in engines {
                for store in stores.stores(scenario) {
                    let key = CellKey { scenario: scenario.name.clone(), engine: engine.version.clone(), store };
                    let out_dir = cell_dir(&settings.out, scenario, &key, total == 1 && settings.single_cell_in_out);
                    let options = cell_options(engine, store, out_dir, catalogue, settings)?;
                    cells.push(Cell { key, scenario: index, options });
                }
            }
        }
        cells.sort_by(|a, b| a.key.cmp(&b.key));
        cells.dedup_by(|a, b| a.key == b.key);
        Ok(Self { scenarios, cells, concurrency: settings.concurrency.max(1) })
    }

    /// The cells' keys, in order.
    pub fn keys(&self) -> Vec<CellKey> {
        self.cells.iter().map(|c| c.key.clone()).collect()
    }

    /// Every cell with the reason it cannot run, if it cannot (the plan a
    /// dry run prints).
    pub fn describe(&self) -> Vec<(CellKey, Option<String>)> {
        self.cells.iter().map(|cell| (cell.key.clone(), unsupported(&self.scenarios[cell.scenario], cell))).collect()
    }

    /// Keeps only the cells `keep` names.
    pub fn retain(&mut self, keep: &BTreeSet<CellKey>) {
        self.cells.retain(|c| keep.contains(&c.key));
    }

    /// Runs every cell and returns their reports in key order. Each cell's
    /// events go to `events`, stamped with its key.
    pub async fn run(&self, events: &Events) -> Vec<RunReport> {
        let registries = self.start_registries(events).await;
        let runs = self.cells.iter().map(|cell| {
            let scenario = &self.scenarios[cell.scenario];
            let shared = registries.iter().find_map(|r| r.serves(cell.scenario));
            run_one(scenario, cell, shared, events)
        });
        let mut reports = side_by_side(runs, self.concurrency).await;
        reports.sort_by_key(CellKey::of);
        for registry in registries {
            registry.stop().await;
        }
        reports
    }

    /// One registry per distinct `docker login` of the scenarios (most
    /// matrices: one or two), each seeded once with the union of the base
    /// images its scenarios need. A registry with htpasswd auth cannot also
    /// serve scenarios that never log in, hence one per login.
    async fn start_registries(&self, events: &Events) -> Vec<SharedRegistry> {
        let Some(first) = self.cells.first() else { return Vec::new() };
        let images = &first.options.images;
        // A scenario none of whose cells can run needs no registry: a matrix
        // of unsupported cells only reports why.
        let used: BTreeSet<usize> = self
            .cells
            .iter()
            .filter(|c| unsupported(&self.scenarios[c.scenario], c).is_none())
            .map(|c| c.scenario)
            .collect();
        let mut registries = Vec::new();
        for (login, members) in by_login(&self.scenarios, used) {
            registries.extend(self.start_registry(login, members, images, &first.options.label, events).await);
        }
        registries
    }

    /// Plans the base images of `members` (a scenario whose images cannot be
    /// provided fails alone), then starts and seeds their registry.
    async fn start_registry(
        &self,
        login: Option<Credentials>,
        members: Vec<usize>,
        images: &RunImages,
        label: &RunLabel,
        events: &Events,
    ) -> Vec<SharedRegistry> {
        let mut out = Vec::new();
        let mut bases: Vec<Provision> = Vec::new();
        let mut needs = BaseNeeds::default();
        let mut served = Vec::new();
        for index in members {
            match plan_scenario_base_images(&self.scenarios[index], images).await {
                Ok(plan) => {
                    needs = needs.union(BaseNeeds::of(&self.scenarios[index]));
                    bases.extend(
                        plan.into_iter().filter(|p| !bases.iter().any(|b| b.image == p.image)).collect::<Vec<_>>(),
                    );
                    served.push(index);
                }
                Err(e) => out.push(SharedRegistry { serves: vec![index], shared: Err(e.into()) }),
            }
        }
        if !served.is_empty() {
            let shared = Shared::start_seeded(login, needs, bases, images, label, events).await;
            out.push(SharedRegistry { serves: served, shared });
        }
        out
    }
}

/// The scenarios (indices into `scenarios`, those in `used`) grouped by the
/// credentials of their `docker login`, `None` for those that never log in.
fn by_login(scenarios: &[Scenario], used: BTreeSet<usize>) -> Vec<(Option<Credentials>, Vec<usize>)> {
    let mut groups: Vec<(Option<Credentials>, Vec<usize>)> = Vec::new();
    for index in used {
        let login = scenario_login(&scenarios[index]);
        match groups.iter_mut().find(|(l, _)| *l == login) {
            Some((_, members)) => members.push(index),
            None => groups.push((login, vec![index])),
        }
    }
    groups
}

/// A started registry (or why it did not start) and the scenarios it serves.
struct SharedRegistry {
    serves: Vec<usize>,
    shared: Result<Shared, RunError>,
}

impl SharedRegistry {
    fn serves(&self, scenario: usize) -> Option<&Result<Shared, RunError>> {
        self.serves.contains(&scenario).then_some(&self.shared)
    }

    async fn stop(self) {
        if let Ok(shared) = self.shared {
            if let Err(e) = shared.stop().await {
                eprintln!("warning: failed to stop the registry: {}", super::error::chain(&e));
            }
        }
    }
}

/// Runs one cell on its registry, or reports why its registry failed.
/// Runs `cell` on its scenario's registry; `None` when the scenario got
/// none because none of its cells can run.
async fn run_one(
    scenario: &Scenario,
    cell: &Cell,
    shared: Option<&Result<Shared, RunError>>,
    events: &Events,
) -> RunReport {
    let events = events.for_cell(cell.key.clone());
    let Some(shared) = shared else {
        let reason = unsupported(scenario, cell).expect("a runnable cell's scenario has a registry");
        return unsupported_cell(scenario, &cell.options, &reason, &events);
    };
    match shared {
        Ok(shared) => run_cell(scenario, &cell.options, shared, &events).await,
        Err(e) => {
            let report = start_failed(scenario, &cell.options, e);
            events.emit(EventKind::RunFinished { report: Box::new(report.clone()) });
            report
        }
    }
}

/// Runs `jobs` at most `limit` at a time and returns their outputs as they
/// end. A job that ends frees its slot at once: ordered buffering held a
/// finished (or unsupported) cell's slot until every earlier cell had ended,
/// so a long cell ahead of it ran alone.
async fn side_by_side<F: Future>(jobs: impl IntoIterator<Item = F>, limit: usize) -> Vec<F::Output> {
    stream::iter(jobs).buffer_unordered(limit).collect().await
}

/// Why `cell` of `scenario` cannot run (the scenario or the image store),
/// if it cannot.
fn unsupported(scenario: &Scenario, cell: &Cell) -> Option<String> {
    let engine = &cell.options.engine;
    scenario.unsupported_reason(engine).or_else(|| store_unsupported(scenario, engine, cell.options.store))
}

/// `out` itself for a run of one cell, else `<scenario>-<engine>` under it
/// (`-<store>` added off the scenario's own store).
fn cell_dir(out: &Path, scenario: &Scenario, key: &CellKey, single: bool) -> PathBuf {
    if single {
        out.to_owned()
    } else if key.store == ImageStore::declared(scenario) {
        out.join(format!("{}-{}", key.scenario, key.engine))
    } else {
        out.join(format!("{}-{}-{}", key.scenario, key.engine, key.store))
    }
}

fn cell_options(
    engine: &EngineEntry,
    store: ImageStore,
    out_dir: PathBuf,
    catalogue: &Catalogue,
    settings: &MatrixSettings,
) -> Result<RunOptions, CatalogueError> {
    Ok(RunOptions {
        engine: engine.clone(),
        store,
        images: catalogue.resolve(&engine.version, settings.mode)?,
        images_reason: settings.images_reason.clone(),
        root: settings.root.clone(),
        out_dir,
        command_timeout: settings.command_timeout,
        rights: settings.rights,
        label: settings.label.clone(),
        max_jobs: settings.max_jobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::workspace_root;
    use crate::scenario::load_all;
    use futures::future::BoxFuture;

    /// The first job can end only after the third has started: with two
    /// slots, that needs the second job's slot freed as soon as it ends.
    #[tokio::test]
    async fn a_job_that_ends_frees_its_slot_for_the_next_at_once() {
        let (start_signal, third_started) = tokio::sync::oneshot::channel::<()>();
        let first: BoxFuture<'_, u32> = Box::pin(async move { third_started.await.map_or(0, |()| 1) });
        let second: BoxFuture<'_, u32> = Box::pin(async { 2 });
        let third: BoxFuture<'_, u32> = Box::pin(async move { start_signal.send(()).map_or(0, |()| 3) });
        let ended = tokio::time::timeout(Duration::from_secs(10), side_by_side([first, second, third], 2))
            .await
            .expect("the third job never started while the first waited for it");
        assert_eq!(ended, [2, 3, 1]);
    }

    #[test]
    fn the_shipped_scenarios_need_two_registries_one_per_login() {
        let catalogue = Catalogue::load_default().unwrap();
        let scenarios = load_all(&workspace_root().join("scenarios"), &catalogue).unwrap();
        let groups = by_login(&scenarios, (0..scenarios.len()).collect());
        let names: Vec<(bool, Vec<&str>)> = groups
            .iter()
            .map(|(login, members)| (login.is_some(), members.iter().map(|&i| scenarios[i].name.as_str()).collect()))
            .collect();
        assert_eq!(
            names,
            [
                (
                    false,
                    vec![
                        "cache-mount-copy",
                        "ci-local-cache",
                        "ci-registry-cache-max",
                        "ci-registry-cache-min",
                        "dependency-change",
                        "local-source-edit"
                    ]
                ),
                (true, vec!["ci-cache-from-all-stages", "ci-inline-cache"]),
            ]
        );
    }

    #[test]
    fn a_cell_key_reads_as_a_path() {
        let key = CellKey { scenario: "ci-inline-cache".into(), engine: "26.1.5".into(), store: ImageStore::Classic };
        assert_eq!(key.to_string(), "ci-inline-cache/26.1.5/classic");
        assert_eq!(
            serde_json::to_value(&key).unwrap(),
            serde_json::json!({"scenario": "ci-inline-cache", "engine": "26.1.5", "store": "classic"})
        );
    }
}
