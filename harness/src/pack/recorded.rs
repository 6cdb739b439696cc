//! The run a pack came from (`--from-run DIR`): its `report.json` and logs,
//! copied under `recorded/` with secrets removed and host paths made
//! relative to the pack.

use std::path::{Path, PathBuf};

use super::context::scrub;
use super::files::{self, Tree};
use super::secrets::{self, Finding, Kind, REPLACED};
use super::PackError;
use crate::runner::RunReport;

/// Where the recorded run goes inside the pack.
pub(crate) const DIR: &str = "recorded";

/// A recorded run: its report (cleaned) and its files for the pack.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub report: RunReport,
    pub files: Tree,
}

/// Reads `dir/report.json` and the logs beside it.
pub(crate) fn read(dir: &Path, findings: &mut Vec<Finding>) -> Result<Recorded, PackError> {
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path).map_err(|e| PackError::Io { path: path.clone(), source: e })?;
    let mut report: RunReport =
        serde_json::from_str(&text).map_err(|e| PackError::Report { path: path.clone(), source: e })?;
    clean_report(&mut report, dir, findings);

    let all = files::read_dir(dir).map_err(|e| PackError::Io { path: dir.to_owned(), source: e })?;
    let mut tree = Tree::new();
    for (rel, entry) in all {
        if rel == "report.json" {
            continue;
        }
        let place = format!("{DIR}/{rel}");
        if let Some(entry) = scrub(&place, entry, findings) {
            tree.insert(place, entry);
        }
    }
    let json =
        serde_json::to_string_pretty(&report).map_err(|e| PackError::Report { path: path.clone(), source: e })?;
    let (json, found) = secrets::redact(&json, Kind::File);
    for what in found {
        findings.push(Finding { place: format!("{DIR}/report.json"), what: what.to_owned(), action: REPLACED });
    }
    tree.insert(format!("{DIR}/report.json"), files::file(json + "\n"));
    Ok(Recorded { report, files: tree })
}

/// Command lines cleaned as `repro.sh`'s are; paths relative to the pack.
fn clean_report(report: &mut RunReport, dir: &Path, findings: &mut Vec<Finding>) {
    report.out_dir = PathBuf::from(DIR);
    for job in &mut report.jobs {
        for (k, command) in job.commands.iter_mut().enumerate() {
            let (script, found) = secrets::redact(&command.script, Kind::Command);
            for what in found {
                let place = format!("{DIR}/report.json: job {}, command {}", job.number, k + 1);
                findings.push(Finding { place, what: what.to_owned(), action: REPLACED });
            }
            command.script = script;
            if let Ok(rel) = command.log.strip_prefix(dir) {
                command.log = Path::new(DIR).join(rel);
            }
        }
    }
}
