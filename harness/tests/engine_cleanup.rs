//! Nothing a run creates outlives it: containers and their volumes are gone
//! after `stop`, after a plain drop (an early `?`), after a panic, after a
//! failed start, and after Ctrl-C. Each test counts its own labelled
//! resources before and after.

mod engine_support;

use std::process::Stdio;
use std::time::Duration;

use harness::engine::{
    existing_volumes, leftovers, sweep, Daemon, DaemonOptions, EngineError, Registry, RegistryOptions, Rights, RunLabel,
};
use tokio::io::{AsyncBufReadExt, BufReader};

const VERSION: &str = "20.10.24";
/// Set by the Ctrl-C test for the child process it starts.
const CHILD_LABEL_ENV: &str = "HARNESS_ENGINE_CTRL_C_LABEL";

/// Starts a registry and a dind; returns them with every volume they use.
async fn start_both(label: &RunLabel) -> (Registry, Daemon, Vec<String>) {
    let images = engine_support::stand_in(VERSION).await.expect("checked by the caller");
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();
    let daemon =
        Daemon::start(&images.dind, &registry, DaemonOptions::default().with_label(label.clone())).await.unwrap();
    let volumes = [registry.volumes(), daemon.volumes()].concat();
    (registry, daemon, volumes)
}

/// Asserts `label` owns nothing (cleaning up first if it does, so a failing
/// test leaks nothing either) and that none of `volumes` exists.
async fn assert_clean(label: &RunLabel, volumes: &[String]) {
    let left = leftovers(label).await.unwrap();
    let volumes_left = existing_volumes(volumes).await.unwrap();
    if !left.is_empty() {
        sweep(label).await.unwrap();
    }
    assert!(left.is_empty(), "labelled resources left: {left:?}");
    assert!(volumes_left.is_empty(), "volumes left: {volumes_left:?}");
}

async fn counted_start(label: &RunLabel) -> (Registry, Daemon, Vec<String>) {
    assert!(leftovers(label).await.unwrap().is_empty(), "a fresh label owns nothing");
    let (registry, daemon, volumes) = start_both(label).await;
    let during = leftovers(label).await.unwrap();
    assert_eq!(during.containers.len(), 2, "registry and dind: {during:?}");
    assert_eq!(volumes.len(), 2, "registry storage and dind data: {volumes:?}");
    assert_eq!(existing_volumes(&volumes).await.unwrap(), volumes);
    (registry, daemon, volumes)
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_removes_containers_and_volumes() {
    if engine_support::stand_in(VERSION).await.is_none() {
        return;
    }
    let label = RunLabel::unique();
    let (registry, daemon, volumes) = counted_start(&label).await;
    daemon.stop().await.unwrap();
    registry.stop().await.unwrap();
    assert_clean(&label, &volumes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_removes_containers_and_volumes() {
    if engine_support::stand_in(VERSION).await.is_none() {
        return;
    }
    let label = RunLabel::unique();
    let (registry, daemon, volumes) = counted_start(&label).await;
    drop(daemon);
    drop(registry);
    assert_clean(&label, &volumes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn panic_removes_containers_and_volumes() {
    if engine_support::stand_in(VERSION).await.is_none() {
        return;
    }
    let label = RunLabel::unique();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task_label = label.clone();
    let task = tokio::spawn(async move {
        let (_registry, _daemon, volumes) = counted_start(&task_label).await;
        tx.send(volumes).unwrap();
        panic!("a job panics with its registry and daemon alive");
    });
    assert!(task.await.unwrap_err().is_panic());
    let volumes = rx.await.unwrap();
    assert_clean(&label, &volumes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_starts_leave_nothing() {
    let Some(images) = engine_support::stand_in(VERSION).await else {
        return;
    };
    let label = RunLabel::unique();
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();

    // dockerd refuses the flag and exits: the error carries its log.
    let err = Daemon::start(
        &images.dind,
        &registry,
        DaemonOptions::default().with_label(label.clone()).with_extra_flags(["--no-such-flag"]),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, EngineError::DaemonExited { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-flag"), "{err}");

    // A missing image is refused before anything is created.
    let err =
        Daemon::start("harness/dind:0.0.0-missing", &registry, DaemonOptions::default().with_label(label.clone()))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("make images"), "{err}");

    let volumes = registry.volumes().to_vec();
    registry.stop().await.unwrap();
    assert_clean(&label, &volumes).await;
}

/// Where privileged is refused (this project's machines) an explicit
/// `Privileged` fails clearly and leaves nothing; where it is allowed the
/// daemon runs privileged.
#[tokio::test(flavor = "multi_thread")]
async fn explicit_privileged_either_runs_or_fails_cleanly() {
    let Some(images) = engine_support::stand_in(VERSION).await else {
        return;
    };
    let label = RunLabel::unique();
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();
    let auto =
        Daemon::start(&images.dind, &registry, DaemonOptions::default().with_label(label.clone())).await.unwrap();
    let refused = auto.fallback_note().is_some();
    eprintln!("auto chose {:?}: {:?}", auto.rights(), auto.fallback_note());
    auto.stop().await.unwrap();

    let privileged = Daemon::start(
        &images.dind,
        &registry,
        DaemonOptions::default().with_label(label.clone()).with_rights(Rights::Privileged),
    )
    .await;
    match (refused, privileged) {
        (false, Ok(daemon)) => {
            assert_eq!(daemon.rights(), Rights::Privileged);
            daemon.stop().await.unwrap();
        }
        (true, Err(err)) => {
            let chain = format!("{err}: {:?}", std::error::Error::source(&err));
            assert!(chain.contains("failed to start dind"), "{chain}");
        }
        (refused, other) => panic!("auto said refused={refused} but privileged gave {other:?}"),
    }
    let volumes = registry.volumes().to_vec();
    registry.stop().await.unwrap();
    assert_clean(&label, &volumes).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_removes_containers_and_volumes() {
    if engine_support::stand_in(VERSION).await.is_none() {
        return;
    }
    let label = RunLabel::unique();
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["ctrl_c_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_LABEL_ENV, label.value())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            // libtest's "test ctrl_c_child ... " shares the line.
            if let Some((_, rest)) = line.split_once("READY ") {
                return rest.split(',').map(str::to_owned).collect::<Vec<_>>();
            }
        }
        panic!("the child ended before it was ready");
    })
    .await
    .expect("the child starts a registry and a dind within 2 minutes");
    assert_eq!(leftovers(&label).await.unwrap().containers.len(), 2);

    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the child exits within a minute of Ctrl-C")
        .unwrap();
    eprintln!("child exited: {exit}");
    assert_clean(&label, &ready).await;
}

/// The process the Ctrl-C test interrupts: starts a registry and a dind,
/// says READY with their volumes, and waits to be killed.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "started by ctrl_c_removes_containers_and_volumes"]
async fn ctrl_c_child() {
    let Ok(value) = std::env::var(CHILD_LABEL_ENV) else {
        return;
    };
    let label = RunLabel::new(value).unwrap();
    // What the CLI does: listen, and tear down once interrupted.
    harness::runner::interrupt::listen("harness clean".into()).unwrap();
    let (registry, daemon, volumes) = start_both(&label).await;
    println!("READY {}", volumes.join(","));
    tokio::select! {
        () = harness::runner::interrupt::interrupted() => {}
        () = tokio::time::sleep(Duration::from_secs(300)) => panic!("nobody pressed Ctrl-C"),
    }
    daemon.stop().await.unwrap();
    registry.stop().await.unwrap();
}
