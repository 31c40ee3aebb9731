//! Through a real tinyproxy (started here on 127.0.0.1 with an ephemeral port and a config in
//! a temp dir), with and without proxy authentication, to the emulator over HTTP and HTTPS.

use qcs_core::exit::ExitCode;
use qcs_qualys::secret::secret;
use qcs_qualys::{ProxyConfig, QualysClient, QualysError, TlsConfig};
use qcs_test_support::tinyproxy::Tinyproxy;

use crate::common::client_config;

/// tinyproxy on loopback (`qcs-test-support`); `auth` adds `BasicAuth user password`.
fn tinyproxy(auth: Option<(&str, &str)>) -> Tinyproxy {
    Tinyproxy::start(auth)
}

#[tokio::test]
async fn through_a_proxy_without_authentication() {
    let proxy = tinyproxy(None);
    let emu = crate::common::emulator().await;
    let mut c = client_config(&emu);
    c.proxy = ProxyConfig::from_url(&proxy.url(), None, None, None).unwrap();
    let info = QualysClient::new(c).unwrap().connect().await.unwrap();
    assert_eq!(info.proxy.as_deref(), Some(proxy.url().as_str()));
    assert!(!info.proxy_auth);
    assert!(proxy.log().contains("/auth"), "{}", proxy.log());

    // NO_PROXY exempts the gateway.
    let mut c = client_config(&emu);
    c.proxy = ProxyConfig::from_url(&proxy.url(), None, None, Some("127.0.0.1".into())).unwrap();
    let info = QualysClient::new(c).unwrap().connect().await.unwrap();
    assert!(info.proxy.is_none());
}

#[tokio::test]
async fn through_a_proxy_with_authentication() {
    let proxy = tinyproxy(Some(("alice", "pr0xy-pw")));
    let emu = crate::common::emulator().await;

    // Credentials given apart from the URL.
    let mut c = client_config(&emu);
    c.proxy = ProxyConfig::from_url(
        &proxy.url(),
        Some(secret("alice")),
        Some(secret("pr0xy-pw")),
        None,
    )
    .unwrap();
    let info = QualysClient::new(c).unwrap().connect().await.unwrap();
    assert!(info.proxy_auth);
    assert!(!info.proxy.unwrap().contains("pr0xy-pw"));

    // Credentials inside the URL.
    let mut c = client_config(&emu);
    let with_creds = proxy.url().replace("http://", "http://alice:pr0xy-pw@");
    c.proxy = ProxyConfig::from_url(&with_creds, None, None, None).unwrap();
    QualysClient::new(c).unwrap().connect().await.unwrap();

    // None, or wrong ones: a clear 407 error, no retrying.
    for creds in [None, Some(("alice", "wrong"))] {
        let mut c = client_config(&emu);
        c.proxy = ProxyConfig::from_url(
            &proxy.url(),
            creds.map(|(u, _)| secret(u)),
            creds.map(|(_, p)| secret(p)),
            None,
        )
        .unwrap();
        let e = QualysClient::new(c).unwrap().connect().await.unwrap_err();
        assert!(matches!(e, QualysError::ProxyAuth { .. }), "{e}");
        assert_eq!(e.exit_code(), ExitCode::Api);
        assert!(e.hint().contains("QCS_PROXY_USERNAME"));
    }
}

#[tokio::test]
async fn https_through_an_authenticating_proxy() {
    let proxy = tinyproxy(Some(("bob", "b0b-pw")));
    let mut cfg = crate::common::config();
    cfg.tls = true;
    let emu = qcs_emulator::start(cfg).await.unwrap();
    let mut c = client_config(&emu);
    c.tls = TlsConfig {
        ca_bundle: Some(emu.ca_path().unwrap().to_owned()),
    };
    c.proxy = ProxyConfig::from_url(
        &proxy.url(),
        Some(secret("bob")),
        Some(secret("b0b-pw")),
        None,
    )
    .unwrap();
    let client = QualysClient::new(c).unwrap();
    client.connect().await.unwrap();
    assert!(proxy.log().contains("CONNECT"), "{}", proxy.log());

    let mut c = client_config(&emu);
    c.tls = TlsConfig {
        ca_bundle: Some(emu.ca_path().unwrap().to_owned()),
    };
    c.proxy = ProxyConfig::from_url(&proxy.url(), None, None, None).unwrap();
    let e = QualysClient::new(c).unwrap().connect().await.unwrap_err();
    assert!(matches!(e, QualysError::ProxyAuth { .. }), "{e}");
}
