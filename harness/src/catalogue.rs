//! The engine catalogue (`ci/engines.toml`) and image resolution.
//!
//! Every engine and helper image has an official name and, where Debian
//! ships it, an offline stand-in. Resolution picks one column for a whole run
//! so the same code serves connected users and this offline machine.

use std::collections::BTreeMap;
use std::fmt;
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

/// Where the catalogue lives, relative to the workspace root.
pub const CATALOGUE_PATH: &str = "ci/engines.toml";

/// The parsed catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Engine version used when none is asked for.
    pub default_engine: String,
    pub registry: ImagePair,
    pub chef: ImagePair,
    pub runtime: ImagePair,
    #[serde(rename = "engine")]
    pub engines: Vec<EngineEntry>,
}

/// An official image and its optional offline stand-in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePair {
    pub official: String,
    pub local: Option<String>,
}

/// One Docker version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineEntry {
    /// Docker version as users name it (`26.1.5`, `29`).
    pub version: String,
    /// Official dind image.
    pub official: String,
    /// Offline stand-in image, when Debian ships this engine.
    pub local: Option<String>,
    /// Debian suite the stand-in is built from.
    pub suite: Option<String>,
    /// Debian packages installed in the stand-in.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Whether the engine's CLI has the buildx plugin (`docker buildx build`).
    pub buildx: bool,
    /// Whether the engine offers the containerd image store
    /// (`features.containerd-snapshotter`); engines before 24 do not.
    #[serde(default = "offers_containerd_store")]
    pub containerd_store: bool,
    /// Why this version is in the catalogue.
    pub note: Option<String>,
}

fn offers_containerd_store() -> bool {
    true
}

/// Orders `20.10.24` before `26.1.5`: numeric parts as numbers, the rest as text.
pub(crate) fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let (pa, pb) = (version_parts(a), version_parts(b));
    for (x, y) in pa.iter().zip(&pb) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order.is_ne() {
            return order;
        }
    }
    pa.len().cmp(&pb.len())
}

fn version_parts(version: &str) -> Vec<&str> {
    version.split(['.', '-', '+']).collect()
}

/// Which column of the catalogue a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageMode {
    /// Official images, pulled from their registries.
    Official,
    /// Offline stand-ins built by `make images`.
    Local,
    /// Official when Docker Hub answers, else local.
    #[default]
    Auto,
}

impl FromStr for ImageMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "official" => Ok(Self::Official),
            "local" => Ok(Self::Local),
            "auto" => Ok(Self::Auto),
            other => Err(format!("unknown image mode `{other}`: expected `auto`, `official` or `local`")),
        }
    }
}

impl fmt::Display for ImageMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Official => "official",
            Self::Local => "local",
            Self::Auto => "auto",
        })
    }
}

/// Errors reading or using the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error(
        "failed to read engine catalogue `{path}`: run harness inside a checkout \
         (a folder with ci/engines.toml, found from the current directory upward), \
         or name one with `--root DIR` or HARNESS_ROOT"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse engine catalogue `{path}`")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("engine `{version}` is not in the catalogue (known: {known})")]
    UnknownEngine { version: String, known: String },
    #[error(
        "engine `{version}` has no offline stand-in (Debian does not ship it); \
         use `--images official` on a connected machine, or `--engine VERSION` with one of: {local}"
    )]
    NoStandIn { version: String, local: String },
    #[error("the catalogue's default engine `{0}` is not one of its engines")]
    BadDefault(String),
}

