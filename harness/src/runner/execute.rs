//! Runs one scenario on one engine: registry, seeding, then job by job a
//! daemon, the context, the pipeline's commands, the image runs and the
//! verdicts.
//!
//! Infrastructure failures do not lose the jobs already done: they end the
//! run with [`RunStatus::Error`] and the report keeps what was seen. The
//! registry and daemons are stopped on every path out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;

use super::events::{Event, Reporter};
use super::follow::LogFollower;
use super::layers::map_layers;
use super::result::{BuildReport, CommandReport, JobReport, RunReport, RunStatus, StepReport, REPORT_SCHEMA};
use super::workspace::{plan_scenario_base_images, Workspace};
use crate::catalogue::{EngineEntry, ResolvedMode, RunImages};
use crate::dockerfile::ImageRef;
use crate::engine::{
    pull_to_host, rewrites_for, seed_provisions, Credentials, Daemon, DaemonOptions, EngineError, ExecOutcome,
    Provision, Registry, RegistryOptions, Rights, RunLabel,
};
use crate::progress::{self, Build};
use crate::scenario::{
    check_run, evaluate_job, weigh, CommandKind, DaemonMode, ExpandedJob, JobLayers, LayerEvidence, RunOutput,
    Scenario, Vars,
};

/// Everything a run needs besides the scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub engine: EngineEntry,
    pub images: RunImages,
    /// Why this image column (shown and reported).
    pub images_reason: String,
    /// Workspace root: fixtures are found here.
    pub root: PathBuf,
    /// Logs go under `out_dir/job-N/`.
    pub out_dir: PathBuf,
    /// A build (or any command) running longer is killed.
    pub command_timeout: Duration,
    pub rights: Rights,
    /// Label put on every container of the run.
    pub label: RunLabel,
    /// Run only the first N jobs (a quicker check of a long pipeline).
    pub max_jobs: Option<u32>,
}

/// The run's registry with the base images seeded, shared by every engine
/// a scenario runs on (each engine gets its own repository in it).
pub struct Shared {
    registry: Registry,
    chef: String,
    runtime: String,
    /// Base images the Dockerfiles name verbatim, and where they were seeded.
    bases: (Vec<Provision>, std::collections::BTreeMap<ImageRef, String>),
}

