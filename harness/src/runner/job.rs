//! Carries out planned jobs, one at a time, on one engine.
//!
//! The [`JobRunner`] owns what lives across the jobs of a cell: the options,
//! the shared registry, the event sink, the build context and the daemon
//! (kept for a warm job, replaced for a fresh one, stopped on every path out
//! by [`JobRunner::stop`]). Each job: write the Dockerfiles, apply the edits,
//! get a daemon, upload the context, run the planned command lines, observe
//! each build's steps ([`crate::evidence`]), read back the cache the job
//! pushed and explain its misses (`cache_hook`), run the checks, judge.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cache_hook::{CacheHook, HookContext};
use super::definition;
use super::error::{chain, RunError};
use super::events::{EventKind, Events};
use super::follow::LogFollower;
use super::interrupt;
use super::layers::map_layers;
use super::plan::{PlannedCommand, PlannedFile, PlannedJob};
use super::result::{BuildReport, CommandReport, JobReport};
use super::shared::{scenario_login, Shared};
use super::workspace::Workspace;
use super::{ImageStore, RunOptions};
use crate::cache::BuildDefinition;
use crate::catalogue::ResolvedMode;
use crate::engine::{
    disk_limit_from_env, log_says_no_space, CarryVolume, Daemon, DaemonOptions, EngineError, ExecOutcome,
};
use crate::evidence::{observe, JobLayers, LayerEvidence, Witnesses};
use crate::progress::{self, Build};
use crate::scenario::{check_run, evaluate_job, DaemonMode, ObservedBuilds, RunOutput, Scenario};

/// Where the build context lives inside each dind.
const CONTEXT_DIR: &str = "/harness/context";

/// How often a running build's log is read for the live view.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// Runs the jobs of one cell.
pub(crate) struct JobRunner<'a> {
    opts: &'a RunOptions,
    shared: &'a Shared,
    events: &'a Events,
    workspace: Workspace,
    dockerfiles: &'a [PlannedFile],
    /// Whether daemons use the containerd image store.
    containerd: bool,
    /// Whether the scenario logs in itself (the daemon then must not).
    logs_in: bool,
    daemon: Option<Daemon>,
    /// The layers of the last job that ran to its end.
    previous: Option<JobLayers>,
    /// Reads each job's pushed cache and explains its misses.
    cache: CacheHook,
    /// The folder every daemon of the cell mounts (`[daemon] carry`).
    carry: Option<CarryVolume>,
}

/// What a job's commands left for judging.
#[derive(Default)]
struct Observed {
    layers: JobLayers,
    /// Each build's LLB definition, by build id, or why there is none.
    definitions: HashMap<String, Result<BuildDefinition, String>>,
}

impl<'a> JobRunner<'a> {
    pub(crate) fn new(
        opts: &'a RunOptions,
        shared: &'a Shared,
        events: &'a Events,
        workspace: Workspace,
        dockerfiles: &'a [PlannedFile],
        scenario: &Scenario,
    ) -> Self {
        let containerd = opts.store == ImageStore::Containerd;
        let logs_in = scenario_login(scenario).is_some();
        Self {
            opts,
            shared,
            events,
            workspace,
            dockerfiles,
            containerd,
            logs_in,
            daemon: None,
            previous: None,
            cache: CacheHook::default(),
            carry: None,
        }
    }

    /// Mounts `carry` in every daemon the runner starts; [`Self::stop`]
    /// removes it after the last one.
    pub(crate) fn with_carry(mut self, carry: Option<CarryVolume>) -> Self {
        self.carry = carry;
        self
    }

