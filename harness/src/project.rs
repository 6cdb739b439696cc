//! `harness run --context DIR`: any folder, its Dockerfile unchanged, as a
//! scenario.
//!
//! The person with the cache miss has a repository and a Dockerfile, not a
//! scenario. This module checks what they gave before anything starts (the
//! folder exists, the Dockerfile exists and lies inside it), then makes the
//! scenario to run: by default the first seed's pipeline written for this
//! context by the importer's writer (so its edit and its expectations "to
//! be confirmed" are the ones `harness import` writes), or a given
//! scenario whose jobs run on this context instead of its fixture. It
//! knows nothing of Docker; the runner runs the result like any scenario.

use std::path::{Path, PathBuf};

use crate::catalogue::Catalogue;
use crate::import::{default_pipeline, ImportError, Imported, PipelineOptions};
use crate::scenario::{load_scenario, Dockerfile, Scenario, ScenarioError, Template, SCENARIO_FILE};

/// A build context and its Dockerfile, both checked.
#[derive(Debug, Clone)]
pub struct Project {
    /// The context folder, absolute and canonical.
    pub context: PathBuf,
    /// The Dockerfile, relative to the context.
    pub dockerfile: PathBuf,
}

/// Why `harness run --context` cannot start. Each message names the path
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("the build context `{}` does not exist: give the folder `docker build` would get (`--context DIR`, usually the repository root)", path.display())]
    MissingContext { path: PathBuf },
    #[error("the build context `{}` is a file: give the folder that holds the sources (`--context DIR`), and the Dockerfile with `--dockerfile FILE`", path.display())]
    ContextIsFile { path: PathBuf },
    #[error("no Dockerfile at `{}`: name it with `--dockerfile FILE` (relative to the current folder, as `docker build -f`, or to the context)", path.display())]
    NoDockerfile { path: PathBuf },
    #[error("the Dockerfile `{}` is outside the build context `{}`: the harness copies only the context, so give a context that contains it or move it into the context", dockerfile.display(), context.display())]
    DockerfileOutside { dockerfile: PathBuf, context: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no scenario at `{}`: `--pipeline` takes a scenario folder or its `scenario.toml` (for example `scenarios/ci-inline-cache`)", path.display())]
    MissingPipeline { path: PathBuf },
    #[error(transparent)]
    Pipeline(#[from] ScenarioError),
    #[error(transparent)]
    Import(#[from] ImportError),
}

impl Project {
    /// Checks `context` and the Dockerfile (`dockerfile` relative to the
    /// current folder as `docker build -f` reads it, else to the context;
    /// `DIR/Dockerfile` when `None`).
    pub fn new(context: &Path, dockerfile: Option<&Path>) -> Result<Self, ProjectError> {
        if !context.exists() {
            return Err(ProjectError::MissingContext { path: context.to_owned() });
        }
        if !context.is_dir() {
            return Err(ProjectError::ContextIsFile { path: context.to_owned() });
        }
        let canonical =
            |path: &Path| path.canonicalize().map_err(|source| ProjectError::Read { path: path.to_owned(), source });
        let dir = canonical(context)?;
        let file = match dockerfile {
            None => context.join("Dockerfile"),
            Some(given) if given.is_absolute() || given.is_file() => given.to_owned(),
            Some(given) => context.join(given),
        };
        if !file.is_file() {
            return Err(ProjectError::NoDockerfile { path: file });
        }
        let file = canonical(&file)?;
        let Ok(inside) = file.strip_prefix(&dir) else {
            return Err(ProjectError::DockerfileOutside { dockerfile: file, context: dir });
        };
        Ok(Self { dockerfile: inside.to_owned(), context: dir })
    }

    /// A name for the scenario: the context folder's, as an image path
    /// component (`My Project` → `my-project`).
    pub fn name(&self) -> String {
        let raw = self.context.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        let mut name = String::new();
        for c in raw.chars() {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                name.push(c);
            } else if !name.is_empty() && !name.ends_with('-') {
                name.push('-');
            }
        }
        let name = name.trim_end_matches('-');
        if name.is_empty() {
            "project".to_owned()
        } else {
            name.to_owned()
        }
    }

    /// Writes the default pipeline (the first seed's job) for this context
    /// into `folder/<name>` and loads it.
    pub fn default_scenario(
        &self,
        folder: &Path,
        engine: Option<String>,
        edit: Option<String>,
        catalogue: &Catalogue,
    ) -> Result<(Scenario, Imported), ProjectError> {
        let options = PipelineOptions {
            context: self.context.clone(),
            dockerfile: self.dockerfile.clone(),
            edit,
            engine,
            out: folder.join(self.name()),
        };
        let imported = default_pipeline(&options, catalogue)?;
        let scenario = load_scenario(&imported.out, catalogue)?;
        Ok((scenario, imported))
    }

    /// The scenario at `pipeline` (a folder or its `scenario.toml`) with
    /// this context as its fixture and this project's Dockerfiles, plus a
    /// sentence per Dockerfile saying where it comes from.
    pub fn on_pipeline(&self, pipeline: &Path, catalogue: &Catalogue) -> Result<(Scenario, Vec<String>), ProjectError> {
        let dir = if pipeline.file_name().is_some_and(|n| n == SCENARIO_FILE) {
            pipeline.parent().unwrap_or(Path::new(".")).to_owned()
        } else {
            pipeline.to_owned()
        };
        if !dir.join(SCENARIO_FILE).is_file() {
            return Err(ProjectError::MissingPipeline { path: pipeline.to_owned() });
        }
        let scenario = load_scenario(&dir, catalogue)?;
        self.retarget(scenario)
    }

    /// Points `scenario` at this context. The Dockerfile the scenario
    /// builds by default (`Dockerfile`, else its first) becomes this
    /// project's; any other keeps the context's file of the same name, or
    /// the scenario's own when the context has none.
    fn retarget(&self, mut scenario: Scenario) -> Result<(Scenario, Vec<String>), ProjectError> {
        let main = scenario.dockerfiles.iter().position(|d| d.name == "Dockerfile").unwrap_or(0);
        let mut notes = Vec::new();
        for (i, dockerfile) in scenario.dockerfiles.iter_mut().enumerate() {
            let own = if i == main { self.dockerfile.clone() } else { PathBuf::from(&dockerfile.name) };
            let path = self.context.join(&own);
            if !path.is_file() {
                notes.push(format!("`{}`: the scenario's own (the context has no such file)", dockerfile.name));
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|source| ProjectError::Read { path: path.clone(), source })?;
            // Verbatim: no `{chef}` placeholders in a project's Dockerfile.
            *dockerfile = Dockerfile { name: dockerfile.name.clone(), template: Template::literal(&text) };
            notes.push(format!("`{}`: the context's `{}`", dockerfile.name, own.display()));
        }
        scenario.fixture = self.context.to_string_lossy().into_owned();
        scenario.name = format!("{}-{}", self.name(), scenario.name);
        Ok((scenario, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::Builder::new().prefix("My Project_").tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "FROM debian:bookworm-slim\nCOPY . .\n").unwrap();
        }
        dir
    }

    fn message(result: Result<Project, ProjectError>) -> String {
        result.map(|p| format!("{p:?}")).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_path_and_the_fix() {
        let dir = project(&[]);
        let missing = dir.path().join("nope");
        insta::assert_snapshot!(
            message(Project::new(&missing, None)).replace(&dir.path().display().to_string(), "[tmp]"),
            @"the build context `[tmp]/nope` does not exist: give the folder `docker build` would get (`--context DIR`, usually the repository root)"
        );
        let no_dockerfile = message(Project::new(dir.path(), None));
        assert!(
            no_dockerfile.contains("no Dockerfile at") && no_dockerfile.contains("--dockerfile FILE"),
            "{no_dockerfile}"
        );

        let outside = project(&["Dockerfile"]);
        let inner = project(&["src/main.rs"]);
        let text = message(Project::new(inner.path(), Some(&outside.path().join("Dockerfile"))));
        assert!(text.starts_with("the Dockerfile `") && text.contains("is outside the build context"), "{text}");

        let file = message(Project::new(&outside.path().join("Dockerfile"), None));
        assert!(file.contains("is a file"), "{file}");
    }

    #[test]
    fn the_dockerfile_is_found_beside_the_context_or_named() {
        let dir = project(&["Dockerfile", "docker/app.Dockerfile"]);
        let p = Project::new(dir.path(), None).unwrap();
        assert_eq!(p.dockerfile, PathBuf::from("Dockerfile"));
        assert!(p.name().starts_with("my-project-"), "{}", p.name());
        let named = Project::new(dir.path(), Some(Path::new("docker/app.Dockerfile"))).unwrap();
        assert_eq!(named.dockerfile, PathBuf::from("docker/app.Dockerfile"));
    }

    #[test]
    fn a_pipeline_runs_on_the_context_with_its_dockerfile() {
        let dir = project(&["Dockerfile", "src/main.rs"]);
        let catalogue = Catalogue::load_default().unwrap();
        let p = Project::new(dir.path(), None).unwrap();
        let shipped = crate::catalogue::workspace_root().join("scenarios/ci-inline-cache");
        let (scenario, notes) = p.on_pipeline(&shipped.join(SCENARIO_FILE), &catalogue).unwrap();
        assert_eq!(scenario.fixture, p.context.to_string_lossy());
        assert_eq!(scenario.dockerfiles[0].template.source(), "FROM debian:bookworm-slim\nCOPY . .\n");
        assert_eq!(notes, ["`Dockerfile`: the context's `Dockerfile`"]);
        assert!(scenario.name.ends_with("-ci-inline-cache"), "{}", scenario.name);
        let missing = p.on_pipeline(&dir.path().join("nothing"), &catalogue).unwrap_err().to_string();
        assert!(missing.starts_with("no scenario at"), "{missing}");
    }

    #[test]
    fn the_default_pipeline_is_the_seeds_job_on_the_context() {
        let dir = project(&["Dockerfile", "src/main.rs"]);
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM lukemathwalker/cargo-chef:latest-rust-1 AS chef\nWORKDIR /app\nFROM chef AS planner\nCOPY . .\n\
             RUN cargo chef prepare --recipe-path recipe.json\nFROM chef AS builder\n\
             COPY --from=planner /app/recipe.json recipe.json\nRUN cargo chef cook --release --recipe-path recipe.json\n\
             COPY . .\nRUN cargo build --release\n",
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::load_default().unwrap();
        let p = Project::new(dir.path(), None).unwrap();
        let (scenario, imported) = p.default_scenario(out.path(), None, None, &catalogue).unwrap();
        assert_eq!(imported.edit, "src/main.rs");
        assert_eq!(scenario.blocks.len(), 1);
        assert_eq!(scenario.blocks[0].repeat, 4);
        assert_eq!(scenario.blocks[0].builds().count(), 3);
        let text = std::fs::read_to_string(imported.out.join(SCENARIO_FILE)).unwrap();
        let text: Vec<String> = text
            .replace(&out.path().display().to_string(), "[out]")
            .lines()
            .map(|l| {
                if l.starts_with("fixture = ") {
                    "fixture = \"[context]\"".to_owned()
                } else {
                    l.replace(&p.name(), "[name]")
                }
            })
            .collect();
        let text = text.join("\n");
        insta::assert_snapshot!(text);
    }
}
