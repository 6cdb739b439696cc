//! The run's JSON report, written whole or not at all.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::runner::{Envelope, EventKind, ReportError, Reporter};

/// The report's file name in each cell's output folder.
pub const REPORT_FILE: &str = "report.json";

/// Writes each cell's `report.json` into its output folder when it finishes.
/// A report that cannot be written is an error: the run's record is lost.
pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn report(&mut self, event: &Envelope) -> Result<(), ReportError> {
        let EventKind::RunFinished { report } = &event.kind else { return Ok(()) };
        let path = report.out_dir.join(REPORT_FILE);
        write_json(&path, report).map_err(|e| {
            ReportError::new("json", std::io::Error::other(format!("failed to write `{}`: {e}", path.display())))
        })
    }
}

/// Writes `value` as pretty JSON to `path` through a temporary file in the
/// same folder and a rename, so a reader never sees half a report.
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut file, value)?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    // Temporary files are private (0600); a report is meant to be shared.
    std::fs::set_permissions(file.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/report.json");
        write_json(&path, &serde_json::json!({"a": 1})).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\n  \"a\": 1\n}\n");
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["report.json"]);
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o644);
    }
}
