//! The scenario file as serde reads it: the first of two parsing stages.
//!
//! These types mirror `scenario.toml` key for key, reject unknown keys, and
//! keep the spans of the values the second stage ([`super::load`]) may need to
//! point at. They make no judgement beyond types: "exactly one of" rules,
//! placeholders, engine names and cross references are checked by the loader,
//! which turns them into [`super::model`] types.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A whole `scenario.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub description: String,
    #[serde(default)]
    pub links: Vec<String>,
    pub fixture: Option<Spanned<String>>,
    pub dockerfiles: Option<Vec<Spanned<String>>>,
    pub daemon: Option<RawDaemon>,
    #[serde(default)]
    pub engines: BTreeMap<String, Spanned<RawEngine>>,
    #[serde(default, rename = "job")]
    pub jobs: Vec<Spanned<RawJob>>,
}

/// `[daemon]`: how every daemon of the scenario is configured.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDaemon {
    #[serde(default)]
    pub containerd_snapshotter: bool,
    pub carry: Option<Spanned<String>>,
}

/// `[engines."<version>"]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEngine {
    pub unsupported: Option<String>,
}

/// `[[job]]`: one job, or `repeat` identical ones.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJob {
    pub name: Option<String>,
    pub daemon: Option<RawDaemonMode>,
    pub repeat: Option<Spanned<u32>>,
    #[serde(default, rename = "edit")]
    pub edits: Vec<Spanned<RawEdit>>,
    #[serde(default, rename = "command")]
    pub commands: Vec<Spanned<RawCommand>>,
    #[serde(default, rename = "run")]
    pub runs: Vec<Spanned<RawRun>>,
    #[serde(default, rename = "expect")]
    pub expects: Vec<Spanned<RawExpect>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawDaemonMode {
    Fresh,
    Warm,
}

/// `[[job.edit]]`: exactly one of `append`, `replace` (with `with`), `write`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEdit {
    pub file: Spanned<String>,
    pub append: Option<Spanned<String>>,
    pub replace: Option<Spanned<String>>,
    pub with: Option<Spanned<String>>,
    pub write: Option<Spanned<String>>,
    pub executable: Option<Spanned<bool>>,
}

/// `[[job.command]]`: exactly one verb key (`login`, `pull`, `build`, `push`,
/// `shell`) plus the options of that verb.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    pub login: Option<Spanned<String>>,
    pub pull: Option<Spanned<String>>,
    pub build: Option<Spanned<RawFrontend>>,
    pub push: Option<Spanned<String>>,
    pub shell: Option<Spanned<String>>,
    #[serde(default)]
    pub may_fail: bool,
    // login options
    pub username: Option<Spanned<String>>,
    pub password: Option<Spanned<String>>,
    // build options
    pub id: Option<Spanned<String>>,
    pub file: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    pub tags: Option<Spanned<Vec<Spanned<String>>>>,
    pub cache_from: Option<Spanned<Vec<Spanned<String>>>>,
    pub cache_to: Option<Spanned<Vec<Spanned<String>>>>,
    pub inline_cache: Option<Spanned<bool>>,
    pub build_args: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub extra_args: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawFrontend {
    Classic,
    Buildx,
}

/// `[[job.run]]`: run a built image and check its output.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRun {
    pub image: Spanned<String>,
    #[serde(default)]
    pub command: Vec<Spanned<String>>,
    pub stdout_contains: Option<Spanned<String>>,
    pub stdout_not_contains: Option<Spanned<String>>,
    #[serde(default)]
    pub exit_code: i64,
    pub jobs: Option<Spanned<Vec<Spanned<u32>>>>,
}

/// `[[job.expect]]`: the outcome of one step of one build.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub build: Option<Spanned<String>>,
    pub stage: Option<String>,
    pub step: Spanned<String>,
    pub outcome: RawExpected,
    pub jobs: Option<Spanned<Vec<Spanned<u32>>>>,
    #[serde(default, rename = "override")]
    pub overrides: Vec<Spanned<RawOverride>>,
}

/// `[[job.expect.override]]`: what some engines do instead.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOverride {
    pub engines: Vec<Spanned<String>>,
    pub stores: Option<Spanned<Vec<Spanned<RawStore>>>>,
    pub jobs: Option<Spanned<Vec<Spanned<u32>>>>,
    pub outcome: Option<RawExpected>,
    pub known_bug: Option<Spanned<String>>,
    pub unsupported: Option<Spanned<String>>,
}

/// An image store an override names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawStore {
    Classic,
    Containerd,
}

/// An expected outcome: one of the parser's outcomes or the `reused` set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum RawExpected {
    #[serde(rename = "cached")]
    Cached,
    #[serde(rename = "remote")]
    Remote,
    #[serde(rename = "reused")]
    Reused,
    #[serde(rename = "pulled")]
    Pulled,
    #[serde(rename = "executed")]
    Executed,
    #[serde(rename = "executed?")]
    ExecutedUnsure,
    #[serde(rename = "error")]
    Error,
    #[serde(rename = "canceled")]
    Canceled,
    #[serde(rename = "absent")]
    Absent,
}
