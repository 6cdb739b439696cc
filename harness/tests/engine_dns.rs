//! Containers inside a dind must use the host's resolvers, never Docker's
//! public fallback (8.8.8.8 and friends): a nested container started from
//! the run's registry reads its resolv.conf.

mod engine_support;

use std::net::IpAddr;
use std::time::Duration;

use harness::engine::{nameservers, Daemon, DaemonOptions, RunLabel};
use rstest::rstest;

/// Docker's fallback when it finds no usable resolver.
const PUBLIC_FALLBACK: [&str; 4] = ["8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"];

#[rstest]
#[case::docker_20_10("20.10.24")]
#[case::docker_26_1("26.1.5")]
#[case::docker_28_5("28.5.2")]
#[tokio::test(flavor = "multi_thread")]
async fn nested_containers_use_the_hosts_resolvers(#[case] version: &str) {
    let Some(images) = engine_support::stand_in(version).await else {
        return;
    };
    let label = RunLabel::unique();
    let (registry, runtime, _) = engine_support::registry_with_runtime(&images, &label, false).await;
    let daemon =
        Daemon::start(&images.dind, &registry, DaemonOptions::default().with_label(label.clone())).await.unwrap();

    let own = daemon.capture("cat /etc/resolv.conf", Duration::from_secs(30)).await.unwrap();
    let nested = daemon
        .capture(&format!("docker run --rm '{runtime}' cat /etc/resolv.conf"), Duration::from_secs(120))
        .await
        .unwrap();
    assert!(nested.success(), "{nested:?}");
    let own = nameservers(&own.stdout);
    let nested = nameservers(&nested.stdout);
    eprintln!("[{version}] dind resolvers {own:?}, nested {nested:?}");

    let public: Vec<IpAddr> = PUBLIC_FALLBACK.iter().map(|s| s.parse().unwrap()).collect();
    // The host's own list may legitimately name a public resolver; only a
    // fallback Docker invented is wrong.
    let host = std::fs::read_to_string("/etc/resolv.conf").map(|t| nameservers(&t)).unwrap_or_default();
    assert!(!nested.is_empty(), "[{version}] the nested container has no resolver");
    for ip in &nested {
        assert!(
            !public.contains(ip) || host.contains(ip),
            "[{version}] nested container got Docker's public fallback {ip} (host: {host:?})"
        );
        assert!(!ip.is_loopback(), "[{version}] nested container got loopback {ip}");
    }
    let own_usable: Vec<IpAddr> = own.into_iter().filter(|ip| !ip.is_loopback()).collect();
    assert_eq!(nested, own_usable, "[{version}] nested containers inherit the dind's resolvers");
    if std::env::var_os("DOCKER_HOST").is_none() && !host.iter().all(IpAddr::is_loopback) {
        // Same machine: the dind on the default bridge got the host's list.
        let host_usable: Vec<IpAddr> = host.into_iter().filter(|ip| !ip.is_loopback()).collect();
        assert_eq!(nested, host_usable, "[{version}] nested resolvers are the host's");
    }

    daemon.stop().await.unwrap();
    registry.stop().await.unwrap();
}
