//! The pack's job plan: what `repro.sh` runs, rendered once from the
//! scenario for one engine, with every placeholder replaced.
//!
//! [`pack_plan`] is the one seam between a pack and the scenario model. It
//! builds the plan from [`Scenario::jobs`], the scenario's renderers and its
//! expectations as they exist today; when the runner's own job plan lands,
//! only this function's body should change.

use crate::catalogue::EngineEntry;
use crate::scenario::{
    CommandKind, DaemonMode, Edit, EditAction, ExpandedJob, Expected, OverrideAction, Scenario, Template, Vars,
};

/// The values placeholders take in a pack: fixed at pack time, so the
/// Dockerfiles and commands in the pack are plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackValues {
    /// The registry as every dind reaches it (`registry.harness.test:5000`).
    pub registry: String,
    pub chef: BaseImage,
    pub runtime: BaseImage,
}

/// A base image the Dockerfiles pull through the pack's registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseImage {
    /// The official image, what `repro.sh` seeds by default.
    pub official: String,
    /// `repo:tag` inside the pack's registry (the official name without a
    /// registry host), whatever image is seeded there.
    pub repo_tag: String,
}

impl BaseImage {
    pub(crate) fn new(official: &str) -> Self {
        Self { official: official.to_owned(), repo_tag: repo_tag(official) }
    }
}

impl PackValues {
    /// The Dockerfiles' `{chef}`/`{runtime}`: the official names, pulled
    /// through the registry as the harness does.
    fn vars(&self, scenario: &Scenario, engine: &str, job: u32) -> Vars {
        Vars {
            registry: self.registry.clone(),
            job,
            image: format!("{}/{}/{engine}", self.registry, scenario.name),
            scenario: scenario.name.clone(),
            engine: engine.to_owned(),
            chef: format!("{}/{}", self.registry, self.chef.repo_tag),
            runtime: format!("{}/{}", self.registry, self.runtime.repo_tag),
        }
    }
}

/// Everything `repro.sh` does for one engine.
#[derive(Debug, Clone)]
pub(crate) struct PackPlan {
    pub scenario: String,
    pub engine: String,
    /// The official dind image for the engine.
    pub dind_image: String,
    pub containerd_store: bool,
    /// Why the scenario cannot run on this engine, if it cannot.
    pub unsupported: Option<String>,
    /// Dockerfile name and text, placeholders rendered.
    pub dockerfiles: Vec<(String, String)>,
    pub jobs: Vec<JobPlan>,
}

/// One job, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct JobPlan {
    pub number: u32,
    pub name: String,
    /// A new daemon (else the previous job's).
    pub fresh: bool,
    /// Edits with their text rendered (literal templates).
    pub edits: Vec<Edit>,
    pub commands: Vec<CommandPlan>,
    pub runs: Vec<RunPlan>,
    pub checks: Vec<StepCheck>,
}

/// One command line of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandPlan {
    /// The exact `sh -c` line.
    pub script: String,
    /// Log file name, as the harness names it (`05-builder.log`).
    pub log: String,
    pub build_id: Option<String>,
    pub may_fail: bool,
}

/// `docker run` of a built image and what its output must show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunPlan {
    pub script: String,
    pub contains: Option<String>,
    pub not_contains: Option<String>,
    pub exit_code: i64,
}

/// One asserted step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StepCheck {
    pub build: String,
    /// Log of the build that names the step; `None` when the job has no such
    /// build (the check then reads `absent`).
    pub log: Option<String>,
    pub stage: Option<String>,
    pub step: String,
    /// The correct behaviour on this engine.
    pub expected: Expected,
    /// What the engine shows instead when its known upstream bug strikes.
    pub known_bug: Option<KnownBug>,
    /// Why the step is not checked on this engine.
    pub unsupported: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownBug {
    pub outcome: Expected,
    pub link: String,
}

/// The plan for `scenario` on `engine`, placeholders rendered with `values`.
pub(crate) fn pack_plan(scenario: &Scenario, engine: &EngineEntry, values: &PackValues) -> PackPlan {
    let any = values.vars(scenario, &engine.version, 1);
    PackPlan {
        scenario: scenario.name.clone(),
        engine: engine.version.clone(),
        dind_image: engine.official.clone(),
        containerd_store: scenario.daemon.containerd_snapshotter,
        unsupported: scenario.unsupported_reason(engine),
        dockerfiles: scenario.dockerfiles.iter().map(|d| (d.name.clone(), d.render(&any))).collect(),
        jobs: scenario.jobs().map(|job| job_plan(scenario, &engine.version, values, &job)).collect(),
    }
}

