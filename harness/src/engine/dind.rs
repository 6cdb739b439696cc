//! A fresh docker-in-docker daemon per CI job: its settings, its start with
//! the privileged fallback, and what runs inside it.
//!
//! Real CI hosts accept `--privileged`; some sandboxes (this project's own
//! machines) refuse it ("unable to apply caps"). With [`Rights::Auto`] the
//! host is probed once per process and, when it refuses, every dind gets the
//! explicit set that works instead (ENVIRONMENT.md), with one line saying why.
//! `/var/lib/docker` is an anonymous volume (overlay on overlay fails) or a
//! capped tmpfs ([`super::disk`]), the run's CA is trusted through
//! `certs.d`, the registry's stable name points at its bridge address, and
//! the dind stays on the default bridge so nested containers inherit the
//! host's resolvers instead of a public fallback.
//!
//! The start follows the official image's entrypoint contract, which the
//! offline stand-in keeps too (`ci/images/dind/dockerd-entrypoint.sh`):
//! with `dockerd` as the first argument the entrypoint runs it as given, so
//! every run's daemon listens on its unix socket only ([`DaemonApi::Socket`]);
//! nothing in the dind listens on the network, and it publishes no port.

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use testcontainers::bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use testcontainers::bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
};
use testcontainers::bollard::Docker;
use testcontainers::core::Host;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};
use tokio::sync::OnceCell;

use super::carry::CarryVolume;
use super::cleanup::{self, RunLabel, ROLE_LABEL, RUN_LABEL};
use super::disk::{self, DATA_ROOT};
use super::docker::{self, error_chain, split_reference};
use super::exec::{describe, Captured, ExecOutcome, Target};
use super::facts::{self, Blob, EngineVersions, HistoryEntry};
use super::registry::{next_id, remove_by_name};
use super::{context, EngineError, Registry};

/// How a dind gets the rights dockerd needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rights {
    /// `--privileged` when the host allows it, else [`Rights::Capabilities`].
    #[default]
    Auto,
    /// `--privileged`, as real CI runners do.
    Privileged,
    /// The explicit set for hosts that refuse `--privileged`: every
    /// capability but SYS_RESOURCE, seccomp and AppArmor unconfined, no
    /// masked or read-only paths, `/sys/fs/cgroup` bound read-write.
    Capabilities,
}

/// Where a dind's daemon serves its Docker API, inside the container (a
/// dind publishes no port either way, see [`publish_nothing`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DaemonApi {
    /// The unix socket only: nothing listens on the network, and the
    /// harness, which talks to a dind through `docker exec`, needs nothing
    /// more. The command starts with `dockerd`, which the official
    /// entrypoint (and the stand-in's) runs as given, so
    /// `DOCKER_TLS_CERTDIR` plays no part. Every run uses this.
    #[default]
    Socket,
    /// The image's own default start, as a CI service runs it
    /// (`services: docker:dind` with `DOCKER_TLS_CERTDIR=/certs`): the
    /// socket plus `tcp://0.0.0.0:2376` with mutual TLS, the entrypoint
    /// making a CA, a server and a client certificate under
    /// [`TLS_CERTDIR`]`/{ca,server,client}` (the client's for a CLI to use).
    /// It costs three RSA keys per start; the entrypoint test uses it.
    Tls,
}

/// Where the entrypoint writes its certificates in [`DaemonApi::Tls`].
pub const TLS_CERTDIR: &str = "/certs";
/// dockerd's socket, as the official entrypoint names it for root.
const SOCKET_HOST: &str = "--host=unix:///var/run/docker.sock";

/// The dind's command and its `DOCKER_TLS_CERTDIR` (`None`: the image's
/// own, unused with a `dockerd` command) for `api`, with dockerd `flags`.
pub(crate) fn entrypoint_args(api: DaemonApi, flags: Vec<String>) -> (Vec<String>, Option<&'static str>) {
    match api {
        DaemonApi::Socket => {
            let command = ["dockerd", SOCKET_HOST].into_iter().map(str::to_owned).chain(flags).collect();
            (command, None)
        }
        // Flags alone (or nothing): the entrypoint puts its own first.
        DaemonApi::Tls => (flags, Some(TLS_CERTDIR)),
    }
}

