//! JUnit XML for CI test views (GitLab `artifacts:reports:junit`,
//! dorny/test-reporter, mikepenz/action-junit-report): a testsuite per
//! scenario, a testcase per cell.
//!
//! A failed cell carries a `failure` whose message lists every failed
//! expectation and whose text quotes the log; an error cell an `error`; an
//! unsupported cell is `skipped`. A known bug that still reproduces passes
//! with its link in `system-out`; a known bug that no longer reproduces also
//! passes, but its testcase name says so, the one place every reader shows.

use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::cell::{findings, CellState, Finding, FindingKind};
use super::matrix::{Column, Matrix};
use crate::runner::{RunReport, RunStatus};

/// Name of the `<testsuites>` root.
const REPORT_NAME: &str = "harness matrix";

/// Renders the JUnit XML of a set of cells.
pub fn render_junit(reports: &[RunReport]) -> String {
    let matrix = Matrix::new(reports);
    let mut report = Report::new(REPORT_NAME);
    for scenario in &matrix.scenarios {
        let mut suite = TestSuite::new(*scenario);
        let mut time = 0.0;
        for cell in matrix.row(scenario) {
            time += cell.duration_secs;
            suite.add_test_case(test_case(cell));
        }
        suite.set_time(seconds(time));
        report.add_test_suite(suite);
    }
    // Serialising an in-memory model to a String fails only on a bug in
    // quick-junit; the message says which.
    report.to_string().unwrap_or_else(|e| panic!("quick-junit failed to serialise a report: {e}"))
}

/// Writes the JUnit XML to `out`.
pub fn write_junit(reports: &[RunReport], mut out: impl std::io::Write) -> std::io::Result<()> {
    out.write_all(render_junit(reports).as_bytes())
}

fn test_case(cell: &RunReport) -> TestCase {
    let state = CellState::of(cell);
    let found = findings(cell);
    let mut name = format!("{} on {}", cell.scenario, Column::of(cell).label());
    if state == CellState::BugGone {
        let links: Vec<&str> = found.iter().filter_map(bug_gone_link).collect();
        let _ = write!(name, " [KNOWN BUG GONE: {} no longer reproduces]", dedup(links).join(", "));
    }
    let status = match (&cell.status, state) {
        (RunStatus::Failed { failures }, _) => failed_status(*failures, &found),
        (RunStatus::Error { error_kind, message }, _) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type(error_kind.to_string()).set_message(message.as_str());
            status
        }
        (RunStatus::Interrupted { message }, _) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type("interrupted").set_message(message.as_str());
            status
        }
        (RunStatus::Unsupported { reason }, _) => {
            let mut status = TestCaseStatus::skipped();
            status.set_type("unsupported").set_message(reason.as_str());
            status
        }
        (RunStatus::Passed, _) => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(name, status);
    case.set_classname(cell.scenario.as_str()).set_time(seconds(cell.duration_secs));
    case.set_system_out(system_out(cell, state, &found));
    case
}

fn failed_status(failures: usize, found: &[Finding]) -> TestCaseStatus {
    let failed: Vec<&Finding> = found.iter().filter(|f| f.kind == FindingKind::Failed).collect();
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    let mut message = format!("{failures} failed expectation(s): ");
    message.push_str(&failed.iter().map(|f| f.headline()).collect::<Vec<_>>().join("; "));
    let mut text = String::new();
    for finding in &failed {
        let _ = writeln!(text, "{}", finding.headline());
        for line in &finding.excerpt {
            let _ = writeln!(text, "    {line}");
        }
        if let Some(log) = &finding.log {
            let _ = writeln!(text, "    log: {log}");
        }
    }
    status.set_type("expectation").set_message(message).set_description(text);
    status
}

/// The cell's state, known bugs with their links, versions and images.
fn system_out(cell: &RunReport, state: CellState, found: &[Finding]) -> String {
    let mut out =
        format!("{}: {} on {}: {}\n", state.label(), cell.scenario, Column::of(cell).label(), state.meaning());
    for finding in found {
        match &finding.kind {
            FindingKind::Failed => {}
            FindingKind::KnownBug(link) => {
                let _ = writeln!(out, "known bug {link} reproduced: {}", finding.headline());
            }
            FindingKind::BugGone(link) => {
                let _ = writeln!(out, "KNOWN BUG GONE: {link} no longer reproduces: {}", finding.headline());
            }
        }
    }
    for link in &cell.links {
        let _ = writeln!(out, "link: {link}");
    }
    let _ = writeln!(out, "images: dind {} ({})", cell.images.dind, cell.images_reason);
    if let Some(v) = cell.jobs.iter().find_map(|j| j.versions.as_ref()) {
        let _ = writeln!(
            out,
            "engine {} (API {}), buildx {}, buildkit {}, containerd {}, storage {}",
            v.engine,
            v.api,
            v.buildx.as_deref().unwrap_or("none"),
            v.buildkit.as_deref().unwrap_or("unknown"),
            v.containerd.as_deref().unwrap_or("unknown"),
            v.storage_driver
        );
    }
    let _ = writeln!(out, "report: {}", cell.out_dir.join("report.json").display());
    out
}

fn bug_gone_link(finding: &Finding) -> Option<&str> {
    match &finding.kind {
        FindingKind::BugGone(link) => Some(link),
        _ => None,
    }
}

fn dedup(mut items: Vec<&str>) -> Vec<&str> {
    let mut seen = Vec::new();
    items.retain(|i| {
        let new = !seen.contains(i);
        seen.push(*i);
        new
    });
    items
}

fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or_default()
}
