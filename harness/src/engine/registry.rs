//! The run's image registry: one per run, over TLS, optionally with htpasswd.
//!
//! Every dind of the run reaches it under one stable name (`{registry}` in
//! scenarios, `registry.harness.test:5000` by default) through a host entry
//! pointing at the registry container's bridge address; the server
//! certificate's SAN carries that name. The host reaches it on a port
//! published on 127.0.0.1 only, which is how base images are seeded: the host
//! daemon treats 127.0.0.0/8 as an insecure registry, so it pushes there
//! despite the private CA, and credentials go through the API, never into the
//! host's `~/.docker/config.json`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use testcontainers::bollard::auth::DockerCredentials;
use testcontainers::bollard::models::{HostConfig, PortBinding};
use testcontainers::bollard::query_parameters::{
    PushImageOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use testcontainers::bollard::Docker;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use super::cleanup::{self, RunLabel, ROLE_LABEL, RUN_LABEL};
use super::docker::{self, split_reference};
use super::{EngineError, RunCa};

/// The registry's host name inside every dind unless options say otherwise.
pub const DEFAULT_REGISTRY_HOST: &str = "registry.harness.test";
/// The port the registry serves on inside its container, part of its name.
const REGISTRY_PORT: u16 = 5000;

/// A user name and password for the registry's htpasswd auth.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self { username: username.into(), password: password.into() }
    }

    /// User `harness` with a password made for this run. It guards a
    /// registry on loopback and the bridge for the length of a run, so it
    /// only has to be unguessable in practice, not cryptographically strong.
    pub fn generate() -> Self {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(format!("{:?}", std::time::SystemTime::now()));
        hasher.update(std::process::id().to_le_bytes());
        hasher.update(RunLabel::unique().value());
        let marker = 0u8;
        hasher.update(format!("{:p}", &marker));
        Self::new("harness", hex::encode(&hasher.finalize()[..16]))
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

/// How to start the run's registry.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Host name dinds use (with `:5000`, the registry's name).
    pub hostname: String,
    /// htpasswd auth; `None` serves anonymously.
    pub auth: Option<Credentials>,
    pub label: RunLabel,
    pub startup_timeout: Duration,
    /// Let testcontainers pull the image when it is not on the host.
    pub allow_pull: bool,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            hostname: DEFAULT_REGISTRY_HOST.to_owned(),
            auth: None,
            label: RunLabel::current(),
            startup_timeout: Duration::from_secs(60),
            allow_pull: false,
        }
    }
}

impl RegistryOptions {
    pub fn with_auth(mut self, credentials: Credentials) -> Self {
        self.auth = Some(credentials);
        self
    }

    /// htpasswd auth with [`Credentials::generate`].
    pub fn with_generated_auth(self) -> Self {
        self.with_auth(Credentials::generate())
    }

    pub fn with_label(mut self, label: RunLabel) -> Self {
        self.label = label;
        self
    }

    pub fn with_hostname(mut self, hostname: impl Into<String>) -> Self {
        self.hostname = hostname.into();
        self
    }

    pub fn with_allow_pull(mut self, allow: bool) -> Self {
        self.allow_pull = allow;
        self
    }
}

/// The run's registry. Dropping it removes the container (and its storage);
/// prefer [`Registry::stop`].
pub struct Registry {
    container: ContainerAsync<GenericImage>,
    docker: Docker,
    image: String,
    hostname: String,
    name: String,
    bridge_ip: IpAddr,
    host_port: u16,
    ca: RunCa,
    credentials: Option<Credentials>,
    label: RunLabel,
    volumes: Vec<String>,
    seeded: tokio::sync::Mutex<HashMap<(String, String), String>>,
    /// Host tags made for seeding and not yet removed: a seed stopped
    /// half-way (Ctrl-C drops its future) leaves its tag here for `stop`.
    temp_tags: std::sync::Mutex<Vec<String>>,
}

