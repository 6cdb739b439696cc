//! Reads the cache a job left in a registry: for an image reference, the
//! manifest (through an index, for the host's platform) and the image
//! config holding the inline cache; for a registry cache reference, the
//! index (or manifest) whose config has type
//! `application/vnd.buildkit.cacheconfig.v0`, and that config.
//!
//! Auth follows the distribution spec: on 401, `Basic` gets the credentials
//! directly, `Bearer` trades them at the realm for a token.

use std::collections::HashMap;
use std::time::Duration;

use hyper::header::{HeaderName, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::auth::{parse_challenge, Challenge, RegistryAuth};
use super::decode::{decode_cache_config, decode_image_config, DecodeErrorKind, CACHE_CONFIG_MEDIA_TYPE};
use super::http::{Http, HttpError, TlsOptions};
use super::model::{CacheConfig, CacheSource};
use super::reference::{Reference, ReferenceError};

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// How to reach a registry.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub tls: TlsOptions,
    pub auth: Option<RegistryAuth>,
    /// Per request.
    pub timeout: Duration,
    /// Replaces the reference's host for the connection (the run's
    /// registry is `registry.harness.test:5000` inside dinds and
    /// `127.0.0.1:<port>` from the host).
    pub connect_to: Option<String>,
    /// Architecture picked from an index (default: the host's).
    pub arch: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            tls: TlsOptions { system_roots: true, ..Default::default() },
            auth: None,
            timeout: Duration::from_secs(30),
            connect_to: None,
            arch: host_arch().to_owned(),
        }
    }
}

impl FetchOptions {
    /// For the harness's run registry: its CA only, its credentials, and
    /// its loopback address.
    pub fn run_registry(ca_pem: &str, host_address: &str, auth: Option<RegistryAuth>) -> Self {
        Self {
            tls: TlsOptions { ca_pem: Some(ca_pem.to_owned()), system_roots: false, insecure: false },
            auth,
            connect_to: Some(host_address.to_owned()),
            ..Default::default()
        }
    }
}

/// The raw documents a cache was decoded from, kept for fixtures and for
/// decoding again offline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheDocuments {
    /// The manifest or index the tag points at.
    pub manifest: Value,
    /// For an image: the platform manifest the index led to.
    pub platform_manifest: Option<Value>,
    /// The image config, or the cache config blob.
    pub config: Value,
}

/// A cache read from a registry.
#[derive(Debug, Clone)]
pub struct FetchedCache {
    pub reference: String,
    /// Digest of the manifest the reference resolved to.
    pub digest: String,
    pub config: CacheConfig,
    /// For an image: its layers' diff ids, bottom first.
    pub image_layers: Vec<String>,
    pub documents: CacheDocuments,
}

/// Reading a cache from a registry failed.
#[derive(Debug, thiserror::Error)]
#[error("failed to read the cache of `{reference}`")]
pub struct FetchError {
    pub reference: String,
    #[source]
    pub kind: FetchErrorKind,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchErrorKind {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("`{url}` answered {status}: {body}")]
    Status { url: String, status: StatusCode, body: String },
    #[error("`{url}` needs credentials ({challenge}); pass them, or `docker login` to the registry")]
    Unauthorized { url: String, challenge: String },
    #[error("`{0}` does not exist in the registry (was it pushed?)")]
    NotFound(String),
    #[error("token endpoint `{url}` gave no token")]
    NoToken { url: String },
    #[error("{what} is not what a registry serves: {why}")]
    Document { what: String, why: String },
    #[error("blob `{digest}` does not match its digest")]
    DigestMismatch { digest: String },
    #[error(transparent)]
    Decode(#[from] DecodeErrorKind),
}

/// A registry client for one reference's repository.
pub struct RegistryClient {
    http: Http,
    options: FetchOptions,
    token: tokio::sync::Mutex<Option<String>>,
}

impl RegistryClient {
    pub fn new(options: FetchOptions) -> Result<Self, HttpError> {
        Ok(Self { http: Http::new(&options.tls, options.timeout)?, options, token: Default::default() })
    }

