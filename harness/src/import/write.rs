//! The plan written as `scenario.toml` text.
//!
//! Written by hand rather than serialized, because the file is meant to be
//! read and adjusted: every replacement, warning and guess is a comment
//! next to what it is about, and the expectations are marked as to be
//! confirmed.

use std::fmt::Write as _;

use super::dockerfile::{self, DependencyStep, Stage};
use super::engine::EngineChoice;
use super::plan::{Build, Cmd, Plan, Planned};
use crate::catalogue::Catalogue;

/// How many jobs each block runs: a cache bug that shows only after a
/// cache hit needs at least three.
pub(crate) const REPEAT: u32 = 4;

/// Everything the file says besides the plans.
pub(crate) struct Header<'a> {
    /// The CI file as the user named it; `None` for the default pipeline
    /// of `harness run --context`.
    pub source: Option<String>,
    pub engine: &'a EngineChoice,
    /// `fixture` as written (relative to the scenario folder, or absolute).
    pub fixture: String,
    /// Dockerfile names in the context, with their text.
    pub dockerfiles: Vec<(String, String)>,
    pub edit: (String, String),
    pub catalogue: &'a Catalogue,
    /// Where the scenario is written, for the `harness run` hint.
    pub out: String,
}

/// The header of the default pipeline of `harness run --context`.
const SEED_ORIGIN: &str = "# Written by `harness run --context`: the first seed's GitLab job\n\
    # (docs/seeds/gitlab-inline-cache.md) on this build context.\n";

pub(crate) fn render(header: &Header<'_>, plans: &[Plan]) -> String {
    let mut out = String::new();
    let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    match &header.source {
        Some(source) => {
            let _ = writeln!(out, "# Imported by `harness import` from `{source}`, job `{}`.", names.join("`, `"));
        }
        None => out.push_str(SEED_ORIGIN),
    }
    let _ = writeln!(out, "# Engine {}: {}.", header.engine.version, header.engine.reason);
    let _ = writeln!(out, "# Run it with: harness run {} --engine {}", header.out, header.engine.version);
    if let Some(nearest) = super::engine::nearest_stand_in(&header.engine.version, header.catalogue) {
        let stand_ins: Vec<&str> = header.catalogue.local_engines().map(|e| e.version.as_str()).collect();
        let _ = writeln!(
            out,
            "# Engine {} has no offline stand-in: offline (`--images local`), run it with\n# `--engine {nearest}`, the nearest of the stand-ins ({}).",
            header.engine.version,
            stand_ins.join(", ")
        );
    }
    let warnings: Vec<String> = plans.iter().flat_map(|p| &p.warnings).map(ToString::to_string).collect();
    if !warnings.is_empty() {
        out.push_str("#\n# Warnings (check these lines):\n");
        for warning in dedup(warnings) {
            comment(&mut out, &format!("- {warning}"));
        }
    }
    let notes = dedup(plans.iter().flat_map(|p| p.notes.clone()).collect());
    let _ = writeln!(out, "description = {}", string(&description(header, plans, &notes)));
    let _ = writeln!(out, "fixture = {}", string(&header.fixture));
    let names: Vec<String> = header.dockerfiles.iter().map(|(n, _)| string(n)).collect();
    let _ = writeln!(out, "# Copied unchanged from the repository.\ndockerfiles = [{}]", names.join(", "));
    if let Some(reason) = plans.iter().find_map(|p| p.containerd.clone()) {
        let _ = writeln!(out, "\n[daemon]\n# The containerd image store {reason}.\ncontainerd_snapshotter = true");
        for engine in header.catalogue.engines.iter().filter(|e| !e.buildx) {
            let _ = writeln!(
                out,
                "\n[engines.{}]\nunsupported = \"Docker {} has no containerd image store\"",
                string(&engine.version),
                engine.version
            );
        }
    }
    let stages: Vec<(String, Vec<Stage>)> =
        header.dockerfiles.iter().map(|(name, text)| (name.clone(), dockerfile::stages(text))).collect();
    for (index, plan) in plans.iter().enumerate() {
        let first = index as u32 * REPEAT + 1;
        block(&mut out, header, plan, first, &stages);
    }
    out
}

