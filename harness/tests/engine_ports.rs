//! No Docker API of a run is reachable from the network, and the dind
//! stand-in keeps the official `docker:dind` entrypoint's contract, so the
//! official-image path runs here too.
//!
//! The stand-in exposes 2375 and 2376 as the official image does. A run's
//! dind ([`DaemonApi::Socket`]: `dockerd` as the first argument, run as
//! given) publishes no port and has no TCP listener at all; the registry is
//! published on 127.0.0.1 only. The image's own default start
//! ([`DaemonApi::Tls`], `DOCKER_TLS_CERTDIR=/certs`, no command) makes a CA,
//! server and client certificates and serves 2376 with mutual TLS: the
//! client certificate gets an answer, a plain client and a TLS client
//! without a certificate are refused. Read from the running containers'
//! HostConfig and NetworkSettings, and from the dind's own /proc/net/tcp.
//!
//! One engine (26.1.5, or `HARNESS_TEST_ENGINE`), no builds: under a
//! minute. 26.1.5 because its CLI's `docker info` exits 0 when no daemon
//! answers: the TLS start, seconds late for its keys, caught a readiness
//! probe that trusted the exit code.

mod engine_support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use harness::engine::{
    leftovers, sweep, Daemon, DaemonApi, DaemonOptions, Registry, RegistryOptions, RunLabel, TLS_CERTDIR,
};
use testcontainers::bollard::Docker;

const SHORT: Duration = Duration::from_secs(60);

fn version() -> String {
    std::env::var("HARNESS_TEST_ENGINE").unwrap_or_else(|_| "26.1.5".into())
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

/// The listening TCP sockets of /proc/net/tcp and /proc/net/tcp6 text.
fn listeners(proc_net_tcp: &str) -> Vec<(IpAddr, u16)> {
    proc_net_tcp
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st ...; 0A is LISTEN.
            if fields.get(3) != Some(&"0A") {
                return None;
            }
            let (addr, port) = fields.get(1)?.split_once(':')?;
            Some((proc_addr(addr)?, u16::from_str_radix(port, 16).ok()?))
        })
        .collect()
}

/// An address as /proc/net prints it: 32-bit words in host (little-endian) order.
fn proc_addr(hex: &str) -> Option<IpAddr> {
    let words: Vec<u32> =
        (0..hex.len() / 8).map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).ok()).collect::<Option<_>>()?;
    match words.as_slice() {
        [w] => Some(IpAddr::V4(Ipv4Addr::from(w.to_le_bytes()))),
        [a, b, c, d] => {
            let bytes: Vec<u8> = [a, b, c, d].iter().flat_map(|w| w.to_le_bytes()).collect();
            Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)))
        }
        _ => None,
    }
}

/// What one running dind shows.
#[derive(Debug)]
struct Seen {
    publish_all: Option<bool>,
    ports: Vec<(String, String)>,
    listeners: Vec<(IpAddr, u16)>,
    ready: Duration,
}

async fn look(docker: &Docker, daemon: &Daemon) -> Seen {
    let inspect = docker.inspect_container(daemon.container_id(), None).await.unwrap();
    let tcp = daemon.capture("cat /proc/net/tcp /proc/net/tcp6", SHORT).await.unwrap();
    Seen {
        publish_all: inspect.host_config.and_then(|h| h.publish_all_ports),
        ports: published(docker, daemon.container_id()).await,
        listeners: listeners(&tcp.stdout),
        ready: daemon.ready_after(),
    }
}

/// Exit code and output of each client against the TLS dind's 2376, on the
/// dind's address on the host's bridge, where a neighbour would reach it
/// (so the server certificate's SAN is checked too).
#[derive(Debug)]
struct Clients {
    certs: String,
    with_client_cert: (i64, String),
    plain: (i64, String),
    tls_without_cert: (i64, String),
}

async fn try_clients(docker: &Docker, daemon: &Daemon) -> Clients {
    let inspect = docker.inspect_container(daemon.container_id(), None).await.unwrap();
    let networks = inspect.network_settings.and_then(|n| n.networks).unwrap_or_default();
    let addr = networks.values().find_map(|n| n.ip_address.clone().filter(|ip| !ip.is_empty())).unwrap();
    let addr = &addr;
    let run = |args: String| async move {
        let script = format!("docker -H tcp://{addr}:2376 {args} version --format '{{{{.Server.Version}}}}'");
        let out = daemon.capture(&script, SHORT).await.unwrap();
        (out.exit_code, format!("{}{}", out.stdout, out.stderr).trim().to_owned())
    };
    let c = format!("{TLS_CERTDIR}/client");
    let certs = daemon
        .capture(&format!("cd {TLS_CERTDIR} && ls ca/cert.pem server/cert.pem server/key.pem client/ca.pem client/cert.pem client/key.pem"), SHORT)
        .await
        .unwrap();
    Clients {
        certs: format!("{}{}", certs.stdout, certs.stderr),
        with_client_cert: run(format!(
            "--tlsverify --tlscacert {c}/ca.pem --tlscert {c}/cert.pem --tlskey {c}/key.pem"
        ))
        .await,
        plain: run(String::new()).await,
        tls_without_cert: run(format!("--tlsverify --tlscacert {c}/ca.pem")).await,
    }
}

