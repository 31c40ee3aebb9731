//! HTTPS for the emulator: a throw-away test CA (rcgen) and a server certificate it signs for
//! `localhost`, `127.0.0.1` and `::1`. The CA certificate is written to `ca.pem` so that clients
//! can trust it (and must refuse the server without it).

use crate::error::EmulatorError;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The generated material.
pub struct TlsMaterial {
    /// Path of the CA certificate (PEM).
    pub ca_path: PathBuf,
    /// The server's rustls configuration.
    pub server_config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca_path", &self.ca_path)
            .finish_non_exhaustive()
    }
}

fn tls_err(e: impl std::fmt::Display) -> EmulatorError {
    EmulatorError::Tls(e.to_string())
}

/// Makes a CA and a server certificate, writes `ca.pem`, `server.pem` and `server-key.pem`
/// into `dir`, and returns the server configuration.
pub fn generate(dir: &Path) -> Result<TlsMaterial, EmulatorError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "qcs-emulator test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(tls_err)?;

    let mut params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(tls_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "qcs-emulator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let key = KeyPair::generate().map_err(tls_err)?;
    let cert = params.signed_by(&key, &ca_cert, &ca_key).map_err(tls_err)?;

    let write = |name: &str, what: &'static str, text: &str| -> Result<PathBuf, EmulatorError> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|source| EmulatorError::Write {
            what,
            path: p.clone(),
            source,
        })?;
        Ok(p)
    };
    let ca_path = write("ca.pem", "CA certificate", &ca_cert.pem())?;
    write("server.pem", "server certificate", &cert.pem())?;
    write("server-key.pem", "server key", &key.serialize_pem())?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(tls_err)?;
    Ok(TlsMaterial {
        ca_path,
        server_config: Arc::new(server_config),
    })
}
