//! The run's working copy of the build context.
//!
//! The fixture folder (any folder: the scenario's `fixture`, or a project's
//! own repository) is copied once per run as Docker's client would send it:
//! `.dockerignore` applied, symlinks out of the context refused. The source
//! is never written. The planned Dockerfiles are written into the copy
//! before each job, and each job's edits then change it in place, the way commits pile up in
//! a repository between CI jobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::catalogue::{Catalogue, RunImages};
use crate::dockerfile::{rewrite_from_lines, DockerfileError, ImageRef};
use crate::dockerignore::ContextRules;
use crate::engine::{needed_images, plan_provisions, stand_ins, BaseImageError, Provision};
use crate::fsutil::{copy_context, ContextCopy, ContextError};
use crate::scenario::{CommandKind, Scenario, Vars};

/// A temporary copy of the build context, removed on drop.
pub struct Workspace {
    dir: tempfile::TempDir,
    copied: ContextCopy,
    /// Images whose `FROM` lines are pointed at the run's registry when the
    /// Dockerfiles are rendered (those a registry mirror cannot serve).
    rewrites: BTreeMap<ImageRef, String>,
    build_args: BTreeMap<String, String>,
}

/// A registry name no image can have: `{chef}` and `{runtime}` render to it
/// while planning, so the images they stand for (seeded apart) are skipped.
const PLACEHOLDER_REGISTRY: &str = "placeholder.harness.invalid";

/// The images the scenario's Dockerfiles name verbatim (not through
/// `{chef}`/`{runtime}`), each with a host source; fails, naming every image
/// no path provides, before any container starts. Seed the result with
/// [`crate::engine::seed_provisions`] once the registry runs.
pub async fn plan_scenario_base_images(
    scenario: &Scenario,
    images: &RunImages,
) -> Result<Vec<Provision>, BaseImageError> {
    let vars = Vars {
        registry: PLACEHOLDER_REGISTRY.to_owned(),
        job: 1,
        image: format!("{PLACEHOLDER_REGISTRY}/image"),
        scenario: scenario.name.clone(),
        engine: images.engine_version.clone(),
        chef: format!("{PLACEHOLDER_REGISTRY}/chef"),
        runtime: format!("{PLACEHOLDER_REGISTRY}/runtime"),
    };
    let files: Vec<(String, String)> = scenario
        .dockerfiles
        .iter()
        .map(|d| (scenario.dir.join(&d.name).display().to_string(), d.render(&vars)))
        .collect();
    let needed = needed_images(&files, &scenario_build_args(scenario, &vars), PLACEHOLDER_REGISTRY)?;
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    // The stand-ins are the catalogue's; without it only host images count.
    let stand_ins = Catalogue::load_default().map(|c| stand_ins(&c)).unwrap_or_default();
    plan_provisions(&needed, images.mode, &stand_ins).await
}

/// Every `--build-arg` the scenario's builds pass, the first value of a name
/// winning: what global `ARG`s in `FROM` lines expand with.
fn scenario_build_args(scenario: &Scenario, vars: &Vars) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for command in scenario.blocks.iter().flat_map(|job| &job.commands) {
        if let CommandKind::Build(build) = &command.kind {
            for (name, value) in &build.build_args {
                args.entry(name.clone()).or_insert_with(|| value.render(vars));
            }
        }
    }
    args
}

impl Workspace {
    /// Copies the scenario's fixture (`root.join(fixture)`: a folder of the
    /// workspace root, or the absolute folder the scenario named), with the
    /// ignore rules of the scenario's Dockerfiles.
    pub fn create(root: &Path, scenario: &Scenario) -> Result<Self, ContextError> {
        let names: Vec<&Path> = scenario.dockerfiles.iter().map(|d| Path::new(d.name.as_str())).collect();
        Self::from_context(&root.join(&scenario.fixture), &names)
    }

    /// Copies any build context `context`; `dockerfiles` (relative to the
    /// context; empty means `Dockerfile`) choose the ignore files, and are
    /// copied even when ignored, as Docker reads them anyway.
    pub fn from_context(context: &Path, dockerfiles: &[&Path]) -> Result<Self, ContextError> {
        let rules = ContextRules::for_dockerfiles(context, dockerfiles)?;
        let dir = tempfile::Builder::new()
            .prefix("harness-context-")
            .tempdir()
            .map_err(|source| ContextError::Io { path: std::env::temp_dir(), source })?;
        let copied = copy_context(context, dir.path(), &rules)?;
        tracing::debug!(
            "copied {} ({} files, {} bytes, {} left out by .dockerignore)",
            context.display(),
            copied.files,
            copied.bytes,
            copied.excluded
        );
        Ok(Self { dir, copied, rewrites: BTreeMap::new(), build_args: BTreeMap::new() })
    }