/// Per-job daemon options.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Use the containerd image store (`features.containerd-snapshotter`).
    pub containerd_store: bool,
    /// More dockerd flags, appended last.
    pub extra_flags: Vec<String>,
    pub rights: Rights,
    pub label: RunLabel,
    /// Resolvers for nested containers (`--dns`); empty keeps the dind's own
    /// (the host's, on the default bridge).
    pub dns: Vec<IpAddr>,
    /// `docker login` to the run's registry when it has credentials, as CI
    /// jobs do before pulling base images.
    pub login: bool,
    /// How long dockerd may take to answer `docker info`.
    pub ready_timeout: Duration,
    /// Let testcontainers pull the image when it is not on the host.
    pub allow_pull: bool,
    /// Make the run's registry the daemon's Docker Hub mirror
    /// (`registry-mirrors`), so `FROM debian:bookworm-slim` resolves there.
    pub hub_mirror: bool,
    /// Where the daemon serves its API inside the container.
    pub api: DaemonApi,
    /// A cap on the data root in bytes: a tmpfs of that size instead of a
    /// volume (the runner takes it from [`super::disk::DISK_ENV`]).
    pub disk_limit: Option<u64>,
    /// A volume carried between the cell's daemons, mounted at its path.
    pub carry: Option<CarryVolume>,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            containerd_store: false,
            extra_flags: Vec::new(),
            rights: Rights::Auto,
            label: RunLabel::current(),
            dns: Vec::new(),
            login: true,
            ready_timeout: Duration::from_secs(60),
            allow_pull: false,
            hub_mirror: true,
            api: DaemonApi::Socket,
            disk_limit: None,
            carry: None,
        }
    }
}

impl DaemonOptions {
    pub fn with_containerd_store(mut self, on: bool) -> Self {
        self.containerd_store = on;
        self
    }

    pub fn with_extra_flags(mut self, flags: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.extra_flags.extend(flags.into_iter().map(Into::into));
        self
    }

    pub fn with_rights(mut self, rights: Rights) -> Self {
        self.rights = rights;
        self
    }

    pub fn with_label(mut self, label: RunLabel) -> Self {
        self.label = label;
        self
    }

    pub fn with_dns(mut self, servers: impl IntoIterator<Item = IpAddr>) -> Self {
        self.dns.extend(servers);
        self
    }

    pub fn with_login(mut self, login: bool) -> Self {
        self.login = login;
        self
    }

    pub fn with_allow_pull(mut self, allow: bool) -> Self {
        self.allow_pull = allow;
        self
    }

    pub fn with_hub_mirror(mut self, on: bool) -> Self {
        self.hub_mirror = on;
        self
    }

    pub fn with_api(mut self, api: DaemonApi) -> Self {
        self.api = api;
        self
    }

    /// Caps the data root at `bytes` (a tmpfs); `None` keeps the volume.
    pub fn with_disk_limit(mut self, bytes: Option<u64>) -> Self {
        self.disk_limit = bytes;
        self
    }

    /// Mounts `carry` (a volume that outlives the daemon) at its path.
    pub fn with_carry(mut self, carry: Option<CarryVolume>) -> Self {
        self.carry = carry;
        self
    }

    /// dockerd's arguments (the dind entrypoint passes them on).
    pub(crate) fn dockerd_flags(&self) -> Vec<String> {
        self.dns.iter().map(|ip| format!("--dns={ip}")).chain(self.extra_flags.iter().cloned()).collect()
    }

    /// `/etc/docker/daemon.json`: the image store is always said explicitly,
    /// so an engine whose default differs (29 turns it on) still matches
    /// the matrix cell. With [`hub_mirror`](Self::hub_mirror), `registry`
    /// (`host:port`, trusted through `certs.d`) is the Docker Hub mirror.
    pub(crate) fn daemon_json(&self, registry: &str) -> String {
        let mut json = serde_json::json!({ "features": { "containerd-snapshotter": self.containerd_store } });
        if self.hub_mirror {
            json["registry-mirrors"] = serde_json::json!([format!("https://{registry}")]);
        }
        json.to_string()
    }
}

/// Where a `docker login` inside a dind reads the registry password from
/// (`--password-stdin < FILE`), so it is in no process's arguments.
pub const REGISTRY_PASSWORD_FILE: &str = "/run/harness/registry-password";
/// Where the run's CA is added to the system roots of dockerd and the CLI.
const RUN_CA_DIR: &str = "/etc/harness/ca";
/// Fixed time budget for the engine's own small commands.
const SHORT: Duration = Duration::from_secs(60);