impl Registry {
    /// Starts `image` (a `registry:2` or its stand-in) with a fresh CA.
    pub async fn start(image: &str, opts: RegistryOptions) -> Result<Registry, EngineError> {
        let fail = |source: super::error::Source| EngineError::StartRegistry { image: image.to_owned(), source };
        let docker = docker::client().await?;
        docker::ensure_image(&docker, image, opts.allow_pull).await?;
        let ca = RunCa::generate(&[&opts.hostname, "localhost", "127.0.0.1"])?;
        let (name, tag) = split_reference(image)?;
        let container_name = format!("harness-{}-registry-{}", opts.label, next_id());

        let mut request = GenericImage::new(name, tag)
            .with_exposed_port(REGISTRY_PORT.tcp())
            .with_wait_for(WaitFor::message_on_either_std("listening on"))
            .with_container_name(&container_name)
            .with_label(RUN_LABEL, opts.label.value())
            .with_label(ROLE_LABEL, "registry")
            .with_env_var("REGISTRY_HTTP_TLS_CERTIFICATE", "/certs/registry.crt")
            .with_env_var("REGISTRY_HTTP_TLS_KEY", "/certs/registry.key")
            .with_copy_to("/certs/registry.crt", ca.server_cert_pem().as_bytes().to_vec())
            .with_copy_to("/certs/registry.key", ca.server_key_pem().as_bytes().to_vec())
            .with_startup_timeout(opts.startup_timeout)
            .with_host_config_modifier(|hc| publish_on_loopback(hc, REGISTRY_PORT));
        if let Some(auth) = &opts.auth {
            request = request
                .with_env_var("REGISTRY_AUTH", "htpasswd")
                .with_env_var("REGISTRY_AUTH_HTPASSWD_REALM", "harness registry")
                .with_env_var("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd")
                .with_copy_to("/auth/htpasswd", htpasswd_line(auth)?.into_bytes());
        }

        let container = match request.start().await {
            Ok(c) => c,
            Err(e) => {
                remove_by_name(&docker, &container_name).await;
                return Err(fail(Box::new(e)));
            }
        };
        let inspect = docker.inspect_container(container.id(), None).await.map_err(|e| fail(Box::new(e)))?;
        let settings = inspect.network_settings.unwrap_or_default();
        let bridge_ip = settings
            .networks
            .unwrap_or_default()
            .into_values()
            .filter_map(|n| n.ip_address)
            .find_map(|ip| ip.parse().ok())
            .ok_or_else(|| fail("the registry container has no bridge address".into()))?;
        let host_port = settings
            .ports
            .unwrap_or_default()
            .get(&format!("{REGISTRY_PORT}/tcp"))
            .cloned()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|b| b.host_port?.parse().ok())
            .next()
            .ok_or_else(|| fail("the registry's port is not published".into()))?;
        let volumes = cleanup::container_volumes(&docker, container.id()).await?;

        Ok(Registry {
            container,
            docker,
            image: image.to_owned(),
            name: format!("{}:{REGISTRY_PORT}", opts.hostname),
            hostname: opts.hostname,
            bridge_ip,
            host_port,
            ca,
            credentials: opts.auth,
            label: opts.label,
            volumes,
            seeded: Default::default(),
            temp_tags: Default::default(),
        })
    }

    /// What `{registry}` expands to inside every dind, e.g.
    /// `registry.harness.test:5000`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host part of [`name`](Self::name).
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// `127.0.0.1:<port>`, reachable from the host only.
    pub fn host_address(&self) -> String {
        format!("127.0.0.1:{}", self.host_port)
    }

    /// The registry container's address on the default bridge, where the
    /// name points inside each dind.
    pub fn bridge_ip(&self) -> IpAddr {
        self.bridge_ip
    }

    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials.as_ref().map(|c| (c.username.as_str(), c.password.as_str()))
    }

    /// The run's CA certificate, trusted by every dind.
    pub fn ca_pem(&self) -> &str {
        self.ca.ca_pem()
    }

    pub fn image(&self) -> &str {
        &self.image
    }

    pub fn label(&self) -> &RunLabel {
        &self.label
    }

    pub fn container_id(&self) -> &str {
        self.container.id()
    }

    /// Volumes of the registry container (its anonymous storage).
    pub fn volumes(&self) -> &[String] {
        &self.volumes
    }

    /// Pushes the host image `local_ref` into the registry as `repo_tag`
    /// (`repo[:tag]`, tag `latest` when absent) and returns the reference as
    /// dinds see it, `{name}/{repo_tag}`. Seeding the same pair again is free.
    pub async fn seed(&self, local_ref: &str, repo_tag: &str) -> Result<String, EngineError> {
        let key = (local_ref.to_owned(), repo_tag.to_owned());
        let mut seeded = self.seeded.lock().await;
        if let Some(done) = seeded.get(&key) {
            return Ok(done.clone());
        }
        let (repo, tag) = split_reference(repo_tag)?;
        if repo.contains(':') || repo.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(EngineError::BadReference {
                reference: repo_tag.to_owned(),
                why: "expected `repo[:tag]` in lower case, without a registry host".into(),
            });
        }
        let host_repo = format!("{}/{repo}", self.host_address());
        let fail = |source: super::error::Source| EngineError::Seed {
            local_ref: local_ref.to_owned(),
            target: format!("{host_repo}:{tag}"),
            source,
        };
        let started = Instant::now();
        let temp_tag = format!("{host_repo}:{tag}");
        self.temp_tags.lock().unwrap_or_else(|e| e.into_inner()).push(temp_tag.clone());
        self.docker
            .tag_image(local_ref, Some(TagImageOptionsBuilder::new().repo(&host_repo).tag(&tag).build()))
            .await
            .map_err(|e| fail(Box::new(e)))?;
        let credentials = self.credentials.as_ref().map(|c| DockerCredentials {
            username: Some(c.username.clone()),
            password: Some(c.password.clone()),
            serveraddress: Some(self.host_address()),
            ..Default::default()
        });
        let mut push =
            self.docker.push_image(&host_repo, Some(PushImageOptionsBuilder::new().tag(&tag).build()), credentials);
        let mut pushed = Ok(());
        while let Some(item) = push.next().await {
            if let Err(e) = item {
                pushed = Err(fail(Box::new(e)));
                break;
            }
        }
        // The temporary host tag goes either way; the image stays.
        let untag = self
            .docker
            .remove_image(
                &format!("{host_repo}:{tag}"),
                Some(RemoveImageOptionsBuilder::new().noprune(true).build()),
                None,
            )
            .await;
        match untag.map(drop).or_else(cleanup::ignore_missing) {
            Ok(()) => self.temp_tags.lock().unwrap_or_else(|e| e.into_inner()).retain(|t| t != &temp_tag),
            Err(e) => tracing::debug!("could not remove the seeding tag {temp_tag} yet: {e}"),
        }
        pushed?;
        tracing::info!(
            "seeded {local_ref} into the run's registry as {repo}:{tag} in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let as_seen = format!("{}/{repo}:{tag}", self.name);
        seeded.insert(key, as_seen.clone());
        Ok(as_seen)
    }

    /// Whether the registry container still runs (a command that failed
    /// may have failed because it did not).
    pub async fn is_running(&self) -> bool {
        let inspect = self.docker.inspect_container(self.container.id(), None).await;
        inspect.ok().and_then(|i| i.state?.running).unwrap_or(false)
    }

    /// Removes the seeding tags a stopped seed left on the host, then the
    /// registry container and its storage.
    pub async fn stop(self) -> Result<(), EngineError> {
        let left = std::mem::take(&mut *self.temp_tags.lock().unwrap_or_else(|e| e.into_inner()));
        for tag in left {
            let options = RemoveImageOptionsBuilder::new().noprune(true).build();
            let removed = self.docker.remove_image(&tag, Some(options), None).await;
            if let Err(e) = removed.map(drop).or_else(cleanup::ignore_missing) {
                tracing::warn!("could not remove the seeding tag {tag}: {e}");
            }
        }
        let id = self.container.id().to_owned();
        self.container.rm().await.map_err(|e| EngineError::docker(format!("remove registry container `{id}`"), e))
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("image", &self.image)
            .field("name", &self.name)
            .field("host_address", &self.host_address())
            .field("bridge_ip", &self.bridge_ip)
            .field("container", &self.container.id())
            .finish_non_exhaustive()
    }
}

