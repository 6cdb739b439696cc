//! Two fresh daemons in sequence against one registry, per stand-in engine:
//! the first builds and pushes with inline cache, the second imports that
//! cache and its RUN step is CACHED with the very same layer. This is the
//! smallest CI pipeline the harness reproduces, on real containers.

mod engine_support;

use std::time::{Duration, Instant};

use harness::engine::{Daemon, DaemonOptions, Rights, RunLabel};
use harness::progress::{self, Outcome};
use rstest::rstest;

const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

/// Builds the context in /ctx with the engine's own CLI, inline cache on,
/// importing `$IMAGE` as cache, then pushes it.
const BUILD: &str = "set -e
cd /ctx
docker build --progress=plain --build-arg BUILDKIT_INLINE_CACHE=1 \
  --cache-from \"$IMAGE\" --tag \"$IMAGE\" .
docker push \"$IMAGE\"";

#[rstest]
#[case::docker_20_10("20.10.24")]
#[case::docker_26_1("26.1.5")]
#[case::docker_28_5("28.5.2")]
#[tokio::test(flavor = "multi_thread")]
async fn second_fresh_daemon_reuses_the_first_ones_inline_cache(#[case] version: &str) {
    let wall = Instant::now();
    let Some(images) = engine_support::stand_in(version).await else {
        return;
    };
    let label = RunLabel::unique();
    let (registry, runtime, seeded_in) = engine_support::registry_with_runtime(&images, &label, true).await;
    eprintln!("[{version}] seeded runtime in {:.2}s", seeded_in.as_secs_f64());

    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        format!(
            "FROM {runtime}\nCOPY hello.txt /hello.txt\n\
             RUN cat /hello.txt > /built.txt && echo \"built-$((40 + 2))\"\n"
        ),
    )
    .unwrap();
    std::fs::write(context.path().join("hello.txt"), "hello from the harness\n").unwrap();
    let image = format!("{}/cache-test/app:latest", registry.name());
    let env = [("IMAGE".to_owned(), image.clone()), ("DOCKER_BUILDKIT".to_owned(), "1".to_owned())];
    let logs = engine_support::log_dir(&format!("cache-{version}"));
    let options = || DaemonOptions::default().with_label(label.clone());

    let mut layers = Vec::new();
    for job in 1..=2 {
        let daemon = Daemon::start(&images.dind, &registry, options())
            .await
            .unwrap_or_else(|e| panic!("[{version}] dind {job} starts: {e:?}"));
        let v = daemon.versions();
        eprintln!(
            "[{version}] job {job}: ready in {:.2}s, rights {:?}; engine {} cli {} buildx {:?} buildkit {:?} ({:?})",
            daemon.ready_after().as_secs_f64(),
            daemon.rights(),
            v.engine,
            v.cli,
            v.buildx,
            v.buildkit,
            v.buildkit_missing,
        );
        assert!(v.engine.starts_with(version), "engine {} is not {version}", v.engine);
        assert!(v.cli.starts_with(version), "cli {} is not {version}", v.cli);
        assert_eq!(v.buildx.is_some(), version != "20.10.24", "{v:?}");
        if daemon.fallback_note().is_some() {
            assert_eq!(daemon.rights(), Rights::Capabilities);
        }

        daemon.copy_dir(context.path(), "/ctx").await.unwrap();
        let log = logs.join(format!("job-{job}.log"));
        let outcome = daemon.exec(BUILD, &env, &log, BUILD_TIMEOUT).await.unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(outcome.success(), "[{version}] job {job} failed ({outcome:?}):\n{text}");

        let builds = progress::parse_path(&log).unwrap();
        let build = builds.last().expect("the log holds a build");
        let run = build.step("RUN cat /hello.txt").unwrap_or_else(|| panic!("no RUN step:\n{text}"));
        let copy = build.step("COPY hello.txt").expect("a COPY step");
        if job == 1 {
            assert_eq!(run.outcome, Outcome::Executed, "[{version}] job 1 RUN step:\n{text}");
            // A COPY prints nothing, so the parser cannot be sure it ran.
            assert!(
                matches!(copy.outcome, Outcome::Executed | Outcome::ExecutedUnsure),
                "[{version}] job 1 COPY step {:?}:\n{text}",
                copy.outcome
            );
        } else {
            // From the imported inline cache: CACHED, and `pulling sha256:`
            // lines first where BuildKit fetches the layers (to export them),
            // which the parser reads as a remote hit.
            let reused = |o: Outcome| matches!(o, Outcome::Cached | Outcome::Remote);
            assert!(reused(run.outcome), "[{version}] job 2 RUN step {:?}:\n{text}", run.outcome);
            assert!(reused(copy.outcome), "[{version}] job 2 COPY step {:?}:\n{text}", copy.outcome);
        }
        assert_eq!(text.contains("built-42"), job == 1, "the RUN step printed only in job 1");

        layers.push(daemon.image_layers(&image).await.unwrap());
        let history = daemon.image_history(&image).await.unwrap();
        let last = history.last().unwrap();
        assert!(last.created_by.contains("built-$((40 + 2))"), "{history:?}");
        assert_eq!(last.layer.as_ref(), layers[job - 1].last(), "{history:?}");
        daemon.stop().await.unwrap();
    }
    assert_eq!(layers[0], layers[1], "[{version}] job 2 reused every layer of job 1");

    registry.stop().await.unwrap();
    let left = harness::engine::leftovers(&label).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
    eprintln!("[{version}] wall time {:.1}s", wall.elapsed().as_secs_f64());
}

/// Not a test of behaviour: measures how long fresh dinds take to be ready
/// (median of five per engine) and how long seeding the runtime image takes.
/// `cargo test -p harness --test engine_cache -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement; run by hand"]
async fn measure_ready_and_seed_times() {
    for version in ["20.10.24", "26.1.5", "28.5.2"] {
        let Some(images) = engine_support::stand_in(version).await else {
            return;
        };
        let label = RunLabel::unique();
        let (registry, _, seeded_in) = engine_support::registry_with_runtime(&images, &label, false).await;
        let mut times = Vec::new();
        for _ in 0..5 {
            let daemon = Daemon::start(&images.dind, &registry, DaemonOptions::default().with_label(label.clone()))
                .await
                .unwrap();
            times.push(daemon.ready_after());
            daemon.stop().await.unwrap();
        }
        times.sort();
        eprintln!(
            "{version}: seed {:.2}s; ready {:?} -> median {:.2}s",
            seeded_in.as_secs_f64(),
            times.iter().map(|t| format!("{:.2}", t.as_secs_f64())).collect::<Vec<_>>(),
            times[2].as_secs_f64()
        );
        registry.stop().await.unwrap();
    }
}