impl Catalogue {
    /// Reads the catalogue from `path`.
    pub fn load(path: &Path) -> Result<Self, CatalogueError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CatalogueError::Read { path: path.to_owned(), source })?;
        Self::parse(&text).map_err(|source| CatalogueError::Parse { path: path.to_owned(), source })
    }

    /// Reads the catalogue of the workspace this binary was built from,
    /// or `$HARNESS_CATALOGUE` when set.
    pub fn load_default() -> Result<Self, CatalogueError> {
        let catalogue = Self::load(&default_path())?;
        catalogue
            .engine(&catalogue.default_engine)
            .map_err(|_| CatalogueError::BadDefault(catalogue.default_engine.clone()))?;
        Ok(catalogue)
    }

    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Finds an engine by version.
    pub fn engine(&self, version: &str) -> Result<&EngineEntry, CatalogueError> {
        self.engines.iter().find(|e| e.version == version).ok_or_else(|| CatalogueError::UnknownEngine {
            version: version.to_owned(),
            known: self.versions(|_| true),
        })
    }

    /// The engines that have an offline stand-in.
    pub fn local_engines(&self) -> impl Iterator<Item = &EngineEntry> {
        self.engines.iter().filter(|e| e.local.is_some())
    }

    fn versions(&self, keep: impl Fn(&EngineEntry) -> bool) -> String {
        let names: Vec<&str> = self.engines.iter().filter(|e| keep(e)).map(|e| e.version.as_str()).collect();
        names.join(", ")
    }

    /// Renames the stand-ins a run starts containers from (dind, registry)
    /// by `pins`, so a run in local mode uses the images this checkout built
    /// ([`crate::images::Pins`]). The chef and runtime keep their names:
    /// builds see them (`FROM <registry>/harness/chef:rust-1@sha256:…`), and
    /// the digest there already pins their content.
    pub fn pin_local(&mut self, pins: &BTreeMap<String, String>) {
        let pin = |local: &mut Option<String>| {
            if let Some(hashed) = local.as_ref().and_then(|name| pins.get(name)) {
                *local = Some(hashed.clone());
            }
        };
        pin(&mut self.registry.local);
        for engine in &mut self.engines {
            pin(&mut engine.local);
        }
    }

    /// Resolves every image a run on `version` needs, in a concrete mode.
    pub fn resolve(&self, version: &str, mode: ResolvedMode) -> Result<RunImages, CatalogueError> {
        let engine = self.engine(version)?;
        let pick = |pair: &ImagePair| match mode {
            ResolvedMode::Official => pair.official.clone(),
            ResolvedMode::Local => pair.local.clone().unwrap_or_else(|| pair.official.clone()),
        };
        let dind = match mode {
            ResolvedMode::Official => engine.official.clone(),
            ResolvedMode::Local => engine.local.clone().ok_or_else(|| CatalogueError::NoStandIn {
                version: version.to_owned(),
                local: self.versions(|e| e.local.is_some()),
            })?,
        };
        Ok(RunImages {
            engine_version: engine.version.clone(),
            buildx: engine.buildx,
            mode,
            dind,
            registry: pick(&self.registry),
            chef: pick(&self.chef),
            runtime: pick(&self.runtime),
        })
    }
}

/// `ci/engines.toml` of this workspace, or `$HARNESS_CATALOGUE`.
pub fn default_path() -> PathBuf {
    std::env::var_os("HARNESS_CATALOGUE").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(CATALOGUE_PATH))
}

/// The checkout the harness works in: `$HARNESS_ROOT` (the CLI's `--root`
/// sets it), else the nearest folder from the current directory upward that
/// holds the catalogue. Never the folder the binary was built in: an
/// installed `harness` must work in whichever checkout it is run from.
///
/// With no checkout found it returns the current directory, so the
/// catalogue's read error names a path and [`CatalogueError::Read`] says how
/// to point at a checkout.
pub fn workspace_root() -> PathBuf {
    let root = match std::env::var_os("HARNESS_ROOT") {
        Some(root) => PathBuf::from(root),
        None => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            find_checkout(&cwd).unwrap_or(cwd)
        }
    };
    root.canonicalize().unwrap_or(root)
}

/// The nearest of `start` and its ancestors that holds the catalogue.
fn find_checkout(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(CATALOGUE_PATH).is_file()).map(Path::to_owned)
}

/// A mode with `auto` decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResolvedMode {
    Official,
    Local,
}

impl ImageMode {
    /// Decides `auto`: official when Docker Hub's registry answers on 443
    /// within a few seconds, else local. Returns the mode and why.
    pub fn decide(self) -> (ResolvedMode, String) {
        match self {
            Self::Official => (ResolvedMode::Official, "asked for official images".into()),
            Self::Local => (ResolvedMode::Local, "asked for local stand-ins".into()),
            Self::Auto => match probe("registry-1.docker.io:443", Duration::from_secs(3)) {
                Ok(()) => (ResolvedMode::Official, "Docker Hub answers".into()),
                Err(why) => {
                    (ResolvedMode::Local, format!("Docker Hub does not answer ({why}); using offline stand-ins"))
                }
            },
        }
    }
}

