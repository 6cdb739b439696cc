//! Reading and validating scenario folders: the second parsing stage.
//!
//! `scenario.toml` is read with the `toml` crate directly, so every error has
//! a span, and through `serde_path_to_error`, so schema errors carry the key
//! path. The raw structs ([`super::raw`]) are then checked rule by rule into
//! the model ([`super::model`]) by [`super::validate`]; each failed rule is a
//! [`Problem`] located at the value it is about, as `file:line:column` plus
//! the key path.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::model::Scenario;
use super::raw::RawScenario;
use super::validate::Cx;
use crate::catalogue::Catalogue;

/// The file every scenario folder holds.
pub const SCENARIO_FILE: &str = "scenario.toml";

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
    #[error("this override and override {other} both cover engine `{engine}` on the same job")]
    OverlappingOverrides { engine: String, other: usize },
}

/// Loads and validates the scenario in `dir` (`dir/scenario.toml` and its
/// Dockerfiles). Engine names are checked against `catalogue`.
pub fn load_scenario(dir: &Path, catalogue: &Catalogue) -> Result<Scenario, ScenarioError> {
    let path = dir.join(SCENARIO_FILE);
    load_at(dir, &path, catalogue).map_err(|kind| ScenarioError { path, kind: Box::new(kind) })
}

/// Loads every scenario folder (a folder holding `scenario.toml`) under
/// `root`, sorted by name. Stops at the first that fails.
pub fn load_all(root: &Path, catalogue: &Catalogue) -> Result<Vec<Scenario>, ScenarioError> {
    let read_error = |source| ScenarioError {
        path: root.to_owned(),
        kind: Box::new(ScenarioErrorKind::Read { path: root.to_owned(), source }),
    };
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root).map_err(read_error)? {
        let dir = entry.map_err(read_error)?.path();
        if dir.join(SCENARIO_FILE).is_file() {
            dirs.push(dir);
        }
    }
    dirs.sort();
    dirs.iter().map(|dir| load_scenario(dir, catalogue)).collect()
}

fn load_at(dir: &Path, path: &Path, catalogue: &Catalogue) -> Result<Scenario, ScenarioErrorKind> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let image_safe = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
    if name.is_empty() || !name.chars().all(image_safe) {
        return Err(ScenarioErrorKind::BadName { name });
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| ScenarioErrorKind::Read { path: path.to_owned(), source })?;
    let raw = parse(path, &text)?;
    Cx { file: path, text: &text, catalogue }.scenario(raw, name, dir)
}

fn parse(path: &Path, text: &str) -> Result<RawScenario, ScenarioErrorKind> {
    let location = |span: Option<Range<usize>>| Location::at(path, text, span.map_or(0, |s| s.start));
    let de = toml::de::Deserializer::parse(text)
        .map_err(|e| ScenarioErrorKind::Syntax { location: location(e.span()), message: e.message().to_owned() })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key_path = key_path(e.path());
        let inner = e.into_inner();
        ScenarioErrorKind::Schema { location: location(inner.span()), key_path, message: inner.message().to_owned() }
    })
}

/// The key path as the file spells it: `job[0].command[2].target`, without
/// the internal keys of `toml::Spanned`.
fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } if key.starts_with("$__serde_spanned_private") => {}
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&toml_key(key));
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    if out.is_empty() {
        out.push_str("(top level)");
    }
    out
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
