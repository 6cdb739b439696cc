//! Reading and validating scenario folders: the second parsing stage.
//!
//! `scenario.toml` is read with the `toml` crate directly, so every error has
//! a span, and through `serde_path_to_error`, so schema errors carry the key
//! path. The raw structs ([`super::raw`]) are then checked rule by rule into
//! the model ([`super::model`]) by [`super::validate`]; each failed rule is a
//! [`Problem`] located at the value it is about, as `file:line:column` plus
//! the key path. The error types are in [`super::error`].

use std::ops::Range;
use std::path::Path;

use super::error::{toml_key, Location, ScenarioError, ScenarioErrorKind};
use super::model::Scenario;
use super::raw::RawScenario;
use super::validate::Cx;
use crate::catalogue::Catalogue;

/// The file every scenario folder holds.
pub const SCENARIO_FILE: &str = "scenario.toml";

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
    let text = crate::textfile::read_text(path, crate::textfile::INPUT_LIMIT)
        .map_err(|source| ScenarioErrorKind::Read { path: path.to_owned(), source })?;
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