fn probe(address: &str, timeout: Duration) -> Result<(), String> {
    let addr = address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address} has no address"))?;
    std::net::TcpStream::connect_timeout(&addr, timeout)
        .map(drop)
        .map_err(|e| format!("cannot connect to {address}: {e}"))
}

/// The concrete images of one run on one engine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunImages {
    pub engine_version: String,
    pub buildx: bool,
    pub mode: ResolvedMode,
    pub dind: String,
    pub registry: String,
    pub chef: String,
    pub runtime: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Catalogue {
        Catalogue::load(&workspace_root().join(CATALOGUE_PATH)).expect("shipped catalogue parses")
    }

    #[test]
    fn shipped_catalogue_has_three_stand_ins_and_the_seed_version() {
        let c = shipped();
        let local: Vec<_> = c.local_engines().map(|e| e.version.as_str()).collect();
        assert_eq!(local, ["20.10.24", "26.1.5", "28.5.2"]);
        assert_eq!(c.engine("24.0.7").unwrap().official, "docker:24.0.7-dind");
        assert!(c.engine(&c.default_engine).unwrap().local.is_some());
    }

    #[test]
    fn pins_rename_the_dind_and_registry_stand_ins_only() {
        let mut c = shipped();
        let pins = BTreeMap::from([
            ("harness/dind:26.1.5".to_owned(), "harness/dind:26.1.5-0123456789ab".to_owned()),
            ("harness/registry:2.8.3".to_owned(), "harness/registry:2.8.3-0123456789ab".to_owned()),
            ("harness/chef:rust-1".to_owned(), "harness/chef:rust-1-0123456789ab".to_owned()),
        ]);
        c.pin_local(&pins);
        let local = c.resolve("26.1.5", ResolvedMode::Local).unwrap();
        assert_eq!(local.dind, "harness/dind:26.1.5-0123456789ab");
        assert_eq!(local.registry, "harness/registry:2.8.3-0123456789ab");
        assert_eq!(local.chef, "harness/chef:rust-1");
        assert_eq!(c.resolve("28.5.2", ResolvedMode::Local).unwrap().dind, "harness/dind:28.5.2");
        assert_eq!(c.resolve("26.1.5", ResolvedMode::Official).unwrap().dind, "docker:26.1.5-dind");
    }

    #[test]
    fn resolve_picks_one_column() {
        let c = shipped();
        let local = c.resolve("20.10.24", ResolvedMode::Local).unwrap();
        assert_eq!(local.dind, "harness/dind:20.10.24");
        assert_eq!(local.chef, "harness/chef:rust-1");
        assert!(!local.buildx);
        let official = c.resolve("20.10.24", ResolvedMode::Official).unwrap();
        assert_eq!(official.dind, "docker:20.10.24-dind");
        assert_eq!(official.registry, "registry:2");
        assert_eq!(official.chef, "lukemathwalker/cargo-chef:latest-rust-1");
    }

    #[test]
    fn official_only_engine_has_no_stand_in() {
        let err = shipped().resolve("24.0.7", ResolvedMode::Local).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`24.0.7` has no offline stand-in"), "{msg}");
        assert!(msg.contains("20.10.24, 26.1.5, 28.5.2"), "{msg}");
    }

    #[test]
    fn unknown_engine_lists_known_ones() {
        let msg = shipped().engine("19.03").unwrap_err().to_string();
        assert!(msg.contains("`19.03` is not in the catalogue"), "{msg}");
        assert!(msg.contains("24.0.7"), "{msg}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Catalogue::parse("default_engine = \"1\"\nbogus = 1\n[registry]\nofficial=\"r\"\n").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn image_mode_parses() {
        assert_eq!("local".parse::<ImageMode>().unwrap(), ImageMode::Local);
        assert!("remote".parse::<ImageMode>().unwrap_err().contains("expected `auto`"));
    }
}
