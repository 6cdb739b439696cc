//! The folder a cell carries from one job's daemon to the next: one named
//! Docker volume per cell, mounted at the scenario's `[daemon] carry` path
//! in every dind of the cell.
//!
//! CI systems keep a folder between jobs (`actions/cache`, GitLab's
//! `cache:`), and users put buildx's local cache there (`--cache-to
//! type=local,dest=…`). A fresh dind per job would lose it; a volume that
//! outlives each dind does not. It carries the run's label and the role
//! `carry`, so an interrupted run's sweep and `harness clean` remove it like
//! every other resource of the run; normal teardown is [`CarryVolume::remove`]
//! after the cell's last daemon is gone (a mounted volume cannot be removed).

use std::collections::HashMap;

use testcontainers::bollard::models::VolumeCreateRequest;
use testcontainers::bollard::query_parameters::RemoveVolumeOptionsBuilder;

use super::cleanup::{ignore_missing, RunLabel, ROLE_LABEL, RUN_LABEL};
use super::registry::next_id;
use super::{docker, EngineError};

/// The role label of a carry volume.
pub const CARRY_ROLE: &str = "carry";

/// A named volume carried between a cell's daemons, and where they mount it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarryVolume {
    name: String,
    path: String,
}

impl CarryVolume {
    /// Creates an empty volume for `path` (absolute, inside each dind),
    /// labelled with the run's `label`.
    pub async fn create(label: &RunLabel, path: &str) -> Result<Self, EngineError> {
        let docker = docker::client().await?;
        let name = volume_name(label, next_id());
        let request = VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some(HashMap::from([
                (RUN_LABEL.to_owned(), label.value().to_owned()),
                (ROLE_LABEL.to_owned(), CARRY_ROLE.to_owned()),
            ])),
            ..Default::default()
        };
        docker
            .create_volume(request)
            .await
            .map_err(|e| EngineError::docker(format!("create the carry volume `{name}` for `{path}`"), e))?;
        Ok(Self { name, path: path.to_owned() })
    }

    /// The volume's name on the host daemon.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where each dind mounts it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Removes the volume; no dind may still mount it. A volume already
    /// gone (swept) counts as removed.
    pub async fn remove(self) -> Result<(), EngineError> {
        let docker = docker::client().await?;
        let options = RemoveVolumeOptionsBuilder::new().force(true).build();
        docker
            .remove_volume(&self.name, Some(options))
            .await
            .or_else(ignore_missing)
            .map_err(|e| EngineError::docker(format!("remove the carry volume `{}`", self.name), e))
    }
}

/// `harness-<label>-carry-<n>`: the run's prefix, like its containers.
fn volume_name(label: &RunLabel, n: u64) -> String {
    format!("harness-{label}-carry-{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_carry_volume_is_named_after_its_run() {
        let label = RunLabel::new("run-7").unwrap();
        assert_eq!(volume_name(&label, 3), "harness-run-7-carry-3");
    }
}
