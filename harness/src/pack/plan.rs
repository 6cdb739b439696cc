//! The pack's job plan: what `repro.sh` runs, rendered once from the
//! scenario for one engine, with every placeholder replaced.
//!
//! [`pack_plan`] is the one seam between a pack and the runner: it takes the
//! runner's job plan ([`Plan`]), so a pack runs exactly the command lines
//! the harness runs.

use crate::catalogue::EngineEntry;
pub(crate) use crate::runner::plan::repo_tag;
use crate::runner::plan::{Plan, PlannedEdit, PlannedExpectation, PlannedJob, RunValues};
use crate::scenario::{DaemonMode, Edit, EditAction, Expected, Scenario, Template};

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

/// Everything `repro.sh` does for one engine.
#[derive(Debug, Clone)]
pub(crate) struct PackPlan {
    pub scenario: String,
    pub engine: String,
    /// The official dind image for the engine.
    pub dind_image: String,
    pub containerd_store: bool,
    /// The folder every dind mounts from one volume kept between jobs.
    pub carry: Option<String>,
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

/// The plan for `scenario` on `engine`, placeholders rendered with `values`:
/// the runner's own job plan (the command lines the harness runs), in the
/// shape `repro.sh` and the pack's README need.
pub(crate) fn pack_plan(scenario: &Scenario, engine: &EngineEntry, values: &PackValues) -> PackPlan {
    let run_values = RunValues {
        registry: values.registry.clone(),
        chef: format!("{}/{}", values.registry, values.chef.repo_tag),
        runtime: format!("{}/{}", values.registry, values.runtime.repo_tag),
    };
    let plan = Plan::build(scenario, engine, run_values, None);
    PackPlan {
        scenario: plan.scenario,
        engine: plan.engine,
        dind_image: engine.official.clone(),
        containerd_store: scenario.daemon.containerd_snapshotter,
        carry: plan.carry,
        unsupported: plan.unsupported,
        dockerfiles: plan.dockerfiles.into_iter().map(|d| (d.name, d.content)).collect(),
        jobs: plan.jobs.iter().map(job_plan).collect(),
    }
}

fn job_plan(job: &PlannedJob<'_>) -> JobPlan {
    let commands: Vec<CommandPlan> = job
        .commands
        .iter()
        .zip(&job.job.job.commands)
        .map(|(c, command)| CommandPlan {
            // The harness logs in from a password file it writes into the
            // dind; a pack has no such file: its login is the scenario's
            // own line (its password redacted when the pack is written).
            script: if c.password.is_some() { command.render(&job.vars).script } else { c.rendered.script.clone() },
            log: c.log.clone(),
            build_id: c.rendered.build_id.clone(),
            may_fail: c.rendered.may_fail,
        })
        .collect();
    let runs = job
        .job
        .runs()
        .map(|check| RunPlan {
            script: check.render(&job.vars).script,
            contains: check.stdout_contains.as_ref().map(|t| t.render(&job.vars)),
            not_contains: check.stdout_not_contains.as_ref().map(|t| t.render(&job.vars)),
            exit_code: check.exit_code,
        })
        .collect();
    // The plan's expectations follow the scenario's, one for one.
    let checks = job
        .job
        .expectations()
        .zip(&job.expectations)
        .map(|(e, planned)| step_check(e.expected, planned, &commands))
        .collect();
    JobPlan {
        number: job.number,
        name: job.name.clone(),
        fresh: job.daemon == DaemonMode::Fresh,
        edits: job.edits.iter().map(literal_edit).collect(),
        commands,
        runs,
        checks,
    }
}

/// A step check: the correct behaviour, and the bug's outcome beside it.
/// The runner's plan puts a known bug's outcome in `expected` (what the
/// engine shows); the pack keeps the scenario's as the correct one.
fn step_check(correct: Expected, planned: &PlannedExpectation, commands: &[CommandPlan]) -> StepCheck {
    let known_bug = planned.known_bug.as_ref().map(|link| KnownBug { outcome: planned.expected, link: link.clone() });
    let expected = if known_bug.is_some() { correct } else { planned.expected };
    let log = commands.iter().find(|c| c.build_id.as_deref() == Some(planned.build.as_str())).map(|c| c.log.clone());
    StepCheck {
        build: planned.build.clone(),
        log,
        stage: planned.stage.clone(),
        step: planned.step.clone(),
        expected,
        known_bug,
        unsupported: planned.unsupported.clone(),
    }
}

/// The plan's rendered edit as a scenario edit with literal text, so it
/// applies the same with any vars.
fn literal_edit(edit: &PlannedEdit) -> Edit {
    let lit = |t: &str| Template::literal(t);
    let (file, action) = match edit {
        PlannedEdit::Append { file, text } => (file, EditAction::Append(lit(text))),
        PlannedEdit::Replace { file, find, with } => (file, EditAction::Replace { find: lit(find), with: lit(with) }),
        PlannedEdit::Write { file, content, executable } => {
            (file, EditAction::Write { content: lit(content), executable: *executable })
        }
    };
    Edit { file: file.clone(), action }
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
        // A pack's dind has no harness password file: the login is the scenario's line.
        let login = &job3.commands[0].script;
        assert!(login.contains("docker login") && !login.contains(crate::engine::REGISTRY_PASSWORD_FILE), "{login}");
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