fn description(header: &Header<'_>, plans: &[Plan], notes: &[String]) -> String {
    let commands: usize = plans.iter().map(|p| p.commands.len()).max().unwrap_or(0);
    let origin = match &header.source {
        Some(source) => format!("Imported from `{source}` (job `{}`)", plans.first().map_or("", |p| p.name.as_str())),
        None => "The first seed's pipeline (login, pull, build each stage with `--cache-from` its own image and the inline cache, push)".to_owned(),
    };
    let mut text = format!(
        "{origin}: its {commands} commands on a fresh daemon per job, {REPEAT} jobs, a source edit before each."
    );
    if plans.len() > 1 {
        let _ = write!(text, " {} matrix rows, one block of jobs each.", plans.len());
    }
    for note in notes {
        let _ = write!(text, " Replaced: {note}.");
    }
    text
}

fn block(out: &mut String, header: &Header<'_>, plan: &Plan, first: u32, stages: &[(String, Vec<Stage>)]) {
    let _ = writeln!(out, "\n[[job]]\nname = {}\ndaemon = \"fresh\"", string(&plan.name));
    out.push_str("# Two jobs in a row never show a cache bug that needs a cache hit first.\n");
    let _ = writeln!(out, "repeat = {REPEAT}");
    let (file, append) = &header.edit;
    let _ = writeln!(
        out,
        "\n[[job.edit]]\n# A one-line source change, as a commit between pipelines.\nfile = {}\nappend = {}",
        string(file),
        string(append)
    );
    let ids = build_ids(plan);
    let mut build_index = 0;
    for planned in &plan.commands {
        let id = if matches!(planned.cmd, Cmd::Build(_)) {
            build_index += 1;
            ids[build_index - 1].1.clone()
        } else {
            None
        };
        command(out, planned, id);
    }
    for run in &plan.runs {
        out.push_str("\n[[job.run]]\n");
        for line in &run.comments {
            comment(out, line);
        }
        let _ = writeln!(out, "image = {}", string(&run.image));
        if !run.command.is_empty() {
            let _ = writeln!(out, "command = {}", array(&run.command));
        }
    }
    expectations(out, plan, first, stages, &ids, header.catalogue);
}

/// Each build's id as the loader will see it, and `Some` when it must be
/// written because the default (target, else `build-N`) would clash.
fn build_ids(plan: &Plan) -> Vec<(String, Option<String>)> {
    let mut ids: Vec<(String, Option<String>)> = Vec::new();
    for (n, build) in plan.builds().enumerate() {
        let default = build.target.clone().unwrap_or_else(|| format!("build-{}", n + 1));
        if ids.iter().any(|(id, _)| *id == default) {
            let mut k = 2;
            while ids.iter().any(|(id, _)| *id == format!("{default}-{k}")) {
                k += 1;
            }
            let id = format!("{default}-{k}");
            ids.push((id.clone(), Some(id)));
        } else {
            ids.push((default, None));
        }
    }
    ids
}

fn command(out: &mut String, planned: &Planned, id: Option<String>) {
    out.push_str("\n[[job.command]]\n");
    for line in &planned.comments {
        comment(out, line);
    }
    match &planned.cmd {
        Cmd::Login { username } => {
            out.push_str("login = \"{registry}\"\n");
            if let Some(user) = username {
                let _ = writeln!(out, "username = {}", string(user));
            }
        }
        Cmd::Pull(image) => {
            let _ = writeln!(out, "pull = {}", string(image));
        }
        Cmd::Push(image) => {
            let _ = writeln!(out, "push = {}", string(image));
        }
        Cmd::Shell(text) => {
            let _ = writeln!(out, "shell = {}", string(text));
        }
        Cmd::Build(build) => build_fields(out, build, id),
    }
    if planned.may_fail {
        out.push_str("may_fail = true\n");
    }
}

fn build_fields(out: &mut String, b: &Build, id: Option<String>) {
    let _ = writeln!(out, "build = \"{}\"", if b.buildx { "buildx" } else { "classic" });
    if let Some(id) = id {
        let _ = writeln!(out, "id = {}", string(&id));
    }
    if let Some(file) = &b.file {
        let _ = writeln!(out, "file = {}", string(file));
    }
    if let Some(target) = &b.target {
        let _ = writeln!(out, "target = {}", string(target));
    }
    for (key, values) in [("tags", &b.tags), ("cache_from", &b.cache_from), ("cache_to", &b.cache_to)] {
        if !values.is_empty() {
            let _ = writeln!(out, "{key} = {}", array(values));
        }
    }
    if b.inline_cache {
        out.push_str("inline_cache = true\n");
    }
    if !b.build_args.is_empty() {
        let pairs: Vec<String> = b.build_args.iter().map(|(k, v)| format!("{} = {}", key(k), string(v))).collect();
        let _ = writeln!(out, "build_args = {{ {} }}", pairs.join(", "));
    }
    if !b.extra_args.is_empty() {
        let _ = writeln!(out, "extra_args = {}", array(&b.extra_args));
    }
}

