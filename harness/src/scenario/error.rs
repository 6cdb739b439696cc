//! Errors of loading a scenario: what went wrong, where (`file:line:column`
//! and key path), and which rule of the format was broken. Shared by the
//! loader ([`super::load`]) and the validator ([`super::validate`]).

use std::fmt;
use std::path::{Path, PathBuf};

/// A scenario that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("failed to parse scenario at `{}`", path.display())]
pub struct ScenarioError {
    /// The scenario's `scenario.toml`.
    pub path: PathBuf,
    #[source]
    pub kind: Box<ScenarioErrorKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioErrorKind {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the folder name `{name}` cannot be part of an image name: use lowercase letters, digits, `-`, `_` and `.`"
    )]
    BadName { name: String },
    #[error("{location}: invalid TOML: {message}")]
    Syntax { location: Location, message: String },
    /// Unknown key, missing key, wrong type or unknown enum value.
    #[error("{location}: at `{key_path}`: {message}")]
    Schema { location: Location, key_path: String, message: String },
    /// Well-formed TOML that breaks a rule of the format.
    #[error("{location}: at `{key_path}`: {problem}")]
    Invalid { location: Location, key_path: String, problem: Problem },
    /// A placeholder problem in one of the scenario's Dockerfiles.
    #[error("{location}: {problem}")]
    Dockerfile { location: Location, problem: Problem },
}

impl ScenarioErrorKind {
    pub fn location(&self) -> Option<&Location> {
        match self {
            Self::Syntax { location, .. }
            | Self::Schema { location, .. }
            | Self::Invalid { location, .. }
            | Self::Dockerfile { location, .. } => Some(location),
            Self::Read { .. } | Self::BadName { .. } => None,
        }
    }

    pub fn key_path(&self) -> Option<&str> {
        match self {
            Self::Schema { key_path, .. } | Self::Invalid { key_path, .. } => Some(key_path),
            _ => None,
        }
    }
}

/// `file:line:column`, 1-based, column in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub(super) fn at(file: &Path, text: &str, offset: usize) -> Self {
        let before = &text[..offset.min(text.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Self {
            file: file.to_owned(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A rule of the scenario format that a file breaks; each says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("a scenario needs at least one `[[job]]`")]
    NoJobs,
    #[error("unknown engine `{name}`: expected one of {known} (the engines of ci/engines.toml)")]
    UnknownEngine { name: String, known: String },
    #[error("unknown placeholder `{{{name}}}` here: expected one of {allowed}")]
    UnknownPlaceholder { name: String, allowed: String },
    #[error("expected exactly one of {expected}, found {found}")]
    Action { expected: &'static str, found: String },
    #[error("`{key}` applies only to {applies_to}")]
    Misplaced { key: &'static str, applies_to: &'static str },
    #[error("`replace` needs `with`: the text to put in its place")]
    MissingWith,
    #[error("`{key}` must not be empty")]
    Empty { key: &'static str },
    #[error("`repeat` must be at least 1")]
    RepeatZero,
    #[error("jobs {first} to {} make more than {max} jobs: a scenario holds at most {max} (lower `repeat`)", u64::from(*first) + u64::from(*repeat) - 1)]
    TooManyJobs { repeat: u32, first: u32, max: u32 },
    #[error("`{path}` must be a relative path inside {inside}, without `..`")]
    BadPath { path: String, inside: &'static str },
    #[error("cannot read Dockerfile `{path}`: {error}")]
    Unreadable { path: String, error: String },
    #[error(
        "the fixture `{path}` is not a folder ({why}): give a folder, absolute or relative to the scenario folder"
    )]
    BadFixture { path: String, why: String },
    #[error("`{file}` is not one of the scenario's `dockerfiles` ({known})")]
    UnknownDockerfile { file: String, known: String },
    #[error("`cache_to` needs `build = \"buildx\"`: classic `docker build` has no --cache-to")]
    CacheToNeedsBuildx,
    #[error("another build of this job already has the id `{id}`: set `id` on one of them")]
    DuplicateBuildId { id: String },
    #[error("this job has no build with the id `{id}`: expected one of {known}")]
    UnknownBuild { id: String, known: String },
    #[error("this job runs {count} builds ({known}): say which one with `build = \"<id>\"`")]
    AmbiguousBuild { count: usize, known: String },
    #[error("this job runs no build, so it has no step to expect")]
    NoBuild,
    #[error("job {number} is not one of this block's jobs, {first} to {last}")]
    JobOutOfRange { number: u32, first: u32, last: u32 },
    #[error("`known_bug` must be an upstream link (https://...), found `{found}`")]
    NotALink { found: String },
    #[error(
        "this override and override {other} both cover engine `{engine}` with the {store} image store on the same \
         job: narrow `engines`, `stores` or `jobs`"
    )]
    OverlappingOverrides { engine: String, store: super::model::ImageStore, other: usize },
    #[error("`carry` must be an absolute path to a folder of its own, found `{path}`: {why}")]
    BadCarry { path: String, why: String },
}

/// A key as TOML spells it: bare when it can be, quoted otherwise.
pub(super) fn toml_key(key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let loc = Location::at(Path::new("s.toml"), text, text.find('"').unwrap());
        assert_eq!((loc.line, loc.column), (2, 6));
        assert_eq!(loc.to_string(), "s.toml:2:6");
    }
}