impl Shared {
    /// Starts the registry for `scenario` (with the credentials its
    /// `docker login` uses, if any) and seeds the chef and runtime images.
    pub async fn start(
        scenario: &Scenario,
        images: &RunImages,
        label: &RunLabel,
        reporter: &mut dyn Reporter,
    ) -> anyhow::Result<Self> {
        let mut options =
            RegistryOptions::default().with_label(label.clone()).with_allow_pull(images.mode == ResolvedMode::Official);
        if let Some(credentials) = scenario_login(scenario) {
            options = options.with_auth(credentials);
        }
        // Before any container: an image nothing provides fails here.
        let plan = plan_scenario_base_images(scenario, images).await?;
        let started = Instant::now();
        let registry = Registry::start(&images.registry, options).await?;
        reporter.event(&Event::RegistryReady { address: registry.name(), took: started.elapsed() });
        // Stop the registry if seeding fails: nothing outlives a failed start.
        let official = images.mode == ResolvedMode::Official;
        let seeded = async {
            let chef = seed(&registry, &images.chef, official, reporter).await?;
            let runtime = seed(&registry, &images.runtime, official, reporter).await?;
            let bases = seed_provisions(&registry, &plan).await?;
            anyhow::Ok((chef, runtime, bases))
        }
        .await;
        match seeded {
            Ok((chef, runtime, bases)) => Ok(Self { registry, chef, runtime, bases: (plan, bases) }),
            Err(e) => {
                if let Err(stop) = registry.stop().await {
                    tracing::warn!("failed to stop the registry: {stop:#}");
                }
                Err(e)
            }
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Stops the registry.
    pub async fn stop(self) -> anyhow::Result<()> {
        Ok(self.registry.stop().await?)
    }
}

/// The daemon alive during a run, stopped on every path out.
#[derive(Default)]
struct Live {
    daemon: Option<Daemon>,
}

impl Live {
    async fn stop_daemon(&mut self) {
        if let Some(daemon) = self.daemon.take() {
            if let Err(e) = daemon.stop().await {
                tracing::warn!("failed to stop a dind: {e:#}");
            }
        }
    }
}

/// Runs `scenario` on `opts.engine` against the shared registry and returns
/// its report; never fails: errors become [`RunStatus::Error`].
pub async fn run_scenario(
    scenario: &Scenario,
    opts: &RunOptions,
    shared: &Shared,
    reporter: &mut dyn Reporter,
) -> RunReport {
    let started = Instant::now();
    let mut report = new_report(scenario, opts);
    let jobs = scenario.jobs().take(job_limit(opts)).count() as u32;
    reporter.event(&Event::RunStarted {
        scenario: &scenario.name,
        engine: &opts.engine.version,
        images: &opts.images,
        jobs,
    });

    if let Some(reason) = scenario.unsupported_reason(&opts.engine) {
        reporter.event(&Event::Unsupported { reason: &reason });
        report.status = RunStatus::Unsupported { reason };
    } else {
        let mut live = Live::default();
        let outcome = execute(scenario, opts, shared, reporter, &mut live, &mut report.jobs).await;
        live.stop_daemon().await;
        report.status = match outcome {
            Ok(()) => RunStatus::from_jobs(&report.jobs),
            Err(e) => RunStatus::Error { message: format!("{e:#}") },
        };
    }
    report.duration_secs = started.elapsed().as_secs_f64();
    reporter.event(&Event::RunFinished { report: &report });
    report
}

fn job_limit(opts: &RunOptions) -> usize {
    opts.max_jobs.map_or(usize::MAX, |n| n as usize)
}

/// A report with no jobs yet.
fn new_report(scenario: &Scenario, opts: &RunOptions) -> RunReport {
    RunReport {
        schema: REPORT_SCHEMA,
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        links: scenario.links.clone(),
        engine: opts.engine.version.clone(),
        images: opts.images.clone(),
        images_reason: opts.images_reason.clone(),
        started_at: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        duration_secs: 0.0,
        status: RunStatus::Passed,
        jobs: Vec::new(),
        out_dir: opts.out_dir.clone(),
    }
}

/// The report of a run that could not start (its registry failed).
pub fn start_failed(scenario: &Scenario, opts: &RunOptions, error: &anyhow::Error) -> RunReport {
    RunReport { status: RunStatus::Error { message: format!("{error:#}") }, ..new_report(scenario, opts) }
}

async fn execute(
    scenario: &Scenario,
    opts: &RunOptions,
    shared: &Shared,
    reporter: &mut dyn Reporter,
    live: &mut Live,
    jobs: &mut Vec<JobReport>,
) -> anyhow::Result<()> {
    let registry_name = shared.registry.name().to_owned();
    let logs_in = scenario_login(scenario).is_some();

    let rewrites =
        rewrites_for(&shared.bases.0, &shared.bases.1, &opts.engine.version, scenario.daemon.containerd_snapshotter);
    let workspace = Workspace::create(&opts.root, scenario)
        .with_context(|| format!("failed to copy the fixture `{}`", scenario.fixture))?
        .with_rewrites(rewrites, scenario);
    let mut previous_layers: Option<JobLayers> = None;

    for job in scenario.jobs().take(job_limit(opts)) {
        let vars = Vars {
            registry: registry_name.clone(),
            job: job.number,
            // One repository per scenario and engine: engines sharing the
            // registry must not import each other's cache.
            image: format!("{registry_name}/{}/{}", scenario.name, opts.engine.version),
            scenario: scenario.name.clone(),
            engine: opts.engine.version.clone(),
            chef: shared.chef.clone(),
            runtime: shared.runtime.clone(),
        };
        let (report, layers) =
            run_job(scenario, opts, shared, reporter, live, &workspace, &job, &vars, logs_in, previous_layers.as_ref())
                .await?;
        // A job that stopped early leaves the comparison with the last full one.
        if report.error.is_none() {
            previous_layers = Some(layers);
        }
        reporter.event(&Event::JobFinished { job: &report });
        jobs.push(report);
    }
    Ok(())
}

/// The credentials of the scenario's `docker login`, which the registry
/// must then require.
fn scenario_login(scenario: &Scenario) -> Option<Credentials> {
    scenario.blocks.iter().flat_map(|job| &job.commands).find_map(|command| match &command.kind {
        CommandKind::Login { username, password, .. } => Some(Credentials::new(username, password)),
        _ => None,
    })
}

/// Pushes a base image into the run's registry (pulling an official one
/// onto the host first); returns its name there.
async fn seed(registry: &Registry, image: &str, official: bool, reporter: &mut dyn Reporter) -> anyhow::Result<String> {
    let started = Instant::now();
    if official {
        pull_to_host(image).await?;
    }
    let reference = registry.seed(image, &repo_tag(image)).await?;
    reporter.event(&Event::ImageSeeded { reference: &reference, took: started.elapsed() });
    Ok(reference)
}

/// `repo:tag` of an image name, without a registry host
/// (`docker.io/library/debian:bookworm-slim` -> `library/debian:bookworm-slim`).
fn repo_tag(image: &str) -> String {
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => rest.to_owned(),
        _ => image.to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_job(
    scenario: &Scenario,
    opts: &RunOptions,
    shared: &Shared,
    reporter: &mut dyn Reporter,
    live: &mut Live,
    workspace: &Workspace,
    job: &ExpandedJob<'_>,
    vars: &Vars,
    scenario_logs_in: bool,
    previous: Option<&JobLayers>,
) -> anyhow::Result<(JobReport, JobLayers)> {
    let started = Instant::now();
    let number = job.number;
    let commands = (job.job.commands.len() + job.runs().count()) as u32;
    reporter.event(&Event::JobStarted { job: number, name: &job.job.name, daemon: job.daemon(), commands });
    let mut report = JobReport {
        number,
        name: job.job.name.clone(),
        daemon: job.daemon(),
        versions: None,
        daemon_ready_secs: None,
        edits: Vec::new(),
        commands: Vec::new(),
        verdicts: Vec::new(),
        runs: Vec::new(),
        error: None,
        duration_secs: 0.0,
    };
    let job_dir = opts.out_dir.join(format!("job-{number}"));
    std::fs::create_dir_all(&job_dir).with_context(|| format!("failed to create `{}`", job_dir.display()))?;

    workspace
        .render_dockerfiles(scenario, vars)
        .context("failed to write the scenario's Dockerfiles into the build context")?;
    for edit in &job.job.edits {
        // An edit that changes nothing is a broken scenario, not an engine
        // problem: the job stops and says so.
        match edit.apply(workspace.path(), vars) {
            Ok(done) => report.edits.push(done),
            Err(e) => {
                report.error = Some(format!("{:#}", anyhow::Error::from(e)));
                report.duration_secs = started.elapsed().as_secs_f64();
                return Ok((report, JobLayers::default()));
            }
        }
    }

    if job.daemon() == DaemonMode::Fresh || live.daemon.is_none() {
        live.stop_daemon().await;
        let registry = &shared.registry;
        let options = DaemonOptions::default()
            .with_label(opts.label.clone())
            .with_rights(opts.rights)
            .with_containerd_store(scenario.daemon.containerd_snapshotter)
            .with_allow_pull(opts.images.mode == ResolvedMode::Official)
            .with_login(!scenario_logs_in);
        let daemon = live.daemon.insert(Daemon::start(&opts.images.dind, registry, options).await?);
        report.daemon_ready_secs = Some(daemon.ready_after().as_secs_f64());
        reporter.event(&Event::DaemonReady {
            job: number,
            versions: daemon.versions(),
            took: daemon.ready_after(),
            note: daemon.fallback_note(),
        });
    }
    let daemon = live.daemon.as_ref().context("no daemon for the job")?;
    report.versions = Some(daemon.versions().clone());

    daemon.capture(&format!("rm -rf {CONTEXT_DIR}"), opts.command_timeout).await?;
    daemon.copy_dir(workspace.path(), CONTEXT_DIR).await?;

    let mut builds: HashMap<String, Build> = HashMap::new();
    let mut layers = JobLayers::default();
    for (k, command) in job.job.commands.iter().enumerate() {
        let rendered = command.render(vars);
        reporter.event(&Event::CommandStarted { job: number, script: &rendered.script });
        let slug = rendered.build_id.as_deref().unwrap_or(command_slug(&command.kind));
        let log = job_dir.join(format!("{:02}-{slug}.log", k + 1));
        let script = format!("cd {CONTEXT_DIR} && {}", rendered.script);
        let exec = daemon.exec(&script, &[], &log, opts.command_timeout);
        let outcome = match &rendered.build_id {
            Some(id) => follow_build(exec, &log, number, id, reporter).await?,
            None => exec.await?,
        };

        let build = match (&command.kind, &rendered.build_id) {
            (CommandKind::Build(spec), Some(id)) => {
                let tag = spec.tags.first().map(|t| t.render(vars));
                let (mut build_report, parsed) =
                    observe_build(daemon, id, spec.target.as_deref(), tag, &log, &mut layers).await;
                let evidence = LayerEvidence { current: Some(&layers), previous };
                for step in &mut build_report.steps {
                    step.layer_vs_previous = evidence.compare(id, &step.step);
                    (step.observed, step.note) = weigh(step.step.outcome, step.layer_vs_previous, number);
                    reporter.event(&Event::StepObserved { job: number, build: id, step });
                }
                if let Some(parsed) = parsed {
                    builds.insert(id.clone(), parsed);
                }
                Some(build_report)
            }
            _ => None,
        };
        let command_report = CommandReport {
            script: rendered.script.clone(),
            exit_code: outcome.exit_code,
            may_fail: rendered.may_fail,
            duration_secs: outcome.duration.as_secs_f64(),
            log: log.clone(),
            build,
        };
        reporter.event(&Event::CommandFinished { job: number, command: &command_report });
        let failed = !outcome.success() && !rendered.may_fail;
        report.commands.push(command_report);
        if failed {
            report.error = Some(format!(
                "`{}` exited with {}; the job's later commands were not run (log: {})",
                rendered.script,
                outcome.exit_code,
                log.display()
            ));
            break;
        }
    }

    if report.error.is_none() {
        for check in job.runs() {
            let rendered = check.render(vars);
            reporter.event(&Event::CommandStarted { job: number, script: &rendered.script });
            let out = daemon.capture(&rendered.script, opts.command_timeout).await?;
            let verdict = check_run(check, vars, &RunOutput { exit_code: out.exit_code, stdout: out.stdout });
            reporter.event(&Event::RunChecked { job: number, verdict: &verdict });
            report.runs.push(verdict);
        }
    }
    let evidence = LayerEvidence { current: Some(&layers), previous };
    report.verdicts = evaluate_job(job, &opts.engine.version, &builds, evidence);
    for verdict in &report.verdicts {
        reporter.event(&Event::ExpectationChecked { job: number, verdict });
    }
    report.duration_secs = started.elapsed().as_secs_f64();
    Ok((report, layers))
}

/// Awaits a build's exec while reporting each step as its log shows it
/// complete.
async fn follow_build(
    exec: impl std::future::Future<Output = Result<ExecOutcome, EngineError>>,
    log: &Path,
    job: u32,
    build: &str,
    reporter: &mut dyn Reporter,
) -> Result<ExecOutcome, EngineError> {
    let mut follower = LogFollower::new(log.to_owned());
    let report = |follower: &mut LogFollower, reporter: &mut dyn Reporter| {
        for step in follower.poll() {
            reporter.event(&Event::StepCompleted { job, build, step: &step });
        }
    };
    tokio::pin!(exec);
    loop {
        tokio::select! {
            outcome = &mut exec => {
                report(&mut follower, reporter);
                return outcome;
            }
            _ = tokio::time::sleep(FOLLOW_EVERY) => report(&mut follower, reporter),
        }
    }
}

/// How often a running build's log is read for the live view.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Where the build context lives inside each dind.
const CONTEXT_DIR: &str = "/harness/context";

fn command_slug(kind: &CommandKind) -> &'static str {
    match kind {
        CommandKind::Login { .. } => "login",
        CommandKind::Pull(_) => "pull",
        CommandKind::Build(_) => "build",
        CommandKind::Push(_) => "push",
        CommandKind::Shell(_) => "shell",
    }
}

/// Parses a build's log and maps its steps to the tagged image's layers.
async fn observe_build(
    daemon: &Daemon,
    id: &str,
    target: Option<&str>,
    tag: Option<String>,
    log: &Path,
    layers: &mut JobLayers,
) -> (BuildReport, Option<Build>) {
    let mut report = BuildReport { id: id.to_owned(), steps: Vec::new(), parse_error: None, layers_note: None };
    let build = match progress::parse_path(log) {
        Ok(builds) => builds.into_iter().last(),
        Err(e) => {
            report.parse_error = Some(e.to_string());
            None
        }
    };
    let Some(build) = build else {
        report.parse_error.get_or_insert_with(|| "the log holds no build".into());
        return (report, None);
    };
    let mut step_layers: HashMap<usize, String> = HashMap::new();
    match tag {
        None => report.layers_note = Some("the build tags no image, so its layers are unknown".into()),
        Some(tag) => match daemon.image_history(&tag).await {
            Ok(history) => step_layers.extend(map_layers(&build.steps, target, &history)),
            Err(e) => report.layers_note = Some(format!("no layer evidence: {e}")),
        },
    }
    for (i, step) in build.steps.iter().enumerate() {
        let layer = step_layers.remove(&i);
        if let Some(layer) = &layer {
            layers.insert(id, step, layer.clone());
        }
        report.steps.push(StepReport {
            step: step.clone(),
            layer,
            layer_vs_previous: None,
            observed: step.outcome,
            note: None,
        });
    }
    (report, Some(build))
}

#[cfg(test)]
mod tests {
    use super::repo_tag;

    #[test]
    fn repo_tag_drops_only_a_registry_host() {
        assert_eq!(repo_tag("harness/chef:rust-1"), "harness/chef:rust-1");
        assert_eq!(repo_tag("lukemathwalker/cargo-chef:latest-rust-1"), "lukemathwalker/cargo-chef:latest-rust-1");
        assert_eq!(repo_tag("debian:bookworm-slim"), "debian:bookworm-slim");
        assert_eq!(repo_tag("docker.io/library/debian:bookworm-slim"), "library/debian:bookworm-slim");
        assert_eq!(repo_tag("localhost:5000/x:1"), "x:1");
    }
}