    /// Runs one job. An edit that changes nothing or a command that fails
    /// ends the job with `error` set; only the machinery's failures are
    /// returned as errors.
    pub(crate) async fn run(&mut self, job: &PlannedJob<'_>) -> Result<JobReport, RunError> {
        let started = Instant::now();
        let commands = (job.commands.len() + job.runs.len()) as u32;
        self.events.emit(EventKind::JobStarted {
            job: job.number,
            name: job.name.clone(),
            daemon: job.daemon,
            commands,
        });
        let mut report = empty_report(job);
        let job_dir = self.opts.out_dir.join(format!("job-{}", job.number));
        std::fs::create_dir_all(&job_dir).map_err(|source| RunError::Output { path: job_dir.clone(), source })?;
        if let Err(error) = self.prepare_context(job, &mut report) {
            report.error = Some(error);
            report.duration_secs = started.elapsed().as_secs_f64();
            return Ok(report);
        }
        self.ensure_daemon(job, &mut report).await?;
        let observed = self.run_commands(job, &job_dir, &mut report).await?;
        let hook = HookContext {
            registry: self.shared.registry(),
            job_dir: &job_dir,
            dockerfiles: self.dockerfiles,
            context: self.workspace.path(),
            definitions: &observed.definitions,
        };
        self.cache.after_job(&hook, job, &mut report).await;
        if report.error.is_none() {
            self.run_checks(job, &mut report).await?;
        }
        self.judge(job, &mut report);
        // A job that stopped early leaves the comparison with the last full one.
        if report.error.is_none() {
            self.previous = Some(observed.layers);
        }
        report.duration_secs = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Writes the Dockerfiles and applies the job's edits; an edit that
    /// fails is a broken scenario, not an engine problem: its message.
    fn prepare_context(&self, job: &PlannedJob<'_>, report: &mut JobReport) -> Result<(), String> {
        for file in self.dockerfiles {
            self.workspace
                .write_dockerfile(&file.name, &file.content)
                .map_err(|e| format!("failed to write a Dockerfile into the build context: {}", chain(&e)))?;
        }
        for edit in &job.job.job.edits {
            let done = edit.apply(self.workspace.path(), &job.vars).map_err(|e| chain(&e))?;
            report.edits.push(done);
        }
        Ok(())
    }

    /// Starts a daemon for a fresh job (or the first), keeps it for a warm
    /// one, and uploads the build context.
    async fn ensure_daemon(&mut self, job: &PlannedJob<'_>, report: &mut JobReport) -> Result<(), RunError> {
        if job.daemon == DaemonMode::Fresh || self.daemon.is_none() {
            self.stop_daemon().await;
            let options = DaemonOptions::default()
                .with_label(self.opts.label.clone())
                .with_rights(self.opts.rights)
                .with_containerd_store(self.containerd)
                .with_allow_pull(self.opts.images.mode == ResolvedMode::Official)
                .with_login(!self.logs_in)
                .with_disk_limit(disk_limit_from_env()?)
                .with_carry(self.carry.clone());
            let start = Daemon::start(&self.opts.images.dind, self.shared.registry(), options);
            let daemon = interrupt::race(&format!("job {}: the start of its daemon", job.number), start).await??;
            report.daemon_ready_secs = Some(daemon.ready_after().as_secs_f64());
            self.events.emit(EventKind::DaemonReady {
                job: job.number,
                versions: Box::new(daemon.versions().clone()),
                took: daemon.ready_after(),
                note: daemon.fallback_note().map(str::to_owned),
            });
            self.daemon = Some(daemon);
        }
        let daemon = self.daemon()?;
        report.versions = Some(daemon.versions().clone());
        daemon.capture(&format!("rm -rf {CONTEXT_DIR}"), self.opts.command_timeout).await?;
        daemon.copy_dir(self.workspace.path(), CONTEXT_DIR).await?;
        Ok(())
    }

    fn daemon(&self) -> Result<&Daemon, RunError> {
        // `ensure_daemon` runs first: a missing daemon is a bug, reported
        // as an engine failure rather than a panic mid-run.
        self.daemon.as_ref().ok_or_else(|| {
            RunError::Engine(EngineError::Docker {
                what: "find the job's daemon".into(),
                source: "none started".into(),
            })
        })
    }

    /// Runs the job's command lines in order, stopping at the first that
    /// fails without being allowed to.
    async fn run_commands(
        &self,
        job: &PlannedJob<'_>,
        job_dir: &Path,
        report: &mut JobReport,
    ) -> Result<Observed, RunError> {
        let mut observed = Observed::default();
        for command in &job.commands {
            let log = job_dir.join(&command.log);
            let command_report = self.run_command(job.number, command, &log, &mut observed).await?;
            self.events.emit(EventKind::CommandFinished { job: job.number, command: Box::new(command_report.clone()) });
            let failed = command_report.exit_code != 0 && !command.rendered.may_fail;
            report.commands.push(command_report);
            // A command that failed because the run's registry is gone is
            // the machinery's failure, not the scenario's.
            if failed && !self.shared.registry().is_running().await {
                return Err(RunError::Engine(EngineError::RegistryDied {
                    image: self.shared.registry().image().to_owned(),
                    what: command.rendered.script.clone(),
                }));
            }
            // So is one that failed because the daemon's disk is full.
            if failed && log_says_no_space(&log) {
                return Err(RunError::Engine(self.daemon()?.disk_full(&command.rendered.script, &log).await));
            }
            if failed {
                report.error = Some(format!(
                    "`{}` exited with {}; the job's later commands were not run (log: {})",
                    command.rendered.script,
                    report.commands.last().map_or(0, |c| c.exit_code),
                    log.display()
                ));
                break;
            }
        }
        Ok(observed)
    }

    async fn run_command(
        &self,
        job: u32,
        command: &PlannedCommand,
        log: &Path,
        observed: &mut Observed,
    ) -> Result<CommandReport, RunError> {
        let daemon = self.daemon()?;
        let rendered = &command.rendered;
        self.events.emit(EventKind::CommandStarted { job, script: rendered.script.clone() });
        if let Some(password) = &command.password {
            daemon.write_password(&password.0).await?;
        }
        // A build also writes its metadata (the LLB definition) where buildx can.
        // One name per job and command: a warm daemon keeps earlier files.
        let stem = log.file_stem().map_or_else(|| "build".into(), |s| s.to_string_lossy().into_owned());
        let name = format!("job-{job}-{stem}");
        let metadata = rendered.build_id.as_ref().map(|_| definition::plan(&rendered.script, daemon.versions(), &name));
        let (line, env) =
            metadata.as_ref().map_or((rendered.script.as_str(), &[][..]), |m| (m.script.as_str(), &m.env[..]));
        let script = format!("cd {CONTEXT_DIR} && {line}");
        let exec = daemon.exec(&script, env, log, self.opts.command_timeout);
        let during = format!("job {job}: `{}`", rendered.script);
        let outcome = match &rendered.build_id {
            Some(id) => interrupt::race(&during, follow_build(exec, log, job, id, self.events)).await??,
            None => interrupt::race(&during, exec).await??,
        };
        let build = match &rendered.build_id {
            Some(id) => {
                let mut build = self.observe_build(job, id, command, log, observed).await;
                if let Some(metadata) = metadata {
                    let (report, decoded) = self.read_definition(metadata.path, log).await;
                    build.definition = Some(report);
                    observed.definitions.insert(id.clone(), decoded);
                }
                Some(build)
            }
            None => None,
        };
        Ok(CommandReport {
            script: rendered.script.clone(),
            exit_code: outcome.exit_code,
            may_fail: rendered.may_fail,
            duration_secs: outcome.duration.as_secs_f64(),
            log: log.to_owned(),
            build,
        })
    }

    /// Reads the metadata file a build wrote (`path` in the dind, or why
    /// it wrote none) and keeps a copy next to its log.
    async fn read_definition(
        &self,
        path: Result<String, String>,
        log: &Path,
    ) -> (definition::DefinitionReport, Result<BuildDefinition, String>) {
        let read = match (path, self.daemon()) {
            (Err(why), _) => Err(why),
            (Ok(_), Err(e)) => Err(chain(&e)),
            (Ok(path), Ok(daemon)) => match daemon.capture(&format!("cat {path}"), self.opts.command_timeout).await {
                Ok(out) if out.success() => Ok(out.stdout),
                Ok(out) => Err(format!("the build wrote no metadata file at {path}: {}", out.stderr.trim())),
                Err(e) => Err(format!("cannot read {path} from the dind: {}", chain(&e))),
            },
        };
        definition::conclude(read, &log.with_extension("metadata.json"))
    }

    /// Parses a build's log, maps its steps to the tagged image's layers,
    /// and decides each step's outcome once; reports each step once.
    async fn observe_build(
        &self,
        job: u32,
        id: &str,
        command: &PlannedCommand,
        log: &Path,
        observed: &mut Observed,
    ) -> BuildReport {
        let mut report = BuildReport {
            id: id.to_owned(),
            steps: Vec::new(),
            parse_error: None,
            layers_note: None,
            definition: None,
        };
        let build = match progress::parse_path(log) {
            Ok(builds) => builds.into_iter().last(),
            Err(e) => {
                report.parse_error = Some(e.to_string());
                None
            }
        };
        let Some(build) = build else {
            report.parse_error.get_or_insert_with(|| "the log holds no build".into());
            return report;
        };
        let mut step_layers = self.step_layers(&build, command, &mut report).await;
        for (i, step) in build.steps.iter().enumerate() {
            if let Some(layer) = step_layers.get(&i) {
                observed.layers.insert(id, step, layer.clone());
            }
        }
        let evidence = LayerEvidence { current: Some(&observed.layers), previous: self.previous.as_ref() };
        for (i, step) in build.steps.into_iter().enumerate() {
            let witnesses = Witnesses {
                layer: step_layers.remove(&i),
                layer_vs_previous: evidence.compare(id, &step),
                cache: None,
            };
            let step = observe(step, witnesses, job);
            self.events.emit(EventKind::StepObserved { job, build: id.to_owned(), step: Box::new(step.clone()) });
            report.steps.push(step);
        }
        report
    }

    /// The layer of each step (by index) in the image the build tagged.
    async fn step_layers(
        &self,
        build: &Build,
        command: &PlannedCommand,
        report: &mut BuildReport,
    ) -> HashMap<usize, String> {
        let Some(tag) = &command.tag else {
            report.layers_note = Some("the build tags no image, so its layers are unknown".into());
            return HashMap::new();
        };
        let history = match self.daemon() {
            Ok(daemon) => daemon.image_history(tag).await.map_err(RunError::from),
            Err(e) => Err(e),
        };
        match history {
            Ok(history) => map_layers(&build.steps, command.target.as_deref(), &history).into_iter().collect(),
            Err(e) => {
                report.layers_note = Some(format!("no layer evidence: {}", chain(&e)));
                HashMap::new()
            }
        }
    }

    async fn run_checks(&self, job: &PlannedJob<'_>, report: &mut JobReport) -> Result<(), RunError> {
        let daemon = self.daemon()?;
        for (check, rendered) in job.job.runs().zip(&job.runs) {
            self.events.emit(EventKind::CommandStarted { job: job.number, script: rendered.script.clone() });
            let during = format!("job {}: `{}`", job.number, rendered.script);
            let out = interrupt::race(&during, daemon.capture(&rendered.script, self.opts.command_timeout)).await??;
            let verdict = check_run(check, &job.vars, &RunOutput { exit_code: out.exit_code, stdout: out.stdout });
            self.events.emit(EventKind::RunChecked { job: job.number, verdict: Box::new(verdict.clone()) });
            report.runs.push(verdict);
        }
        Ok(())
    }

    /// Judges the job's expectations on the steps as observed.
    fn judge(&self, job: &PlannedJob<'_>, report: &mut JobReport) {
        let builds: ObservedBuilds<'_> = report
            .commands
            .iter()
            .filter_map(|c| c.build.as_ref())
            .filter(|b| b.parse_error.is_none())
            .map(|b| (b.id.as_str(), b.steps.as_slice()))
            .collect();
        let verdicts = evaluate_job(&job.job, &self.opts.engine.version, self.opts.store, &builds);
        for verdict in &verdicts {
            let why = report.why_line(verdict).map(str::to_owned);
            self.events.emit(EventKind::ExpectationChecked {
                job: job.number,
                verdict: Box::new(verdict.clone()),
                why,
            });
        }
        report.verdicts = verdicts;
    }

    async fn stop_daemon(&mut self) {
        if let Some(daemon) = self.daemon.take() {
            let stopped = if interrupt::is_set() { daemon.remove_now().await } else { daemon.stop().await };
            if let Err(e) = stopped {
                tracing::warn!("failed to stop a dind: {e:#}");
            }
        }
    }

    /// Stops the daemon, whatever happened, then removes the carried folder.
    pub(crate) async fn stop(mut self) {
        self.stop_daemon().await;
        if let Some(carry) = self.carry.take() {
            let name = carry.name().to_owned();
            if let Err(e) = carry.remove().await {
                tracing::warn!("failed to remove the carry volume {name}: {e:#}");
            }
        }
    }
}

fn empty_report(job: &PlannedJob<'_>) -> JobReport {
    JobReport {
        number: job.number,
        name: job.name.clone(),
        daemon: job.daemon,
        versions: None,
        daemon_ready_secs: None,
        edits: Vec::new(),
        commands: Vec::new(),
        verdicts: Vec::new(),
        runs: Vec::new(),
        error: None,
        duration_secs: 0.0,
        caches: Vec::new(),
        misses: Vec::new(),
    }
}

/// Awaits a build's exec while reporting each step as its log shows it
/// complete (the parser's outcome, for progress displays).
async fn follow_build(
    exec: impl std::future::Future<Output = Result<ExecOutcome, EngineError>>,
    log: &Path,
    job: u32,
    build: &str,
    events: &Events,
) -> Result<ExecOutcome, EngineError> {
    let mut follower = LogFollower::new(log.to_owned());
    let report = |follower: &mut LogFollower| {
        for step in follower.poll() {
            events.emit(EventKind::StepCompleted { job, build: build.to_owned(), step: Box::new(step) });
        }
    };
    tokio::pin!(exec);
    loop {
        tokio::select! {
            outcome = &mut exec => {
                report(&mut follower);
                return outcome;
            }
            _ = tokio::time::sleep(FOLLOW_EVERY) => report(&mut follower),
        }
    }
}
