//! Progress of a long matrix run: cells done and running, time elapsed and
//! an estimate of what is left. On a terminal an indicatif bar (other
//! output goes above it through [`BarWriter`]); elsewhere (CI logs) one
//! plain line per finished cell.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runner::{CellKey, Envelope, EventKind, ReportError, Reporter, RunReport};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyleChoice {
    /// A bar redrawn in place (a terminal).
    Tty,
    /// A line per finished cell (logs, CI).
    Plain,
}

/// Counts cells as they start and finish.
pub struct MatrixProgress {
    total: usize,
    parallel: usize,
    done: usize,
    /// Cells known before the start to be unsupported and not finished
    /// yet: they take no time, so the estimate leaves them out.
    unsupported: BTreeSet<CellKey>,
    /// Running cells and when each started.
    running: BTreeMap<CellKey, Instant>,
    /// Wall seconds of the cells that finished and ran jobs.
    durations: Vec<f64>,
    started: Instant,
    bar: Option<ProgressBar>,
    out: Box<dyn Write + Send>,
}

impl MatrixProgress {
    /// Progress of `total` cells, `parallel` at a time, shown on stderr;
    /// `unsupported` are known not to run.
    pub fn new(total: usize, unsupported: BTreeSet<CellKey>, parallel: usize, style: ProgressStyleChoice) -> Self {
        let bar = (style == ProgressStyleChoice::Tty).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} cells {pos}/{len} [{bar:20}] {prefix} {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Self::with_parts(total, parallel, bar, Box::new(std::io::stderr())).skipping(unsupported)
    }

    fn with_parts(total: usize, parallel: usize, bar: Option<ProgressBar>, out: Box<dyn Write + Send>) -> Self {
        let parallel = parallel.max(1);
        Self {
            total,
            parallel,
            done: 0,
            unsupported: BTreeSet::new(),
            running: BTreeMap::new(),
            durations: Vec::new(),
            started: Instant::now(),
            bar,
            out,
        }
    }

    fn skipping(mut self, unsupported: BTreeSet<CellKey>) -> Self {
        self.unsupported = unsupported;
        self
    }

    /// The bar, when there is one: other output must go through it.
    pub fn bar(&self) -> Option<ProgressBar> {
        self.bar.clone()
    }

    /// Seconds left, from the mean wall time of the cells done so far: a
    /// mean for each cell not started (unsupported ones aside), what is
    /// left of a mean for each running one, `parallel` at a time; none
    /// before the first cell that ran jobs.
    fn estimate(&self) -> Option<f64> {
        if self.durations.is_empty() {
            return None;
        }
        let mean = self.durations.iter().sum::<f64>() / self.durations.len() as f64;
        let waiting = self.total.saturating_sub(self.done + self.running.len() + self.unsupported.len()) as f64;
        let running: f64 = self.running.values().map(|since| (mean - since.elapsed().as_secs_f64()).max(0.0)).sum();
        Some((mean * waiting + running) / self.parallel as f64)
    }

    fn status_text(&self) -> String {
        let estimate = self.estimate().map(|s| format!(", about {} left", minutes(s))).unwrap_or_default();
        format!("{} running, elapsed {}{estimate}", self.running.len(), minutes(self.started.elapsed().as_secs_f64()))
    }

    /// Counts a finished cell; returns its plain line.
    fn finished(&mut self, cell: &CellKey, report: &RunReport) -> String {
        self.running.remove(cell);
        self.done += 1;
        self.unsupported.remove(cell);
        if !report.jobs.is_empty() {
            self.durations.push(report.duration_secs);
        }
        format!(
            "[{}/{}] {cell} {} in {:.1}s ({})",
            self.done,
            self.total,
            report.status,
            report.duration_secs,
            self.status_text()
        )
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.done as u64);
            bar.set_prefix(self.status_text());
            let names: Vec<String> = self.running.keys().map(ToString::to_string).collect();
            bar.set_message(names.join(", "));
        }
    }
}