/// Sets the host config fields that grant `rights` (`Privileged` or
/// `Capabilities`; `Auto` must be decided first, see [`plan`]).
pub(crate) fn apply_rights(rights: Rights, hc: &mut HostConfig) {
    match rights {
        Rights::Privileged | Rights::Auto => {
            hc.privileged = Some(true);
        }
        Rights::Capabilities => {
            hc.privileged = Some(false);
            hc.cap_add = Some(vec!["ALL".into()]);
            hc.cap_drop = Some(vec!["SYS_RESOURCE".into()]);
            hc.security_opt = Some(vec!["seccomp=unconfined".into(), "apparmor=unconfined".into()]);
            // The CLI's `systempaths=unconfined`, which the API does not know.
            hc.masked_paths = Some(Vec::new());
            hc.readonly_paths = Some(Vec::new());
            hc.mounts.get_or_insert_with(Vec::new).push(Mount {
                target: Some("/sys/fs/cgroup".into()),
                source: Some("/sys/fs/cgroup".into()),
                typ: Some(MountType::BIND),
                read_only: Some(false),
                ..Default::default()
            });
        }
    }
}

/// Publishes none of the image's ports. testcontainers publishes every
/// exposed port on all host interfaces when none is mapped, and the
/// official dind image exposes its Docker API (2375 plain, 2376 TLS): that
/// would hand root on the host to anyone who can reach it. The harness
/// talks to a dind only through `docker exec`, so nothing is published.
pub(crate) fn publish_nothing(hc: &mut HostConfig) {
    hc.publish_all_ports = Some(false);
    hc.port_bindings = Some(Default::default());
}

/// The rights a dind gets. `refused` is what the host probe found (`None`
/// when it has not run): `Auto` falls back to capabilities only when the
/// probe saw `--privileged` refused, and the choice is made once, before
/// the start, not by retrying.
pub(crate) fn plan(rights: Rights, refused: Option<bool>) -> Rights {
    match (rights, refused) {
        (Rights::Auto, Some(true)) => Rights::Capabilities,
        (Rights::Auto, _) => Rights::Privileged,
        (explicit, _) => explicit,
    }
}

/// Whether a container start failure means "privileged is not allowed here".
pub(crate) fn is_refusal(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("apply caps") || m.contains("operation not permitted")
}

/// The host's answer to "may containers run privileged?", probed once per
/// process: `Some(reason)` when refused.
static PRIVILEGED_REFUSED: OnceCell<Option<String>> = OnceCell::const_new();

async fn privileged_refusal(docker: &Docker, image: &str, label: &RunLabel) -> Result<Option<String>, EngineError> {
    PRIVILEGED_REFUSED.get_or_try_init(|| probe_privileged(docker, image, label)).await.cloned()
}

/// Starts `true` from `image` with `--privileged` (plain bollard: a refused
/// start must not leave a container testcontainers would track).
async fn probe_privileged(docker: &Docker, image: &str, label: &RunLabel) -> Result<Option<String>, EngineError> {
    let name = format!("harness-{label}-probe-{}", next_id());
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: Some(vec!["true".into()]),
        cmd: Some(Vec::new()),
        labels: Some(
            [(RUN_LABEL.to_owned(), label.value().to_owned()), (ROLE_LABEL.to_owned(), "probe".to_owned())].into(),
        ),
        host_config: Some(HostConfig { privileged: Some(true), ..Default::default() }),
        ..Default::default()
    };
    docker
        .create_container(Some(CreateContainerOptionsBuilder::new().name(&name).build()), body)
        .await
        .map_err(|e| EngineError::docker(format!("create the privileged probe from `{image}`"), e))?;
    let started = docker.start_container(&name, None).await;
    let _ =
        docker.remove_container(&name, Some(RemoveContainerOptionsBuilder::new().force(true).v(true).build())).await;
    match started {
        Ok(()) => Ok(None),
        Err(e) if is_refusal(&e.to_string()) => Ok(Some(e.to_string())),
        Err(e) => Err(EngineError::docker("start the privileged probe", e)),
    }
}

/// Prints one line: through `tracing` when the program set a subscriber,
/// else on stderr, so the fallback is never silent.
fn say(line: &str) {
    if tracing::dispatcher::has_been_set() {
        tracing::warn!("{line}");
    } else {
        eprintln!("harness: {line}");
    }
}

