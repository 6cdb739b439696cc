//! Picks the host's Docker client for building the stand-ins.
//!
//! Hosts differ: a current CLI needs the buildx plugin for BuildKit, the
//! 20.10 CLI Debian ships has BuildKit built in (`DOCKER_BUILDKIT=1`), and a
//! current CLI without buildx only has the legacy builder. All three build
//! our Dockerfiles; this module says which one is used and why.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A Docker client on the host and how it builds.
#[derive(Debug, Clone)]
pub struct HostDocker {
    program: PathBuf,
    env: Vec<(&'static str, &'static str)>,
    /// One line for the user: which client and builder.
    pub description: String,
}

/// The host has no usable Docker.
#[derive(Debug, thiserror::Error)]
pub enum HostDockerError {
    #[error("no `docker` client found on PATH: install Docker, or run `ci/docker-up` as root on Debian")]
    NoClient,
    #[error("no Docker daemon answers `docker info`: start one (as root on Debian: `ci/docker-up`)")]
    NoDaemon,
}

impl HostDocker {
    /// Finds the best client: buildx, then built-in BuildKit, then legacy.
    pub fn detect() -> Result<Self, HostDockerError> {
        let on_path = PathBuf::from("docker");
        if !succeeds(Command::new(&on_path).arg("--version")) {
            return Err(HostDockerError::NoClient);
        }
        if !succeeds(Command::new(&on_path).arg("info")) {
            return Err(HostDockerError::NoDaemon);
        }
        if succeeds(Command::new(&on_path).args(["buildx", "version"])) {
            return Ok(Self { program: on_path, env: vec![], description: "docker CLI with buildx (BuildKit)".into() });
        }
        // Debian's 20.10 CLI: BuildKit client built in, no plugin needed.
        let debian_cli = PathBuf::from("/usr/bin/docker");
        if client_major(&debian_cli).is_some_and(|major| major < 23) {
            return Ok(Self {
                program: debian_cli,
                env: vec![("DOCKER_BUILDKIT", "1")],
                description: "/usr/bin/docker (built-in BuildKit client)".into(),
            });
        }
        Ok(Self {
            program: on_path,
            env: vec![("DOCKER_BUILDKIT", "0")],
            description: "docker CLI without buildx (legacy builder)".into(),
        })
    }

    /// A `docker` command with the builder's environment set.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.envs(self.env.iter().copied());
        command
    }

    /// Whether `reference` names an image the host daemon has.
    pub fn has_image(&self, reference: &str) -> bool {
        succeeds(self.command().args(["image", "inspect", "--format", "{{.Id}}", reference]))
    }
}

fn succeeds(command: &mut Command) -> bool {
    command.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|status| status.success())
}

fn client_major(program: &PathBuf) -> Option<u32> {
    // "Docker version 20.10.24+dfsg1, build 297e128"
    let out = Command::new(program).arg("--version").stderr(Stdio::null()).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.strip_prefix("Docker version ")?.split('.').next()?.parse().ok()
}
