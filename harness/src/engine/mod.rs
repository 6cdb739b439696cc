//! Engines on demand: the run's registry and a fresh dind daemon per CI job.
//!
//! This is the only module that talks to Docker at run time. It starts, with
//! the `testcontainers` crate, one TLS registry per run (CA generated per run,
//! optional htpasswd auth) and, per job, a fresh docker-in-docker daemon from
//! the engine catalogue that trusts that CA and reaches the registry under one
//! stable name. Builds run with the engine's own CLI inside the dind, so
//! client, buildx and engine versions always match the matrix cell; what they
//! leave behind (exit code, log, layer digests, versions) comes back as plain
//! data. Everything it creates carries the run's label and is removed on
//! `stop`, on drop (error, panic) and on Ctrl-C (testcontainers' watchdog).
//!
//! Files, one job each: [`tls`] (CA and server certificate), [`registry`],
//! [`dind`] (settings, start, privileged fallback), [`exec`] (streamed exec
//! with timeout), [`facts`] (versions, layers, history), [`context`] (tar
//! upload), [`cleanup`] (labels, leftovers), [`docker`] (client, test guard).

mod cleanup;
mod context;
mod dind;
mod docker;
mod error;
mod exec;
mod facts;
mod registry;
mod tls;

pub use cleanup::{existing_volumes, leftovers, sweep, Leftovers, RunLabel, ROLE_LABEL, RUN_LABEL};
pub use dind::{nameservers, Daemon, DaemonOptions, Rights};
pub use docker::{require_docker, require_images, SKIP_ENV};
pub use error::EngineError;
pub use exec::{Captured, ExecOutcome};
pub use facts::{EngineVersions, HistoryEntry};
pub use registry::{Credentials, Registry, RegistryOptions, DEFAULT_REGISTRY_HOST};
pub use tls::RunCa;