/// One fresh dind daemon. Dropping it removes the container and its data
/// volume; prefer [`Daemon::stop`].
pub struct Daemon {
    container: ContainerAsync<GenericImage>,
    docker: Docker,
    image: String,
    registry: String,
    rights: Rights,
    fallback: Option<String>,
    versions: EngineVersions,
    ready_after: Duration,
    volumes: Vec<String>,
    disk_limit: Option<u64>,
    exec_counter: AtomicU64,
}

impl Daemon {
    /// Starts `image` (a dind from the catalogue) wired to `registry`, and
    /// waits until `docker info` answers inside it.
    pub async fn start(image: &str, registry: &Registry, opts: DaemonOptions) -> Result<Daemon, EngineError> {
        let started = Instant::now();
        let docker = docker::client().await?;
        docker::ensure_image(&docker, image, opts.allow_pull).await?;

        let refused = match opts.rights {
            Rights::Auto => privileged_refusal(&docker, image, &opts.label).await?,
            _ => None,
        };
        let rights = plan(opts.rights, Some(refused.is_some()));
        let fallback = refused.map(|why| {
            format!(
                "--privileged is refused by this host ({}); running dind with explicit \
                 capabilities instead (ALL but SYS_RESOURCE, seccomp and AppArmor unconfined, \
                 /sys/fs/cgroup read-write)",
                why.trim()
            )
        });
        if let Some(note) = &fallback {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| say(note));
        }

        let container = launch(&docker, image, registry, &opts, rights).await?;
        let counter = AtomicU64::new(0);
        let target = Target { docker: &docker, container: container.id(), image, counter: &counter };
        wait_ready(&docker, &target, opts.ready_timeout).await?;
        let ready_after = started.elapsed();

