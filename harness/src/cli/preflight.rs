//! Checks of a run's input made before anything starts: flag bounds (as
//! clap value parsers, so a bad value is a usage error naming the flag),
//! and the folders a run needs (each scenario's fixture, a writable output
//! folder). Without them a missing fixture or an unwritable `--out` showed
//! only after the registry had started and seeded, half a minute later, as
//! an infrastructure failure. Shared by every command that runs scenarios.

use std::path::{Path, PathBuf};

use crate::engine::{disk_limit_from_env, RunLabel, DISK_ENV, RUN_ID_ENV};
use crate::scenario::{Scenario, MAX_JOBS};

/// The longest `--timeout`: one day. A build that needs more is stuck, and
/// the bound keeps deadline arithmetic far from overflowing.
pub(crate) const MAX_TIMEOUT_SECS: u64 = 24 * 60 * 60;

/// `--timeout SECONDS`: 1 to [`MAX_TIMEOUT_SECS`].
pub(crate) fn timeout_secs(text: &str) -> Result<u64, String> {
    let secs: u64 = text.trim().parse().map_err(|_| format!("expected a whole number of seconds, found `{text}`"))?;
    match secs {
        0 => Err("a command gets at least 1 second: give 1 or more (the default is 1800)".into()),
        s if s > MAX_TIMEOUT_SECS => Err(format!("at most {MAX_TIMEOUT_SECS} seconds (one day) per command")),
        s => Ok(s),
    }
}

/// `--jobs N`: 1 to the most jobs a scenario may hold.
pub(crate) fn job_count(text: &str) -> Result<u32, String> {
    let n: u32 = text.trim().parse().map_err(|_| format!("expected a number of jobs, found `{text}`"))?;
    match n {
        0 => Err("runs at least 1 job: give 1 or more, or leave `--jobs` out to run every job".into()),
        n if n > MAX_JOBS => Err(format!("a scenario has at most {MAX_JOBS} jobs")),
        n => Ok(n),
    }
}

/// A run's input that would fail only after containers started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PreflightError {
    #[error(
        "scenario `{scenario}`: its fixture `{}` is not a readable folder ({why}): create it, or point \
         `fixture` in its scenario.toml at the folder to build",
        path.display()
    )]
    Fixture { scenario: String, path: PathBuf, why: String },
    #[error("{RUN_ID_ENV}: {0}")]
    RunId(String),
    /// A bad [`DISK_ENV`] (`--dind-disk` is checked by clap).
    #[error("{0} (give a size such as `512M` or `2G`, or unset {DISK_ENV})")]
    DindDisk(String),
    #[error(
        "cannot write the output folder `{}` (give a writable folder with `--out DIR`)",
        path.display()
    )]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Checks [`RUN_ID_ENV`] (when set, it names the run's resources) and
/// [`DISK_ENV`] (when set, it caps every dind's data root), that
/// every scenario's fixture is a readable folder under `root`
/// (an explicit fixture is absolute already) and that `out` can be written.
pub(crate) fn run_inputs(root: &Path, scenarios: &[Scenario], out: &Path) -> Result<(), PreflightError> {
    RunLabel::from_env().map_err(|e| PreflightError::RunId(e.to_string()))?;
    disk_limit_from_env().map_err(|e| PreflightError::DindDisk(e.to_string()))?;
    for scenario in scenarios {
        let path = root.join(&scenario.fixture);
        if let Err(e) = std::fs::read_dir(&path) {
            return Err(PreflightError::Fixture { scenario: scenario.name.clone(), path, why: e.to_string() });
        }
    }
    writable(out)
}

/// Creates `dir` if needed and proves a file can be written in it.
pub(crate) fn writable(dir: &Path) -> Result<(), PreflightError> {
    let fail = |source| PreflightError::Output { path: dir.to_owned(), source };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = tempfile::Builder::new().prefix(".harness-write-check").tempfile_in(dir).map_err(fail)?;
    drop(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_is_bounded_on_both_sides() {
        assert_eq!(timeout_secs("1800"), Ok(1800));
        assert!(timeout_secs("0").unwrap_err().contains("at least 1 second"));
        assert!(timeout_secs("86401").unwrap_err().contains("at most 86400 seconds"));
        assert!(timeout_secs("18446744073709551615").unwrap_err().contains("at most"));
        assert!(timeout_secs("99999999999999999999999").unwrap_err().contains("whole number"));
        assert!(timeout_secs("-1").is_err());
    }

    #[test]
    fn job_count_is_at_least_one() {
        assert_eq!(job_count("2"), Ok(2));
        assert!(job_count("0").unwrap_err().contains("at least 1 job"));
        assert!(job_count("101").unwrap_err().contains("at most 100 jobs"));
    }

    #[test]
    fn an_output_folder_under_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let err = writable(&dir.path().join("file/out")).unwrap_err();
        assert!(err.to_string().contains("(give a writable folder with `--out DIR`)"), "{err}");
        writable(&dir.path().join("new/out")).unwrap();
        assert!(dir.path().join("new/out").is_dir());
        assert_eq!(std::fs::read_dir(dir.path().join("new/out")).unwrap().count(), 0, "the probe is removed");
    }
}
