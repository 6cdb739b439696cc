//! The Docker build-cache harness.
//!
//! It reproduces build-cache situations on real Docker engines, tells per
//! Dockerfile step whether the cache was used, and asserts that outcome.
//! Modules meet at plain data types:
//!
//! - [`progress`]: BuildKit progress logs to steps and outcomes (pure, sync).
//! - [`catalogue`]: the engine catalogue `ci/engines.toml` and image modes.
//! - [`images`]: builds the offline stand-in images from Debian packages.
//! - [`import`]: GitLab CI files and GitHub workflows to scenario folders.
//! - [`project`]: any folder and its Dockerfile as a scenario (`harness run --context`).
//! - [`engine`]: registries and dind daemons through testcontainers; the only
//!   module that talks to Docker at run time.
//! - [`dockerfile`]: the images a Dockerfile needs (`FROM`, `COPY --from`, ...).
//! - [`dockerignore`] and [`fsutil`]: the build context copied as Docker sends it.
//! - [`scenario`]: scenario files to a validated model.
//! - [`evidence`]: a step's observed outcome, decided once from progress
//!   and layers.
//! - [`runner`]: drives a scenario's jobs on engines and emits events.
//! - [`cache`]: BuildKit cache records read from registries; why a step missed.
//! - [`report`]: sinks for runs: live terminal view, grid, JSON.
//! - [`diagnose`]: names why steps missed the cache across builds (pure, sync).
//! - [`pack`]: reproduction packs runnable with the docker CLI alone.
//! - [`textfile`]: user-named text files read as regular files with a size limit.
//! - [`cli`]: the `harness` command line.

pub mod cache;
pub mod catalogue;
pub mod cli;
pub mod diagnose;
pub mod dockerfile;
pub mod dockerignore;
pub mod engine;
pub mod evidence;
pub mod fsutil;
pub mod images;
pub mod import;
pub mod pack;
pub mod progress;
pub mod project;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod textfile;