        check_dns(&target, &opts).await?;
        let versions = versions(&target).await?;
        if opts.containerd_store && !versions.containerd_store {
            return Err(EngineError::ContainerdStoreUnavailable { image: image.to_owned() });
        }
        // The carry volume outlives the dind: it is the cell's, not this daemon's.
        let carried = opts.carry.as_ref().map(CarryVolume::name);
        let volumes = cleanup::container_volumes(&docker, container.id())
            .await?
            .into_iter()
            .filter(|v| Some(v.as_str()) != carried)
            .collect();
        let daemon = Daemon {
            container,
            docker,
            image: image.to_owned(),
            registry: registry.name().to_owned(),
            rights,
            fallback,
            versions,
            ready_after,
            volumes,
            disk_limit: opts.disk_limit,
            exec_counter: counter,
        };
        if opts.login && registry.credentials().is_some() {
            daemon.login(registry).await?;
        }
        Ok(daemon)
    }

    fn target(&self) -> Target<'_> {
        Target { docker: &self.docker, container: self.container.id(), image: &self.image, counter: &self.exec_counter }
    }

    /// Engine, CLI, buildx and BuildKit versions of this daemon.
    pub fn versions(&self) -> &EngineVersions {
        &self.versions
    }

    /// From the start call to the first answer of `docker info`.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    /// The rights the dind actually runs with (`Privileged` or `Capabilities`).
    pub fn rights(&self) -> Rights {
        self.rights
    }

    /// Why `Auto` fell back to capabilities, when it did.
    pub fn fallback_note(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    pub fn image(&self) -> &str {
        &self.image
    }

    /// The registry's name as this daemon reaches it.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    pub fn container_id(&self) -> &str {
        self.container.id()
    }

    /// Volumes of the dind container that go with it (its anonymous
    /// `/var/lib/docker`; not a carry volume).
    pub fn volumes(&self) -> &[String] {
        &self.volumes
    }

    /// `docker login` to `registry` inside the dind: the password goes
    /// through [`REGISTRY_PASSWORD_FILE`] to stdin, never into a command
    /// line or an environment.
    pub async fn login(&self, registry: &Registry) -> Result<(), EngineError> {
        let Some((user, password)) = registry.credentials() else {
            return Ok(());
        };
        self.write_password(password).await?;
        let script = format!(
            "docker login --username '{}' --password-stdin {} < {REGISTRY_PASSWORD_FILE}",
            quote(user),
            registry.name()
        );
        let out = self.target().capture(&script, &[], SHORT).await?;
        if out.success() {
            Ok(())
        } else {
            Err(EngineError::CommandFailed {
                image: self.image.clone(),
                what: format!("docker login {}", registry.name()),
                exit_code: out.exit_code,
                output: format!("{}{}", out.stdout, out.stderr).trim().to_owned(),
            })
        }
    }

    /// Writes `password` to [`REGISTRY_PASSWORD_FILE`] (mode 0600, in a
    /// folder only root reads), for a `docker login --password-stdin` to
    /// read; a later call replaces it.
    pub async fn write_password(&self, password: &str) -> Result<(), EngineError> {
        let (dir, name) = REGISTRY_PASSWORD_FILE.rsplit_once('/').unwrap_or(("/", REGISTRY_PASSWORD_FILE));
        self.target().check(&format!("mkdir -p -m 700 '{dir}'"), SHORT).await?;
        context::upload_bytes(&self.docker, self.container.id(), dir, name, password.as_bytes(), 0o600).await.map_err(
            |source| EngineError::Copy {
                image: self.image.clone(),
                dir: REGISTRY_PASSWORD_FILE.into(),
                dest: REGISTRY_PASSWORD_FILE.to_owned(),
                source,
            },
        )
    }

    /// Runs `script` with `sh -c` inside the dind (the engine's own CLI),
    /// streaming stdout and stderr to `log` as they come. A non-zero exit is
    /// returned, not an error; past `timeout` the process tree is killed and
    /// [`EngineError::Timeout`] says so.
    pub async fn exec(
        &self,
        script: &str,
        env: &[(String, String)],
        log: &Path,
        timeout: Duration,
    ) -> Result<ExecOutcome, EngineError> {
        self.target().run_logged(script, env, log, timeout).await
    }

    /// Runs `script` with `sh -c` and keeps its output in memory.
    pub async fn capture(&self, script: &str, timeout: Duration) -> Result<Captured, EngineError> {
        self.target().capture(script, &[], timeout).await
    }

    /// Copies the contents of `host_dir` into `dest` (created if missing).
    pub async fn copy_dir(&self, host_dir: &Path, dest: &str) -> Result<(), EngineError> {
        self.target().check(&format!("mkdir -p '{}'", quote(dest)), SHORT).await?;
        context::upload(&self.docker, self.container.id(), host_dir, dest).await.map_err(|source| EngineError::Copy {
            image: self.image.clone(),
            dir: host_dir.to_path_buf(),
            dest: dest.to_owned(),
            source,
        })
    }

    /// The image's layers (RootFS diff ids), base first.
    pub async fn image_layers(&self, image: &str) -> Result<Vec<String>, EngineError> {
        let out = self
            .target()
            .check(&format!("docker image inspect --format '{{{{json .RootFS.Layers}}}}' '{}'", quote(image)), SHORT)
            .await?;
        facts::parse_layers(&out).map_err(|detail| self.facts_error(image, "layers", detail))
    }

    /// The image's history, oldest first, each entry with its layer's diff id
    /// when it made one. Read from the image config in the daemon's store
    /// (the API's history has no diff ids).
    pub async fn image_history(&self, image: &str) -> Result<Vec<HistoryEntry>, EngineError> {
        let id_and_arch = self
            .target()
            .check(
                &format!("docker image inspect --format '{{{{.Id}}}} {{{{.Architecture}}}}' '{}'", quote(image)),
                SHORT,
            )
            .await?;
        let (mut digest, arch) = id_and_arch
            .trim()
            .split_once(' ')
            .map(|(d, a)| (d.to_owned(), a.to_owned()))
            .ok_or_else(|| self.facts_error(image, "history", format!("odd inspect output `{id_and_arch}`")))?;
        // index -> manifest -> config at most.
        for _ in 0..4 {
            let script = format!("set -- '{}'\n{}", quote(&digest), facts::READ_BLOB_SCRIPT);
            let blob = self.target().check(&script, SHORT).await?;
            match facts::read_blob(&blob, &arch).map_err(|d| self.facts_error(image, "history", d))? {
                Blob::Config(entries) => return Ok(entries),
                Blob::Next(next) => digest = next,
            }
        }
        Err(self.facts_error(image, "history", "no image config after four hops".into()))
    }

    /// The error for `what` having failed with `no space left on device`
    /// in `log`, saying how much room the data root has left.
    pub async fn disk_full(&self, what: &str, log: &Path) -> EngineError {
        let df =
            self.capture(&format!("df -Pk {DATA_ROOT}"), SHORT).await.ok().and_then(|out| disk::parse_df(&out.stdout));
        EngineError::DiskFull {
            image: self.image.clone(),
            container: self.container_name().await,
            what: what.to_owned(),
            room: disk::describe_room(self.disk_limit, df),
            log: log.to_owned(),
        }
    }

    /// The container's name (its id when inspect fails).
    async fn container_name(&self) -> String {
        let id = self.container.id();
        let name = self.docker.inspect_container(id, None).await.ok().and_then(|i| i.name);
        name.map_or_else(|| id.to_owned(), |n| n.trim_start_matches('/').to_owned())
    }

    fn facts_error(&self, reference: &str, what: &'static str, detail: String) -> EngineError {
        EngineError::Facts { image: self.image.clone(), reference: reference.to_owned(), what, detail }
    }

    /// Removes the container and its data volume at once, without letting
    /// dockerd tidy up: for an interrupted run, where waiting for a build
    /// to wind down is what the user asked not to do.
    pub async fn remove_now(self) -> Result<(), EngineError> {
        let id = self.container.id().to_owned();
        self.container.rm().await.map_err(|e| EngineError::docker(format!("remove dind container `{id}`"), e))
    }

    /// Stops dockerd (so it can tidy its nested containers) and removes the
    /// container with its data volume.
    pub async fn stop(self) -> Result<(), EngineError> {
        let id = self.container.id().to_owned();
        if let Err(e) = self.container.stop_with_timeout(Some(10)).await {
            tracing::debug!("stopping dind {id} failed, removing it anyway: {e}");
        }
        self.container.rm().await.map_err(|e| EngineError::docker(format!("remove dind container `{id}`"), e))
    }
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("image", &self.image)
            .field("container", &self.container.id())
            .field("rights", &self.rights)
            .field("ready_after", &self.ready_after)
            .finish_non_exhaustive()
    }
}

