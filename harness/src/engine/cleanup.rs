//! Labels that tie every Docker resource to its run, and the sweep that
//! removes whatever a run left behind.
//!
//! Normal teardown is `stop`; testcontainers' `Drop` removes a container
//! (with its anonymous volumes) on error and panic; on SIGINT/SIGTERM the
//! runner stops its work and tears down (`runner::interrupt`), and the CLI
//! sweeps the run's label after it. The label is what lets a test (or a later
//! run) prove nothing leaked, and lets `sweep` clean up after a `kill -9`.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder,
};
use testcontainers::bollard::Docker;

use super::{docker, EngineError};

/// Label key carrying the run id on every container the engine creates.
pub const RUN_LABEL: &str = "harness.run";
/// Environment variable that names the run id (`harness.run=<id>`).
pub const RUN_ID_ENV: &str = "HARNESS_RUN_ID";
/// Label key saying what a container is (`registry`, `dind`).
pub const ROLE_LABEL: &str = "harness.role";

/// The run id put on every resource as `harness.run=<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RunLabel(String);

impl RunLabel {
    /// The id of this process's run, the same for every call:
    /// [`RUN_ID_ENV`] when it holds a valid id (a test or a CI job that
    /// wants to find or sweep the run's resources sets it), else a new one.
    pub fn current() -> Self {
        static CURRENT: OnceLock<RunLabel> = OnceLock::new();
        CURRENT.get_or_init(|| Self::from_env().ok().flatten().unwrap_or_else(Self::unique)).clone()
    }

    /// The id [`RUN_ID_ENV`] gives, if set; an error when it is not a valid id.
    pub fn from_env() -> Result<Option<Self>, EngineError> {
        match std::env::var(RUN_ID_ENV) {
            Ok(id) => Self::new(id).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// A new id, different from every other in this process (tests use one
    /// each so they can count their own resources).
    pub fn unique() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        Self(format!("{:x}-{}-{}", millis, std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)))
    }

    /// An explicit id (lower-case letters, digits, `-` and `.` only, so it is
    /// usable in container names).
    pub fn new(id: impl Into<String>) -> Result<Self, EngineError> {
        let id = id.into();
        let ok =
            !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        if ok {
            Ok(Self(id))
        } else {
            Err(EngineError::BadReference {
                reference: id,
                why: "a run label is lower-case letters, digits, `-` and `.`".into(),
            })
        }
    }

    pub fn value(&self) -> &str {
        &self.0
    }

    /// The `key=value` filter that selects this run's resources.
    pub fn filter(&self) -> String {
        format!("{RUN_LABEL}={}", self.0)
    }
}

impl Default for RunLabel {
    fn default() -> Self {
        Self::current()
    }
}

impl std::fmt::Display for RunLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resources carrying a run's label.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Leftovers {
    /// Container ids, running or not.
    pub containers: Vec<String>,
    pub volumes: Vec<String>,
    pub networks: Vec<String>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.volumes.is_empty() && self.networks.is_empty()
    }
}

/// Lists the containers, volumes and networks labelled with `label`.
///
/// Anonymous volumes (the dind's `/var/lib/docker`, the registry's storage)
/// carry no label: they go with their container (`rm -v`); check them by
/// name with [`existing_volumes`] and `Daemon::volumes`/`Registry::volumes`.
pub async fn leftovers(label: &RunLabel) -> Result<Leftovers, EngineError> {
    let docker = docker::client().await?;
    list(&docker, label).await
}

/// Removes everything labelled with `label` (containers with their anonymous
/// volumes, then volumes and networks) and returns what it removed.
pub async fn sweep(label: &RunLabel) -> Result<Leftovers, EngineError> {
    let docker = docker::client().await?;
    let found = list(&docker, label).await?;
    for id in &found.containers {
        let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
        docker
            .remove_container(id, Some(options))
            .await
            .or_else(ignore_missing)
            .map_err(|e| EngineError::docker(format!("remove container `{id}`"), e))?;
    }
    for name in &found.volumes {
        let options = RemoveVolumeOptionsBuilder::new().force(true).build();
        docker
            .remove_volume(name, Some(options))
            .await
            .or_else(ignore_missing)
            .map_err(|e| EngineError::docker(format!("remove volume `{name}`"), e))?;
    }
    for id in &found.networks {
        docker
            .remove_network(id)
            .await
            .or_else(ignore_missing)
            .map_err(|e| EngineError::docker(format!("remove network `{id}`"), e))?;
    }
    Ok(found)
}

async fn list(docker: &Docker, label: &RunLabel) -> Result<Leftovers, EngineError> {
    let filters = HashMap::from([("label".to_owned(), vec![label.filter()])]);
    let containers = docker
        .list_containers(Some(ListContainersOptionsBuilder::new().all(true).filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list containers", e))?
        .into_iter()
        .filter_map(|c| c.id)
        .collect();
    let volumes = docker
        .list_volumes(Some(ListVolumesOptionsBuilder::new().filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list volumes", e))?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    let networks = docker
        .list_networks(Some(ListNetworksOptionsBuilder::new().filters(&filters).build()))
        .await
        .map_err(|e| EngineError::docker("list networks", e))?
        .into_iter()
        .filter_map(|n| n.id)
        .collect();
    Ok(Leftovers { containers, volumes, networks })
}

/// Treats "no such ..." as done: something else removed it first.
pub(crate) fn ignore_missing(
    e: testcontainers::bollard::errors::Error,
) -> Result<(), testcontainers::bollard::errors::Error> {
    match e {
        testcontainers::bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => Ok(()),
        e => Err(e),
    }
}

/// Names of the volumes mounted in a container (its anonymous volumes among
/// them), so callers can prove they are gone after the container is.
pub(crate) async fn container_volumes(docker: &Docker, id: &str) -> Result<Vec<String>, EngineError> {
    let inspect = docker
        .inspect_container(id, None)
        .await
        .map_err(|e| EngineError::docker(format!("inspect container `{id}`"), e))?;
    Ok(inspect
        .mounts
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.typ.as_ref().is_some_and(|t| t.to_string().eq_ignore_ascii_case("volume")))
        .filter_map(|m| m.name)
        .collect())
}

/// Which of `names` still exist on the host daemon.
pub async fn existing_volumes(names: &[String]) -> Result<Vec<String>, EngineError> {
    let docker = docker::client().await?;
    let mut out = Vec::new();
    for name in names {
        match docker.inspect_volume(name).await {
            Ok(_) => out.push(name.clone()),
            Err(testcontainers::bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(e) => return Err(EngineError::docker(format!("inspect volume `{name}`"), e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_and_the_current_one_is_stable() {
        assert_ne!(RunLabel::unique(), RunLabel::unique());
        assert_eq!(RunLabel::current(), RunLabel::current());
        let l = RunLabel::new("run-1").unwrap();
        assert_eq!(l.filter(), "harness.run=run-1");
        assert!(RunLabel::new("Bad Label").is_err());
    }
}
