//! Why a run could not go on, with the kind kept for the report.
//!
//! A failed expectation is not an error: it is a verdict. These are the
//! failures of the machinery (an engine that timed out or died, a fixture
//! that cannot be copied) that end a cell with `status: error`. Each keeps an
//! [`ErrorKind`] so `report.json` and the exit code tell a timeout from a
//! daemon that never came up.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::engine::{BaseImageError, EngineError};
use crate::fsutil::ContextError;

/// An error that ended a run (one cell) early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Engine(#[from] EngineError),

    #[error("failed to copy the fixture `{fixture}` into a build context")]
    Workspace {
        fixture: String,
        #[source]
        source: ContextError,
    },

    /// A base image the Dockerfiles name that no path provides, found
    /// before any job starts.
    #[error(transparent)]
    BaseImages(#[from] BaseImageError),

    /// SIGINT or SIGTERM arrived ([`super::interrupt`]).
    #[error("interrupted during {during}")]
    Interrupted { during: String },

    #[error("failed to write `{}`", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What kind of failure ended a run, as `report.json` names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A command ran past `--timeout` and was killed.
    Timeout,
    /// A dind did not answer `docker info` in time.
    DaemonNotReady,
    /// A dind stopped: before it was ready, or while a command ran.
    DaemonExited,
    /// An image needed is not on the host and pulling is off.
    ImageMissing,
    /// The engine cannot do what the scenario asks (containerd store, DNS).
    EngineUnsupported,
    /// A dind's data root filled up (`no space left on device`).
    DiskFull,
    /// The run's registry failed to start, to take the base images, or
    /// stopped while a command needed it.
    Registry,
    /// Any other failure talking to Docker.
    Docker,
    /// The harness could not read or write its own files.
    Io,
    /// SIGINT or SIGTERM stopped the run.
    Interrupted,
    /// An error recorded before kinds were kept (old reports).
    #[default]
    Other,
}

impl RunError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(e) | Self::BaseImages(BaseImageError::Engine(e)) => engine_kind(e),
            Self::BaseImages(BaseImageError::Missing(_)) => ErrorKind::ImageMissing,
            Self::BaseImages(BaseImageError::Dockerfile { .. }) => ErrorKind::Io,
            Self::Workspace { .. } | Self::Output { .. } => ErrorKind::Io,
            Self::Interrupted { .. } => ErrorKind::Interrupted,
        }
    }
}

fn engine_kind(error: &EngineError) -> ErrorKind {
    match error {
        EngineError::Timeout { .. } => ErrorKind::Timeout,
        EngineError::NotReady { .. } => ErrorKind::DaemonNotReady,
        EngineError::DaemonExited { .. } | EngineError::DaemonDied { .. } | EngineError::StaleEntrypoint { .. } => {
            ErrorKind::DaemonExited
        }
        EngineError::DiskFull { .. } => ErrorKind::DiskFull,
        EngineError::ImageMissing { .. } => ErrorKind::ImageMissing,
        EngineError::ContainerdStoreUnavailable { .. } | EngineError::DnsFallback { .. } => {
            ErrorKind::EngineUnsupported
        }
        EngineError::StartRegistry { .. }
        | EngineError::RegistryDied { .. }
        | EngineError::Seed { .. }
        | EngineError::Htpasswd(_)
        | EngineError::Tls(_) => ErrorKind::Registry,
        EngineError::Log { .. } => ErrorKind::Io,
        _ => ErrorKind::Docker,
    }
}

/// An error and its sources on one line, `outer: inner: innermost`.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Self::Timeout => "timeout",
            Self::DaemonNotReady => "daemon not ready",
            Self::DaemonExited => "daemon exited",
            Self::ImageMissing => "image missing",
            Self::EngineUnsupported => "engine unsupported",
            Self::DiskFull => "disk full",
            Self::Registry => "registry",
            Self::Docker => "docker",
            Self::Io => "io",
            Self::Interrupted => "interrupted",
            Self::Other => "error",
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn engine_kinds_survive() {
        let timeout = RunError::from(EngineError::Timeout {
            image: "d".into(),
            what: "build".into(),
            after: Duration::from_secs(1),
            log: "x.log".into(),
        });
        assert_eq!(timeout.kind(), ErrorKind::Timeout);
        let exited = RunError::from(EngineError::DaemonExited { image: "d".into(), logs: String::new() });
        assert_eq!(exited.kind(), ErrorKind::DaemonExited);
        let not_ready =
            RunError::from(EngineError::NotReady { image: "d".into(), waited: Duration::ZERO, logs: String::new() });
        assert_eq!(serde_json::to_value(not_ready.kind()).unwrap(), "daemon_not_ready");
        let full = RunError::from(EngineError::DiskFull {
            image: "d".into(),
            container: "c".into(),
            what: "docker build".into(),
            room: "r".into(),
            log: "x.log".into(),
        });
        assert_eq!(serde_json::to_value(full.kind()).unwrap(), "disk_full");
    }
}
