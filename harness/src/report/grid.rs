//! The job-by-step grid: one row per Dockerfile step (per build), one
//! column per job, each cell the observed outcome and, where the scenario
//! has an expectation, whether it held.

use std::fmt::Write as _;

use crate::evidence::LayerCompare;
use crate::runner::{Envelope, EventKind, JobReport, ReportError, Reporter, RunReport};
use crate::scenario::{Status, Verdict};

/// Longest step label shown; longer ones are cut with `…`.
const LABEL_WIDTH: usize = 64;

/// Renders the grid and a legend as plain text.
pub fn render_grid(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} on {} ({}): {}", report.scenario, report.engine, mode(report), report.status);
    if report.jobs.is_empty() {
        return out;
    }

    let rows = row_keys(&report.jobs);
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["step".to_owned()];
    header.extend(report.jobs.iter().map(|j| format!("job {}", j.number)));
    table.push(header);
    for (build, step) in &rows {
        let mut line = vec![truncate(&format!("{build}: {step}"), LABEL_WIDTH)];
        for job in &report.jobs {
            line.push(cell(job, build, step));
        }
        table.push(line);
    }
    let run_rows: Vec<String> = {
        let mut images: Vec<String> = Vec::new();
        for run in report.jobs.iter().flat_map(|j| &j.runs) {
            if !images.contains(&run.image) {
                images.push(run.image.clone());
            }
        }
        images
    };
    for image in &run_rows {
        let mut line = vec![truncate(&format!("run {image}"), LABEL_WIDTH)];
        for job in &report.jobs {
            let text = match job.runs.iter().find(|r| &r.image == image) {
                None => String::new(),
                Some(run) => format!("{}{}", if run.failures.is_empty() { "ok" } else { "bad" }, mark(&run.status)),
            };
            line.push(text);
        }
        table.push(line);
    }

    super::table::table(&mut out, "  ", &table);
    let _ = writeln!(
        out,
        "  legend: ✓ as expected  ✗ not as expected  ! known upstream bug reproduced  \
         ↑ known bug no longer reproduces  = same layer as the previous job"
    );
    for job in &report.jobs {
        for verdict in job.verdicts.iter().filter(|v| v.status != Status::Pass) {
            let _ = writeln!(out, "  {}", explain(verdict));
            if let Some(why) = super::cell::why_line(job, verdict) {
                let _ = writeln!(out, "    why: {why}");
            }
        }
        if let Some(error) = &job.error {
            let _ = writeln!(out, "  job {}: {error}", job.number);
        }
        for run in job.runs.iter().filter(|r| !r.failures.is_empty()) {
            let _ = writeln!(out, "  job {} run {}: {}", job.number, run.image, run.failures.join("; "));
        }
    }
    out
}

fn mode(report: &RunReport) -> String {
    match report.images.mode {
        crate::catalogue::ResolvedMode::Official => "official images".into(),
        crate::catalogue::ResolvedMode::Local => "offline stand-ins".into(),
    }
}

/// (build id, step name) of every step seen, in first-seen order.
fn row_keys(jobs: &[JobReport]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    for job in jobs {
        for build in job.commands.iter().filter_map(|c| c.build.as_ref()) {
            for step in &build.steps {
                let key = (build.id.clone(), step.step.name());
                if !rows.contains(&key) {
                    rows.push(key);
                }
            }
        }
    }
    rows
}

fn cell(job: &JobReport, build: &str, step: &str) -> String {
    let seen = job
        .commands
        .iter()
        .filter_map(|c| c.build.as_ref())
        .filter(|b| b.id == build)
        .flat_map(|b| &b.steps)
        .find(|s| s.step.name() == step);
    let verdict = job.verdicts.iter().find(|v| v.build == build && v.matched.as_deref() == Some(step));
    let Some(seen) = seen else {
        return verdict.map(|v| format!("absent{}", mark(&v.status))).unwrap_or_default();
    };
    // The step's outcome was decided once (crate::evidence); the verdict
    // read the same value.
    let outcome = seen.observed;
    let same = if seen.layer_vs_previous == Some(LayerCompare::Same) { "=" } else { "" };
    format!("{outcome}{same}{}", verdict.map(|v| mark(&v.status)).unwrap_or(""))
}

fn mark(status: &Status) -> &'static str {
    match status {
        Status::Pass => " ✓",
        Status::Fail => " ✗",
        Status::KnownBug { .. } => " !",
        Status::NoLongerReproduces { .. } => " ↑",
        Status::Unsupported { .. } => " -",
    }
}

/// One line for a verdict that is not a plain pass.
pub(crate) fn explain(verdict: &Verdict) -> String {
    let step = verdict.matched.as_deref().unwrap_or(&verdict.step);
    let observed = verdict.observed.map_or("nothing".to_owned(), |o| o.to_string());
    let what = match &verdict.status {
        Status::Pass => "as expected".to_owned(),
        Status::Fail => format!("expected {}, observed {observed}", verdict.expected),
        Status::KnownBug { link } => format!("{observed}: known upstream bug {link}"),
        Status::NoLongerReproduces { link } => {
            format!("{observed}: known bug {link} no longer reproduces on this engine")
        }
        Status::Unsupported { reason } => format!("not checked: {reason}"),
    };
    let mut line = format!("job {} {}: {step}: {what}", verdict.job, verdict.build);
    for note in &verdict.notes {
        line.push_str(&format!(" ({note})"));
    }
    line
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(width - 1).collect();
        format!("{cut}…")
    }
}

/// Prints each cell's grid to standard output when the cell finishes,
/// followed by where its `report.json` is.
pub struct GridReporter<W> {
    out: W,
}

impl GridReporter<std::io::Stdout> {
    pub fn stdout() -> Self {
        Self { out: std::io::stdout() }
    }
}

impl<W: std::io::Write + Send> Reporter for GridReporter<W> {
    fn report(&mut self, event: &Envelope) -> Result<(), ReportError> {
        let EventKind::RunFinished { report } = &event.kind else { return Ok(()) };
        let path = report.out_dir.join(super::json::REPORT_FILE);
        std::io::Write::write_fmt(
            &mut self.out,
            format_args!("{}\nreport: {}\n\n", render_grid(report), path.display()),
        )
        .and_then(|()| std::io::Write::flush(&mut self.out))
        .map_err(|e| ReportError::new("grid", e))
    }
}
