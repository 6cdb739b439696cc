//! Building findings: quoting log lines as [`Citation`]s and filling a
//! [`Finding`] from the pattern's entry in [`super::knowledge`].

use crate::progress::Step;

use super::knowledge;
use super::misses::Run;
use super::model::{Citation, Finding, Pattern, Severity};

/// At most this many evidence lines per finding; the rest are counted.
const MAX_EVIDENCE: usize = 12;

/// Line `line` of the run's log.
pub(crate) fn line(run: &Run, line: u64, note: impl Into<String>) -> Citation {
    let note = note.into();
    Citation { file: run.log.label.clone(), line, text: run.log.quote(line), note: (!note.is_empty()).then_some(note) }
}

/// The line that opens `step` in the run's log, if it was printed.
pub(crate) fn step(run: &Run, step: &Step, note: impl Into<String>) -> Option<Citation> {
    let first = step.evidence.lines.first;
    (first > 0).then(|| line(run, first, note))
}

/// A finding of `pattern` with the pattern's fixed text.
pub(crate) fn finding(
    pattern: Pattern,
    target: Option<&str>,
    step: Option<&Step>,
    summary: String,
    mut evidence: Vec<Citation>,
) -> Finding {
    let entry = knowledge::entry(pattern);
    let mut seen: Vec<(String, u64)> = Vec::new();
    evidence.retain(|c| {
        let key = (c.file.clone(), c.line);
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    if evidence.len() > MAX_EVIDENCE {
        let more = evidence.len() - MAX_EVIDENCE + 1;
        evidence.truncate(MAX_EVIDENCE - 1);
        let last = evidence.last().cloned();
        if let Some(mut c) = last {
            c.note = Some(format!("and {more} more lines like these"));
            evidence.push(c);
        }
    }
    Finding {
        pattern,
        severity: entry.severity,
        target: target.map(str::to_owned),
        step: step.map(Step::name),
        title: entry.title.to_owned(),
        summary,
        explanation: entry.explanation.to_owned(),
        fix: entry.fix.to_owned(),
        links: entry.links.iter().map(|l| (*l).to_owned()).collect(),
        evidence,
    }
}

/// The same finding at another severity.
pub(crate) fn with_severity(mut finding: Finding, severity: Severity) -> Finding {
    finding.severity = severity;
    finding
}

/// `job2.log` or `job2.log build 2`: how a run is named in summaries.
pub(crate) fn run_name(run: &Run) -> String {
    if run.log.builds.len() > 1 {
        format!("{} (build {})", run.log.label, run.r.build + 1)
    } else {
        run.log.label.clone()
    }
}
