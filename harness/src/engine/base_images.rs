//! Base images for Dockerfiles that run verbatim.
//!
//! A project's Dockerfile says `FROM debian:bookworm-slim`; the harness
//! reaches no public registry from inside a dind. So before any job starts,
//! every image the Dockerfiles need ([`crate::dockerfile::base_images`]) gets
//! a source on the host, and is pushed into the run's registry under its own
//! name: Docker Hub images at their Hub path (`library/debian:bookworm-slim`),
//! which each dind reaches through its `registry-mirrors` setting, and images
//! of other registries at `<domain>/<path>`, which only a rewritten `FROM`
//! reaches (a daemon mirrors Docker Hub only).
//!
//! Sources, in order: the image itself on the host (pulled or `docker load`ed
//! there; the real thing), a pull onto the host in official mode, the offline
//! stand-in the catalogue names for it. An image none of them provides is an
//! error that names the image, where it is used and how to provide it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use super::docker::{self, has_image};
use super::{EngineError, Registry};
use crate::catalogue::{Catalogue, ResolvedMode};
use crate::dockerfile::{self, BaseImage, DockerfileError, ImageRef};

/// Where a needed image is used: file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    pub image: ImageRef,
    /// The Dockerfile's name, for messages.
    pub dockerfile: String,
    pub line: usize,
}

/// Where the copy pushed into the run's registry comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The image is on the host under its own name.
    Host,
    /// Pulled onto the host first (official mode).
    Pull,
    /// The catalogue's offline stand-in, a host image.
    StandIn(String),
}

/// How dinds reach the image in the run's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A Docker Hub image: the daemon's `registry-mirrors` finds it.
    Mirror,
    /// Another registry's image: `FROM` must be rewritten to the run's
    /// registry ([`crate::dockerfile::rewrite_from_lines`]).
    Rewrite,
}

/// One image to seed before the first job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    pub image: ImageRef,
    pub source: Source,
    pub route: Route,
}

impl Provision {
    /// The host image pushed into the registry.
    pub fn host_reference(&self) -> String {
        match &self.source {
            Source::Host | Source::Pull => self.image.familiar(),
            Source::StandIn(local) => local.clone(),
        }
    }

    /// `repo:tag` inside the run's registry: the Hub path for Hub images
    /// (what a mirror is asked for), `<domain>/<path>:<tag>` for others.
    pub fn registry_path(&self) -> String {
        if self.image.is_docker_hub() {
            self.image.repo_reference()
        } else {
            format!("{}/{}", self.image.domain.replace(':', "-"), self.image.repo_reference())
        }
    }
}

/// An image that no path can provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingImage {
    pub image: String,
    pub used_in: String,
    pub why: String,
}

/// Base images that cannot be used, found before any job starts.
#[derive(Debug, thiserror::Error)]
pub enum BaseImageError {
    #[error("failed to read the images `{dockerfile}` needs")]
    Dockerfile {
        dockerfile: String,
        #[source]
        source: DockerfileError,
    },
    #[error("{}", missing_message(.0))]
    Missing(Vec<MissingImage>),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn missing_message(missing: &[MissingImage]) -> String {
    let mut out = format!(
        "{} base image{} cannot be provided to the build (no image registry is reached from the builds; \
         each base image is copied from the host into the run's registry):",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" }
    );
    for m in missing {
        out.push_str(&format!("\n  - `{}` ({}): {}", m.image, m.used_in, m.why));
    }
    out.push_str(
        "\nprovide each on the host Docker daemon, then run again: `docker pull IMAGE` where a registry \
         answers (or `--images official`), or `docker load -i IMAGE.tar` from an archive made with \
         `docker save IMAGE` on a connected machine",
    );
    out
}

impl fmt::Display for Needed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.dockerfile, self.line)
    }
}

/// The images `dockerfiles` (`(name, text)`) need, each once (first use
/// wins), leaving out those already in the run's registry (`registry`,
/// `host:port`: what `{chef}` and `{runtime}` render to).
pub fn needed_images(
    dockerfiles: &[(String, String)],
    build_args: &BTreeMap<String, String>,
    registry: &str,
) -> Result<Vec<Needed>, BaseImageError> {
    let mut out: Vec<Needed> = Vec::new();
    for (name, text) in dockerfiles {
        let found = dockerfile::base_images(text, build_args)
            .map_err(|source| BaseImageError::Dockerfile { dockerfile: name.clone(), source })?;
        for BaseImage { reference, line, .. } in found {
            if reference.domain != registry && !out.iter().any(|n| n.image == reference) {
                out.push(Needed { image: reference, dockerfile: name.clone(), line });
            }
        }
    }
    Ok(out)
}