/// Starts a dind with `api`, reads what it shows, stops it.
async fn dind(
    docker: &Docker,
    image: &str,
    registry: &Registry,
    label: &RunLabel,
    api: DaemonApi,
) -> Result<(Seen, Option<Clients>), String> {
    let options = DaemonOptions::default().with_label(label.clone()).with_api(api);
    let daemon = Daemon::start(image, registry, options).await.map_err(|e| format!("{api:?}: {e:#}"))?;
    let seen = look(docker, &daemon).await;
    let clients = if api == DaemonApi::Tls { Some(try_clients(docker, &daemon).await) } else { None };
    daemon.stop().await.map_err(|e| format!("{e:#}"))?;
    Ok((seen, clients))
}

#[tokio::test(flavor = "multi_thread")]
async fn no_api_is_reachable_from_the_network_and_tls_is_mutual() {
    let Some(images) = engine_support::stand_in(&version()).await else {
        return;
    };
    let docker = Docker::connect_with_defaults().unwrap();
    let exposed = docker.inspect_image(&images.dind).await.unwrap().config.and_then(|c| c.exposed_ports);
    let label = RunLabel::unique();
    let registry =
        Registry::start(&images.registry, RegistryOptions::default().with_label(label.clone())).await.unwrap();
    let registry_ports = published(&docker, registry.container_id()).await;
    let socket = dind(&docker, &images.dind, &registry, &label, DaemonApi::Socket).await;
    let tls = dind(&docker, &images.dind, &registry, &label, DaemonApi::Tls).await;
    registry.stop().await.unwrap();
    let left = leftovers(&label).await.unwrap();
    if !left.is_empty() {
        sweep(&label).await.unwrap();
    }
    assert!(left.is_empty(), "{left:?}");

    let mut exposed = exposed.unwrap_or_default();
    exposed.sort();
    assert_eq!(exposed, ["2375/tcp", "2376/tcp"], "the stand-in exposes the official image's ports");
    assert!(!registry_ports.is_empty(), "the registry is published for seeding");
    for (port, ip) in &registry_ports {
        assert_eq!(ip, "127.0.0.1", "registry port {port} is published on `{ip}`");
    }

    let (socket, _) = socket.expect("a run's dind starts");
    let (tls, clients) = tls.expect("the image's default TLS start works");
    eprintln!("ready after: socket {:.2}s, tls {:.2}s", socket.ready.as_secs_f64(), tls.ready.as_secs_f64());
    for seen in [&socket, &tls] {
        assert_eq!(seen.publish_all, Some(false), "a dind must not publish its exposed ports");
        assert!(seen.ports.is_empty(), "a dind publishes {:?}", seen.ports);
    }
    assert_eq!(socket.listeners, [], "a run's dind listens on no TCP port");
    let ports: Vec<u16> = tls.listeners.iter().map(|(_, port)| *port).collect();
    assert_eq!(ports, [2376], "the TLS start serves 2376 alone: {:?}", tls.listeners);

    let clients = clients.unwrap();
    eprintln!("refused: plain `{}`; without a client certificate `{}`", clients.plain.1, clients.tls_without_cert.1);
    assert_eq!(clients.certs.lines().count(), 6, "certificates under {TLS_CERTDIR}: {}", clients.certs);
    let (code, out) = &clients.with_client_cert;
    assert_eq!(*code, 0, "the client certificate is accepted: {out}");
    assert!(out.starts_with(&version()), "the server answers with its version: `{out}`");
    let (code, out) = &clients.plain;
    assert_ne!(*code, 0, "a plain client is refused: {out}");
    let (code, out) = &clients.tls_without_cert;
    assert_ne!(*code, 0, "TLS without a client certificate is refused: {out}");
}

#[test]
fn proc_net_tcp_listeners_are_decoded() {
    let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                0: 00000000:0948 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1\n\
                1: 0100007F:A1B2 0100007F:0948 01 00000000:00000000 00:00000000 00000000     0        0 2\n\
                0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 0A 0 0 0 0 0 3\n";
    assert_eq!(listeners(text), [(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 2376), (IpAddr::V6(Ipv6Addr::LOCALHOST), 53)]);
}
