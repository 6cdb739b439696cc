//! What `harness images build` builds: one spec per stand-in image, derived
//! from the catalogue, each tagged by a hash of everything that goes into it.
//!
//! Kept apart from the building so the plan (names, order, input hashes) is
//! testable without Docker, and so a second run can tell "nothing changed"
//! from a few `docker image inspect` calls.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::catalogue::Catalogue;

/// Bumped when the way a rootfs is made changes (the debootstrap recipe).
const ROOTFS_RECIPE: &str = "debootstrap --variant=minbase; caches removed; docker-clean apt hook; v2";

/// Folder of the stand-in Dockerfiles, relative to the workspace root.
pub const IMAGES_DIR: &str = "ci/images";

/// How one image is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipe {
    /// `debootstrap --variant=minbase SUITE`, then `docker import`.
    Rootfs { suite: String },
    /// `docker build` of a folder of `ci/images/`, on top of a rootfs.
    Dockerfile {
        /// Folder holding the Dockerfile.
        context: PathBuf,
        /// `--build-arg`s; `BASE` names the rootfs image by its hashed tag.
        build_args: BTreeMap<String, String>,
        /// Whether the extra CA bundle is copied into the context.
        takes_extra_ca: bool,
    },
}

/// One image to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// The name the catalogue uses (`harness/dind:26.1.5`).
    pub name: String,
    /// Immutable tag carrying the input hash (`harness/dind:26.1.5-1a2b3c4d5e6f`).
    pub hashed: String,
    pub recipe: Recipe,
}

/// Errors while planning.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("failed to read image input `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "catalogue entry for engine `{0}` has a local image but no `suite`: \
         add the Debian suite it is built from"
    )]
    NoSuite(String),
    #[error("image name `{0}` has no tag: write it as `repository:tag`")]
    NoTag(String),
}

/// Every stand-in, in build order (rootfs images first).
pub fn plan(catalogue: &Catalogue, root: &Path, extra_ca: &[u8]) -> Result<Vec<ImageSpec>, PlanError> {
    let images = root.join(IMAGES_DIR);
    let mut rootfs: BTreeMap<String, ImageSpec> = BTreeMap::new();
    let mut rootfs_for = |suite: &str| -> Result<String, PlanError> {
        let spec = rootfs.entry(suite.to_owned()).or_insert_with(|| {
            let name = format!("harness/rootfs:{suite}");
            let hash = short_hash(&[ROOTFS_RECIPE.as_bytes(), suite.as_bytes()]);
            ImageSpec { hashed: format!("{name}-{hash}"), name, recipe: Recipe::Rootfs { suite: suite.to_owned() } }
        });
        Ok(spec.hashed.clone())
    };

    let mut built = Vec::new();
    for engine in catalogue.engines.iter() {
        let Some(local) = &engine.local else { continue };
        let suite = engine.suite.as_deref().ok_or_else(|| PlanError::NoSuite(engine.version.clone()))?;
        let args = BTreeMap::from([
            ("BASE".to_owned(), rootfs_for(suite)?),
            ("PACKAGES".to_owned(), engine.packages.join(" ")),
        ]);
        built.push(dockerfile_spec(local, &images.join("dind"), args, true, extra_ca)?);
    }
    let helpers = [
        (&catalogue.registry.local, "registry", "trixie", false),
        (&catalogue.chef.local, "chef", "trixie", true),
        (&catalogue.runtime.local, "runtime", "bookworm", false),
    ];
    for (local, folder, suite, takes_extra_ca) in helpers {
        let Some(local) = local else { continue };
        let args = BTreeMap::from([("BASE".to_owned(), rootfs_for(suite)?)]);
        built.push(dockerfile_spec(local, &images.join(folder), args, takes_extra_ca, extra_ca)?);
    }
    Ok(rootfs.into_values().chain(built).collect())
}

fn dockerfile_spec(
    name: &str,
    context: &Path,
    build_args: BTreeMap<String, String>,
    takes_extra_ca: bool,
    extra_ca: &[u8],
) -> Result<ImageSpec, PlanError> {
    if !name.rsplit('/').next().is_some_and(|last| last.contains(':')) {
        return Err(PlanError::NoTag(name.to_owned()));
    }
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for (path, content) in folder_files(context)? {
        parts.push(path.into_bytes());
        parts.push(content);
    }
    for (key, value) in &build_args {
        parts.push(format!("{key}={value}").into_bytes());
    }
    if takes_extra_ca {
        parts.push(extra_ca.to_vec());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(ImageSpec {
        hashed: format!("{name}-{}", short_hash(&refs)),
        name: name.to_owned(),
        recipe: Recipe::Dockerfile { context: context.to_owned(), build_args, takes_extra_ca },
    })
}

/// Files of a build folder, sorted by relative path.
fn folder_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, PlanError> {
    let read_err = |path: &Path| {
        let path = path.to_owned();
        move |source| PlanError::Read { path, source }
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err(dir))? {
        let path = entry.map_err(read_err(dir))?.path();
        if path.is_file() {
            let content = std::fs::read(&path).map_err(read_err(&path))?;
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            files.push((name, content));
        }
    }
    files.sort();
    Ok(files)
}

/// First 12 hex digits of the SHA-256 of the parts, each length-prefixed so
/// that moving bytes between parts changes the hash.
fn short_hash(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())[..12].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{workspace_root, CATALOGUE_PATH};

    fn shipped_plan(extra_ca: &[u8]) -> Vec<ImageSpec> {
        let root = workspace_root();
        let catalogue = Catalogue::load(&root.join(CATALOGUE_PATH)).unwrap();
        plan(&catalogue, &root, extra_ca).unwrap()
    }

    #[test]
    fn rootfs_images_come_first_and_stand_ins_name_their_base() {
        let plan = shipped_plan(b"");
        let names: Vec<&str> = plan.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "harness/rootfs:bookworm",
                "harness/rootfs:forky",
                "harness/rootfs:trixie",
                "harness/dind:20.10.24",
                "harness/dind:26.1.5",
                "harness/dind:28.5.2",
                "harness/registry:2.8.3",
                "harness/chef:rust-1",
                "harness/runtime:bookworm",
            ]
        );
        let dind = plan.iter().find(|s| s.name == "harness/dind:20.10.24").unwrap();
        let Recipe::Dockerfile { build_args, .. } = &dind.recipe else { panic!("not a Dockerfile") };
        assert!(build_args["BASE"].starts_with("harness/rootfs:bookworm-"));
        assert_eq!(build_args["PACKAGES"], "docker.io");
    }

    #[test]
    fn hashes_are_stable_and_follow_the_extra_ca() {
        let a = shipped_plan(b"");
        assert_eq!(a, shipped_plan(b""));
        let b = shipped_plan(b"-----BEGIN CERTIFICATE-----");
        let hashed = |plan: &[ImageSpec], name: &str| plan.iter().find(|s| s.name == name).unwrap().hashed.clone();
        assert_ne!(hashed(&a, "harness/chef:rust-1"), hashed(&b, "harness/chef:rust-1"));
        assert_eq!(hashed(&a, "harness/registry:2.8.3"), hashed(&b, "harness/registry:2.8.3"));
        assert!(hashed(&a, "harness/chef:rust-1").starts_with("harness/chef:rust-1-"));
    }

    #[test]
    fn hash_parts_are_length_prefixed() {
        assert_ne!(short_hash(&[b"ab", b"c"]), short_hash(&[b"a", b"bc"]));
    }
}
