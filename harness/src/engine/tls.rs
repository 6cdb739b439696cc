//! The run's certificate authority and the registry's server certificate.
//!
//! BuildKit in engine 20.10 ignores `--insecure-registry` when it resolves
//! `FROM` metadata, so the registry is served over TLS with a CA generated
//! per run and trusted by each dind through
//! `/etc/docker/certs.d/<registry>/ca.crt`. Nothing here touches Docker.

use super::EngineError;

/// A fresh CA and a server certificate it signed.
#[derive(Clone)]
pub struct RunCa {
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    names: Vec<String>,
}

impl RunCa {
    /// Generates a CA and a server certificate whose subject alternative
    /// names are `names` (DNS names or IP addresses). Go's TLS stack (dockerd,
    /// BuildKit, the registry) checks SANs only, never the common name.
    pub fn generate(names: &[&str]) -> Result<Self, EngineError> {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(EngineError::Tls)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "harness run CA");
        ca_params.key_usages =
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(EngineError::Tls)?;
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(EngineError::Tls)?;

        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).map_err(EngineError::Tls)?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, first.as_str());
        }
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(EngineError::Tls)?;
        let cert = params.signed_by(&key, &ca).map_err(EngineError::Tls)?;

        Ok(Self { ca_pem: ca.as_ref().pem(), server_cert_pem: cert.pem(), server_key_pem: key.serialize_pem(), names })
    }

    /// The CA certificate, for `certs.d/<registry>/ca.crt`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The registry's certificate, as `REGISTRY_HTTP_TLS_CERTIFICATE`.
    pub fn server_cert_pem(&self) -> &str {
        &self.server_cert_pem
    }

    /// The registry's private key, as `REGISTRY_HTTP_TLS_KEY`.
    pub fn server_key_pem(&self) -> &str {
        &self.server_key_pem
    }

    /// The names the server certificate is valid for.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl std::fmt::Debug for RunCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("RunCa").field("names", &self.names).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_certificate_carries_every_name_and_differs_per_run() {
        let a = RunCa::generate(&["registry.harness.test", "localhost", "127.0.0.1"]).unwrap();
        let b = RunCa::generate(&["registry.harness.test"]).unwrap();
        assert_ne!(a.ca_pem(), b.ca_pem());
        assert!(a.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(a.server_key_pem().contains("PRIVATE KEY"));
        let der = pem_body(a.server_cert_pem());
        assert!(contains(&der, b"registry.harness.test"));
        assert!(contains(&der, b"localhost"));
        assert!(contains(&der, &[127, 0, 0, 1]));
        assert!(!format!("{a:?}").contains("PRIVATE"));
    }

    fn pem_body(pem: &str) -> Vec<u8> {
        // Enough base64 to check SAN bytes without another dependency.
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in b64.bytes().filter(|c| *c != b'=') {
            let v = table.iter().position(|t| *t == c).unwrap() as u32;
            bits = (bits << 6) | v;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
                bits &= (1 << n) - 1;
            }
        }
        out
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }
}
