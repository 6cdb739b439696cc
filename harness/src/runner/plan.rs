//! The job plan: what a run of one scenario on one engine will do, as data.
//!
//! Built from the scenario, the engine and the run's values (the registry's
//! name and the seeded base images), with every placeholder rendered: the
//! Dockerfiles, each job's edits, the exact `sh -c` lines, the run checks
//! and the expectations that apply on this engine. It talks to no Docker, so
//! `harness check --plan` can print it and a reproduction pack can write it
//! out; the [`JobRunner`](super::job::JobRunner) carries out exactly these
//! command lines.

use std::fmt;

use serde::Serialize;

use super::matrix::ImageStore;
use super::store::store_unsupported;
use crate::catalogue::{EngineEntry, RunImages};
use crate::engine::{DEFAULT_REGISTRY_HOST, REGISTRY_PASSWORD_FILE};
use crate::scenario::{
    quote, Command, CommandKind, DaemonMode, EditAction, ExpandedJob, Expected, OverrideAction, RenderedCommand,
    Scenario, Vars,
};

/// The values a run learns once its registry is up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RunValues {
    /// The registry as dinds see it (`host:port`).
    pub(crate) registry: String,
    /// The chef image as seeded into the registry.
    pub(crate) chef: String,
    /// The runtime base image as seeded into the registry.
    pub(crate) runtime: String,
}

impl RunValues {
    /// The values a run with `images` gets, without starting anything: the
    /// default registry name and the references seeding gives.
    pub(crate) fn offline(images: &RunImages) -> Self {
        let registry = format!("{DEFAULT_REGISTRY_HOST}:5000");
        let chef = seeded_reference(&registry, &images.chef);
        let runtime = seeded_reference(&registry, &images.runtime);
        Self { registry, chef, runtime }
    }
}

/// Where seeding puts `image` in `registry`: `{registry}/{repo}:{tag}`.
pub(crate) fn seeded_reference(registry: &str, image: &str) -> String {
    let repo_tag = repo_tag(image);
    let last = repo_tag.rsplit('/').next().unwrap_or(&repo_tag);
    let tagged = last.contains(':') || last.contains('@');
    format!("{registry}/{repo_tag}{}", if tagged { "" } else { ":latest" })
}

/// `repo:tag` of an image name, without a registry host
/// (`docker.io/library/debian:bookworm-slim` -> `library/debian:bookworm-slim`).
pub(crate) fn repo_tag(image: &str) -> String {
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => rest.to_owned(),
        _ => image.to_owned(),
    }
}

/// Every job of one scenario on one engine.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Plan<'s> {
    pub(crate) scenario: String,
    pub(crate) engine: String,
    pub(crate) store: ImageStore,
    /// The fixture folder copied as the build context.
    pub(crate) fixture: String,
    /// The folder every daemon of the cell mounts and keeps between jobs
    /// (`[daemon] carry`).
    pub(crate) carry: Option<String>,
    /// Why the scenario does not run on this engine (then nothing runs).
    pub(crate) unsupported: Option<String>,
    pub(crate) values: RunValues,
    /// Written into the context before each job's edits.
    pub(crate) dockerfiles: Vec<PlannedFile>,
    pub(crate) jobs: Vec<PlannedJob<'s>>,
}

/// A file written into the build context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PlannedFile {
    pub(crate) name: String,
    pub(crate) content: String,
}

/// One job, rendered.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PlannedJob<'s> {
    pub(crate) number: u32,
    pub(crate) name: String,
    pub(crate) daemon: DaemonMode,
    pub(crate) edits: Vec<PlannedEdit>,
    pub(crate) commands: Vec<PlannedCommand>,
    /// `docker run` lines of the run checks, after the commands.
    pub(crate) runs: Vec<RenderedCommand>,
    pub(crate) expectations: Vec<PlannedExpectation>,
    /// The scenario's job, for applying edits and judging runs.
    #[serde(skip)]
    pub(crate) job: ExpandedJob<'s>,
    /// The placeholder values of this job.
    #[serde(skip)]
    pub(crate) vars: Vars,
}

/// An edit to the build context, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum PlannedEdit {
    Append { file: String, text: String },
    Replace { file: String, find: String, with: String },
    Write { file: String, content: String, executable: bool },
}

