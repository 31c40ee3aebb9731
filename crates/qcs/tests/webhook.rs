//! The webhook of `qcs scan`: the real binary against the emulator and its Docker stand-in,
//! posting to a receiver on 127.0.0.1 that records what it gets. One signed POST with the
//! plugin's fields and the summary; a failing receiver is a warning that leaves the exit code
//! alone; no webhook, no request; the URL's token and the key never in any output, even at
//! trace level; through a real proxy (tinyproxy, which must be installed).

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use common::run;
use hmac::{Hmac, Mac as _};
use qcs_emulator::{Base, DockerImage, ReportSpec};
use serde_json::Value;
use sha2::Sha256;

const CLEAN: &str = "acme/clean:1.0";
const VULNERABLE: &str = "acme/vuln:1.0";
const PASSWORD: &str = "Pw-Hook-Secret-51d2";
const TOKEN: &str = "T0k3n-In-The-Path-9f3a";
const KEY: &str = "Signing-Key-77e0";

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer with, in order; 200 once they run out.
    answers: Arc<Mutex<Vec<u16>>>,
}

async fn record(
    State(r): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    r.got.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let mut answers = r.answers.lock().unwrap();
    let status = if answers.is_empty() {
        200
    } else {
        answers.remove(0)
    };
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    async fn start(answers: &[u16]) -> (Self, SocketAddr) {
        let r = Receiver {
            answers: Arc::new(Mutex::new(answers.to_vec())),
            ..Receiver::default()
        };
        let app = axum::Router::new()
            .route("/{*rest}", axum::routing::post(record))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (r, addr)
    }

    /// The same receiver over HTTPS, with a certificate from a fresh test CA (`ca.pem` in
    /// `dir`).
    async fn start_tls(dir: &std::path::Path) -> (Self, SocketAddr) {
        let r = Receiver::default();
        let app = axum::Router::new()
            .route("/{*rest}", axum::routing::post(record))
            .with_state(r.clone());
        let tls = qcs_emulator::tls::generate(dir).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    // A client that does not trust the CA hangs up here.
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper_util::service::TowerToHyperService::new(app),
                    )
                    .await;
                });
            }
        });
        (r, addr)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// The emulator and Docker stand-in with a clean and a vulnerable image.
struct World(common::ScanWorld);

impl std::ops::Deref for World {
    type Target = common::ScanWorld;

    fn deref(&self) -> &common::ScanWorld {
        &self.0
    }
}

impl World {
    async fn new() -> Self {
        let image = |tag: &str, vulnerabilities, log4shell| DockerImage {
            tags: vec![tag.into()],
            report: Some(ReportSpec {
                seed: 9,
                base: Base::Debian,
                vulnerabilities,
                packages: 40,
                log4shell,
                ..ReportSpec::default()
            }),
            ..DockerImage::default()
        };
        let images = vec![image(CLEAN, 10, false), image(VULNERABLE, 25, true)];
        World(common::ScanWorld::start(common::QCS, images, PASSWORD).await)
    }

    /// `qcs scan` against this world, as a Jenkins build, with a clean environment.
    fn scan(&self) -> Command {
        let mut c = self.0.scan();
        c.env("BUILD_NUMBER", "42")
            .env("JOB_NAME", "acme-app")
            .env("JOB_URL", "https://jenkins.example/job/acme-app/");
        c
    }
}

fn hook_url(addr: SocketAddr) -> String {
    format!("http://{addr}/hooks/{TOKEN}?sig={TOKEN}")
}

fn expected_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(body);
    let mut hex = String::new();
    for b in mac.finalize().into_bytes() {
        write!(hex, "{b:02x}").unwrap();
    }
    format!("sha256={hex}")
}