/// The catalogue's stand-ins, keyed by the official image they stand for
/// (`lukemathwalker/cargo-chef:latest-rust-1` -> `harness/chef:rust-1`).
pub fn stand_ins(catalogue: &Catalogue) -> BTreeMap<ImageRef, String> {
    [&catalogue.chef, &catalogue.runtime]
        .into_iter()
        .filter_map(|pair| Some((ImageRef::parse(&pair.official).ok()?, pair.local.clone()?)))
        .collect()
}

/// Decides a source for every needed image, asking the host daemon what it
/// has. Fails with every image no path provides, before anything starts.
pub async fn plan_provisions(
    needed: &[Needed],
    mode: ResolvedMode,
    stand_ins: &BTreeMap<ImageRef, String>,
) -> Result<Vec<Provision>, BaseImageError> {
    let docker = docker::client().await?;
    let mut plan = Vec::new();
    let mut missing = Vec::new();
    for need in needed {
        let route = if need.image.is_docker_hub() { Route::Mirror } else { Route::Rewrite };
        if need.image.digest.is_some() {
            missing.push(MissingImage {
                image: need.image.familiar(),
                used_in: need.to_string(),
                why: "pinned by digest: a copy pushed into the run's registry gets another digest; \
                      pin it by tag to run it here"
                    .into(),
            });
            continue;
        }
        let source = if has_image(&docker, &need.image.familiar()).await? {
            Some(Source::Host)
        } else if mode == ResolvedMode::Official {
            Some(Source::Pull)
        } else {
            match stand_ins.get(&need.image) {
                Some(local) if has_image(&docker, local).await? => Some(Source::StandIn(local.clone())),
                Some(local) => {
                    missing.push(MissingImage {
                        image: need.image.familiar(),
                        used_in: need.to_string(),
                        why: format!(
                            "not on the host, and its offline stand-in `{local}` is not built (`make images`)"
                        ),
                    });
                    None
                }
                None => {
                    missing.push(MissingImage {
                        image: need.image.familiar(),
                        used_in: need.to_string(),
                        why: "not on the host, and no offline stand-in exists for it".into(),
                    });
                    None
                }
            }
        };
        if let Some(source) = source {
            plan.push(Provision { image: need.image.clone(), source, route });
        }
    }
    if missing.is_empty() {
        Ok(plan)
    } else {
        Err(BaseImageError::Missing(missing))
    }
}

/// Pushes every planned image into `registry` (pulling first where the plan
/// says so). Returns, per image, its reference as dinds see it
/// (`registry.harness.test:5000/library/debian:bookworm-slim`): what a
/// rewritten `FROM` names.
pub async fn seed_provisions(
    registry: &Registry,
    plan: &[Provision],
) -> Result<BTreeMap<ImageRef, String>, EngineError> {
    let mut seeded = BTreeMap::new();
    for provision in plan {
        let started = Instant::now();
        if provision.source == Source::Pull {
            docker::pull_to_host(&provision.image.familiar()).await?;
        }
        let reference = registry.seed(&provision.host_reference(), &provision.registry_path()).await?;
        tracing::info!(
            "base image {} from {} in {:.1}s",
            provision.image,
            provision.host_reference(),
            started.elapsed().as_secs_f64()
        );
        seeded.insert(provision.image.clone(), reference);
    }
    Ok(seeded)
}

/// Whether BuildKit on `engine` (with the containerd image store or not)
/// resolves Docker Hub `FROM` lines through the daemon's `registry-mirrors`.
/// Measured by `tests/engine_mirror.rs`: yes on 20.10.24 (classic store),
/// 26.1.5 and 28.5.2 (classic and containerd), with and without registry
/// auth (BuildKit sends the `docker login` credentials of the mirror; a
/// classic `docker pull` of a Hub name does not, so it fails on an auth
/// registry). 28.5 needs the run's CA in the system roots, which every dind
/// gets. Engines not measured are assumed to honour it too.
pub fn mirror_honoured(_engine: &str, _containerd_store: bool) -> bool {
    true
}