/// One command of a job's pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PlannedCommand {
    #[serde(flatten)]
    pub(crate) rendered: RenderedCommand,
    /// Name of its log file, `NN-<build id or kind>.log`.
    pub(crate) log: String,
    /// For builds: the stage built and the first tag, whose layers are read.
    pub(crate) target: Option<String>,
    pub(crate) tag: Option<String>,
    /// For a `docker login`: the password the runner writes to
    /// [`REGISTRY_PASSWORD_FILE`] first (the line reads it from there).
    #[serde(skip)]
    pub(crate) password: Option<Password>,
}

/// A registry password: printed as `<redacted>`, never serialised.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Password(pub(crate) String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// An expectation as it applies to this job on this engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct PlannedExpectation {
    pub(crate) build: String,
    pub(crate) stage: Option<String>,
    pub(crate) step: String,
    /// What this engine should show (an override's outcome, if any).
    pub(crate) expected: Expected,
    /// The upstream bug the expected outcome is, if it is one.
    pub(crate) known_bug: Option<String>,
    /// Why the step is not checked on this engine.
    pub(crate) unsupported: Option<String>,
}

impl<'s> Plan<'s> {
    /// The plan of `scenario` on `engine` with the scenario's own image
    /// store, its first `max_jobs` jobs.
    pub(crate) fn build(
        scenario: &'s Scenario,
        engine: &EngineEntry,
        values: RunValues,
        max_jobs: Option<u32>,
    ) -> Self {
        Self::build_on(scenario, Target { engine, store: ImageStore::declared(scenario) }, values, max_jobs)
    }

    /// The plan of `scenario` on an engine and image store.
    pub(crate) fn build_on(
        scenario: &'s Scenario,
        target: Target<'_>,
        values: RunValues,
        max_jobs: Option<u32>,
    ) -> Self {
        let Target { engine, store } = target;
        let limit = max_jobs.map_or(usize::MAX, |n| n as usize);
        let vars = |number| job_vars(scenario, target, &values, number);
        // Dockerfiles only know `{chef}` and `{runtime}`: any job's values do.
        let dockerfiles = scenario
            .dockerfiles
            .iter()
            .map(|d| PlannedFile { name: d.name.clone(), content: d.render(&vars(1)) })
            .collect();
        let jobs = scenario.jobs().take(limit).map(|job| plan_job(job, vars(job.number), target)).collect();
        Self {
            scenario: scenario.name.clone(),
            engine: engine.version.clone(),
            store,
            fixture: scenario.fixture.clone(),
            carry: scenario.daemon.carry.clone(),
            unsupported: scenario.unsupported_reason(engine).or_else(|| store_unsupported(scenario, engine, store)),
            values,
            dockerfiles,
            jobs,
        }
    }
}

/// Where a plan runs: an engine, with an image store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'e> {
    pub(crate) engine: &'e EngineEntry,
    pub(crate) store: ImageStore,
}

/// `{image}`: one repository per scenario, engine and store, since cells
/// sharing the registry must never import each other's cache. A cell on the
/// scenario's own store keeps the plain `{scenario}/{engine}`.
fn image_repo(registry: &str, scenario: &Scenario, target: Target<'_>) -> String {
    let engine = &target.engine.version;
    if target.store == ImageStore::declared(scenario) {
        format!("{registry}/{}/{engine}", scenario.name)
    } else {
        format!("{registry}/{}/{engine}-{}", scenario.name, target.store)
    }
}

/// The placeholder values of job `number`.
fn job_vars(scenario: &Scenario, target: Target<'_>, values: &RunValues, number: u32) -> Vars {
    Vars {
        registry: values.registry.clone(),
        job: number,
        image: image_repo(&values.registry, scenario, target),
        scenario: scenario.name.clone(),
        engine: target.engine.version.clone(),
        chef: values.chef.clone(),
        runtime: values.runtime.clone(),
    }
}

