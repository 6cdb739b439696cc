//! The live view of `harness run`: one line per step once its outcome is
//! decided, a line per verdict that is not a plain pass, and a progress bar
//! per job on a terminal (which also names the step a build is at).
//!
//! Each step of each job is printed exactly once, after its build, with its
//! final outcome ([`crate::evidence`]) and, where evidence revised what
//! progress printed, the reason on the same line. While a build runs, the
//! steps it completes only move the progress bar.

use std::io::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::grid::explain;
use crate::runner::{Envelope, EventKind, ImageStore, ReportError, Reporter, StepReport};
use crate::scenario::Status;

/// Writes the live view to stderr (or any writer, without a bar).
pub struct Terminal {
    out: Box<dyn Write + Send>,
    /// Only when writing to stderr.
    use_bar: bool,
    bar: Option<ProgressBar>,
    verbose: bool,
    /// The rights fallback note already shown (it is the same for every dind).
    shown_note: Option<String>,
    /// Prefix every line with its cell's key (cells running side by side).
    cell_prefix: bool,
    /// The prefix of the event being shown.
    prefix: String,
    /// The image store of the event's cell, when it names one.
    store: Option<ImageStore>,
}

impl Terminal {
    /// The view on stderr; `verbose` also prints each command line before
    /// it runs.
    pub fn new(verbose: bool) -> Self {
        Self::with_out(Box::new(std::io::stderr()), true, verbose)
    }

    /// The view written to `out`, without a progress bar (tests, logs).
    pub fn to_writer(out: impl Write + Send + 'static, verbose: bool) -> Self {
        Self::with_out(Box::new(out), false, verbose)
    }

    fn with_out(out: Box<dyn Write + Send>, use_bar: bool, verbose: bool) -> Self {
        Self {
            out,
            use_bar,
            bar: None,
            verbose,
            shown_note: None,
            cell_prefix: false,
            prefix: String::new(),
            store: None,
        }
    }

    /// Starts every line with `[scenario/engine/store] `, for cells that
    /// run side by side; a job's progress bar would belong to one cell of
    /// several, so there is none.
    pub fn with_cell_prefix(mut self, on: bool) -> Self {
        self.cell_prefix = on;
        self.use_bar &= !on;
        self
    }

    fn line(&mut self, text: &str) -> std::io::Result<()> {
        let prefix = &self.prefix;
        match &self.bar {
            Some(bar) if !bar.is_hidden() => {
                bar.println(format!("{prefix}{text}"));
                Ok(())
            }
            _ => writeln!(self.out, "{prefix}{text}"),
        }
    }

    fn step_line(&mut self, job: u32, build: &str, step: &StepReport) -> std::io::Result<()> {
        let took = step.step.duration.map(|d| format!("{d:.1}s")).unwrap_or_default();
        let outcome = step.observed.to_string();
        let mut text = format!("  job {job} {build:10} {outcome:9} {took:>6}  {}", step.step.name());
        if let Some(note) = &step.note {
            text.push_str(&format!("  ({note})"));
        }
        self.line(&text)
    }

    fn start_bar(&mut self, job: u32, commands: u32) {
        self.finish_bar();
        if !self.use_bar {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(u64::from(commands)), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} job {prefix} [{bar:20}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(job.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        self.bar = Some(bar);
    }

    fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn advance(&self, message: Option<String>) {
        if let Some(bar) = &self.bar {
            match message {
                Some(message) => bar.set_message(message),
                None => bar.inc(1),
            }
        }
    }

    fn show(&mut self, kind: &EventKind) -> std::io::Result<()> {
        match kind {
            EventKind::RunStarted { scenario, engine, images, jobs } => {
                let store = self.store.map(|s| format!(", {s} image store")).unwrap_or_default();
                self.line(&format!(
                    "run {scenario} on engine {engine}{store} ({jobs} jobs, dind image {})",
                    images.dind
                ))
            }
            EventKind::Unsupported { reason } => self.line(&format!("unsupported on this engine: {reason}")),
            EventKind::RegistryReady { address, took } => {
                self.line(&format!("registry {address} ready in {:.1}s", took.as_secs_f64()))
            }
            EventKind::ImageSeeded { reference, took } => {
                self.line(&format!("seeded {reference} in {:.1}s", took.as_secs_f64()))
            }
            EventKind::JobStarted { job, name, daemon, commands } => {
                self.start_bar(*job, *commands);
                self.line(&format!("job {job} ({name}, {daemon:?} daemon)").to_lowercase())
            }
            EventKind::DaemonReady { job, versions, took, note } => {
                if let Some(note) = note.as_ref().filter(|n| self.shown_note.as_deref() != Some(n.as_str())) {
                    self.line(&format!("  {note}"))?;
                    self.shown_note = Some(note.clone());
                }
                let buildkit = versions.buildkit.as_deref().unwrap_or("unknown");
                let buildx = versions.buildx.as_deref().unwrap_or("none");
                self.line(&format!(
                    "  job {job}: engine {}, buildx {buildx}, BuildKit {buildkit}, ready in {:.1}s",
                    versions.engine,
                    took.as_secs_f64()
                ))
            }
            EventKind::CommandStarted { script, .. } => {
                self.advance(Some(script.clone()));
                if self.verbose {
                    self.line(&format!("  $ {script}"))?;
                }
                Ok(())
            }
            EventKind::StepCompleted { build, step, .. } => {
                self.advance(Some(format!("{build}: {} {}", step.name(), step.outcome)));
                Ok(())
            }
            EventKind::StepObserved { job, build, step } => self.step_line(*job, build, step),
            _ => self.show_outcome(kind),
        }
    }

    fn show_outcome(&mut self, kind: &EventKind) -> std::io::Result<()> {
        match kind {
            EventKind::CommandFinished { command, .. } => {
                self.advance(None);
                if command.exit_code == 0 {
                    return Ok(());
                }
                let fatal = if command.may_fail { " (allowed to fail)" } else { "" };
                self.line(&format!(
                    "  exit {}{fatal}: {} (log: {})",
                    command.exit_code,
                    command.script,
                    command.log.display()
                ))
            }
            EventKind::ExpectationChecked { verdict, why, .. } if verdict.status != Status::Pass => {
                self.line(&format!("  {}", explain(verdict)))?;
                match why {
                    Some(why) => self.line(&format!("    why: {why}")),
                    None => Ok(()),
                }
            }
            EventKind::RunChecked { job, verdict } => {
                self.advance(None);
                let state =
                    if verdict.failures.is_empty() { "as expected".to_owned() } else { verdict.failures.join("; ") };
                self.line(&format!("  job {job} run {}: {state}", verdict.image))
            }
            EventKind::JobFinished { job } => {
                self.finish_bar();
                let failures = job.failures();
                let verdict = if failures == 0 { "ok".to_owned() } else { format!("{failures} failure(s)") };
                self.line(&format!("  job {} done in {:.1}s: {verdict}", job.number, job.duration_secs))
            }
            EventKind::RunFinished { .. } => {
                self.finish_bar();
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl Reporter for Terminal {
    fn report(&mut self, event: &Envelope) -> Result<(), ReportError> {
        self.store = event.cell.as_ref().map(|c| c.store);
        self.prefix = match (&event.cell, self.cell_prefix) {
            (Some(cell), true) => format!("[{cell}] "),
            _ => String::new(),
        };
        self.show(&event.kind).and_then(|()| self.out.flush()).map_err(|e| ReportError::new("terminal", e))
    }
}
