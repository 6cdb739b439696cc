//! `[daemon] carry`: one labelled volume per cell, mounted in every fresh
//! dind at the same path, outlives each dind, and is removed by its owner
//! or by the run's sweep (interrupt, `harness clean`). Real containers.

mod engine_support;

use std::time::Duration;

use harness::engine::{
    existing_volumes, leftovers, sweep, CarryVolume, Daemon, DaemonOptions, Registry, RegistryOptions, RunLabel,
};

const VERSION: &str = "20.10.24";
const SHORT: Duration = Duration::from_secs(60);

async fn start_dind(image: &str, registry: &Registry, label: &RunLabel, carry: &CarryVolume) -> Daemon {
    let options = DaemonOptions::default().with_label(label.clone()).with_carry(Some(carry.clone()));
    Daemon::start(image, registry, options).await.expect("the dind starts with its carry volume")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carried_folder_survives_fresh_daemons_and_goes_with_its_owner() {
    let Some(images) = engine_support::stand_in(VERSION).await else { return };
    let label = RunLabel::unique();
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();
    let carry = CarryVolume::create(&label, "/cache").await.unwrap();
    assert!(leftovers(&label).await.unwrap().volumes.contains(&carry.name().to_owned()), "the volume is labelled");

    let first = start_dind(&images.dind, &registry, &label, &carry).await;
    assert!(!first.volumes().contains(&carry.name().to_owned()), "the carry volume is not the dind's own");
    let wrote = first.capture("mkdir -p /cache/buildx && echo job-1 > /cache/buildx/index.json", SHORT).await.unwrap();
    assert!(wrote.success(), "{wrote:?}");
    let dind_volumes = first.volumes().to_vec();
    first.stop().await.unwrap();
    assert_eq!(existing_volumes(&[carry.name().to_owned()]).await.unwrap(), [carry.name().to_owned()]);

    let second = start_dind(&images.dind, &registry, &label, &carry).await;
    let read = second.capture("cat /cache/buildx/index.json", SHORT).await.unwrap();
    assert_eq!(read.stdout.trim(), "job-1", "the next fresh daemon sees the folder: {read:?}");
    second.stop().await.unwrap();
    registry.stop().await.unwrap();

    let name = carry.name().to_owned();
    carry.remove().await.unwrap();
    assert!(existing_volumes(&[name]).await.unwrap().is_empty());
    assert!(existing_volumes(&dind_volumes).await.unwrap().is_empty());
    let left = leftovers(&label).await.unwrap();
    sweep(&label).await.unwrap();
    assert!(left.is_empty(), "left: {left:?}");
}

/// What an interrupted run or `harness clean` relies on: the sweep of the
/// run's label finds and removes a carry volume like any other resource.
#[tokio::test(flavor = "multi_thread")]
async fn the_run_s_sweep_removes_a_carry_volume() {
    if engine_support::stand_in(VERSION).await.is_none() {
        return;
    }
    let label = RunLabel::unique();
    let carry = CarryVolume::create(&label, "/cache").await.unwrap();
    let swept = sweep(&label).await.unwrap();
    assert_eq!(swept.volumes, [carry.name().to_owned()]);
    assert!(existing_volumes(&[carry.name().to_owned()]).await.unwrap().is_empty());
    carry.remove().await.expect("removing a swept volume is not an error");
}