fn plan_job<'s>(job: ExpandedJob<'s>, vars: Vars, target: Target<'_>) -> PlannedJob<'s> {
    let edits = job.job.edits.iter().map(|e| plan_edit(&e.file, &e.action, &vars)).collect();
    let commands = job
        .job
        .commands
        .iter()
        .enumerate()
        .map(|(k, command)| {
            let (rendered, password) = render_command(command, &vars);
            let slug = rendered.build_id.clone().unwrap_or_else(|| command_slug(&command.kind).to_owned());
            let (target, tag) = match &command.kind {
                CommandKind::Build(spec) => (spec.target.clone(), spec.tags.first().map(|t| t.render(&vars))),
                _ => (None, None),
            };
            PlannedCommand { rendered, log: format!("{:02}-{slug}.log", k + 1), target, tag, password }
        })
        .collect();
    let runs = job.runs().map(|check| check.render(&vars)).collect();
    let expectations = job
        .expectations()
        .map(|e| {
            let mut planned = PlannedExpectation {
                build: e.build.clone(),
                stage: e.stage.clone(),
                step: e.step.clone(),
                expected: e.expected,
                known_bug: None,
                unsupported: None,
            };
            match e.override_for(&target.engine.version, target.store, job.number).map(|o| &o.action) {
                Some(OverrideAction::Outcome { expected, known_bug }) => {
                    planned.expected = *expected;
                    planned.known_bug = known_bug.clone();
                }
                Some(OverrideAction::Unsupported(reason)) => planned.unsupported = Some(reason.clone()),
                None => {}
            }
            planned
        })
        .collect();
    PlannedJob {
        number: job.number,
        name: job.job.name.clone(),
        daemon: job.daemon(),
        edits,
        commands,
        runs,
        expectations,
        job,
        vars,
    }
}

/// The line a command runs. A `docker login` reads its password from a
/// file the runner writes into the dind, so the password is in no command
/// line: not in the report, the live view, or the dind's process list.
fn render_command(command: &Command, vars: &Vars) -> (RenderedCommand, Option<Password>) {
    let CommandKind::Login { registry, username, password } = &command.kind else {
        return (command.render(vars), None);
    };
    let script = format!(
        "docker login --username {} --password-stdin {} < {REGISTRY_PASSWORD_FILE}",
        quote(username),
        quote(&registry.render(vars))
    );
    let rendered = RenderedCommand { script, build_id: None, may_fail: command.may_fail };
    (rendered, Some(Password(password.clone())))
}

fn plan_edit(file: &str, action: &EditAction, vars: &Vars) -> PlannedEdit {
    let file = file.to_owned();
    match action {
        EditAction::Append(text) => PlannedEdit::Append { file, text: text.render(vars) },
        EditAction::Replace { find, with } => {
            PlannedEdit::Replace { file, find: find.render(vars), with: with.render(vars) }
        }
        EditAction::Write { content, executable } => {
            PlannedEdit::Write { file, content: content.render(vars), executable: *executable }
        }
    }
}

fn command_slug(kind: &CommandKind) -> &'static str {
    match kind {
        CommandKind::Login { .. } => "login",
        CommandKind::Pull(_) => "pull",
        CommandKind::Build(_) => "build",
        CommandKind::Push(_) => "push",
        CommandKind::Shell(_) => "shell",
    }
}

impl fmt::Display for Plan<'_> {
    /// The commands as a person would type them, job by job.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan: {} on engine {}, {} image store (fixture `{}`)",
            self.scenario, self.engine, self.store, self.fixture
        )?;
        if let Some(reason) = &self.unsupported {
            return writeln!(f, "unsupported on this engine: {reason}");
        }
        for file in &self.dockerfiles {
            writeln!(f, "dockerfile {} ({} lines)", file.name, file.content.lines().count())?;
        }
        if let Some(path) = &self.carry {
            writeln!(f, "carry {path}: one folder for the cell, empty before job 1, kept from job to job")?;
        }
        for job in &self.jobs {
            write!(f, "{job}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PlannedJob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let daemon = match self.daemon {
            DaemonMode::Fresh => "fresh",
            DaemonMode::Warm => "warm",
        };
        writeln!(f, "job {} ({}, {daemon} daemon)", self.number, self.name)?;
        for edit in &self.edits {
            writeln!(f, "  {edit}")?;
        }
        for command in &self.commands {
            let allowed = if command.rendered.may_fail { "  # may fail" } else { "" };
            writeln!(f, "  $ {}{allowed}", command.rendered.script)?;
        }
        for run in &self.runs {
            writeln!(f, "  $ {}  # run check", run.script)?;
        }
        for e in &self.expectations {
            let stage = e.stage.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
            let what = match (&e.unsupported, &e.known_bug) {
                (Some(reason), _) => format!("not checked ({reason})"),
                (None, Some(link)) => format!("{} (known bug {link})", e.expected),
                (None, None) => e.expected.to_string(),
            };
            writeln!(f, "  expect {}{stage} `{}`: {what}", e.build, e.step)?;
        }
        Ok(())
    }
}

