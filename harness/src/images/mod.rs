//! Offline stand-in images, built from Debian packages only.
//!
//! No image registry is reachable on the machines this project is developed
//! on, so every image a run needs has a stand-in made from a debootstrapped
//! rootfs: dind per engine, registry, cargo-chef builder, runtime base. The
//! plan ([`plan`]) is pure; [`build`] talks to the host daemon through its
//! CLI, at set-up time only (the [`crate::engine`] module owns run time).

mod build;
mod host_docker;
mod pin;
mod plan;

pub use build::{BuildError, Builder, Built};
pub use host_docker::{HostDocker, HostDockerError};
pub use pin::{pinned_catalogue, Pins};
pub use plan::{plan, ImageSpec, PlanError, Recipe, IMAGES_DIR};

use std::path::PathBuf;

/// The host's CA bundle: the default extra CA on Debian-like machines, so
/// images that fetch over HTTPS work behind a TLS-intercepting proxy.
pub const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Where the extra CA bundle comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraCa {
    /// No extra CA.
    None,
    /// A PEM bundle on the host.
    File(PathBuf),
}

impl ExtraCa {
    /// `none`, a path, or (when absent) the host bundle if there is one.
    pub fn from_option(option: Option<&str>) -> Self {
        match option {
            Some("none") => Self::None,
            Some(path) => Self::File(PathBuf::from(path)),
            None if std::path::Path::new(HOST_CA_BUNDLE).is_file() => Self::File(PathBuf::from(HOST_CA_BUNDLE)),
            None => Self::None,
        }
    }

    /// The bundle's bytes (empty for none).
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Self::None => Ok(Vec::new()),
            Self::File(path) => std::fs::read(path),
        }
    }
}
