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
//! `stop`, on drop (error, panic) and on Ctrl-C (the runner stops its work
//! and tears down, see `runner::interrupt`; the CLI then sweeps the label).
//!
//! Files, one job each: [`tls`] (CA and server certificate), [`registry`],
//! [`dind`] (settings, start, privileged fallback), [`disk`] (the data root's cap, running out of space),
//! [`carry`] (the folder a cell's daemons share), [`exec`] (streamed exec
//! with timeout), [`facts`] (versions, layers, history), [`context`] (tar
//! upload), [`cleanup`] (labels, leftovers), [`clean`] (what a killed run left), [`docker`] (client, test guard),
//! [`base_images`] (the images Dockerfiles need: sources and seeding).
//!
//! Measured on the project's 2-CPU machine (privileged refused, so the
//! capability fallback; other builds running alongside), with
//! `cargo test -p harness --test engine_cache -- --ignored --nocapture`:
//! median time from `Daemon::start` to `docker info` answering over five
//! fresh dinds is 0.9 s on 20.10.24, 2.6 s on 26.1.5 and 1.6 s on 28.5.2;
//! seeding the 199 MB runtime base into the registry takes 8.5 to 19 s (the
//! host daemon compresses every layer), once per run.

mod base_images;
mod carry;
mod clean;
mod cleanup;
mod context;
mod dind;
mod disk;
mod docker;
mod error;
mod exec;
mod facts;
mod registry;
mod tls;

pub use base_images::{
    mirror_honoured, needed_images, plan_provisions, rewrites_for, seed_provisions, stand_ins, BaseImageError,
    MissingImage, Needed, Provision, Route, Source,
};
pub use carry::{CarryVolume, CARRY_ROLE};
pub use clean::{clean_run, runs_present, Cleaned};
pub use cleanup::{existing_volumes, leftovers, sweep, Leftovers, RunLabel, ROLE_LABEL, RUN_ID_ENV, RUN_LABEL};
pub use dind::{nameservers, Daemon, DaemonApi, DaemonOptions, Rights, REGISTRY_PASSWORD_FILE, TLS_CERTDIR};
pub use disk::{disk_limit_from_env, log_says_no_space, parse_disk_size, DISK_ENV, MAX_DISK_BYTES, MIN_DISK_BYTES};
pub use docker::{daemon_answers, pull_to_host, require_docker, require_images, SKIP_ENV};
pub use error::EngineError;
pub use exec::{Captured, ExecOutcome};
pub use facts::{EngineVersions, HistoryEntry};
pub use registry::{Credentials, Registry, RegistryOptions, DEFAULT_REGISTRY_HOST};
pub use tls::RunCa;
