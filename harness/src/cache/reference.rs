//! Image references as a registry's HTTP API needs them: host, repository,
//! and tag or digest (`registry.example:5000/team/app:builder`).

use std::fmt;

/// Docker Hub's API host; `docker.io` names are served there.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed image or cache reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Host and port as written (`docker.io` for names without a host).
    pub registry: String,
    /// Repository path (`library/debian` for `debian`).
    pub repository: String,
    /// A tag or a `sha256:` digest.
    pub tag_or_digest: String,
}

/// A reference that cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error("`{reference}` is not an image reference ({why}); expected `[host[:port]/]repository[:tag|@digest]`")]
pub struct ReferenceError {
    pub reference: String,
    pub why: &'static str,
}

impl Reference {
    pub fn parse(reference: &str) -> Result<Self, ReferenceError> {
        let fail = |why| ReferenceError { reference: reference.to_owned(), why };
        let text = reference.trim();
        if text.is_empty() || text.contains(char::is_whitespace) {
            return Err(fail("empty or has spaces"));
        }
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) if digest.contains(':') => (name, Some(digest)),
            Some(_) => return Err(fail("a digest must read `algorithm:hex`")),
            None => (text, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
                (host.to_owned(), rest)
            }
            _ => ("docker.io".to_owned(), name),
        };
        // A colon after the last slash starts the tag.
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, Some(t)),
            _ => (path, None),
        };
        if path.is_empty() || path.split('/').any(str::is_empty) || tag == Some("") {
            return Err(fail("empty repository or tag"));
        }
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(fail("repository names are lower case"));
        }
        let repository =
            if registry == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path.to_owned() };
        let tag_or_digest = digest.or(tag).unwrap_or("latest").to_owned();
        Ok(Self { registry, repository, tag_or_digest })
    }

    /// The same repository at another tag or digest.
    pub fn with_tag_or_digest(&self, tag_or_digest: &str) -> Self {
        Self { tag_or_digest: tag_or_digest.to_owned(), ..self.clone() }
    }

    /// The host the HTTP API lives on.
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// Names the docker config may use for this registry's credentials.
    pub fn config_keys(&self) -> Vec<String> {
        if self.registry == "docker.io" {
            vec!["https://index.docker.io/v1/".into(), "index.docker.io".into(), "docker.io".into()]
        } else {
            vec![self.registry.clone(), format!("https://{}", self.registry)]
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.tag_or_digest.contains(':') { '@' } else { ':' };
        write!(f, "{}/{}{sep}{}", self.registry, self.repository, self.tag_or_digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_like_docker_does() {
        let r = Reference::parse("registry.harness.test:5000/ci-inline-cache/26.1.5:builder").unwrap();
        assert_eq!(r.registry, "registry.harness.test:5000");
        assert_eq!(r.repository, "ci-inline-cache/26.1.5");
        assert_eq!(r.tag_or_digest, "builder");
        assert_eq!(r.to_string(), "registry.harness.test:5000/ci-inline-cache/26.1.5:builder");
        let hub = Reference::parse("debian").unwrap();
        assert_eq!(
            (hub.api_host(), hub.repository.as_str(), hub.tag_or_digest.as_str()),
            (DOCKER_HUB_API, "library/debian", "latest")
        );
        let pinned = Reference::parse("localhost:5000/app@sha256:abc").unwrap();
        assert_eq!(pinned.tag_or_digest, "sha256:abc");
        assert_eq!(pinned.to_string(), "localhost:5000/app@sha256:abc");
        assert_eq!(Reference::parse("127.0.0.1:41234/a/b").unwrap().tag_or_digest, "latest");
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (bad, why) in
            [("", "empty"), ("Upper/Case", "lower case"), ("x:", "empty repository or tag"), ("a@b", "digest")]
        {
            let err = Reference::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
