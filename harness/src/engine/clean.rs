//! `harness clean`: removes what a run killed without its teardown
//! (`kill -9`, a lost machine) left on the host daemon: its labelled
//! containers (with their anonymous volumes), networks and volumes, and the
//! temporary host tags its registry seeding made (`127.0.0.1:<port>/...`,
//! found through the port its still-present registry container publishes).
//!
//! Runs are found by the `harness.run` label. Cleaning one run never
//! touches another's resources, which matters on a shared daemon where
//! other runs may be live.

use std::collections::{BTreeSet, HashMap};

use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use testcontainers::bollard::Docker;

use super::cleanup::{ignore_missing, sweep, Leftovers, RunLabel, ROLE_LABEL, RUN_LABEL};
use super::{docker, EngineError};

/// What cleaning one run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cleaned {
    /// Temporary seeding tags (`127.0.0.1:<port>/repo:tag`).
    pub tags: Vec<String>,
    pub resources: Leftovers,
}

impl Cleaned {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.resources.is_empty()
    }
}

/// The run ids that own any container, network or volume on the daemon.
pub async fn runs_present() -> Result<Vec<RunLabel>, EngineError> {
    let docker = docker::client().await?;
    let filters = HashMap::from([("label".to_owned(), vec![RUN_LABEL.to_owned()])]);
    let mut ids = BTreeSet::new();
    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list containers", e))?;
    ids.extend(containers.into_iter().filter_map(|c| c.labels?.remove(RUN_LABEL)));
    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list networks", e))?;
    ids.extend(networks.into_iter().filter_map(|n| n.labels?.remove(RUN_LABEL)));
    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::new().filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list volumes", e))?;
    ids.extend(volumes.volumes.unwrap_or_default().into_iter().filter_map(|mut v| v.labels.remove(RUN_LABEL)));
    Ok(ids.into_iter().filter_map(|id| RunLabel::new(id).ok()).collect())
}

/// Removes the run's seeding tags, then everything carrying its label.
pub async fn clean_run(label: &RunLabel) -> Result<Cleaned, EngineError> {
    let docker = docker::client().await?;
    let mut tags = Vec::new();
    for tag in seeding_tags(&docker, label).await? {
        let options = RemoveImageOptionsBuilder::new().noprune(true).build();
        let removed = docker.remove_image(&tag, Some(options), None).await.map(drop).or_else(ignore_missing);
        removed.map_err(|e| EngineError::docker(format!("remove the seeding tag `{tag}`"), e))?;
        tags.push(tag);
    }
    let resources = sweep(label).await?;
    Ok(Cleaned { tags, resources })
}

/// Host tags under the ports the run's registry containers publish.
async fn seeding_tags(docker: &Docker, label: &RunLabel) -> Result<Vec<String>, EngineError> {
    let filters = HashMap::from([("label".to_owned(), vec![label.filter(), format!("{ROLE_LABEL}=registry")])]);
    let registries = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list registry containers", e))?;
    let prefixes: Vec<String> = registries
        .into_iter()
        .flat_map(|c| c.ports.unwrap_or_default())
        .filter_map(|p| p.public_port)
        .map(|port| format!("127.0.0.1:{port}/"))
        .collect();
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let images = docker
        .list_images(Some(ListImagesOptionsBuilder::new().all(false).build()))
        .await
        .map_err(|e| EngineError::docker("list images", e))?;
    Ok(images.into_iter().flat_map(|i| i.repo_tags).filter(|tag| prefixes.iter().any(|p| tag.starts_with(p))).collect())
}
