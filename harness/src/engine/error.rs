//! The engine module's one error type.
//!
//! Every message names the thing that failed (image, command, path) and leaves
//! the cause to `#[source]`, so the CLI can print the chain and map the whole
//! type to the "engine or infrastructure" exit code.

use std::path::PathBuf;
use std::time::Duration;

/// Any error a source can carry (bollard, testcontainers, io, ...).
pub(crate) type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors starting, driving or reading engines.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("failed to connect to the Docker daemon")]
    Connect(#[source] testcontainers::bollard::errors::Error),

    #[error(
        "image `{image}` is not on the host daemon and pulling is off \
         (build the offline stand-ins with `make images`, or allow pulling)"
    )]
    ImageMissing { image: String },

    #[error("`{reference}` is not a usable image reference: {why}")]
    BadReference { reference: String, why: String },

    #[error("failed to generate the run's registry certificates")]
    Tls(#[source] rcgen::Error),

    #[error("failed to hash the registry password for htpasswd")]
    Htpasswd(#[source] bcrypt::BcryptError),

    #[error("failed to start registry `{image}`")]
    StartRegistry {
        image: String,
        #[source]
        source: Source,
    },

    #[error("failed to start dind `{image}`")]
    StartDind {
        image: String,
        #[source]
        source: Source,
    },

    #[error(
        "dind `{image}` did not answer `docker info` within {:.1}s; last daemon log lines:\n{logs}",
        waited.as_secs_f64()
    )]
    NotReady { image: String, waited: Duration, logs: String },

    #[error("dind `{image}` stopped before it was ready; last daemon log lines:\n{logs}")]
    DaemonExited { image: String, logs: String },

    #[error(
        "dind `{image}` does not run the `dockerd` command it was given (\"dockerd\" accepts no \
         argument(s)): its entrypoint predates the official image's contract the harness relies \
         on. Rebuild the offline stand-ins: `make images` (`harness images build`)"
    )]
    StaleEntrypoint { image: String },

    #[error(
        "dind `{image}` stopped while `{what}` ran (killed, out of memory, or the host daemon restarted), \
         so the command could not finish"
    )]
    DaemonDied { image: String, what: String },

    #[error(
        "dind `{image}` was asked for the containerd image store but does not use it \
         (the engine may be too old: it needs 24 or later)"
    )]
    ContainerdStoreUnavailable { image: String },

    #[error(
        "containers inside dind `{image}` would fall back to public DNS: the dind sees only \
         loopback resolvers ({resolvers}); keep dind on the default bridge or pass `dns`"
    )]
    DnsFallback { image: String, resolvers: String },

    #[error(
        "dind `{image}` (container `{container}`) ran out of disk space while `{what}` ran \
         (`no space left on device` in `{}`); its data root is {room}: give the daemon more room \
         (a larger `--dind-disk`, or free space on the host's disk)",
        log.display()
    )]
    DiskFull { image: String, container: String, what: String, room: String, log: PathBuf },

    #[error("`{name}={value}`: {why}")]
    BadSetting { name: &'static str, value: String, why: String },

    #[error(
        "the run's registry `{image}` stopped while `{what}` ran (killed, out of memory, or the host daemon \
         restarted), so the command failed for want of it"
    )]
    RegistryDied { image: String, what: String },

    #[error("failed to seed `{local_ref}` into the run's registry as `{target}`")]
    Seed {
        local_ref: String,
        target: String,
        #[source]
        source: Source,
    },

    #[error("failed to run `{what}` in dind `{image}`")]
    Exec {
        image: String,
        what: String,
        #[source]
        source: Source,
    },

    #[error("`{what}` failed in dind `{image}` with exit code {exit_code}: {output}")]
    CommandFailed { image: String, what: String, exit_code: i64, output: String },

    #[error(
        "`{what}` in dind `{image}` did not finish within {:.1}s and was killed (log: `{}`)",
        after.as_secs_f64(),
        log.display()
    )]
    Timeout { image: String, what: String, after: Duration, log: PathBuf },

    #[error("failed to write log `{}`", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("failed to copy `{}` into dind `{image}` at `{dest}`", dir.display())]
    Copy {
        image: String,
        dir: PathBuf,
        dest: String,
        #[source]
        source: Source,
    },

    #[error("failed to read {what} of image `{reference}` in dind `{image}`: {detail}")]
    Facts { image: String, reference: String, what: &'static str, detail: String },

    #[error("failed to {what}")]
    Docker {
        what: String,
        #[source]
        source: Source,
    },
}

impl EngineError {
    pub(crate) fn docker(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Docker { what: what.into(), source: Box::new(source) }
    }
}
