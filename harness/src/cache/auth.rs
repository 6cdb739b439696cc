//! Registry credentials: given by the caller (the run's htpasswd user), or
//! read from the Docker config the way the CLI does (`auths`, then a
//! credential helper). Secrets never reach `Debug`, logs or errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

/// A user name and secret for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth").field("username", &self.username).field("secret", &"<redacted>").finish()
    }
}

impl RegistryAuth {
    pub fn new(username: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { username: username.into(), secret: secret.into() }
    }

    /// The `Authorization: Basic` value.
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.username, self.secret);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

/// The Docker config could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("failed to read the Docker config `{path}`: {message}")]
    Config { path: PathBuf, message: String },
    #[error("the `auth` entry for `{registry}` in `{path}` is not base64 `user:password`; run `docker login {registry}` again")]
    BadAuth { registry: String, path: PathBuf },
    #[error("credential helper `docker-credential-{helper}` failed for `{registry}`: {message}")]
    Helper { helper: String, registry: String, message: String },
}

#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(rename = "identitytoken", default)]
    identity_token: Option<String>,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// Credentials for the first of `keys` (the names a registry may be saved
/// under) found in the Docker config at `path`; `None` when the file or the
/// entry is absent (anonymous access).
pub fn from_docker_config(path: &Path, keys: &[String]) -> Result<Option<RegistryAuth>, AuthError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AuthError::Config { path: path.to_owned(), message: e.to_string() }),
    };
    let config: DockerConfig =
        serde_json::from_str(&text).map_err(|e| AuthError::Config { path: path.to_owned(), message: e.to_string() })?;
    for key in keys {
        let host = host_of(key);
        if let Some(helper) = config.cred_helpers.get(host).or(config.cred_helpers.get(key.as_str())) {
            return helper_get(helper, key).map(Some);
        }
        let entry = config.auths.iter().find(|(name, _)| host_of(name) == host);
        if let Some((name, entry)) = entry {
            if let Some(auth) =
                entry_auth(entry).map_err(|()| AuthError::BadAuth { registry: name.clone(), path: path.to_owned() })?
            {
                return Ok(Some(auth));
            }
        }
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => match keys.first() {
            Some(key) => helper_get(store, key).map(Some),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// `https://index.docker.io/v1/` -> `index.docker.io`: the CLI saves
/// entries under URLs or bare hosts.
fn host_of(key: &str) -> &str {
    let key = key.trim_start_matches("https://").trim_start_matches("http://");
    key.split('/').next().unwrap_or(key)
}

fn entry_auth(entry: &AuthEntry) -> Result<Option<RegistryAuth>, ()> {
    if let Some(encoded) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| ())?;
        let text = String::from_utf8(decoded).map_err(|_| ())?;
        let (user, secret) = text.split_once(':').ok_or(())?;
        return Ok(Some(RegistryAuth::new(user, secret)));
    }
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Some(RegistryAuth::new(user, password)));
    }
    // An identity token is an OAuth refresh token; the token endpoint
    // accepts it as the password of user `<token>`.
    Ok(entry.identity_token.as_ref().map(|t| RegistryAuth::new("<token>", t)))
}

/// Runs `docker-credential-<helper> get` as the CLI does.
fn helper_get(helper: &str, server: &str) -> Result<RegistryAuth, AuthError> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let fail = |message: String| AuthError::Helper { helper: helper.to_owned(), registry: server.to_owned(), message };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start it ({e}); is it installed?")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(server.as_bytes()).map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        // The helper's stdout may echo secrets; only its status and stderr go out.
        return Err(fail(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim())));
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: Answer =
        serde_json::from_slice(&out.stdout).map_err(|_| fail("its answer is not the expected JSON".into()))?;
    Ok(RegistryAuth::new(answer.username, answer.secret))
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut values = BTreeMap::new();
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(',').map_or((after, ""), |(v, n)| (v, n))
        };
        values.insert(key.trim().to_ascii_lowercase(), value.to_owned());
        rest = next.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
    }
    Some(Challenge::Bearer {
        realm: values.remove("realm")?,
        service: values.remove("service"),
        scope: values.remove("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        assert_eq!(parse_challenge("Basic realm=\"harness registry\""), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/debian:pull".into()),
            })
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn docker_config_auths_are_read_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"registry.example:5000":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"username":"u","password":"p"}}}}}}"#),
        )
        .unwrap();
        let found = from_docker_config(&path, &["registry.example:5000".into()]).unwrap().unwrap();
        assert_eq!(found, RegistryAuth::new("ci", "s3cret"));
        assert!(!format!("{found:?}").contains("s3cret"));
        let hub = from_docker_config(&path, &["https://index.docker.io/v1/".into()]).unwrap().unwrap();
        assert_eq!(hub.username, "u");
        assert_eq!(from_docker_config(&path, &["other.example".into()]).unwrap(), None);
        assert_eq!(from_docker_config(&dir.path().join("absent.json"), &["x".into()]).unwrap(), None);

        std::fs::write(&path, r#"{"auths":{"r.example":{"auth":"!!"}}}"#).unwrap();
        let err = from_docker_config(&path, &["r.example".into()]).unwrap_err().to_string();
        assert!(err.contains("docker login r.example"), "{err}");
    }
}
