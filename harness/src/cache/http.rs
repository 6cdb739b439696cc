//! A small HTTPS GET client for registry APIs: rustls with the roots the
//! caller chooses (the run's CA, the system's, or none checked with
//! `insecure`), redirects followed, bodies capped, every request timed out.
//!
//! Built on the hyper, hyper-util and hyper-rustls that bollard already
//! brings, so reading a registry adds no new crates to the build.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, LOCATION};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// Cache configs and manifests are small; anything bigger is not one.
const MAX_BODY: usize = 64 << 20;
const MAX_REDIRECTS: usize = 5;

/// Which servers to trust.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM certificates to trust besides (or instead of) the system's.
    pub ca_pem: Option<String>,
    /// Also trust the system's roots (for public registries).
    pub system_roots: bool,
    /// Accept any certificate, and fall back to plain HTTP. Off by default.
    pub insecure: bool,
}

/// Why an HTTP exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no certificate in the CA file ({0}); give a PEM file")]
    BadCa(String),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("bad URL `{url}`: {message}")]
    Url { url: String, message: String },
    #[error("request to `{url}` failed: {message}")]
    Request { url: String, message: String },
    #[error("`{url}` did not answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("`{url}` answered with a body over {MAX_BODY} bytes")]
    TooLarge { url: String },
    #[error("`{url}` redirected more than {MAX_REDIRECTS} times")]
    Redirects { url: String },
}

/// A response, body read whole.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The client; cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
    insecure: bool,
}

impl Http {
    pub fn new(tls: &TlsOptions, timeout: Duration) -> Result<Self, HttpError> {
        let config = client_config(tls)?;
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_or_http().enable_http1().build();
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { client, timeout, insecure: tls.insecure })
    }

    /// GETs `url` with `headers`, following redirects; the Authorization
    /// header is dropped when a redirect leaves the host (blob storage).
    pub async fn get(&self, url: &str, headers: &[(HeaderName, String)]) -> Result<Response, HttpError> {
        let mut url = url.to_owned();
        let origin = host_of(&url).to_owned();
        for _ in 0..=MAX_REDIRECTS {
            let same_host = host_of(&url) == origin;
            let sent = headers.iter().filter(|(name, _)| same_host || *name != AUTHORIZATION);
            let response = match self.send(&url, sent.clone()).await {
                Err(HttpError::Request { .. }) if self.insecure && url.starts_with("https://") => {
                    // Like Docker with an insecure registry: try plain HTTP.
                    let plain = url.replacen("https://", "http://", 1);
                    self.send(&plain, sent).await?
                }
                other => other?,
            };
            if !response.status.is_redirection() {
                return Ok(response);
            }
            let Some(location) = response.headers.get(LOCATION).and_then(|l| l.to_str().ok()) else {
                return Ok(response);
            };
            url = resolve(&url, location);
        }
        Err(HttpError::Redirects { url })
    }

    async fn send<'a>(
        &self,
        url: &str,
        headers: impl Iterator<Item = &'a (HeaderName, String)>,
    ) -> Result<Response, HttpError> {
        let uri: Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| HttpError::Url {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        let mut request = Request::get(uri);
        for (name, value) in headers {
            let value = HeaderValue::from_str(value)
                .map_err(|e| HttpError::Url { url: url.to_owned(), message: format!("header {name}: {e}") })?;
            request = request.header(name, value);
        }
        let request =
            request.body(Empty::new()).map_err(|e| HttpError::Url { url: url.to_owned(), message: e.to_string() })?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::Request { url: url.to_owned(), message: error_chain(&e) })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY).collect().await.map_err(|e| {
                if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                    HttpError::TooLarge { url: url.to_owned() }
                } else {
                    HttpError::Request { url: url.to_owned(), message: e.to_string() }
                }
            })?;
            Ok(Response { status: parts.status, headers: parts.headers, body: body.to_bytes() })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout { url: url.to_owned(), timeout: self.timeout })?
    }
}

fn client_config(tls: &TlsOptions) -> Result<rustls::ClientConfig, HttpError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        rustls::ClientConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    if tls.insecure {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    if tls.system_roots {
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
    }
    if let Some(pem) = &tls.ca_pem {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| HttpError::BadCa(e.to_string()))?;
        if certs.is_empty() {
            return Err(HttpError::BadCa("no `BEGIN CERTIFICATE` block".into()));
        }
        for cert in certs {
            roots.add(cert)?;
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `--insecure`: the registry's certificate is not checked (signatures on
/// the handshake still are, so the connection works with any key type).
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `scheme://host[:port]` of a URL.
fn host_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    &url[..end]
}

/// A redirect target, absolute or relative to `base`.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_owned()
    } else if location.starts_with('/') {
        format!("{}{location}", host_of(base))
    } else {
        let dir = base.rfind('/').map_or(base, |i| &base[..=i]);
        format!("{dir}{location}")
    }
}

/// An error with its sources, since hyper's top-level message is vague
/// ("client error (Connect)") and the cause (certificate, refused) is below.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_against_the_request() {
        assert_eq!(host_of("https://r:5000/v2/x"), "https://r:5000");
        assert_eq!(resolve("https://r/v2/a/blobs/x", "https://s3/obj?sig=1"), "https://s3/obj?sig=1");
        assert_eq!(resolve("https://r/v2/a/blobs/x", "/v2/b"), "https://r/v2/b");
        assert_eq!(resolve("https://r/v2/a/blobs/x", "y"), "https://r/v2/a/blobs/y");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let tls = TlsOptions { ca_pem: Some("not a pem".into()), ..Default::default() };
        let err = Http::new(&tls, Duration::from_secs(1)).err().unwrap().to_string();
        assert!(err.contains("no certificate"), "{err}");
        let run_ca = crate::engine::RunCa::generate(&["localhost"]).unwrap();
        let tls = TlsOptions { ca_pem: Some(run_ca.ca_pem().to_owned()), ..Default::default() };
        assert!(Http::new(&tls, Duration::from_secs(1)).is_ok());
    }
}
