//! The live view of `harness run`: a line per step as its build completes,
//! a line per verdict, and a progress bar per job on a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::grid::explain;
use crate::progress::{Outcome, Step};
use crate::runner::{Event, Reporter};
use crate::scenario::Status;

/// Writes the live view to stderr.
pub struct Terminal {
    bar: Option<ProgressBar>,
    verbose: bool,
    /// The rights fallback note already shown (it is the same for every dind).
    shown_note: Option<String>,
}

impl Terminal {
    /// `verbose` also prints each command line before it runs.
    pub fn new(verbose: bool) -> Self {
        Self { bar: None, verbose, shown_note: None }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.println(text),
            _ => eprintln!("{text}"),
        }
    }

    fn step_line(&self, job: u32, build: &str, step: &Step, outcome: Outcome) {
        let took = step.duration.map(|d| format!("{d:.1}s")).unwrap_or_default();
        let outcome = outcome.to_string();
        self.line(&format!("  job {job} {build:10} {outcome:9} {took:>6}  {}", step.name()));
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for Terminal {
    fn event(&mut self, event: &Event<'_>) {
        match event {
            Event::RunStarted { scenario, engine, images, jobs } => {
                self.line(&format!("run {scenario} on engine {engine} ({jobs} jobs, dind image {})", images.dind));
            }
            Event::Unsupported { reason } => self.line(&format!("unsupported on this engine: {reason}")),
            Event::RegistryReady { address, took } => {
                self.line(&format!("registry {address} ready in {:.1}s", took.as_secs_f64()))
            }
            Event::ImageSeeded { reference, took } => {
                self.line(&format!("seeded {reference} in {:.1}s", took.as_secs_f64()))
            }
            Event::JobStarted { job, name, daemon, commands } => {
                self.finish_bar();
                let bar = ProgressBar::with_draw_target(Some(u64::from(*commands)), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} job {prefix} [{bar:20}] {pos}/{len} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(job.to_string());
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                self.bar = Some(bar);
                self.line(&format!("job {job} ({name}, {daemon:?} daemon)").to_lowercase());
            }
            Event::DaemonReady { job, versions, took, note } => {
                if let Some(note) = note.filter(|n| self.shown_note.as_deref() != Some(*n)) {
                    self.line(&format!("  {note}"));
                    self.shown_note = Some(note.to_owned());
                }
                let buildkit = versions.buildkit.as_deref().unwrap_or("unknown");
                let buildx = versions.buildx.as_deref().unwrap_or("none");
                self.line(&format!(
                    "  job {job}: engine {}, buildx {buildx}, BuildKit {buildkit}, ready in {:.1}s",
                    versions.engine,
                    took.as_secs_f64()
                ));
            }
            Event::CommandStarted { script, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(script.to_string());
                }
                if self.verbose {
                    self.line(&format!("  $ {script}"));
                }
            }
            Event::StepCompleted { job, build, step } => self.step_line(*job, build, step, step.outcome),
            Event::StepObserved { job, build, step } => {
                // Shown live already, unless it never printed a result or
                // layer evidence changed the judgement.
                if step.step.evidence.results.is_empty() || step.note.is_some() {
                    self.step_line(*job, build, &step.step, step.observed);
                }
                if let Some(note) = &step.note {
                    self.line(&format!("      {note}"));
                }
            }
            Event::CommandFinished { command, .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                if command.exit_code != 0 {
                    let fatal = if command.may_fail { " (allowed to fail)" } else { "" };
                    self.line(&format!(
                        "  exit {}{fatal}: {} (log: {})",
                        command.exit_code,
                        command.script,
                        command.log.display()
                    ));
                }
            }
            Event::ExpectationChecked { verdict, .. } => {
                if verdict.status != Status::Pass {
                    self.line(&format!("  {}", explain(verdict)));
                }
            }
            Event::RunChecked { job, verdict } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                let state =
                    if verdict.failures.is_empty() { "as expected".to_owned() } else { verdict.failures.join("; ") };
                self.line(&format!("  job {job} run {}: {state}", verdict.image));
            }
            Event::JobFinished { job } => {
                self.finish_bar();
                let failures = job.failures();
                let verdict = if failures == 0 { "ok".to_owned() } else { format!("{failures} failure(s)") };
                self.line(&format!("  job {} done in {:.1}s: {verdict}", job.number, job.duration_secs));
            }
            Event::RunFinished { .. } => self.finish_bar(),
        }
    }
}