fn job_plan(scenario: &Scenario, engine: &str, values: &PackValues, job: &ExpandedJob<'_>) -> JobPlan {
    let vars = values.vars(scenario, engine, job.number);
    let commands: Vec<CommandPlan> = job
        .job
        .commands
        .iter()
        .enumerate()
        .map(|(k, command)| {
            let rendered = command.render(&vars);
            let slug = rendered.build_id.clone().unwrap_or_else(|| command_slug(&command.kind).to_owned());
            CommandPlan {
                log: format!("{:02}-{slug}.log", k + 1),
                script: rendered.script,
                build_id: rendered.build_id,
                may_fail: rendered.may_fail,
            }
        })
        .collect();
    let runs = job
        .runs()
        .map(|check| RunPlan {
            script: check.render(&vars).script,
            contains: check.stdout_contains.as_ref().map(|t| t.render(&vars)),
            not_contains: check.stdout_not_contains.as_ref().map(|t| t.render(&vars)),
            exit_code: check.exit_code,
        })
        .collect();
    let checks = job
        .expectations()
        .map(|e| {
            let (expected, known_bug, unsupported) = match e.override_for(engine, job.number).map(|o| &o.action) {
                None => (e.expected, None, None),
                Some(OverrideAction::Unsupported(why)) => (e.expected, None, Some(why.clone())),
                Some(OverrideAction::Outcome { expected, known_bug: None }) => (*expected, None, None),
                Some(OverrideAction::Outcome { expected, known_bug: Some(link) }) => {
                    (e.expected, Some(KnownBug { outcome: *expected, link: link.clone() }), None)
                }
            };
            let log = commands.iter().find(|c| c.build_id.as_deref() == Some(e.build.as_str())).map(|c| c.log.clone());
            StepCheck {
                build: e.build.clone(),
                log,
                stage: e.stage.clone(),
                step: e.step.clone(),
                expected,
                known_bug,
                unsupported,
            }
        })
        .collect();
    JobPlan {
        number: job.number,
        name: job.job.name.clone(),
        fresh: job.daemon() == DaemonMode::Fresh,
        edits: job.job.edits.iter().map(|edit| literal_edit(edit, &vars)).collect(),
        commands,
        runs,
        checks,
    }
}

/// The edit with its text rendered, so it applies the same with any vars.
fn literal_edit(edit: &Edit, vars: &Vars) -> Edit {
    let lit = |t: &Template| Template::literal(&t.render(vars));
    let action = match &edit.action {
        EditAction::Append(text) => EditAction::Append(lit(text)),
        EditAction::Replace { find, with } => EditAction::Replace { find: lit(find), with: lit(with) },
        EditAction::Write { content, executable } => {
            EditAction::Write { content: lit(content), executable: *executable }
        }
    };
    Edit { file: edit.file.clone(), action }
}

/// The harness's log names: the build id, else the verb.
fn command_slug(kind: &CommandKind) -> &'static str {
    match kind {
        CommandKind::Login { .. } => "login",
        CommandKind::Pull(_) => "pull",
        CommandKind::Build(_) => "build",
        CommandKind::Push(_) => "push",
        CommandKind::Shell(_) => "shell",
    }
}

/// `repo:tag` of an image name without its registry host, as the harness
/// seeds base images (`docker.io/library/debian:12` -> `library/debian:12`).
pub(crate) fn repo_tag(image: &str) -> String {
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => rest.to_owned(),
        _ => image.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{workspace_root, Catalogue};
    use crate::scenario::load_scenario;

    fn plan(name: &str, engine: &str) -> PackPlan {
        let catalogue = Catalogue::load_default().unwrap();
        let scenario = load_scenario(&workspace_root().join("scenarios").join(name), &catalogue).unwrap();
        let values = PackValues {
            registry: "registry.harness.test:5000".into(),
            chef: BaseImage::new(&catalogue.chef.official),
            runtime: BaseImage::new(&catalogue.runtime.official),
        };
        pack_plan(&scenario, catalogue.engine(engine).unwrap(), &values)
    }

    #[test]
    fn the_first_seed_on_an_engine_with_the_bug() {
        let plan = plan("ci-inline-cache", "26.1.5");
        assert_eq!(plan.dind_image, "docker:26.1.5-dind");
        assert_eq!(plan.jobs.len(), 4);
        assert!(plan.jobs.iter().all(|j| j.fresh));
        let job3 = &plan.jobs[2];
        let logs: Vec<&str> = job3.commands.iter().map(|c| c.log.as_str()).collect();
        assert_eq!(logs[..5], ["01-login.log", "02-pull.log", "03-pull.log", "04-pull.log", "05-chef.log"]);
        assert_eq!(
            job3.commands[6].script,
            "DOCKER_BUILDKIT=1 docker build --progress=plain --target builder --cache-from \
             registry.harness.test:5000/ci-inline-cache/26.1.5:builder --tag \
             registry.harness.test:5000/ci-inline-cache/26.1.5:builder --build-arg BUILDKIT_INLINE_CACHE=1 ."
        );
        let cook = job3.checks.iter().find(|c| c.step == "RUN cargo chef cook").unwrap();
        assert_eq!(cook.expected.name(), "reused");
        assert_eq!(cook.log.as_deref(), Some("07-builder.log"));
        let bug = cook.known_bug.as_ref().unwrap();
        assert_eq!(
            (bug.outcome.name(), bug.link.as_str()),
            ("executed", "https://github.com/moby/buildkit/issues/2274")
        );
        assert_eq!(job3.runs[0].contains.as_deref(), Some("Hello from job 3!"));
        assert!(plan.dockerfiles[0]
            .1
            .contains("FROM registry.harness.test:5000/lukemathwalker/cargo-chef:latest-rust-1 AS chef"));
    }

    #[test]
    fn an_engine_without_the_bug_and_a_warm_daemon() {
        let plan = plan("ci-inline-cache", "20.10.24");
        assert!(plan.jobs.iter().flat_map(|j| &j.checks).all(|c| c.known_bug.is_none()));
        let plan = plan_warm();
        assert_eq!(plan.jobs.iter().map(|j| j.fresh).collect::<Vec<_>>(), [true, false, false]);
    }

    fn plan_warm() -> PackPlan {
        plan("cache-mount-copy", "26.1.5")
    }
}
