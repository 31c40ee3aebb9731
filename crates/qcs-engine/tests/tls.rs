//! TCP+TLS with client certificates: a real Podman service on loopback TCP behind Debian's
//! stunnel, which requires and verifies a client certificate. Certificates are made here (rcgen).
// Drives Podman and stunnel: unix only (the engine code itself builds everywhere).
#![cfg(unix)]
// Helpers outside #[test] functions: a failed setup step should fail the test with its panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{Podman, assert_engine_error, free_port, require, short_tempdir, wait_until};
use qcs_engine::{EngineConfig, EngineError, connect};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).unwrap();
    Ca { cert, key }
}

/// A leaf certificate signed by `ca`: (cert PEM, key PEM).
fn leaf(ca: &Ca, name: &str, usage: ExtendedKeyUsagePurpose) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = vec![usage];
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Writes a Docker cert dir: `ca.pem` (trust for the engine), `cert.pem` + `key.pem` (client).
fn cert_dir(dir: &Path, trust: &Ca, client: &(String, String)) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("ca.pem"), trust.cert.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), &client.0).unwrap();
    std::fs::write(dir.join("key.pem"), &client.1).unwrap();
}

/// stunnel terminating TLS on `tls_port`, requiring a client cert signed by `client_ca`,
/// forwarding to `backend_port`.
struct Stunnel {
    child: Child,
}

impl Stunnel {
    fn start(dir: &Path, tls_port: u16, backend_port: u16, server_ca: &Ca, client_ca: &Ca) -> Self {
        let bin = require("stunnel4");
        let (cert, key) = leaf(server_ca, "engine", ExtendedKeyUsagePurpose::ServerAuth);
        std::fs::write(dir.join("server.pem"), cert).unwrap();
        std::fs::write(dir.join("server-key.pem"), key).unwrap();
        std::fs::write(dir.join("client-ca.pem"), client_ca.cert.pem()).unwrap();
        let log = dir.join("stunnel.log");
        let conf = format!(
            "foreground = yes\npid =\noutput = {log}\ndebug = 5\n\n[docker]\n\
             accept = 127.0.0.1:{tls_port}\nconnect = 127.0.0.1:{backend_port}\n\
             cert = {d}/server.pem\nkey = {d}/server-key.pem\n\
             CAfile = {d}/client-ca.pem\nverify = 2\n",
            log = log.display(),
            d = dir.display(),
        );
        let conf_path = dir.join("stunnel.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(bin)
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("stunnel", &log, || {
            TcpStream::connect(("127.0.0.1", tls_port)).is_ok()
        });
        Self { child }
    }
}

impl Drop for Stunnel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_client_certificates_works_and_each_failure_is_a_tls_error() {
    let backend = free_port();
    let podman = Podman::with_tcp_service(backend);
    let sha = podman.import_runnable("localhost/qcs-test/app:1.0", "tls");
    let tls_port = free_port();
    let dir = short_tempdir();
    let server_ca = ca("qcs test engine CA");
    let client_ca = ca("qcs test client CA");
    let rogue_ca = ca("qcs test rogue CA");
    let _stunnel = Stunnel::start(dir.path(), tls_port, backend, &server_ca, &client_ca);
    let url = format!("tcp://127.0.0.1:{tls_port}");

    // Plain TCP straight to Podman's listener works too.
    let plain = format!("tcp://127.0.0.1:{backend}");
    let engine = connect(&EngineConfig::new(&plain)).await.unwrap();
    assert_eq!(engine.describe(), format!("docker {plain}"));
    assert_eq!(engine.resolve(&sha).await.unwrap().sha, sha);

    // The right CA and a client certificate the engine trusts: works.
    let good = dir.path().join("good");
    let client = leaf(&client_ca, "ci", ExtendedKeyUsagePurpose::ClientAuth);
    cert_dir(&good, &server_ca, &client);
    let engine = connect(&EngineConfig::new(&url).with_cert_dir(&good))
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    assert_eq!(engine.describe(), format!("docker+tls {url}"));
    assert_eq!(engine.resolve("qcs-test/app:1.0").await.unwrap().sha, sha);

    // DOCKER_HOST + DOCKER_CERT_PATH reach the same engine.
    let (u, g) = (url.clone(), good.display().to_string());
    let config = EngineConfig::from_lookup(move |k| match k {
        "DOCKER_HOST" => Some(u.clone()),
        "DOCKER_CERT_PATH" => Some(g.clone()),
        _ => None,
    });
    let engine = connect(&config).await.unwrap();
    assert_eq!(engine.resolve(&sha[..12]).await.unwrap().sha, sha);

    // We do not trust the engine's certificate.
    let untrusting = dir.path().join("untrusting");
    cert_dir(&untrusting, &rogue_ca, &client);
    let e = connect(&EngineConfig::new(&url).with_cert_dir(&untrusting))
        .await
        .unwrap_err();
    eprintln!("{}", e.report());
    assert!(matches!(e, EngineError::Tls { .. }), "{}", e.report());
    assert_engine_error(&e, &[&url, "TLS failed"]);
    assert!(e.hint().contains("ca.pem"));

    // The engine does not trust our client certificate.
    let rejected = dir.path().join("rejected");
    let stranger = leaf(&rogue_ca, "stranger", ExtendedKeyUsagePurpose::ClientAuth);
    cert_dir(&rejected, &server_ca, &stranger);
    let e = connect(&EngineConfig::new(&url).with_cert_dir(&rejected))
        .await
        .unwrap_err();
    eprintln!("{}", e.report());
    assert!(matches!(e, EngineError::Tls { .. }), "{}", e.report());
    assert_engine_error(&e, &[&url, "TLS failed"]);

    // A cert dir without the files.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = connect(&EngineConfig::new(&url).with_cert_dir(&empty))
        .await
        .unwrap_err();
    eprintln!("{}", e.report());
    assert!(matches!(e, EngineError::Tls { .. }), "{}", e.report());
    assert_engine_error(&e, &[&url, "ca.pem", "cannot read"]);

    // Plain HTTP against the TLS port is not an answer from an engine.
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    eprintln!("{}", e.report());
    assert!(
        matches!(e, EngineError::Unreachable { .. }),
        "{}",
        e.report()
    );
    assert_engine_error(&e, &[&url, "does the engine expect TLS?"]);
}
