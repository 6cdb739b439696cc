//! Commands inside a dind: output reaches the log while the command runs,
//! exit codes come back, and a hung command is killed at its deadline with a
//! clear error, its process tree gone.

mod engine_support;

use std::time::Duration;

use harness::engine::{Daemon, DaemonOptions, EngineError, Registry, RegistryOptions, RunLabel};

const VERSION: &str = "20.10.24";

async fn daemon(label: &RunLabel) -> Option<(Registry, Daemon)> {
    let images = engine_support::stand_in(VERSION).await?;
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();
    let daemon =
        Daemon::start(&images.dind, &registry, DaemonOptions::default().with_label(label.clone())).await.unwrap();
    Some((registry, daemon))
}

#[tokio::test(flavor = "multi_thread")]
async fn output_is_streamed_exit_codes_return_and_hung_commands_are_killed() {
    let label = RunLabel::unique();
    let Some((registry, daemon)) = daemon(&label).await else {
        return;
    };
    let logs = engine_support::log_dir("exec");

    // Streaming: the first line is in the log while the command still runs.
    let log = logs.join("stream.log");
    let env = [("GREETING".to_owned(), "hello 'quoted' world".to_owned())];
    let running =
        daemon.exec("echo \"first: $GREETING\"; sleep 3; echo second >&2; exit 3", &env, &log, Duration::from_secs(30));
    let peek = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        std::fs::read_to_string(&log).unwrap_or_default()
    };
    let (outcome, early) = tokio::join!(running, peek);
    let outcome = outcome.unwrap();
    assert_eq!(early, "first: hello 'quoted' world\n", "streamed before the end");
    assert_eq!(outcome.exit_code, 3);
    assert!(outcome.duration >= Duration::from_secs(3), "{outcome:?}");
    let full = std::fs::read_to_string(&log).unwrap();
    assert_eq!(full, "first: hello 'quoted' world\nsecond\n");

    // Timeout: killed with its children, a clear error, the log says so.
    let log = logs.join("timeout.log");
    let err = daemon
        .exec("echo started; sh -c 'sleep 600'; echo never", &[], &log, Duration::from_secs(2))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, EngineError::Timeout { .. }), "{err:?}");
    assert!(message.contains("did not finish within 2.0s and was killed"), "{message}");
    assert!(message.contains("timeout.log"), "{message}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("started\n"), "{text}");
    assert!(text.contains("[harness] killed after 2.0s"), "{text}");
    assert!(!text.contains("never"), "{text}");
    let sleeping = daemon
        .capture(
            "for c in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $c 2>/dev/null; echo; done | grep -c '^sleep 600' || true",
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(sleeping.stdout.trim(), "0", "the hung process tree is gone");

    daemon.stop().await.unwrap();
    registry.stop().await.unwrap();
    assert!(harness::engine::leftovers(&label).await.unwrap().is_empty());
}
