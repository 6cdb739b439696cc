//! Helpers for the engine module's integration tests (real containers):
//! stand-in images from the catalogue, a registry seeded with the runtime
//! base, and a folder for build logs that outlives the test.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use harness::catalogue::{ResolvedMode, RunImages};
use harness::engine::{require_docker, require_images, Registry, RegistryOptions, RunLabel};

/// The stand-in images of `version`; `None` when Docker tests are skipped
/// locally (never in CI). Fails when a needed image is missing.
pub async fn stand_in(version: &str) -> Option<RunImages> {
    if !require_docker().await {
        return None;
    }
    let images = harness::images::pinned_catalogue().unwrap().resolve(version, ResolvedMode::Local).unwrap();
    require_images(&[&images.dind, &images.registry, &images.runtime]).await;
    Some(images)
}

/// A registry (with auth when asked) holding the runtime base image, the
/// reference dinds use for it, and how long seeding took.
pub async fn registry_with_runtime(images: &RunImages, label: &RunLabel, auth: bool) -> (Registry, String, Duration) {
    let mut options = RegistryOptions::default().with_label(label.clone());
    if auth {
        options = options.with_generated_auth();
    }
    let registry = Registry::start(&images.registry, options).await.expect("the registry starts");
    let started = Instant::now();
    let runtime =
        registry.seed(&images.runtime, "harness/runtime:bookworm").await.expect("the runtime image is seeded");
    (registry, runtime, started.elapsed())
}

/// `target/tmp/engine-logs/<name>`: kept after the test for reading.
pub fn log_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("engine-logs").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
