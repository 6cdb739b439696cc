//! The live view of recorded runs, replayed through the terminal reporter:
//! every step of every job is printed exactly once, with its final outcome.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use harness::report::Terminal;
use harness::runner::{replay, CellKey, Envelope, Reporter, RunReport};
use harness::scenario::Status;

/// A writer the test can read back after the terminal is done with it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn live_view(report: &RunReport) -> String {
    let out = Shared::default();
    let mut terminal = Terminal::to_writer(out.clone(), false);
    for kind in replay(report) {
        let envelope = Envelope { cell: None, timestamp: SystemTime::now(), elapsed: Duration::ZERO, kind };
        terminal.report(&envelope).unwrap();
    }
    let bytes = out.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn load(name: &str) -> RunReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn each_step_of_each_job_is_printed_once_with_its_final_outcome() {
    for name in ["cache-mount-copy-26.1.5.json", "ci-cache-from-all-stages-26.1.5.json"] {
        let report = load(name);
        let view = live_view(&report);
        let mut steps = 0;
        let mut revised = 0;
        for job in &report.jobs {
            for build in job.commands.iter().filter_map(|c| c.build.as_ref()) {
                for step in &build.steps {
                    steps += 1;
                    let head = format!("  job {} {:10} {:9} ", job.number, build.id, step.observed.to_string());
                    let lines: Vec<&str> = view
                        .lines()
                        .filter(|l| l.starts_with(&format!("  job {} {:10} ", job.number, build.id)))
                        .filter(|l| l.contains(&format!("  {}", step.step.name())))
                        .collect();
                    assert_eq!(lines.len(), 1, "{name}: job {} {}: {lines:#?}\n{view}", job.number, step.step.name());
                    assert!(lines[0].starts_with(&head), "{name}: not the final outcome: {}", lines[0]);
                    if let Some(note) = &step.note {
                        revised += 1;
                        assert!(lines[0].ends_with(&format!("({note})")), "{name}: reason missing: {}", lines[0]);
                    }
                }
            }
        }
        let step_lines = view.lines().filter(|l| l.starts_with("  job ") && l.contains("  [")).count();
        assert_eq!(step_lines, steps, "{name}: one line per step and no more\n{view}");
        assert!(steps > 20, "{name}: the recorded run has steps");
        if name.starts_with("cache-mount-copy") {
            assert!(revised > 0, "the recorded run has steps that layer evidence revised");
        }
    }
}

/// Two cells' events interleaved, as `harness matrix --parallel 2` sends
/// them: with the cell prefix on, every line names its cell and each cell's
/// lines are exactly its own run's, in order.
#[test]
fn side_by_side_cells_prefix_every_line_with_their_cell() {
    let reports = [load("cache-mount-copy-26.1.5.json"), load("ci-cache-from-all-stages-26.1.5.json")];
    let keys: Vec<CellKey> = reports.iter().map(CellKey::of).collect();
    let alone: Vec<String> = reports.iter().map(live_view).collect();
    let mut events: Vec<_> = reports.iter().map(|r| replay(r).into_iter()).collect();
    let out = Shared::default();
    let mut terminal = Terminal::to_writer(out.clone(), false).with_cell_prefix(true);
    let mut live = true;
    while live {
        live = false;
        for (key, cell_events) in keys.iter().zip(events.iter_mut()) {
            let Some(kind) = cell_events.next() else { continue };
            live = true;
            let envelope =
                Envelope { cell: Some(key.clone()), timestamp: SystemTime::now(), elapsed: Duration::ZERO, kind };
            terminal.report(&envelope).unwrap();
        }
    }
    let view = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    for (key, alone) in keys.iter().zip(&alone) {
        let prefix = format!("[{key}] ");
        let own: Vec<&str> = view.lines().filter_map(|l| l.strip_prefix(&prefix)).collect();
        let expected: Vec<&str> = alone.lines().filter(|l| !l.is_empty()).collect();
        // With a cell the run's first line also names its image store.
        assert_eq!(own[0], expected[0].replace(" (", &format!(", {} image store (", key.store)), "{key}");
        assert_eq!(own[1..], expected[1..], "{key}");
    }
    let unprefixed: Vec<&str> =
        view.lines().filter(|l| !l.is_empty() && !keys.iter().any(|k| l.starts_with(&format!("[{k}] ")))).collect();
    assert!(unprefixed.is_empty(), "lines without their cell: {unprefixed:#?}");
}

/// The why-line the grid prints under a known-bug hit or an unexpected
/// miss is printed live too, under the verdict, as the job is judged.
#[test]
fn the_why_line_follows_its_verdict_in_the_live_view() {
    let report = load("ci-inline-cache-26.1.5.json");
    let view = live_view(&report);
    let lines: Vec<&str> = view.lines().collect();
    let job3 = &report.jobs[2];
    let verdict = job3
        .verdicts
        .iter()
        .find(|v| matches!(v.status, Status::KnownBug { .. }))
        .expect("job 3 reproduces the known bug");
    let why = job3.why_line(verdict).expect("the recorded report explains cook's miss");
    assert!(why.starts_with("lost result: job 2 exported 14 records"), "{why}");
    let at =
        lines.iter().position(|l| *l == format!("    why: {why}")).unwrap_or_else(|| panic!("no why-line:\n{view}"));
    assert!(lines[at - 1].contains("known") && lines[at - 1].contains("cargo chef cook"), "{}\n{view}", lines[at - 1]);
    // Passing verdicts carry no why, even where the job has misses.
    assert_eq!(view.matches("    why: ").count(), 1, "{view}");
}
