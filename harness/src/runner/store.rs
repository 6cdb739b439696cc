//! The image store as an axis of the matrix: which stores a scenario's cells
//! use, and why a cell cannot run on a store.
//!
//! A scenario names the store it was written for (`[daemon]
//! containerd_snapshotter`); that is what `harness run` uses. The matrix can
//! run it on either store, because BuildKit takes another cache path with
//! the containerd image store (the default of Docker 29 on fresh installs)
//! and users need both columns. A cell that cannot run says so
//! (`unsupported`) instead of being left out.

use std::fmt;
use std::str::FromStr;

use super::matrix::ImageStore;
use crate::catalogue::EngineEntry;
use crate::scenario::{CommandKind, Scenario};

impl ImageStore {
    /// The store the scenario was written for.
    pub fn declared(scenario: &Scenario) -> Self {
        if scenario.daemon.containerd_snapshotter {
            Self::Containerd
        } else {
            Self::Classic
        }
    }
}

impl FromStr for ImageStore {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "classic" => Ok(Self::Classic),
            "containerd" => Ok(Self::Containerd),
            other => Err(format!("unknown image store `{other}`: expected `classic` or `containerd`")),
        }
    }
}

/// Which stores the cells of each scenario use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoreAxis {
    /// Each scenario's own store (`harness run`).
    #[default]
    Declared,
    /// One store for every scenario.
    Only(ImageStore),
    /// Both stores for every scenario.
    Both,
}

impl StoreAxis {
    /// The stores `scenario`'s cells use, classic first.
    pub fn stores(self, scenario: &Scenario) -> Vec<ImageStore> {
        match self {
            Self::Declared => vec![ImageStore::declared(scenario)],
            Self::Only(store) => vec![store],
            Self::Both => vec![ImageStore::Classic, ImageStore::Containerd],
        }
    }
}

impl FromStr for StoreAxis {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "both" => Ok(Self::Both),
            "scenario" => Ok(Self::Declared),
            other => other.parse().map(Self::Only).map_err(|_| {
                format!("unknown image store `{other}`: expected `classic`, `containerd`, `both` or `scenario`")
            }),
        }
    }
}

impl fmt::Display for StoreAxis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Declared => f.write_str("scenario"),
            Self::Only(store) => store.fmt(f),
            Self::Both => f.write_str("both"),
        }
    }
}

/// Why `scenario` cannot run on `engine` with `store`, if it cannot: the
/// engine has no containerd image store, or the scenario exports a cache
/// that the docker driver writes only with the containerd store.
pub fn store_unsupported(scenario: &Scenario, engine: &EngineEntry, store: ImageStore) -> Option<String> {
    match store {
        ImageStore::Containerd if !engine.containerd_store => {
            Some(format!("engine {} has no containerd image store", engine.version))
        }
        ImageStore::Containerd => None,
        ImageStore::Classic => exported_cache_type(scenario).map(|kind| {
            format!(
                "the classic image store: the docker driver exports a `type={kind}` cache only with the \
                 containerd image store"
            )
        }),
    }
}

/// The first `--cache-to` type other than `inline` the scenario's builds
/// export (`registry`, `local`, ...).
fn exported_cache_type(scenario: &Scenario) -> Option<String> {
    let builds = scenario.blocks.iter().flat_map(|job| &job.commands).filter_map(|c| match &c.kind {
        CommandKind::Build(build) => Some(build),
        _ => None,
    });
    builds.flat_map(|b| &b.cache_to).map(|t| cache_type(t.source())).find(|kind| kind != "inline")
}

/// `type=` of a cache spec; a bare reference is a registry cache.
fn cache_type(spec: &str) -> String {
    spec.split(',')
        .find_map(|part| part.trim().strip_prefix("type="))
        .map_or_else(|| "registry".to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::scenario::load_scenario;

    fn shipped(name: &str) -> (Scenario, Catalogue) {
        let catalogue = Catalogue::load_default().unwrap();
        let dir = crate::catalogue::workspace_root().join("scenarios").join(name);
        (load_scenario(&dir, &catalogue).unwrap(), catalogue)
    }

    #[test]
    fn store_axis_parses_every_choice_and_names_the_bad_one() {
        assert_eq!("both".parse(), Ok(StoreAxis::Both));
        assert_eq!("classic".parse(), Ok(StoreAxis::Only(ImageStore::Classic)));
        assert_eq!("containerd".parse(), Ok(StoreAxis::Only(ImageStore::Containerd)));
        assert_eq!("scenario".parse(), Ok(StoreAxis::Declared));
        assert_eq!(
            "overlay".parse::<StoreAxis>(),
            Err("unknown image store `overlay`: expected `classic`, `containerd`, `both` or `scenario`".into())
        );
    }

    #[test]
    fn a_scenario_runs_on_its_own_store_unless_the_axis_says_otherwise() {
        let (scenario, _) = shipped("ci-registry-cache-max");
        assert_eq!(StoreAxis::Declared.stores(&scenario), [ImageStore::Containerd]);
        assert_eq!(StoreAxis::Both.stores(&scenario), [ImageStore::Classic, ImageStore::Containerd]);
        let (inline, _) = shipped("ci-inline-cache");
        assert_eq!(StoreAxis::Declared.stores(&inline), [ImageStore::Classic]);
    }

    #[test]
    fn unsupported_cells_say_why() {
        let (registry_cache, catalogue) = shipped("ci-registry-cache-max");
        let (inline, _) = shipped("ci-inline-cache");
        let old = catalogue.engine("20.10.24").unwrap();
        let new = catalogue.engine("28.5.2").unwrap();
        assert_eq!(
            store_unsupported(&inline, old, ImageStore::Containerd).as_deref(),
            Some("engine 20.10.24 has no containerd image store")
        );
        assert_eq!(store_unsupported(&inline, new, ImageStore::Containerd), None);
        assert_eq!(store_unsupported(&inline, new, ImageStore::Classic), None);
        assert_eq!(
            store_unsupported(&registry_cache, new, ImageStore::Classic).as_deref(),
            Some(
                "the classic image store: the docker driver exports a `type=registry` cache only with the \
                 containerd image store"
            )
        );
        assert_eq!(store_unsupported(&registry_cache, new, ImageStore::Containerd), None);
    }

    #[test]
    fn cache_types_default_to_registry() {
        assert_eq!(cache_type("type=local,dest=/c"), "local");
        assert_eq!(cache_type("type=inline"), "inline");
        assert_eq!(cache_type("user/app:cache"), "registry");
    }
}