/// Creates and starts the dind container (not yet ready).
async fn launch(
    docker: &Docker,
    image: &str,
    registry: &Registry,
    opts: &DaemonOptions,
    rights: Rights,
) -> Result<ContainerAsync<GenericImage>, EngineError> {
    let (name, tag) = split_reference(image)?;
    let container_name = format!(
        "harness-{}-dind-{}-{}",
        opts.label,
        tag.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.', "-"),
        next_id()
    );
    let (command, certdir) = entrypoint_args(opts.api, opts.dockerd_flags());
    let data_root = match opts.disk_limit {
        None => testcontainers::core::Mount::volume_mount("", DATA_ROOT),
        Some(bytes) => testcontainers::core::Mount::tmpfs_mount(DATA_ROOT)
            .with_size_bytes(i64::try_from(bytes).unwrap_or(i64::MAX)),
    };
    let mut request = GenericImage::new(name, tag)
        .with_cmd(command)
        .with_container_name(&container_name)
        .with_label(RUN_LABEL, opts.label.value())
        .with_label(ROLE_LABEL, "dind")
        .with_mount(data_root)
        .with_host(registry.hostname(), Host::Addr(registry.bridge_ip()))
        .with_copy_to(format!("/etc/docker/certs.d/{}/ca.crt", registry.name()), registry.ca_pem().as_bytes().to_vec())
        // 28.5's BuildKit ignores certs.d for a registry mirror and checks it
        // against the system roots: add the run's CA to Go's (the default
        // bundle in /etc/ssl/certs still loads).
        .with_copy_to(format!("{RUN_CA_DIR}/run-ca.crt"), registry.ca_pem().as_bytes().to_vec())
        .with_env_var("SSL_CERT_DIR", format!("/etc/ssl/certs:{RUN_CA_DIR}"))
        .with_copy_to("/etc/docker/daemon.json", opts.daemon_json(registry.name()).into_bytes())
        .with_startup_timeout(Duration::from_secs(60))
        .with_host_config_modifier(move |hc| {
            apply_rights(rights, hc);
            publish_nothing(hc);
        });
    if let Some(dir) = certdir {
        request = request.with_env_var("DOCKER_TLS_CERTDIR", dir);
    }
    if let Some(carry) = &opts.carry {
        request = request.with_mount(testcontainers::core::Mount::volume_mount(carry.name(), carry.path()));
    }
    match request.start().await {
        Ok(container) => Ok(container),
        Err(e) => {
            remove_by_name(docker, &container_name).await;
            Err(EngineError::StartDind { image: image.to_owned(), source: Box::new(e) })
        }
    }
}

