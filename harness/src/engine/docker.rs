//! The host daemon: a bollard client for what testcontainers does not do
//! (exec streams, uploads, pushes, leftovers), and the guard Docker tests
//! call first.
//!
//! The guard exists so a missing daemon is a loud, explained failure rather
//! than a pile of connection errors, with a local-only opt-out.

use std::time::Duration;

use testcontainers::bollard::Docker;

use super::EngineError;

/// Set to `1` to skip Docker tests locally when no daemon answers. Ignored
/// when `CI` is set: CI must run them.
pub const SKIP_ENV: &str = "HARNESS_SKIP_DOCKER_TESTS";

/// A client for the host daemon (`DOCKER_HOST` or the local socket), with the
/// API version negotiated down to what the daemon speaks (20.10 is 1.41).
pub(crate) async fn client() -> Result<Docker, EngineError> {
    let docker = Docker::connect_with_defaults().map_err(EngineError::Connect)?;
    docker.negotiate_version().await.map_err(EngineError::Connect)
}

/// Whether `image` is present on the host daemon.
pub(crate) async fn has_image(docker: &Docker, image: &str) -> Result<bool, EngineError> {
    match docker.inspect_image(image).await {
        Ok(_) => Ok(true),
        Err(testcontainers::bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
        Err(e) => Err(EngineError::docker(format!("inspect image `{image}`"), e)),
    }
}

/// Refuses to let testcontainers pull `image` unless pulling is allowed: the
/// offline stand-ins must be built, never fetched from a public registry.
pub(crate) async fn ensure_image(docker: &Docker, image: &str, allow_pull: bool) -> Result<(), EngineError> {
    if allow_pull || has_image(docker, image).await? {
        Ok(())
    } else {
        Err(EngineError::ImageMissing { image: image.to_owned() })
    }
}

/// Splits `name[:tag]` for testcontainers' `GenericImage` (default `latest`).
pub(crate) fn split_reference(reference: &str) -> Result<(String, String), EngineError> {
    let bad = |why: &str| EngineError::BadReference { reference: reference.to_owned(), why: why.to_owned() };
    if reference.is_empty() {
        return Err(bad("it is empty"));
    }
    if reference.contains('@') {
        return Err(bad("digest references are not supported here; use name:tag"));
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => {
            let (name, tag) = reference.split_at(last_slash + i);
            Ok((name.to_owned(), tag[1..].to_owned()))
        }
        None => Ok((reference.to_owned(), "latest".to_owned())),
    }
}

/// Guard for tests that need Docker. Returns `true` when a daemon answers.
///
/// When none answers it panics with how to start one (`ci/docker-up`), unless
/// `HARNESS_SKIP_DOCKER_TESTS=1` is set and `CI` is not: then it prints why the
/// test is skipped and returns `false`.
pub async fn require_docker() -> bool {
    let why = match tokio::time::timeout(Duration::from_secs(10), ping()).await {
        Ok(Ok(())) => return true,
        Ok(Err(e)) => error_chain(&e),
        Err(_) => "the daemon did not answer within 10 s".to_owned(),
    };
    let skip = std::env::var(SKIP_ENV).is_ok_and(|v| v == "1");
    let ci = std::env::var_os("CI").is_some();
    if skip && !ci {
        eprintln!("skipping: no Docker daemon answers ({why}) and {SKIP_ENV}=1");
        return false;
    }
    panic!(
        "no Docker daemon answers: {why}\n\
         start one with `ci/docker-up` (as root on Debian it installs and starts dockerd), \
         or point DOCKER_HOST at a daemon{}",
        if ci { "" } else { "; to skip Docker tests locally set HARNESS_SKIP_DOCKER_TESTS=1" }
    );
}

/// Guard for tests that need images on the host daemon: panics naming the
/// missing ones and how to build them. Call after [`require_docker`].
pub async fn require_images(images: &[&str]) {
    let docker = client().await.expect("Docker answered a moment ago");
    let mut missing = Vec::new();
    for image in images {
        if !has_image(&docker, image).await.expect("inspecting an image") {
            missing.push(*image);
        }
    }
    assert!(
        missing.is_empty(),
        "images missing on the host daemon: {}\nbuild the offline stand-ins with `make images`",
        missing.join(", ")
    );
}

/// `Err` with why and how to fix it when no Docker daemon answers within
/// `within`: what a command checks before it starts anything.
pub async fn daemon_answers(within: Duration) -> Result<(), String> {
    let why = match tokio::time::timeout(within, ping()).await {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => error_chain(&e),
        Err(_) => format!("it did not answer within {} s", within.as_secs()),
    };
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock (the default)".into());
    Err(format!(
        "no Docker daemon answers at {host}: {why}; start one (`ci/docker-up` does, as root on Debian) \
         or point DOCKER_HOST at a running daemon"
    ))
}

async fn ping() -> Result<(), EngineError> {
    client().await?.ping().await.map(drop).map_err(EngineError::Connect)
}

/// `error: cause: cause` on one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Pulls `image` onto the host daemon unless it is there: official images
/// are seeded into the run's registry from the host, like the stand-ins.
pub async fn pull_to_host(image: &str) -> Result<(), EngineError> {
    use futures::StreamExt;
    use testcontainers::bollard::query_parameters::CreateImageOptionsBuilder;

    let docker = client().await?;
    if has_image(&docker, image).await? {
        return Ok(());
    }
    let (name, tag) = split_reference(image)?;
    let options = CreateImageOptionsBuilder::default().from_image(&name).tag(&tag).build();
    let mut pull = docker.create_image(Some(options), None, None);
    while let Some(item) = pull.next().await {
        item.map_err(|e| EngineError::docker(format!("pull `{image}` onto the host"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_on_the_last_colon_after_the_last_slash() {
        let split = |r| split_reference(r).unwrap();
        assert_eq!(split("harness/dind:26.1.5"), ("harness/dind".into(), "26.1.5".into()));
        assert_eq!(split("registry:2"), ("registry".into(), "2".into()));
        assert_eq!(split("localhost:5000/a/b"), ("localhost:5000/a/b".into(), "latest".into()));
        assert_eq!(split("localhost:5000/a:t"), ("localhost:5000/a".into(), "t".into()));
        let msg = split_reference("a@sha256:00").unwrap_err().to_string();
        assert!(msg.contains("digest references"), "{msg}");
    }
}
