//! The run's registry with the base images seeded, shared by every cell of
//! a run that uses the same registry login (each scenario, engine and store
//! gets its own repository in it).

use std::collections::BTreeMap;
use std::time::Instant;

use super::error::RunError;
use super::events::{EventKind, Events};
use super::interrupt;
use super::plan::{repo_tag, seeded_reference, RunValues};
use super::workspace::plan_scenario_base_images;
use crate::catalogue::{ResolvedMode, RunImages};
use crate::dockerfile::ImageRef;
use crate::engine::{
    pull_to_host, rewrites_for, seed_provisions, Credentials, Provision, Registry, RegistryOptions, RunLabel,
};
use crate::scenario::{CommandKind, Scenario, Var};

/// A started registry holding the chef and runtime images.
pub struct Shared {
    registry: Registry,
    values: RunValues,
    /// Base images the Dockerfiles name verbatim (`FROM debian:…`), and
    /// their references in the registry.
    bases: Vec<Provision>,
    seeded_bases: BTreeMap<ImageRef, String>,
}

impl Shared {
    /// Starts the registry for `scenario` (with the credentials its
    /// `docker login` uses, if any) and seeds the chef and runtime images.
    /// Nothing outlives a failed start.
    pub async fn start(
        scenario: &Scenario,
        images: &RunImages,
        label: &RunLabel,
        events: &Events,
    ) -> Result<Self, RunError> {
        interrupt::check("the start of the run's registry")?;
        // Before any container: an image nothing provides fails here.
        let bases = plan_scenario_base_images(scenario, images).await?;
        Self::start_seeded(scenario_login(scenario), BaseNeeds::of(scenario), bases, images, label, events).await
    }

    /// Starts a registry that requires `login` (anonymous without), seeds
    /// the chef and runtime images and the planned base images `bases`
    /// (the union of what the scenarios it serves need). Nothing outlives
    /// a failed start.
    pub(crate) async fn start_seeded(
        login: Option<Credentials>,
        needs: BaseNeeds,
        bases: Vec<Provision>,
        images: &RunImages,
        label: &RunLabel,
        events: &Events,
    ) -> Result<Self, RunError> {
        let official = images.mode == ResolvedMode::Official;
        let mut options = RegistryOptions::default().with_label(label.clone()).with_allow_pull(official);
        if let Some(credentials) = login {
            options = options.with_auth(credentials);
        }
        let started = Instant::now();
        let registry =
            interrupt::race("the start of the run's registry", Registry::start(&images.registry, options)).await??;
        events.emit(EventKind::RegistryReady { address: registry.name().to_owned(), took: started.elapsed() });
        let seeded = async {
            let chef = seed_if(needs.chef, &registry, &images.chef, official, events).await?;
            let runtime = seed_if(needs.runtime, &registry, &images.runtime, official, events).await?;
            let seeded_bases = seed_provisions(&registry, &bases).await?;
            Ok::<_, RunError>((chef, runtime, seeded_bases))
        };
        let seeded = interrupt::race("seeding the run's registry", seeded).await.and_then(|r| r);
        match seeded {
            Ok((chef, runtime, seeded_bases)) => {
                let values = RunValues { registry: registry.name().to_owned(), chef, runtime };
                Ok(Self { registry, values, bases, seeded_bases })
            }
            Err(e) => {
                if let Err(stop) = registry.stop().await {
                    tracing::warn!("failed to stop the registry: {stop:#}");
                }
                Err(e)
            }
        }
    }

    /// The run's registry (tests read what the jobs pushed from it).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The values placeholders render to in this registry.
    pub(crate) fn values(&self) -> &RunValues {
        &self.values
    }

    /// The base images whose `FROM` lines must name the run's registry on
    /// `engine` (those a Docker Hub mirror cannot serve there).
    pub(crate) fn rewrites(&self, engine: &str, containerd_store: bool) -> BTreeMap<ImageRef, String> {
        rewrites_for(&self.bases, &self.seeded_bases, engine, containerd_store)
    }

    /// Stops the registry.
    pub async fn stop(self) -> Result<(), RunError> {
        Ok(self.registry.stop().await?)
    }
}

/// Which of the chef and runtime images a registry must be seeded with:
/// only what the Dockerfiles name (seeding the chef image alone takes most
/// of a minute, and many scenarios build from the runtime only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BaseNeeds {
    pub(crate) chef: bool,
    pub(crate) runtime: bool,
}

impl BaseNeeds {
    pub(crate) fn of(scenario: &Scenario) -> Self {
        let uses = |var| scenario.dockerfiles.iter().any(|d| d.template.uses(var));
        Self { chef: uses(Var::Chef), runtime: uses(Var::Runtime) }
    }

    /// What either needs.
    pub(crate) fn union(self, other: Self) -> Self {
        Self { chef: self.chef || other.chef, runtime: self.runtime || other.runtime }
    }
}

/// The credentials of the scenario's `docker login`, which the registry
/// must then require.
pub(crate) fn scenario_login(scenario: &Scenario) -> Option<Credentials> {
    scenario.blocks.iter().flat_map(|job| &job.commands).find_map(|command| match &command.kind {
        CommandKind::Login { username, password, .. } => Some(Credentials::new(username, password)),
        _ => None,
    })
}

/// [`seed`] when `needed`, else the name seeding would give (nothing
/// renders it, and the plan stays the same either way).
async fn seed_if(
    needed: bool,
    registry: &Registry,
    image: &str,
    official: bool,
    events: &Events,
) -> Result<String, RunError> {
    if needed {
        seed(registry, image, official, events).await
    } else {
        Ok(seeded_reference(registry.name(), image))
    }
}

/// Pushes a base image into the run's registry (pulling an official one
/// onto the host first); returns its name there.
async fn seed(registry: &Registry, image: &str, official: bool, events: &Events) -> Result<String, RunError> {
    let started = Instant::now();
    if official {
        pull_to_host(image).await?;
    }
    let reference = registry.seed(image, &repo_tag(image)).await?;
    events.emit(EventKind::ImageSeeded { reference: reference.clone(), took: started.elapsed() });
    Ok(reference)
}
