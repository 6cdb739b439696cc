//! Does BuildKit reach `FROM debian:bookworm-slim` through the run's
//! registry when that registry is the daemon's Docker Hub mirror?
//!
//! Per stand-in engine and image store: the runtime stand-in is seeded under
//! its Docker Hub name (`library/debian:bookworm-slim`) by the base-image
//! planner, a fresh dind with `registry-mirrors` builds a Dockerfile that
//! names the official image verbatim, and the build must succeed. Nothing
//! else can serve that image here (no public registry is reachable), so a
//! passing build is the mirror at work. With registry auth on, the dind
//! logs in first, as a CI job does.

mod engine_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::catalogue::{Catalogue, ResolvedMode};
use harness::engine::{
    needed_images, plan_provisions, seed_provisions, stand_ins, Daemon, DaemonOptions, Registry, RegistryOptions,
    Route, RunLabel, Source,
};
use harness::progress;
use rstest::rstest;

const DOCKERFILE: &str = "FROM debian:bookworm-slim\nRUN echo \"mirrored-$((6 * 7))\" > /proof && cat /proof\n";

#[rstest]
#[case::docker_20_10_classic("20.10.24", false, false)]
#[case::docker_20_10_classic_auth("20.10.24", false, true)]
#[case::docker_26_1_classic("26.1.5", false, false)]
#[case::docker_26_1_containerd("26.1.5", true, false)]
#[case::docker_26_1_classic_auth("26.1.5", false, true)]
#[case::docker_28_5_classic("28.5.2", false, false)]
#[case::docker_28_5_containerd("28.5.2", true, false)]
#[case::docker_28_5_containerd_auth("28.5.2", true, true)]
#[tokio::test(flavor = "multi_thread")]
async fn buildkit_pulls_an_official_from_line_through_the_hub_mirror(
    #[case] version: &str,
    #[case] containerd: bool,
    #[case] auth: bool,
) {
    let wall = Instant::now();
    let Some(images) = engine_support::stand_in(version).await else {
        return;
    };
    let cell = format!(
        "{version} {} store{}",
        if containerd { "containerd" } else { "classic" },
        if auth { ", auth" } else { "" }
    );
    let label = RunLabel::unique();
    let mut options = RegistryOptions::default().with_label(label.clone());
    if auth {
        options = options.with_generated_auth();
    }
    let registry = Registry::start(&images.registry, options).await.expect("the registry starts");

    let files = [("Dockerfile".to_owned(), DOCKERFILE.to_owned())];
    let needed = needed_images(&files, &BTreeMap::new(), registry.name()).unwrap();
    let catalogue = Catalogue::load_default().unwrap();
    let plan = plan_provisions(&needed, ResolvedMode::Local, &stand_ins(&catalogue)).await.unwrap();
    assert_eq!(plan.len(), 1, "{plan:?}");
    assert_eq!(plan[0].route, Route::Mirror);
    if plan[0].source != Source::Host {
        assert_eq!(plan[0].source, Source::StandIn(images.runtime.clone()));
    }
    let seeding = Instant::now();
    let seeded = seed_provisions(&registry, &plan).await.unwrap();
    let seeded_in = seeding.elapsed();
    assert_eq!(seeded.values().next().unwrap(), &format!("{}/library/debian:bookworm-slim", registry.name()));

    let daemon = Daemon::start(
        &images.dind,
        &registry,
        DaemonOptions::default().with_label(label.clone()).with_containerd_store(containerd),
    )
    .await
    .unwrap_or_else(|e| panic!("[{cell}] dind starts: {e:?}"));
    let context = tempfile::tempdir().unwrap();
    std::fs::write(context.path().join("Dockerfile"), DOCKERFILE).unwrap();
    daemon.copy_dir(context.path(), "/ctx").await.unwrap();
    let log = engine_support::log_dir("mirror").join(format!("{}.log", cell.replace([' ', ','], "-")));
    let env = [("DOCKER_BUILDKIT".to_owned(), "1".to_owned())];
    let building = Instant::now();
    let outcome = daemon
        .exec("cd /ctx && docker build --progress=plain --tag mirrored .", &env, &log, Duration::from_secs(300))
        .await
        .unwrap();
    let built_in = building.elapsed();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(outcome.success(), "[{cell}] the build through the mirror failed ({outcome:?}):\n{text}");
    assert!(text.contains("mirrored-42"), "[{cell}] the RUN step ran on the mirrored base:\n{text}");
    let builds = progress::parse_path(&log).unwrap();
    assert!(
        builds.last().unwrap().step("FROM docker.io/library/debian:bookworm-slim").is_some()
            || text.contains("docker.io/library/debian:bookworm-slim"),
        "{text}"
    );

    // The classic pull path (`docker pull`, `docker run`) uses the mirror too.
    let pulled = daemon.capture("docker pull --quiet debian:bookworm-slim", Duration::from_secs(120)).await.unwrap();
    eprintln!(
        "[{cell}] mirror OK: seeded in {:.1}s, dind ready in {:.1}s, build {:.1}s; docker pull through the mirror: {}; wall {:.1}s",
        seeded_in.as_secs_f64(),
        daemon.ready_after().as_secs_f64(),
        built_in.as_secs_f64(),
        if pulled.success() { "ok".to_owned() } else { format!("failed: {}", pulled.stderr.trim()) },
        wall.elapsed().as_secs_f64()
    );

    daemon.stop().await.unwrap();
    registry.stop().await.unwrap();
    let left = harness::engine::leftovers(&label).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// An image no path provides is refused before anything starts, naming the
/// image, where it is used and how to provide it.
#[tokio::test(flavor = "multi_thread")]
async fn an_image_nothing_provides_is_named_before_any_job() {
    if !harness::engine::require_docker().await {
        return;
    }
    harness::engine::require_images(&["harness/runtime:bookworm"]).await;
    let files = [(
        "Dockerfile".to_owned(),
        "FROM debian:bookworm-slim\nFROM harness-test/never-built:1 AS x\nCOPY --from=ghcr.io/o/tool:2 /t /t\n"
            .to_owned(),
    )];
    let needed = needed_images(&files, &BTreeMap::new(), "registry.harness.test:5000").unwrap();
    let catalogue = Catalogue::load_default().unwrap();
    let err = plan_provisions(&needed, ResolvedMode::Local, &stand_ins(&catalogue)).await.unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("2 base images cannot be provided"), "{message}");
    assert!(
        message.contains("`harness-test/never-built:1` (Dockerfile line 2): not on the host, and no offline stand-in"),
        "{message}"
    );
    assert!(message.contains("`ghcr.io/o/tool:2` (Dockerfile line 3)"), "{message}");
    assert!(message.contains("docker pull IMAGE") && message.contains("docker load -i"), "{message}");
    assert!(!message.contains("`debian:bookworm-slim`"), "the runtime stand-in provides debian: {message}");
}