    /// From now on, [`render_dockerfiles`](Self::render_dockerfiles) points
    /// the `FROM` lines naming these images at the run's registry (the
    /// fallback for images no registry mirror serves; `seeded` as returned by
    /// [`crate::engine::seed_provisions`], filtered to those routes).
    pub fn with_rewrites(mut self, rewrites: BTreeMap<ImageRef, String>, scenario: &Scenario) -> Self {
        let vars = Vars {
            registry: String::new(),
            job: 1,
            image: String::new(),
            scenario: scenario.name.clone(),
            engine: String::new(),
            chef: String::new(),
            runtime: String::new(),
        };
        self.build_args = scenario_build_args(scenario, &vars);
        self.rewrites = rewrites;
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// What the copy took and left out.
    pub fn copied(&self) -> ContextCopy {
        self.copied
    }

    /// Writes a planned Dockerfile (placeholders already rendered) into the
    /// copy, its `FROM` lines rewritten where
    /// [`with_rewrites`](Self::with_rewrites) asked.
    pub(crate) fn write_dockerfile(&self, name: &str, content: &str) -> Result<(), RewriteError> {
        let path = self.path().join(name);
        let text = if self.rewrites.is_empty() {
            content.to_owned()
        } else {
            rewrite_from_lines(content, &self.rewrites, &self.build_args)
                .map_err(|source| RewriteError::Dockerfile { path: path.clone(), source })?
        };
        std::fs::write(&path, text).map_err(|source| RewriteError::Io { path, source })
    }

    /// Points the `FROM` lines of the copy's `dockerfile` (relative to the
    /// context) at the run's registry for the images in `seeded` (from
    /// [`crate::engine::seed_provisions`]): the fallback for images a
    /// registry mirror cannot serve. The source context is untouched.
    pub fn rewrite_base_images(
        &self,
        dockerfile: &Path,
        seeded: &BTreeMap<ImageRef, String>,
        build_args: &BTreeMap<String, String>,
    ) -> Result<(), RewriteError> {
        let path = self.path().join(dockerfile);
        let io = |source| RewriteError::Io { path: path.clone(), source };
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let rewritten = rewrite_from_lines(&text, seeded, build_args)
            .map_err(|source| RewriteError::Dockerfile { path: path.clone(), source })?;
        std::fs::write(&path, rewritten).map_err(io)
    }
}

/// A Dockerfile of the copy whose `FROM` lines could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("cannot rewrite `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot rewrite the FROM lines of `{}`", path.display())]
    Dockerfile {
        path: PathBuf,
        #[source]
        source: DockerfileError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_outside_the_workspace_is_copied_with_its_ignore_rules_and_the_dockerfile() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join(".dockerignore"), "*\n!src\n").unwrap();
        std::fs::write(project.path().join("Dockerfile"), "FROM debian:bookworm-slim\n").unwrap();
        std::fs::create_dir(project.path().join("src")).unwrap();
        std::fs::write(project.path().join("src/app.sh"), "echo hi\n").unwrap();
        std::fs::write(project.path().join("notes.txt"), "left out\n").unwrap();

        let workspace = Workspace::from_context(project.path(), &[]).unwrap();
        assert!(workspace.path().join("src/app.sh").is_file());
        assert!(workspace.path().join("Dockerfile").is_file(), "Docker reads an ignored Dockerfile anyway");
        assert!(!workspace.path().join("notes.txt").exists());
        assert_eq!(workspace.copied().files, 3);

        let seeded = BTreeMap::from([(
            ImageRef::parse("debian:bookworm-slim").unwrap(),
            "registry.harness.test:5000/library/debian:bookworm-slim".to_owned(),
        )]);
        workspace.rewrite_base_images(Path::new("Dockerfile"), &seeded, &BTreeMap::new()).unwrap();
        assert_eq!(
            std::fs::read_to_string(workspace.path().join("Dockerfile")).unwrap(),
            "FROM registry.harness.test:5000/library/debian:bookworm-slim\n"
        );
        assert_eq!(
            std::fs::read_to_string(project.path().join("Dockerfile")).unwrap(),
            "FROM debian:bookworm-slim\n",
            "the source is never modified"
        );
    }
}