/// Polls `docker info` inside the dind until it answers with the server's
/// version.
async fn wait_ready(docker: &Docker, target: &Target<'_>, timeout: Duration) -> Result<(), EngineError> {
    let give_up = Instant::now() + timeout;
    loop {
        // 26.1's CLI exits 0 with an empty version when no daemon answers:
        // only a version counts.
        let answered = target.capture("docker info --format '{{.ServerVersion}}' 2>/dev/null", &[], SHORT).await;
        match answered {
            Ok(out) if out.success() && !out.stdout.trim().is_empty() => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                if !is_running(docker, target.container).await {
                    let logs = tail_logs(docker, target.container).await;
                    // A stand-in built before its entrypoint kept the official
                    // contract prepends `dockerd` to the `dockerd` it is given.
                    if logs.contains("\"dockerd\" accepts no argument") {
                        return Err(EngineError::StaleEntrypoint { image: target.image.to_owned() });
                    }
                    return Err(EngineError::DaemonExited { image: target.image.to_owned(), logs });
                }
                tracing::debug!("readiness probe failed: {}", error_chain(&e));
            }
        }
        if Instant::now() > give_up {
            return Err(EngineError::NotReady {
                image: target.image.to_owned(),
                waited: timeout,
                logs: tail_logs(docker, target.container).await,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn is_running(docker: &Docker, id: &str) -> bool {
    docker.inspect_container(id, None).await.ok().and_then(|i| i.state?.running).unwrap_or(false)
}

async fn tail_logs(docker: &Docker, id: &str) -> String {
    let options = LogsOptionsBuilder::new().stdout(true).stderr(true).tail("30").build();
    let mut logs = docker.logs(id, Some(options));
    let mut out = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    out
}

/// Refuses a dind whose nested containers would get Docker's public DNS
/// fallback: that happens when the dind itself sees only loopback resolvers
/// (a user-defined network's 127.0.0.11) and no `--dns` was given.
async fn check_dns(target: &Target<'_>, opts: &DaemonOptions) -> Result<(), EngineError> {
    if !opts.dns.is_empty() || opts.extra_flags.iter().any(|f| f.starts_with("--dns")) {
        return Ok(());
    }
    let resolv = target.check("cat /etc/resolv.conf", SHORT).await?;
    let servers = nameservers(&resolv);
    if servers.iter().any(|ip| !ip.is_loopback()) {
        Ok(())
    } else {
        Err(EngineError::DnsFallback {
            image: target.image.to_owned(),
            resolvers: if servers.is_empty() {
                "none".into()
            } else {
                servers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            },
        })
    }
}

/// The `nameserver` addresses of a resolv.conf.
pub fn nameservers(resolv_conf: &str) -> Vec<IpAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().parse().ok())
        .collect()
}

async fn versions(target: &Target<'_>) -> Result<EngineVersions, EngineError> {
    let out = target.capture(facts::VERSIONS_SCRIPT, &[], SHORT).await?;
    facts::parse_versions(&out.stdout).map_err(|detail| EngineError::Facts {
        image: target.image.to_owned(),
        reference: target.image.to_owned(),
        what: "versions",
        detail: format!("{detail} (from `{}`)", describe(facts::VERSIONS_SCRIPT)),
    })
}

/// Escapes a value for use inside single quotes in `sh`.
fn quote(value: &str) -> String {
    value.replace('\'', r"'\''")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privileged_rights_set_only_privileged() {
        let mut hc = HostConfig::default();
        apply_rights(Rights::Privileged, &mut hc);
        assert_eq!(hc.privileged, Some(true));
        assert_eq!(hc.cap_add, None);
        assert_eq!(hc.cap_drop, None);
        assert_eq!(hc.security_opt, None);
        assert_eq!(hc.masked_paths, None);
        assert_eq!(hc.mounts, None, "privileged needs no cgroup bind");
    }

    #[test]
    fn capability_rights_are_the_measured_set() {
        let mut hc = HostConfig {
            mounts: Some(vec![Mount {
                target: Some(DATA_ROOT.into()),
                typ: Some(MountType::VOLUME),
                ..Default::default()
            }]),
            ..Default::default()
        };
        apply_rights(Rights::Capabilities, &mut hc);
        assert_eq!(hc.privileged, Some(false));
        assert_eq!(hc.cap_add, Some(vec!["ALL".to_owned()]));
        assert_eq!(hc.cap_drop, Some(vec!["SYS_RESOURCE".to_owned()]));
        assert_eq!(hc.security_opt, Some(vec!["seccomp=unconfined".to_owned(), "apparmor=unconfined".to_owned()]));
        assert_eq!(hc.masked_paths, Some(vec![]));
        assert_eq!(hc.readonly_paths, Some(vec![]));
        let mounts = hc.mounts.unwrap();
        assert_eq!(mounts.len(), 2, "the data volume stays");
        let cgroup = &mounts[1];
        assert_eq!(cgroup.typ, Some(MountType::BIND));
        assert_eq!(cgroup.source.as_deref(), Some("/sys/fs/cgroup"));
        assert_eq!(cgroup.read_only, Some(false));
    }

    #[test]
    fn a_dind_publishes_no_port() {
        // What testcontainers sets when no port is mapped.
        let mut hc = HostConfig { publish_all_ports: Some(true), ..Default::default() };
        publish_nothing(&mut hc);
        assert_eq!(hc.publish_all_ports, Some(false));
        assert_eq!(hc.port_bindings, Some(Default::default()));
    }

    #[test]
    fn auto_tries_privileged_first_unless_the_host_refused_it() {
        assert_eq!(plan(Rights::Auto, None), Rights::Privileged);
        assert_eq!(plan(Rights::Auto, Some(false)), Rights::Privileged);
        assert_eq!(plan(Rights::Auto, Some(true)), Rights::Capabilities);
        assert_eq!(plan(Rights::Privileged, Some(true)), Rights::Privileged);
        assert_eq!(plan(Rights::Capabilities, None), Rights::Capabilities);
    }

    #[test]
    fn refusal_is_recognised_from_the_runtime_message() {
        assert!(is_refusal(
            "Docker responded with status code 500: failed to create shim task: OCI runtime \
             create failed: runc create failed: unable to start container process: unable to \
             apply caps: operation not permitted: unknown"
        ));
        assert!(!is_refusal("No such image: harness/dind:1"));
    }

    #[test]
    fn daemon_options_render_flags_and_daemon_json() {
        let opts = DaemonOptions::default()
            .with_containerd_store(true)
            .with_dns(["10.0.0.53".parse().unwrap()])
            .with_extra_flags(["--debug"]);
        assert_eq!(opts.dockerd_flags(), ["--dns=10.0.0.53", "--debug"]);
        assert_eq!(
            opts.daemon_json("r.test:5000"),
            r#"{"features":{"containerd-snapshotter":true},"registry-mirrors":["https://r.test:5000"]}"#
        );
        assert_eq!(
            DaemonOptions::default().with_hub_mirror(false).daemon_json("r.test:5000"),
            r#"{"features":{"containerd-snapshotter":false}}"#
        );
    }

    #[test]
    fn every_run_starts_dockerd_itself_on_the_socket_alone() {
        let flags = DaemonOptions::default().with_dns(["10.0.0.53".parse().unwrap()]).dockerd_flags();
        let (command, certdir) = entrypoint_args(DaemonApi::Socket, flags);
        // `dockerd` first: the official entrypoint runs it as given, adding
        // no TCP listener whatever DOCKER_TLS_CERTDIR says.
        assert_eq!(command, ["dockerd", "--host=unix:///var/run/docker.sock", "--dns=10.0.0.53"]);
        assert_eq!(certdir, None);
        assert_eq!(DaemonOptions::default().api, DaemonApi::Socket);
    }

    #[test]
    fn the_tls_start_leaves_the_command_to_the_entrypoint() {
        let (command, certdir) = entrypoint_args(DaemonApi::Tls, Vec::new());
        assert!(command.is_empty(), "{command:?}");
        assert_eq!(certdir, Some("/certs"));
        let (command, _) = entrypoint_args(DaemonApi::Tls, vec!["--debug".into()]);
        assert_eq!(command, ["--debug"], "flags only, so the entrypoint puts dockerd and its listeners first");
    }

    #[test]
    fn nameservers_are_read_from_resolv_conf() {
        let conf = "# generated\nnameserver 10.255.255.53\nnameserver ::1\nsearch x\noptions ndots:0\n";
        assert_eq!(nameservers(conf), ["10.255.255.53".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]);
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(quote("a'b"), r"a'\''b");
    }
}