    /// Reads and decodes the cache of `reference`: inline cache of an image,
    /// or a registry cache export.
    pub async fn fetch(&self, reference: &str) -> Result<FetchedCache, FetchError> {
        self.fetch_inner(reference).await.map_err(|kind| FetchError { reference: reference.to_owned(), kind })
    }

    async fn fetch_inner(&self, text: &str) -> Result<FetchedCache, FetchErrorKind> {
        let reference = Reference::parse(text)?;
        let (manifest, digest) = self.manifest(&reference, &reference.tag_or_digest).await?;
        let documents = self.documents(&reference, manifest).await?;
        let (config, image_layers) = decode_documents(&documents)?;
        Ok(FetchedCache { reference: text.to_owned(), digest, config, image_layers, documents })
    }

    async fn documents(&self, reference: &Reference, manifest: Value) -> Result<CacheDocuments, FetchErrorKind> {
        let what = || format!("the manifest of `{reference}`");
        // A registry cache as an index: its config is one of the manifests.
        if let Some(config) = cache_config_descriptor(&manifest) {
            let digest = descriptor_digest(config, &what())?;
            let config = self.blob_json(reference, &digest).await?;
            return Ok(CacheDocuments { manifest, platform_manifest: None, config });
        }
        let platform_manifest = if manifest["manifests"].is_array() {
            let digest = pick_platform(&manifest, &self.options.arch).ok_or_else(|| FetchErrorKind::Document {
                what: what(),
                why: "an index without a usable manifest".into(),
            })?;
            Some(self.manifest(reference, &digest).await?.0)
        } else {
            None
        };
        let image = platform_manifest.as_ref().unwrap_or(&manifest);
        let digest = descriptor_digest(&image["config"], &what())?;
        let config = self.blob_json(reference, &digest).await?;
        Ok(CacheDocuments { manifest, platform_manifest, config })
    }

    async fn manifest(&self, reference: &Reference, tag: &str) -> Result<(Value, String), FetchErrorKind> {
        let path = format!("/v2/{}/manifests/{tag}", reference.repository);
        let body = self.get(reference, &path, Some(MANIFEST_TYPES)).await.map_err(|e| match e {
            FetchErrorKind::Status { status: StatusCode::NOT_FOUND, .. } => {
                FetchErrorKind::NotFound(reference.with_tag_or_digest(tag).to_string())
            }
            other => other,
        })?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
        if tag.starts_with("sha256:") && tag != digest {
            return Err(FetchErrorKind::DigestMismatch { digest: tag.to_owned() });
        }
        let value = serde_json::from_slice(&body).map_err(|e| FetchErrorKind::Document {
            what: format!("manifest `{}`", reference.with_tag_or_digest(tag)),
            why: e.to_string(),
        })?;
        Ok((value, digest))
    }

    async fn blob_json(&self, reference: &Reference, digest: &str) -> Result<Value, FetchErrorKind> {
        let body = self.get(reference, &format!("/v2/{}/blobs/{digest}", reference.repository), None).await?;
        if digest.starts_with("sha256:") && format!("sha256:{}", hex::encode(Sha256::digest(&body))) != digest {
            return Err(FetchErrorKind::DigestMismatch { digest: digest.to_owned() });
        }
        serde_json::from_slice(&body)
            .map_err(|e| FetchErrorKind::Document { what: format!("blob `{digest}`"), why: e.to_string() })
    }