impl fmt::Display for PlannedEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Append { file, text } => write!(f, "edit {file}: append {} bytes", text.len()),
            Self::Replace { file, find, with } => write!(f, "edit {file}: replace {find:?} with {with:?}"),
            Self::Write { file, content, executable } => {
                let mode = if *executable { " (executable)" } else { "" };
                write!(f, "edit {file}: write {} bytes{mode}", content.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{workspace_root, Catalogue, ResolvedMode};
    use crate::scenario::load_scenario;

    fn plan_of(name: &str, engine: &str) -> String {
        let catalogue = Catalogue::load_default().unwrap();
        let scenario = load_scenario(&workspace_root().join("scenarios").join(name), &catalogue).unwrap();
        let images = catalogue.resolve(engine, ResolvedMode::Local).unwrap();
        let plan = Plan::build(&scenario, catalogue.engine(engine).unwrap(), RunValues::offline(&images), None);
        plan.to_string()
    }

    #[test]
    fn ci_inline_cache_plan_without_docker() {
        insta::assert_snapshot!(plan_of("ci-inline-cache", "26.1.5"));
    }

    #[test]
    fn a_carried_folder_is_in_the_plan() {
        let plan = plan_of("ci-local-cache", "28.5.2");
        assert!(plan.contains("\ncarry /cache: one folder for the cell, empty before job 1, kept from job to job\n"));
        assert!(plan.starts_with("plan: ci-local-cache on engine 28.5.2, containerd image store"), "{plan}");
    }

    #[test]
    fn an_override_limited_to_a_store_is_planned_only_on_that_store() {
        let catalogue = Catalogue::load_default().unwrap();
        let mut scenario = load_scenario(&workspace_root().join("scenarios/ci-inline-cache"), &catalogue).unwrap();
        let cook = scenario.blocks[0].expectations.iter_mut().find(|e| !e.overrides.is_empty()).unwrap();
        cook.overrides[0].stores = vec![ImageStore::Classic];
        let engine = catalogue.engine("28.5.2").unwrap();
        let images = catalogue.resolve("28.5.2", ResolvedMode::Local).unwrap();
        let job3 = |store| {
            let plan = Plan::build_on(&scenario, Target { engine, store }, RunValues::offline(&images), Some(3));
            let cook = plan.jobs[2].expectations.iter().find(|e| e.step == "RUN cargo chef cook").unwrap().clone();
            (cook.expected.name(), cook.known_bug.is_some())
        };
        assert_eq!(job3(ImageStore::Classic), ("executed", true));
        assert_eq!(job3(ImageStore::Containerd), ("reused", false));
    }

    #[test]
    fn the_plan_serialises_with_rendered_dockerfiles() {
        let catalogue = Catalogue::load_default().unwrap();
        let scenario = load_scenario(&workspace_root().join("scenarios/ci-inline-cache"), &catalogue).unwrap();
        let images = catalogue.resolve("26.1.5", ResolvedMode::Local).unwrap();
        let plan = Plan::build(&scenario, catalogue.engine("26.1.5").unwrap(), RunValues::offline(&images), Some(2));
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["jobs"].as_array().unwrap().len(), 2);
        let dockerfile = json["dockerfiles"][0]["content"].as_str().unwrap();
        assert!(dockerfile.contains(&format!("FROM {}", plan.values.chef)), "{dockerfile}");
        assert_eq!(json["jobs"][0]["commands"][4]["build_id"], "chef");
        assert_eq!(json["jobs"][0]["commands"][4]["log"], "05-chef.log");
    }

    #[test]
    fn seeded_references_match_the_registry_s_naming() {
        let r = "registry.harness.test:5000";
        assert_eq!(seeded_reference(r, "harness/chef:rust-1"), format!("{r}/harness/chef:rust-1"));
        assert_eq!(seeded_reference(r, "docker.io/library/debian"), format!("{r}/library/debian:latest"));
        assert_eq!(repo_tag("localhost:5000/x:1"), "x:1");
    }
}
