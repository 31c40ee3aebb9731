//! HTTPS with the generated test CA: refused without the CA, accepted with it.

use crate::common::*;
use qcs_emulator::{EmulatorConfig, start};

#[tokio::test]
async fn tls_listener_needs_the_test_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = start(EmulatorConfig {
        tls: true,
        tls_dir: Some(dir.path().to_owned()),
        ..config()
    })
    .await
    .expect("start");
    assert_eq!(
        emu.base_url(),
        format!("https://127.0.0.1:{}", emu.addr().port())
    );
    let ca_path = emu.ca_path().expect("CA path").to_owned();
    assert_eq!(ca_path, dir.path().join("ca.pem"));
    let pem = std::fs::read(&ca_path).expect("CA file");
    assert!(String::from_utf8_lossy(&pem).contains("BEGIN CERTIFICATE"));

    let url = format!("https://localhost:{}/auth", emu.addr().port());
    let form = [("username", "qcs-demo"), ("password", "qcs-demo")];
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", emu.addr())
        .build()
        .expect("client");
    let e = untrusting
        .post(&url)
        .form(&form)
        .send()
        .await
        .expect_err("unknown CA");
    assert!(e.is_connect() || e.is_request(), "{e:?}");

    let ca = reqwest::Certificate::from_pem(&pem).expect("pem");
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(ca)
        .resolve("localhost", emu.addr())
        .build()
        .expect("client");
    let r = trusting
        .post(&url)
        .form(&form)
        .send()
        .await
        .expect("TLS works with the CA");
    assert_eq!(r.status().as_u16(), 201);
    // The base URL (by IP) verifies too.
    let ip_url = format!("{}/_emulator/health", emu.base_url());
    assert_eq!(
        trusting
            .get(&ip_url)
            .send()
            .await
            .expect("by IP")
            .status()
            .as_u16(),
        200
    );
    emu.shutdown().await;
}