    /// GET with auth: one retry after answering a 401's challenge.
    async fn get(
        &self,
        reference: &Reference,
        path: &str,
        accept: Option<&str>,
    ) -> Result<bytes::Bytes, FetchErrorKind> {
        let host = self.options.connect_to.as_deref().unwrap_or(reference.api_host());
        let url = format!("https://{host}{path}");
        let mut headers: Vec<(HeaderName, String)> = accept.map(|a| (ACCEPT, a.to_owned())).into_iter().collect();
        let cached = self.token.lock().await.clone();
        if let Some(value) = cached {
            headers.push((AUTHORIZATION, value));
        }
        let mut response = self.http.get(&url, &headers).await?;
        if response.status == StatusCode::UNAUTHORIZED {
            let challenge =
                response.headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let value = self
                .answer(&challenge, reference)
                .await?
                .ok_or_else(|| FetchErrorKind::Unauthorized { url: url.clone(), challenge: challenge.clone() })?;
            *self.token.lock().await = Some(value.clone());
            headers.retain(|(name, _)| *name != AUTHORIZATION);
            headers.push((AUTHORIZATION, value));
            response = self.http.get(&url, &headers).await?;
            if response.status == StatusCode::UNAUTHORIZED {
                return Err(FetchErrorKind::Unauthorized { url, challenge: "the credentials were refused".into() });
            }
        }
        if !response.status.is_success() {
            let body = String::from_utf8_lossy(&response.body[..response.body.len().min(300)]).trim().to_owned();
            return Err(FetchErrorKind::Status { url, status: response.status, body });
        }
        Ok(response.body)
    }