/// The images whose `FROM` lines must be rewritten to the run's registry on
/// `engine`: every [`Route::Rewrite`] one, and the [`Route::Mirror`] ones
/// where the engine ignores the mirror. `seeded` is what
/// [`seed_provisions`] returned for `plan`.
pub fn rewrites_for(
    plan: &[Provision],
    seeded: &BTreeMap<ImageRef, String>,
    engine: &str,
    containerd_store: bool,
) -> BTreeMap<ImageRef, String> {
    let mirrored = mirror_honoured(engine, containerd_store);
    plan.iter()
        .filter(|p| p.route == Route::Rewrite || !mirrored)
        .filter_map(|p| Some((p.image.clone(), seeded.get(&p.image)?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(image: &str) -> Needed {
        Needed { image: ImageRef::parse(image).unwrap(), dockerfile: "Dockerfile".into(), line: 3 }
    }

    #[test]
    fn needed_images_skip_the_run_registry_and_repeats() {
        let files = [
            (
                "a.Dockerfile".to_owned(),
                "FROM registry.harness.test:5000/harness/chef:rust-1\nFROM debian:12\n".to_owned(),
            ),
            ("b.Dockerfile".to_owned(), "FROM docker.io/library/debian:12\nFROM ghcr.io/o/r:1\n".to_owned()),
        ];
        let needed = needed_images(&files, &BTreeMap::new(), "registry.harness.test:5000").unwrap();
        let summary: Vec<_> = needed.iter().map(|n| (n.image.familiar(), n.to_string())).collect();
        assert_eq!(
            summary,
            [
                ("debian:12".to_owned(), "a.Dockerfile line 2".to_owned()),
                ("ghcr.io/o/r:1".to_owned(), "b.Dockerfile line 2".to_owned()),
            ]
        );
    }

    #[test]
    fn a_bad_dockerfile_is_named() {
        let files = [("ci/app.Dockerfile".to_owned(), "FROM Debian\n".to_owned())];
        let err = needed_images(&files, &BTreeMap::new(), "r:5000").unwrap_err();
        assert_eq!(
            crate::engine::docker::error_chain(&err),
            "failed to read the images `ci/app.Dockerfile` needs: line 1: `Debian` is not an image reference: \
             repository names must be lowercase"
        );
    }

    #[test]
    fn registry_paths_keep_hub_names_and_prefix_other_registries() {
        let hub = Provision { image: need("debian:bookworm-slim").image, source: Source::Host, route: Route::Mirror };
        assert_eq!(hub.registry_path(), "library/debian:bookworm-slim");
        assert_eq!(hub.host_reference(), "debian:bookworm-slim");
        let other = Provision {
            image: need("localhost:5000/team/app:1").image,
            source: Source::StandIn("x:1".into()),
            route: Route::Rewrite,
        };
        assert_eq!(other.registry_path(), "localhost-5000/team/app:1");
        assert_eq!(other.host_reference(), "x:1");
    }

    #[test]
    fn only_images_the_mirror_cannot_serve_are_rewritten() {
        let hub = Provision { image: need("debian:12").image, source: Source::Host, route: Route::Mirror };
        let other = Provision { image: need("ghcr.io/o/r:1").image, source: Source::Host, route: Route::Rewrite };
        let seeded = BTreeMap::from([
            (hub.image.clone(), "r:5000/library/debian:12".to_owned()),
            (other.image.clone(), "r:5000/ghcr.io/o/r:1".to_owned()),
        ]);
        let rewrites = rewrites_for(&[hub, other.clone()], &seeded, "26.1.5", true);
        assert_eq!(rewrites.into_iter().collect::<Vec<_>>(), [(other.image, "r:5000/ghcr.io/o/r:1".to_owned())]);
    }

    #[test]
    fn the_shipped_catalogue_has_stand_ins_for_the_seeds_images() {
        let catalogue = Catalogue::load_default().unwrap();
        let map = stand_ins(&catalogue);
        assert_eq!(
            map.get(&need("lukemathwalker/cargo-chef:latest-rust-1").image).map(String::as_str),
            Some("harness/chef:rust-1")
        );
        assert_eq!(map.get(&need("debian:bookworm-slim").image).map(String::as_str), Some("harness/runtime:bookworm"));
    }

    #[test]
    fn the_missing_image_error_names_image_place_and_remedy() {
        let err = BaseImageError::Missing(vec![
            MissingImage {
                image: "node:22".into(),
                used_in: "Dockerfile line 1".into(),
                why: "not on the host, and no offline stand-in exists for it".into(),
            },
            MissingImage {
                image: "debian@sha256:00".into(),
                used_in: "Dockerfile line 9".into(),
                why: "pinned by digest".into(),
            },
        ]);
        insta::assert_snapshot!(err.to_string(), @r"
        2 base images cannot be provided to the build (no image registry is reached from the builds; each base image is copied from the host into the run's registry):
          - `node:22` (Dockerfile line 1): not on the host, and no offline stand-in exists for it
          - `debian@sha256:00` (Dockerfile line 9): pinned by digest
        provide each on the host Docker daemon, then run again: `docker pull IMAGE` where a registry answers (or `--images official`), or `docker load -i IMAGE.tar` from an archive made with `docker save IMAGE` on a connected machine
        ");
    }
}
