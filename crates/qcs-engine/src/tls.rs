//! TLS to a Docker Engine API over TCP: trusts only the cert directory's `ca.pem` (as the Docker
//! CLI does, not the system's public roots) and presents `cert.pem` + `key.pem` as the client
//! certificate.

use std::sync::Arc;

use bollard::{API_DEFAULT_VERSION, BollardRequest, Docker};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsFiles;
use crate::error::EngineError;

/// A bollard client speaking HTTPS to `addr` (`host:port`) with the cert directory's files.
pub(crate) fn connect(
    url: &str,
    addr: &str,
    files: &TlsFiles,
    timeout_secs: u64,
) -> Result<Docker, EngineError> {
    let config = client_config(url, files)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(https);
    let transport = move |req: BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(req)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    Docker::connect_with_custom_transport(
        transport,
        Some(format!("https://{addr}")),
        timeout_secs,
        API_DEFAULT_VERSION,
    )
    .map_err(|e| EngineError::Tls {
        url: url.to_owned(),
        detail: e.to_string(),
    })
}

/// The rustls client configuration: roots from `ca.pem` only, client certificate and key.
fn client_config(url: &str, files: &TlsFiles) -> Result<rustls::ClientConfig, EngineError> {
    let tls_err = |detail: String| EngineError::Tls {
        url: url.to_owned(),
        detail,
    };
    let read = |what: &str, path: &std::path::Path| -> Result<Vec<u8>, EngineError> {
        std::fs::read(path)
            .map_err(|e| tls_err(format!("cannot read the {what} {}: {e}", path.display())))
    };
    let certs_in =
        |what: &str, path: &std::path::Path| -> Result<Vec<CertificateDer<'static>>, EngineError> {
            let pem = read(what, path)?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    tls_err(format!(
                        "the {what} {} is not valid PEM: {e}",
                        path.display()
                    ))
                })?;
            if certs.is_empty() {
                return Err(tls_err(format!(
                    "the {what} {} holds no certificate",
                    path.display()
                )));
            }
            Ok(certs)
        };

    let mut roots = rustls::RootCertStore::empty();
    for cert in certs_in("CA certificate", &files.ca)? {
        roots.add(cert).map_err(|e| {
            tls_err(format!(
                "the CA certificate {} cannot be used: {e}",
                files.ca.display()
            ))
        })?;
    }
    let chain = certs_in("client certificate", &files.cert)?;
    let key_pem = read("client key", &files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        tls_err(format!(
            "the client key {} holds no usable private key: {e}",
            files.key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| {
            tls_err(format!(
                "the client certificate {} and key {} cannot be used together: {e}",
                files.cert.display(),
                files.key.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = std::env::temp_dir().join("qcs-engine-no-such-cert-dir");
        let e = client_config("tcp://h:1", &TlsFiles::in_dir(&dir)).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, EngineError::Tls { .. }), "{msg}");
        assert!(msg.contains("ca.pem") && msg.contains("tcp://h:1"), "{msg}");
        assert_eq!(e.exit_code().code(), 3);

        let dir = tempfile_dir();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.join(f), "not pem\n").unwrap();
        }
        let e = client_config("tcp://h:1", &TlsFiles::in_dir(&dir)).unwrap_err();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("qcs-engine-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
