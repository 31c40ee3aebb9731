//! TLS: the emulator's test CA is refused unless given as a CA bundle.

use qcs_core::exit::ExitCode;
use qcs_qualys::{QualysClient, QualysError, TlsConfig};

use crate::common::client_config;

#[tokio::test]
async fn refused_without_the_ca_and_accepted_with_it() {
    let mut cfg = crate::common::config();
    cfg.tls = true;
    let emu = qcs_emulator::start(cfg).await.unwrap();
    assert!(emu.base_url().starts_with("https://"));

    let e = QualysClient::new(client_config(&emu))
        .unwrap()
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(e, QualysError::Tls { .. }), "{e}");
    assert_eq!(e.exit_code(), ExitCode::Api);
    assert!(e.hint().contains("--ca-bundle"));

    let mut c = client_config(&emu);
    c.tls = TlsConfig {
        ca_bundle: Some(emu.ca_path().unwrap().to_owned()),
    };
    let info = QualysClient::new(c).unwrap().connect().await.unwrap();
    assert_eq!(info.token.user, "qcs-demo");
}

#[tokio::test]
async fn an_unusable_ca_bundle_is_a_configuration_error() {
    let emu = crate::common::emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    for path in [dir.path().join("missing.pem"), empty] {
        let mut c = client_config(&emu);
        c.tls = TlsConfig {
            ca_bundle: Some(path.clone()),
        };
        let e = QualysClient::new(c).unwrap_err();
        assert!(
            matches!(e, QualysError::CaBundle { .. }),
            "{}: {e}",
            path.display()
        );
        assert_eq!(e.exit_code(), ExitCode::Config);
    }
}

#[tokio::test]
async fn https_to_a_plain_http_server_is_a_tls_error_at_once_with_its_own_hint() {
    let emu = crate::common::emulator().await;
    let plain = emu.base_url();
    assert!(plain.starts_with("http://"), "{plain}");
    let mut c = client_config(&emu);
    c.gateway = qcs_qualys::Gateway::explicit(&plain.replacen("http://", "https://", 1)).unwrap();
    let e = QualysClient::new(c).unwrap().connect().await.unwrap_err();
    // Not retried to the deadline (GaveUp): the answer will never be TLS.
    assert!(matches!(e, QualysError::Tls { .. }), "{e}");
    assert_eq!(e.exit_code(), ExitCode::Api);
    assert!(e.hint().contains("did not answer in TLS"), "{}", e.hint());
}
