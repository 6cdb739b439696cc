//! The containerd image store, per job: on where the engine has it (its
//! facts then come from the containerd content store), refused clearly
//! where it does not.

mod engine_support;

use std::time::Duration;

use harness::engine::{Daemon, DaemonOptions, EngineError, RunLabel};

#[tokio::test(flavor = "multi_thread")]
async fn containerd_store_on_28_gives_layers_and_history() {
    let Some(images) = engine_support::stand_in("28.5.2").await else {
        return;
    };
    let label = RunLabel::unique();
    let (registry, runtime, _) = engine_support::registry_with_runtime(&images, &label, false).await;
    let options = DaemonOptions::default().with_label(label.clone()).with_containerd_store(true);
    let daemon = Daemon::start(&images.dind, &registry, options).await.unwrap();
    assert!(daemon.versions().containerd_store, "{:?}", daemon.versions());

    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!("FROM {runtime}\nENV STEP=one\nRUN echo one > /one\nRUN echo two > /two\n"),
    )
    .unwrap();
    daemon.copy_dir(context.path(), "/ctx").await.unwrap();
    let log = engine_support::log_dir("store").join("build.log");
    let outcome = daemon
        .exec("cd /ctx && docker build --progress=plain -t store-test .", &[], &log, Duration::from_secs(300))
        .await
        .unwrap();
    assert!(outcome.success(), "{}", std::fs::read_to_string(&log).unwrap());

    let layers = daemon.image_layers("store-test").await.unwrap();
    let history = daemon.image_history("store-test").await.unwrap();
    let with_layers: Vec<&String> = history.iter().filter_map(|h| h.layer.as_ref()).collect();
    assert_eq!(with_layers, layers.iter().collect::<Vec<_>>(), "{history:#?}");
    let env = history.iter().find(|h| h.created_by.contains("STEP=one")).expect("the ENV step");
    assert_eq!(env.layer, None, "ENV makes no layer");
    let n = history.len();
    assert!(history[n - 2].created_by.contains("echo one"), "{history:#?}");
    assert!(history[n - 1].created_by.contains("echo two"), "{history:#?}");
    assert!(history[n - 1].layer.is_some());

    daemon.stop().await.unwrap();
    registry.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn containerd_store_on_20_10_is_refused() {
    let Some(images) = engine_support::stand_in("20.10.24").await else {
        return;
    };
    let label = RunLabel::unique();
    let registry = harness::engine::Registry::start(
        &images.registry,
        harness::engine::RegistryOptions::default().with_label(label.clone()),
    )
    .await
    .unwrap();
    let options = DaemonOptions::default().with_label(label.clone()).with_containerd_store(true);
    let err = Daemon::start(&images.dind, &registry, options).await.unwrap_err();
    assert!(matches!(err, EngineError::ContainerdStoreUnavailable { .. }), "{err:?}");
    assert!(err.to_string().contains("needs 24 or later"), "{err}");
    registry.stop().await.unwrap();
    assert!(harness::engine::leftovers(&label).await.unwrap().is_empty());
}