/// Publishes `port` on 127.0.0.1 only (a random host port), instead of
/// testcontainers' publish-all on every interface.
pub(crate) fn publish_on_loopback(hc: &mut HostConfig, port: u16) {
    hc.publish_all_ports = Some(false);
    hc.port_bindings = Some(HashMap::from([(
        format!("{port}/tcp"),
        Some(vec![PortBinding { host_ip: Some("127.0.0.1".to_owned()), host_port: Some(String::new()) }]),
    )]));
}

/// One htpasswd line; distribution accepts bcrypt only.
fn htpasswd_line(auth: &Credentials) -> Result<String, EngineError> {
    let hash = bcrypt::hash(&auth.password, bcrypt::DEFAULT_COST).map_err(EngineError::Htpasswd)?;
    Ok(format!("{}:{hash}\n", auth.username))
}

/// A number that makes container names unique within the process.
pub(crate) fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Removes a container testcontainers created but did not hand over (its
/// start failed), so a failed start leaks nothing.
pub(crate) async fn remove_by_name(docker: &Docker, name: &str) {
    use testcontainers::bollard::query_parameters::RemoveContainerOptionsBuilder;
    let options = RemoveContainerOptionsBuilder::new().force(true).v(true).build();
    if let Err(e) = docker.remove_container(name, Some(options)).await.or_else(cleanup::ignore_missing) {
        tracing::warn!("could not remove container {name} after a failed start: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_is_published_on_loopback_only() {
        let mut hc = HostConfig { publish_all_ports: Some(true), ..Default::default() };
        publish_on_loopback(&mut hc, 5000);
        assert_eq!(hc.publish_all_ports, Some(false));
        let bindings = hc.port_bindings.unwrap();
        let binding = &bindings["5000/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn htpasswd_uses_bcrypt_and_credentials_do_not_print_the_password() {
        let c = Credentials::generate();
        assert_eq!(c.username, "harness");
        assert_eq!(c.password.len(), 32);
        assert_ne!(c.password, Credentials::generate().password);
        let line = htpasswd_line(&c).unwrap();
        let (user, hash) = line.trim_end().split_once(':').unwrap();
        assert_eq!(user, "harness");
        assert!(hash.starts_with("$2"), "{hash}");
        assert!(bcrypt::verify(&c.password, hash).unwrap());
        assert!(!format!("{c:?}").contains(&c.password));
    }
}