    /// The Authorization value answering `challenge`, `None` when it needs
    /// credentials we do not have.
    async fn answer(&self, challenge: &str, reference: &Reference) -> Result<Option<String>, FetchErrorKind> {
        match parse_challenge(challenge) {
            Some(Challenge::Basic) => Ok(self.options.auth.as_ref().map(RegistryAuth::basic)),
            Some(Challenge::Bearer { realm, service, scope }) => {
                let scope = scope.unwrap_or_else(|| format!("repository:{}:pull", reference.repository));
                let mut url = format!("{realm}?scope={}", encode(&scope));
                if let Some(service) = service {
                    url.push_str(&format!("&service={}", encode(&service)));
                }
                let headers: Vec<(HeaderName, String)> =
                    self.options.auth.iter().map(|a| (AUTHORIZATION, a.basic())).collect();
                let response = self.http.get(&url, &headers).await?;
                if !response.status.is_success() {
                    return Ok(None);
                }
                let token: Value = serde_json::from_slice(&response.body).unwrap_or_default();
                let token = token["token"].as_str().or(token["access_token"].as_str()).map(str::to_owned);
                token.map(|t| Some(format!("Bearer {t}"))).ok_or(FetchErrorKind::NoToken { url: realm })
            }
            None => Ok(None),
        }
    }
}

/// Decodes fetched (or recorded) documents: a cache config blob when the
/// manifest names one, else the inline cache of the image config.
pub fn decode_documents(documents: &CacheDocuments) -> Result<(CacheConfig, Vec<String>), DecodeErrorKind> {
    let config = serde_json::to_vec(&documents.config).unwrap_or_default();
    let manifest = documents.platform_manifest.as_ref().unwrap_or(&documents.manifest);
    if is_cache_manifest(&documents.manifest) {
        let descriptors = layer_descriptors(&documents.manifest);
        return Ok((decode_cache_config(&config, &descriptors)?, Vec::new()));
    }
    let blobs: Vec<String> = manifest["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["digest"].as_str().map(str::to_owned))
        .collect();
    let decoded = decode_image_config(&config, Some(&blobs))?;
    let diff_ids = super::decode::image_diff_ids(&config)?;
    Ok((decoded, diff_ids))
}

/// Layer id (diff id, else blob) to the instruction that made it: from the
/// image config's history, or a cache manifest's `buildkit/description`
/// annotations. For naming keys when no step list is at hand.
pub fn layer_names(documents: &CacheDocuments) -> HashMap<String, String> {
    let mut names = HashMap::new();
    if is_cache_manifest(&documents.manifest) {
        let list = documents.manifest["manifests"].as_array().or(documents.manifest["layers"].as_array());
        for d in list.into_iter().flatten() {
            let annotations = &d["annotations"];
            if let Some(text) = annotations["buildkit/description"].as_str() {
                let id = annotations["containerd.io/uncompressed"].as_str().or(d["digest"].as_str());
                if let Some(id) = id {
                    names.insert(id.to_owned(), tidy(text));
                }
            }
        }
        return names;
    }
    let config = &documents.config;
    let mut diff_ids = config["rootfs"]["diff_ids"].as_array().into_iter().flatten().filter_map(Value::as_str);
    for entry in config["history"].as_array().into_iter().flatten() {
        if entry["empty_layer"].as_bool() == Some(true) {
            continue;
        }
        let Some(id) = diff_ids.next() else { break };
        if let Some(text) = entry["created_by"].as_str() {
            names.insert(id.to_owned(), tidy(text));
        }
    }
    names
}

/// `RUN /bin/sh -c make # buildkit` -> `RUN make`.
fn tidy(created_by: &str) -> String {
    let text = created_by.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    text.replacen("/bin/sh -c ", "", 1)
}

/// Whether the cache source of `documents` is a registry export.
pub fn source_of(documents: &CacheDocuments) -> CacheSource {
    if is_cache_manifest(&documents.manifest) {
        CacheSource::Registry
    } else {
        CacheSource::Inline
    }
}

fn is_cache_manifest(manifest: &Value) -> bool {
    cache_config_descriptor(manifest).is_some()
}

/// The descriptor of the cache config: an entry of an index, or the config
/// of an image manifest (buildx `image-manifest=true`).
fn cache_config_descriptor(manifest: &Value) -> Option<&Value> {
    let typed = |d: &&Value| d["mediaType"].as_str() == Some(CACHE_CONFIG_MEDIA_TYPE);
    manifest["manifests"]
        .as_array()
        .and_then(|list| list.iter().find(typed))
        .or_else(|| Some(&manifest["config"]).filter(typed))
}

/// (blob, diff id) of every layer a cache manifest lists.
fn layer_descriptors(manifest: &Value) -> Vec<(String, Option<String>)> {
    let list = manifest["manifests"].as_array().or(manifest["layers"].as_array());
    list.into_iter()
        .flatten()
        .filter(|d| d["mediaType"].as_str() != Some(CACHE_CONFIG_MEDIA_TYPE))
        .filter_map(|d| {
            let blob = d["digest"].as_str()?.to_owned();
            let diff_id = d["annotations"]["containerd.io/uncompressed"].as_str().map(str::to_owned);
            Some((blob, diff_id))
        })
        .collect()
}

fn descriptor_digest(descriptor: &Value, what: &str) -> Result<String, FetchErrorKind> {
    descriptor["digest"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| FetchErrorKind::Document { what: what.to_owned(), why: "no config digest".into() })
}

/// The manifest of an index for linux/`arch`, skipping attestations.
fn pick_platform(index: &Value, arch: &str) -> Option<String> {
    let manifests = index["manifests"].as_array()?;
    let usable = |m: &&Value| m["annotations"]["vnd.docker.reference.type"].as_str() != Some("attestation-manifest");
    manifests
        .iter()
        .filter(usable)
        .find(|m| m["platform"]["os"].as_str() == Some("linux") && m["platform"]["architecture"].as_str() == Some(arch))
        .or_else(|| manifests.iter().find(usable))
        .and_then(|m| m["digest"].as_str().map(str::to_owned))
}

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        other => other,
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cache_index_is_told_from_an_image_index() {
        let cache = json!({"manifests": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:b1",
             "annotations": {"containerd.io/uncompressed": "sha256:d1"}},
            {"mediaType": CACHE_CONFIG_MEDIA_TYPE, "digest": "sha256:cfg"}]});
        assert!(is_cache_manifest(&cache));
        assert_eq!(layer_descriptors(&cache), [("sha256:b1".to_owned(), Some("sha256:d1".to_owned()))]);
        let image_manifest_cache =
            json!({"config": {"mediaType": CACHE_CONFIG_MEDIA_TYPE, "digest": "sha256:c"}, "layers": []});
        assert!(is_cache_manifest(&image_manifest_cache));
        let image = json!({"manifests": [
            {"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
            {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}}]});
        assert!(!is_cache_manifest(&image));
        assert_eq!(pick_platform(&image, "amd64").as_deref(), Some("sha256:amd"));
        assert_eq!(pick_platform(&image, "arm64").as_deref(), Some("sha256:amd"));
    }

    #[test]
    fn scopes_are_encoded() {
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
    }
}