fn assert_no_secret(out: &str, err: &str) {
    for secret in [TOKEN, KEY, PASSWORD] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} leaked:\n{out}\n{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scan_posts_once_signed_with_the_plugin_fields_and_the_summary() {
    let w = World::new().await;
    let (rx, addr) = Receiver::start(&[]).await;
    let mut c = w.scan();
    c.args([CLEAN, VULNERABLE, "--fail-cves", "CVE-2021-44228"])
        .env("QCS_WEBHOOK_URL", hook_url(addr))
        .env("QCS_WEBHOOK_SECRET", KEY);
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(1), "{err}");
    let got = rx.got();
    assert_eq!(got.len(), 1, "one POST: {got:?}");
    let r = &got[0];
    assert_eq!(r.path, format!("/hooks/{TOKEN}"));
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.headers["x-qcs-signature-256"].to_str().unwrap(),
        expected_signature(&r.body)
    );
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["buildNumber"], "42");
    assert_eq!(v["jobName"], "acme-app");
    assert_eq!(v["jobUrl"], "https://jenkins.example/job/acme-app/");
    assert_eq!(v["buildStatus"], "Failed");
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for i in images {
        assert_eq!(i["imageId"].as_str().unwrap().len(), 12, "{i}");
        assert_eq!(i["sha"].as_str().unwrap().len(), 64, "{i}");
        assert!(i["repo"].is_array(), "{i}");
        assert!(i["operatingSystem"].is_string(), "{i}");
        assert!(
            i["vulnerabilities"]["totalVulnerabilities"]
                .as_u64()
                .unwrap()
                > 0,
            "{i}"
        );
        assert!(i["vulnerabilities"]["severity"]["Confirmed"]["5"].is_u64());
        assert!(i["vulnerabilities"]["patchable"]["yes"].is_u64());
    }
    let vuln = images.iter().find(|i| i["input"] == VULNERABLE).unwrap();
    let reasons = v["failReason"].as_array().unwrap();
    let reason = reasons
        .iter()
        .find(|r| r["imageId"] == vuln["imageId"])
        .unwrap();
    assert_eq!(reason["cve"]["found"], "CVE-2021-44228");
    // the summary as written, without the finding identities only a later `--baseline` reads
    let mut written = common::summary_json(w.out.path());
    for image in written["images"].as_array_mut().unwrap() {
        assert!(image["finding_keys"].is_object(), "{image}");
        image.as_object_mut().unwrap().remove("finding_keys");
    }
    assert_eq!(v["qcs"], written);
    assert!(
        err.contains(&format!(
            "webhook: posted the outcome to http://{addr}/… (HTTP 200)"
        )),
        "{err}"
    );
    assert_no_secret(&out, &err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_twice_is_a_warning_and_the_exit_code_stands() {
    let w = World::new().await;
    let (rx, addr) = Receiver::start(&[500, 503]).await;
    let mut c = w.scan();
    c.arg(CLEAN).env("QCS_WEBHOOK_URL", hook_url(addr));
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(rx.got().len(), 2, "one try and one retry");
    assert!(
        err.contains("warning: webhook: the outcome was not posted")
            && err.contains("HTTP 503 (after 2 tries)")
            && err.contains("hint:"),
        "{err}"
    );
    assert!(
        rx.got()[0].headers.get("x-qcs-signature-256").is_none(),
        "no key, no signature"
    );
    assert_no_secret(&out, &err);

    // A 4xx is not retried; a receiver that is gone is a warning too.
    let (rx, addr) = Receiver::start(&[404]).await;
    let mut c = w.scan();
    c.arg(CLEAN).env("QCS_WEBHOOK_URL", hook_url(addr));
    let (code, _, err) = run(c).await;
    assert_eq!((code, rx.got().len()), (Some(0), 1), "{err}");
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut c = w.scan();
    c.arg(CLEAN).env("QCS_WEBHOOK_URL", hook_url(gone));
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("(after 2 tries)"), "{err}");
    assert_no_secret(&out, &err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_webhook_configured_means_no_request() {
    let w = World::new().await;
    let (rx, addr) = Receiver::start(&[]).await;
    let mut c = w.scan();
    // The URL is in a variable that is not the one `url-env` names.
    let config = w.out.path().join("qcs.toml");
    std::fs::write(&config, "[webhook]\nurl-env = \"TEAM_HOOK\"\n").unwrap();
    c.arg(CLEAN)
        .arg("--config")
        .arg(&config)
        .env("QCS_WEBHOOK_URL", hook_url(addr));
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(rx.got().is_empty());
    assert!(!err.contains("webhook"), "{err}");

    // The variable it names is used.
    let mut c = w.scan();
    c.arg(CLEAN)
        .arg("--config")
        .arg(&config)
        .env("TEAM_HOOK", hook_url(addr));
    let (code, _, err) = run(c).await;
    assert_eq!((code, rx.got().len()), (Some(0), 1), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_the_url_token_and_the_key_appear_nowhere() {
    let w = World::new().await;
    let (rx, addr) = Receiver::start(&[500]).await;
    let mut c = w.scan();
    c.args([CLEAN, VULNERABLE, "--fail-cves", "CVE-2021-44228", "-vv"])
        .env("QCS_LOG", "trace")
        .env("QCS_WEBHOOK_URL", hook_url(addr))
        .env("QCS_WEBHOOK_SECRET", KEY);
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(rx.got().len(), 2);
    assert!(err.contains("webhook: posted"), "{err}");
    assert!(err.lines().count() > 50, "trace output expected: {err}");
    assert_no_secret(&out, &err);

    // --print-config shows only scheme://host/… and that the key is set.
    let mut c = w.scan();
    c.args(["--print-config", "-vv"])
        .env("QCS_LOG", "trace")
        .env("QCS_WEBHOOK_URL", hook_url(addr))
        .env("QCS_WEBHOOK_SECRET", KEY);
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(&format!(
            "url              http://{addr}/… (from env QCS_WEBHOOK_URL)"
        )),
        "{out}"
    );
    assert!(out.contains("secret           set"), "{out}");
    assert_no_secret(&out, &err);

    // A URL that is not one: exit 2 before scanning, still without its value.
    let mut c = w.scan();
    c.arg(CLEAN)
        .env("QCS_WEBHOOK_URL", format!("hooks/{TOKEN}"));
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(2), "{err}");
    assert_no_secret(&out, &err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_with_a_private_ca_needs_the_ca_bundle() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (rx, addr) = Receiver::start_tls(dir.path()).await;
    let url = format!("https://localhost:{}/hooks/{TOKEN}", addr.port());

    let mut c = w.scan();
    c.arg(CLEAN).env("QCS_WEBHOOK_URL", &url);
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(rx.got().is_empty());
    assert!(
        err.contains("TLS failed") && err.contains("hint: a receiver with a private CA"),
        "{err}"
    );
    assert_no_secret(&out, &err);

    let mut c = w.scan();
    c.arg(CLEAN)
        .arg("--ca-bundle")
        .arg(dir.path().join("ca.pem"))
        .env("QCS_WEBHOOK_URL", &url);
    let (code, out, err) = run(c).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(rx.got().len(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "posted the outcome to https://localhost:{}/… (HTTP 200)",
            addr.port()
        )),
        "{err}"
    );
    assert_no_secret(&out, &err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_real_proxy() {
    // A missing tinyproxy fails the test (as the other proxy tests do): a skipped proxy test
    // would pass without proving anything.
    let proxy = qcs_test_support::tinyproxy::Tinyproxy::start(None);
    let w = World::new().await;
    let (rx, addr) = Receiver::start(&[]).await;
    let mut c = w.scan();
    c.arg(CLEAN)
        .env("HTTP_PROXY", proxy.url())
        .env("QCS_WEBHOOK_URL", hook_url(addr));
    let (code, out, err) = run(c).await;
    let log = proxy.log();
    drop(proxy);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(rx.got().len(), 1, "{err}");
    assert!(
        log.contains(&format!("POST http://{addr}/hooks/")),
        "the webhook went through the proxy: {log}"
    );
    assert_no_secret(&out, &err);
}
