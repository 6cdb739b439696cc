//! No Docker API of a run is reachable from the network: a dind publishes
//! no port at all and the registry only on 127.0.0.1, even from an image
//! that exposes the daemon's ports as the official `docker:dind` does
//! (2375 plain, 2376 TLS). Read from the running containers' HostConfig
//! and NetworkSettings.

mod engine_support;

use std::io::Write;
use std::process::{Command, Stdio};

use harness::engine::{leftovers, sweep, Daemon, DaemonOptions, Registry, RegistryOptions, RunLabel};
use testcontainers::bollard::Docker;

const VERSION: &str = "20.10.24";

/// A copy of the stand-in that exposes the daemon ports like the official
/// image, tagged for this test only.
fn exposing_image(base: &str, label: &RunLabel) -> String {
    let tag = format!("harness-test/dind-exposing:{}", label.value());
    let dockerfile = format!("FROM {base}\nEXPOSE 2375/tcp 2376/tcp\nLABEL harness.run={}\n", label.value());
    let mut child = Command::new("docker")
        .args(["build", "-q", "-t", &tag, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the docker CLI runs");
    child.stdin.take().unwrap().write_all(dockerfile.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "docker build of {tag}");
    tag
}

/// Every (container port, host ip) a container publishes, from both its
/// configuration and what the daemon actually bound.
async fn published(docker: &Docker, id: &str) -> Vec<(String, String)> {
    let inspect = docker.inspect_container(id, None).await.unwrap();
    assert!(inspect.host_config.is_some(), "container {id} has no host config");
    let configured = inspect.host_config.and_then(|h| h.port_bindings).unwrap_or_default();
    let bound = inspect.network_settings.and_then(|n| n.ports).unwrap_or_default();
    let mut out = Vec::new();
    for (port, bindings) in configured.into_iter().chain(bound) {
        for binding in bindings.unwrap_or_default() {
            out.push((port.clone(), binding.host_ip.unwrap_or_default()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_is_published_beyond_loopback() {
    let Some(images) = engine_support::stand_in(VERSION).await else {
        return;
    };
    let label = RunLabel::unique();
    let image = exposing_image(&images.dind, &label);
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();
    let daemon = Daemon::start(&image, &registry, DaemonOptions::default().with_label(label.clone())).await;
    let docker = Docker::connect_with_defaults().unwrap();
    let registry_ports = published(&docker, registry.container_id()).await;
    let seen = match daemon {
        Ok(daemon) => {
            let inspect = docker.inspect_container(daemon.container_id(), None).await.unwrap();
            let publish_all = inspect.host_config.and_then(|h| h.publish_all_ports);
            let ports = published(&docker, daemon.container_id()).await;
            daemon.stop().await.unwrap();
            Ok((publish_all, ports))
        }
        Err(e) => Err(format!("{e:#}")),
    };
    registry.stop().await.unwrap();
    let _ = Command::new("docker").args(["rmi", &image]).output();
    let left = leftovers(&label).await.unwrap();
    if !left.is_empty() {
        sweep(&label).await.unwrap();
    }
    assert!(left.is_empty(), "{left:?}");

    let (dind_publish_all, dind_ports) = seen.expect("the dind from an exposing image starts");
    assert_eq!(dind_publish_all, Some(false), "the dind must not publish its exposed ports");
    assert!(dind_ports.is_empty(), "the dind publishes {dind_ports:?}");
    assert!(!registry_ports.is_empty(), "the registry is published for seeding");
    for (port, ip) in &registry_ports {
        assert_eq!(ip, "127.0.0.1", "registry port {port} is published on `{ip}`");
    }
}
