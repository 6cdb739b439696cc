//! The matrix of cells a run covers: scenario × engine (× image store, when
//! the matrix grows that axis), each with a [`CellKey`] and an output folder.
//!
//! Cells of one scenario share its registry (the chef and runtime images are
//! seeded once). Cells may run side by side, at most `concurrency` at a time
//! (1 by default: engines compete for the same two CPUs, and timings are
//! only comparable one at a time).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::cell::{run_cell, start_failed};
use super::events::{EventKind, Events};
use super::result::RunReport;
use super::shared::Shared;
use crate::catalogue::{Catalogue, CatalogueError, EngineEntry, ResolvedMode};
use crate::engine::{Rights, RunLabel};
use crate::scenario::Scenario;

/// Which image store a cell's daemons use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageStore {
    /// The classic graph-driver store.
    Classic,
    /// The containerd image store (`containerd-snapshotter`).
    Containerd,
}

impl fmt::Display for ImageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Classic => "classic",
            Self::Containerd => "containerd",
        })
    }
}

/// Names one cell: `ci-inline-cache/26.1.5/classic`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellKey {
    pub scenario: String,
    pub engine: String,
    pub store: ImageStore,
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
}

/// One scenario on one engine.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub key: CellKey,
    pub options: RunOptions,
}

/// A scenario and its cells, which share its registry.
#[derive(Debug)]
struct Group {
    scenario: Scenario,
    cells: Vec<Cell>,
}

/// The cells of a run, grouped by scenario.
#[derive(Debug)]
pub(crate) struct Matrix {
    groups: Vec<Group>,
    concurrency: usize,
}

impl Matrix {
    /// Every scenario on every engine, in that order.
    pub fn new(
        scenarios: Vec<Scenario>,
        engines: &[EngineEntry],
        catalogue: &Catalogue,
        settings: &MatrixSettings,
    ) -> Result<Self, CatalogueError> {
        let single = scenarios.len() * engines.len() == 1;
        let mut groups = Vec::new();
        for scenario in scenarios {
            let cells = engines
                .iter()
                .map(|engine| cell(&scenario, engine, catalogue, settings, single))
                .collect::<Result<Vec<_>, _>>()?;
            groups.push(Group { scenario, cells });
        }
        Ok(Self { groups, concurrency: settings.concurrency.max(1) })
    }

    /// Runs every cell and returns their reports in matrix order. Each
    /// cell's events go to `events`, stamped with its key.
    pub async fn run(&self, events: &Events) -> Vec<RunReport> {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let groups = stream::iter(&self.groups)
            .map(|group| run_group(group, events, Arc::clone(&permits)))
            .buffered(self.concurrency);
        groups.collect::<Vec<Vec<RunReport>>>().await.into_iter().flatten().collect()
    }
}

fn cell(
    scenario: &Scenario,
    engine: &EngineEntry,
    catalogue: &Catalogue,
    settings: &MatrixSettings,
    single: bool,
) -> Result<Cell, CatalogueError> {
    let images = catalogue.resolve(&engine.version, settings.mode)?;
    let out_dir =
        if single { settings.out.clone() } else { settings.out.join(format!("{}-{}", scenario.name, engine.version)) };
    let store = if scenario.daemon.containerd_snapshotter { ImageStore::Containerd } else { ImageStore::Classic };
    Ok(Cell {
        key: CellKey { scenario: scenario.name.clone(), engine: engine.version.clone(), store },
        options: RunOptions {
            engine: engine.clone(),
            images,
            images_reason: settings.images_reason.clone(),
            root: settings.root.clone(),
            out_dir,
            command_timeout: settings.command_timeout,
            rights: settings.rights,
            label: settings.label.clone(),
            max_jobs: settings.max_jobs,
        },
    })
}

/// Starts the scenario's registry, runs its cells, stops the registry.
async fn run_group(group: &Group, events: &Events, permits: Arc<Semaphore>) -> Vec<RunReport> {
    let Some(first) = group.cells.first() else { return Vec::new() };
    // Registry, chef and runtime images are the same for every engine of an
    // image column: one registry serves the scenario's cells.
    let shared = match Shared::start(&group.scenario, &first.options.images, &first.options.label, events).await {
        Ok(shared) => shared,
        Err(e) => {
            return group
                .cells
                .iter()
                .map(|cell| {
                    let report = start_failed(&group.scenario, &cell.options, &e);
                    let events = events.for_cell(cell.key.clone());
                    events.emit(EventKind::RunFinished { report: Box::new(report.clone()) });
                    report
                })
                .collect();
        }
    };
    let runs = group.cells.iter().map(|cell| {
        let permits = Arc::clone(&permits);
        let (shared, scenario) = (&shared, &group.scenario);
        async move {
            // The semaphore is never closed, so a permit always comes.
            let _permit = permits.acquire().await.ok();
            run_cell(scenario, &cell.options, shared, &events.for_cell(cell.key.clone())).await
        }
    });
    let reports = futures::future::join_all(runs).await;
    if let Err(e) = shared.stop().await {
        eprintln!("warning: failed to stop the registry: {}", super::error::chain(&e));
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

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
