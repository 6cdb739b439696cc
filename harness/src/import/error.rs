//! Import errors: each names the file, the line and the key it is about,
//! and what to do.

use std::path::PathBuf;

use super::plan::Spot;

/// A CI file that could not be imported.
#[derive(Debug, thiserror::Error)]
#[error("failed to import `{}`", file.display())]
pub struct ImportError {
    /// The CI file given to `harness import`.
    pub file: PathBuf,
    #[source]
    pub kind: Box<ImportErrorKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportErrorKind {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: invalid YAML: {message}", file.display())]
    Syntax { file: PathBuf, line: usize, col: usize, message: String },
    /// Well-formed YAML the importer cannot use.
    #[error("{spot}: {problem}")]
    Invalid { spot: Spot, problem: Problem },
    /// A command-line option that does not fit the file.
    #[error("{0}")]
    Usage(Problem),
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The scenario was written but the loader rejects it: an importer bug
    /// or a construct it mistranslated; the file is left for inspection.
    #[error("the written scenario does not load")]
    Load(#[source] crate::scenario::ScenarioError),
}

impl ImportErrorKind {
    pub fn spot(&self) -> Option<&Spot> {
        match self {
            Self::Invalid { spot, .. } => Some(spot),
            _ => None,
        }
    }
}

/// What is wrong, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("no job named `{name}`: the jobs are {known}")]
    UnknownJob { name: String, known: String },
    #[error("job `{job}` builds no image (no `docker build`, `docker buildx build` or docker/build-push-action step): name a job that builds one with `--job`{others}")]
    NoBuild { job: String, others: String },
    #[error("no job builds an image (no `docker build`, `docker buildx build` or docker/build-push-action); the jobs are {known}")]
    NoJobBuilds { known: String },
    #[error("several jobs build images ({known}): choose one with `--job NAME`")]
    SeveralJobs { known: String },
    #[error("expected {expected}, found {found}")]
    Type { expected: &'static str, found: &'static str },
    #[error("`extends` names `{name}`, which is neither in this file nor in its local includes")]
    UnknownParent { name: String },
    #[error("`extends` goes round in a loop through `{name}`")]
    ExtendsLoop { name: String },
    #[error("`!reference` to `{path}`, which is neither in this file nor in its local includes")]
    UnknownReference { path: String },
    #[error("the included file `{path}` cannot be read ({error}): includes are relative to the repository root")]
    Include { path: String, error: String },
    #[error(
        "neither a GitLab CI file (job mappings with `script`) nor a GitHub Actions workflow (`jobs:` with `steps`)"
    )]
    UnknownFormat,
    #[error("`--matrix {given}` must be KEY=VALUE")]
    BadMatrixFilter { given: String },
    #[error("no matrix row has {filter}; the rows are {rows}")]
    NoMatrixRow { filter: String, rows: String },
    #[error("the build's Dockerfile `{path}` is not in the repository `{}`: the importer copies it unchanged, so it must exist", repo.display())]
    MissingDockerfile { path: String, repo: PathBuf },
    #[error("`--edit {path}`: no such file in the build context `{}`", context.display())]
    MissingEditFile { path: String, context: PathBuf },
    #[error("the build context `{context}` is outside the repository `{}`", repo.display())]
    ContextOutside { context: String, repo: PathBuf },
}