/// Expectations for the dependency steps: executed on the block's first
/// job, reused on the others. Guesses, so marked to be confirmed.
fn expectations(
    out: &mut String,
    plan: &Plan,
    first: u32,
    stages: &[(String, Vec<Stage>)],
    ids: &[(String, Option<String>)],
    catalogue: &Catalogue,
) {
    let builds: Vec<(&Build, &String)> = plan.builds().zip(ids.iter().map(|(id, _)| id)).collect();
    let mut written = 0;
    for (file, file_stages) in stages {
        for dep in dockerfile::dependency_steps(file_stages) {
            // The first build that runs the step's stage judges it: later
            // builds of the same job find it in the daemon's own cache.
            let Some((build, id)) = builds.iter().find(|(b, _)| {
                b.file.as_deref().unwrap_or("Dockerfile") == file
                    && dockerfile::stages_built(file_stages, b.target.as_deref()).contains(&dep.stage)
            }) else {
                continue;
            };
            expectation_pair(out, plan, first, file_stages, &dep, build, id, builds.len(), catalogue);
            written += 1;
        }
    }
    if written == 0 {
        out.push_str("\n# No dependency step (cargo chef cook, npm ci, pip install -r, go mod download, ...)\n# was recognised: add [[job.expect]] for the steps whose cache matters.\n");
    }
}

#[allow(clippy::too_many_arguments)]
fn expectation_pair(
    out: &mut String,
    plan: &Plan,
    first: u32,
    stages: &[Stage],
    dep: &DependencyStep,
    build: &Build,
    id: &str,
    build_count: usize,
    catalogue: &Catalogue,
) {
    let stage = stages[dep.stage].name.clone();
    let head = |out: &mut String, outcome: &str, jobs: &[u32]| {
        out.push_str("\n[[job.expect]]\n");
        if build_count > 1 {
            let _ = writeln!(out, "build = {}", string(id));
        }
        if let Some(stage) = &stage {
            let _ = writeln!(out, "stage = {}", string(stage));
        }
        let _ = writeln!(out, "step = {}", string(&dep.step));
        let _ = writeln!(out, "outcome = \"{outcome}\"");
        let list: Vec<String> = jobs.iter().map(u32::to_string).collect();
        let _ = writeln!(out, "jobs = [{}]", list.join(", "));
    };
    let _ = writeln!(
        out,
        "\n# To be confirmed: the {} dependency step of `{}`. Its inputs do not change\n# with the edit, so it should run once and be reused from the second job on.",
        dep.tool, plan.name
    );
    head(out, "executed", &[first]);
    let later: Vec<u32> = (first + 1..first + REPEAT).collect();
    head(out, "reused", &later);
    let inline_only = build.inline_cache || build.cache_to.iter().any(|c| c.contains("type=inline"));
    let other_export = build.cache_to.iter().any(|c| !c.contains("type=inline"));
    if inline_only && !other_export {
        out.push('\n');
        let engines: Vec<String> = catalogue
            .engines
            .iter()
            .filter(|e| e.version.split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m >= 23))
            .map(|e| string(&e.version))
            .collect();
        let _ = writeln!(
            out,
            "# The inline cache loses the step's record after a build that hit the cache\n# (measured on 26.1.5 and 28.5.2): the third job runs it again.\n[[job.expect.override]]\nengines = [{}]\njobs = [{}]\noutcome = \"executed\"\nknown_bug = \"https://github.com/moby/buildkit/issues/2274\"",
            engines.join(", "),
            first + 2
        );
    }
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {line}");
    }
}

fn array(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| string(v)).collect();
    format!("[{}]", items.join(", "))
}

fn key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        name.to_owned()
    } else {
        string(name)
    }
}

/// A TOML basic string.
pub(crate) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_round_trip() {
        let text = "a \"b\" \\ c\nd\te\u{1}";
        let doc: toml::Table = toml::from_str(&format!("x = {}", string(text))).unwrap();
        assert_eq!(doc["x"].as_str(), Some(text));
    }
}