impl Reporter for MatrixProgress {
    fn report(&mut self, event: &Envelope) -> Result<(), ReportError> {
        let Some(cell) = &event.cell else { return Ok(()) };
        match &event.kind {
            EventKind::RunStarted { .. } => {
                self.running.insert(cell.clone(), Instant::now());
            }
            EventKind::RunFinished { report } => {
                let line = self.finished(cell, report);
                if self.bar.as_ref().is_none_or(ProgressBar::is_hidden) {
                    writeln!(self.out, "{line}").map_err(|e| ReportError::new("progress", e))?;
                }
            }
            _ => return Ok(()),
        }
        self.redraw();
        Ok(())
    }
}

impl Drop for MatrixProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `42s`, `12m 05s`.
fn minutes(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

/// Writes whole lines above a progress bar, so they do not tear it.
pub struct BarWriter {
    bar: ProgressBar,
    pending: Vec<u8>,
}

impl BarWriter {
    pub fn new(bar: ProgressBar) -> Self {
        Self { bar, pending: Vec::new() }
    }
}

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.bar.println(String::from_utf8_lossy(&line[..end]));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::runner::ImageStore;

    #[test]
    fn plain_lines_count_cells_and_estimate_what_is_left() {
        let text = include_str!("../../tests/fixtures/reports/cache-mount-copy-26.1.5.json");
        let mut report: RunReport = serde_json::from_str(text).unwrap();
        report.duration_secs = 120.0;
        let mut progress = MatrixProgress::with_parts(4, 2, None, Box::new(std::io::sink()));
        let key =
            CellKey { scenario: report.scenario.clone(), engine: report.engine.clone(), store: ImageStore::Classic };
        let started = Envelope {
            cell: Some(key.clone()),
            timestamp: SystemTime::now(),
            elapsed: Duration::ZERO,
            kind: EventKind::RunStarted {
                scenario: report.scenario.clone(),
                engine: report.engine.clone(),
                images: Box::new(report.images.clone()),
                jobs: 3,
            },
        };
        progress.report(&started).unwrap();
        assert!(progress.status_text().starts_with("1 running, elapsed "), "{}", progress.status_text());
        let line = progress.finished(&key, &report);
        assert!(
            line.starts_with("[1/4] cache-mount-copy/26.1.5/classic passed in 120.0s (0 running, elapsed "),
            "{line}"
        );
        // Three cells left at 120 s each, two at a time.
        assert!(line.ends_with(", about 3m 00s left)"), "{line}");
        // A cell that has run for a whole mean already counts for nothing.
        let since = Instant::now().checked_sub(Duration::from_secs(200)).unwrap();
        progress.running.insert(CellKey { engine: "28.5.2".into(), ..key }, since);
        let left = progress.estimate().unwrap();
        assert!((left - 120.0).abs() < 1.0, "two cells waiting at 120 s, two at a time: {left}");
    }

    /// Cells known to be unsupported finish at once: the estimate counts
    /// only those that will run (a full matrix has 17 of 48 unsupported,
    /// and counting them nearly tripled the estimate).
    #[test]
    fn the_estimate_leaves_out_cells_known_to_be_unsupported() {
        let text = include_str!("../../tests/fixtures/reports/cache-mount-copy-26.1.5.json");
        let mut report: RunReport = serde_json::from_str(text).unwrap();
        report.duration_secs = 120.0;
        let key = |engine: &str| CellKey { scenario: "s".into(), engine: engine.into(), store: ImageStore::Classic };
        let unsupported: BTreeSet<CellKey> = ["1", "2", "3"].into_iter().map(key).collect();
        let mut progress = MatrixProgress::with_parts(6, 1, None, Box::new(std::io::sink())).skipping(unsupported);
        progress.finished(&key("0"), &report);
        // Five cells left, three of them unsupported: two at 120 s.
        assert!((progress.estimate().unwrap() - 240.0).abs() < 1.0);
        let mut skipped = report.clone();
        skipped.jobs.clear();
        progress.finished(&key("1"), &skipped);
        assert!((progress.estimate().unwrap() - 240.0).abs() < 1.0, "an unsupported cell's end changes nothing");
        progress.finished(&key("4"), &report);
        assert!((progress.estimate().unwrap() - 120.0).abs() < 1.0);
    }

    #[test]
    fn minutes_read_well() {
        assert_eq!(minutes(42.4), "42s");
        assert_eq!(minutes(725.0), "12m 05s");
    }
}
