//! `qcs test-connection` as a user runs it: the real binary against the emulator over HTTP(S)
//! on 127.0.0.1, with settings from flags, the environment and a config file; exit codes 0, 2
//! and 4; and no secret in any output, even at trace log level through an authenticating proxy.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use qcs_emulator::{EmulatorConfig, RunningEmulator, User};
use qcs_test_support::tinyproxy::Tinyproxy;

fn qcs() -> Command {
    let mut c = Command::cargo_bin("qcs").expect("the qcs binary is built");
    // A clean environment: no proxy, no config, no credentials but those each test sets.
    c.env_clear().env("NO_COLOR", "1");
    c
}

async fn emulator(tls: bool) -> RunningEmulator {
    let emu = qcs_emulator::start(EmulatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    emu.control().add_user(User {
        username: "ci-user".into(),
        password: "Pw-Very-Secret-4711".into(),
        modules: vec!["CS".into()],
    });
    emu.control().add_user(User {
        username: "vm-only".into(),
        password: "pw".into(),
        modules: vec!["VM SCANNER".into()],
    });
    emu
}

/// Runs the command off the async runtime, so the in-process emulator keeps serving.
async fn run(cmd: Command) -> Output {
    let mut cmd = cmd;
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_from_the_environment() {
    let emu = emulator(false).await;
    let mut c = qcs();
    c.args(["test-connection", "--gateway-url", &emu.base_url()])
        .env("QUALYS_USERNAME", "ci-user")
        .env("QUALYS_PASSWORD", "Pw-Very-Secret-4711");
    let out = run(c).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("ci-user"), "{stdout}");
    assert!(stdout.contains("Container Security is enabled"), "{stdout}");
    assert!(stdout.contains("token expires"), "{stdout}");
    assert!(stdout.contains("proxy in use:    none"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{} (used as given; flag --gateway-url)",
            emu.base_url()
        )),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_with_secrets_from_files_and_json_output() {
    let emu = emulator(false).await;
    let dir = tempfile::tempdir().unwrap();
    let id = dir.path().join("id");
    let secret = dir.path().join("secret");
    std::fs::write(&id, "qcs-demo\n").unwrap();
    std::fs::write(&secret, "qcs-demo\n").unwrap();
    let mut c = qcs();
    c.args(["test-connection", "--format", "json"])
        .env("QUALYS_GATEWAY_URL", emu.base_url())
        .env("QUALYS_AUTH", "oauth")
        .env("QUALYS_CLIENT_ID_FILE", &id)
        .env("QUALYS_CLIENT_SECRET_FILE", &secret);
    let out = run(c).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["auth"], "oauth");
    assert_eq!(v["cs_module"], true);
    assert!(v["expires_in_secs"].as_u64().unwrap() > 3 * 3600);
    assert_eq!(emu.control().requests().counts.get("auth/oidc"), Some(&1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_from_a_config_file() {
    let emu = emulator(true).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(emu.ca_path().unwrap(), dir.path().join("ca.pem")).unwrap();
    let conf = dir.path().join("qcs.toml");
    std::fs::write(
        &conf,
        format!(
            "[qualys]\ngateway-url = \"{}\"\nca-bundle = \"ca.pem\"\nrequest-timeout = \"20s\"\n",
            emu.base_url()
        ),
    )
    .unwrap();
    let mut c = qcs();
    c.args(["test-connection", "--config"])
        .arg(&conf)
        .env("QUALYS_USERNAME", "qcs-demo")
        .env("QUALYS_PASSWORD", "qcs-demo");
    let out = run(c).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("request timeout: 20s"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_needs_the_ca_bundle() {
    let emu = emulator(true).await;
    let mut c = qcs();
    c.args(["test-connection", "--gateway-url", &emu.base_url()])
        .env("QUALYS_USERNAME", "qcs-demo")
        .env("QUALYS_PASSWORD", "qcs-demo");
    let out = run(c).await;
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("TLS failure"), "{stderr}");
    assert!(stderr.contains("--ca-bundle"), "{stderr}");

    let mut c = qcs();
    c.args(["test-connection", "--gateway-url", &emu.base_url()])
        .env("QUALYS_CA_BUNDLE", emu.ca_path().unwrap())
        .env("QUALYS_USERNAME", "qcs-demo")
        .env("QUALYS_PASSWORD", "qcs-demo");
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
}

/// Flags, environment, and what stderr must say.
type Case = (Vec<String>, Vec<(&'static str, &'static str)>, &'static str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_exit_2() {
    let emu = emulator(false).await;
    let cases: Vec<Case> = vec![
        (
            vec!["--gateway-url".into(), emu.base_url()],
            vec![],
            "missing credentials",
        ),
        (
            vec!["--gateway-url".into(), emu.base_url()],
            vec![("QUALYS_USERNAME", "x")],
            "missing credentials",
        ),
        (
            vec![
                "--gateway-url".into(),
                emu.base_url(),
                "--auth".into(),
                "oauth".into(),
            ],
            vec![("QUALYS_USERNAME", "x"), ("QUALYS_PASSWORD", "y")],
            "OAuth needs",
        ),
        (
            vec![],
            vec![("QUALYS_USERNAME", "x"), ("QUALYS_PASSWORD", "y")],
            "no Qualys platform",
        ),
        (
            vec!["--platform".into(), "MARS1".into()],
            vec![("QUALYS_USERNAME", "x"), ("QUALYS_PASSWORD", "y")],
            "unknown Qualys platform `MARS1`",
        ),
        (
            vec![
                "--gateway-url".into(),
                emu.base_url(),
                "--ca-bundle".into(),
                "/nonexistent.pem".into(),
            ],
            vec![("QUALYS_USERNAME", "x"), ("QUALYS_PASSWORD", "y")],
            "CA bundle",
        ),
    ];
    for (args, envs, expect) in cases {
        let mut c = qcs();
        c.arg("test-connection")
            .args(&args)
            .envs(envs.iter().copied());
        let out = run(c).await;
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert!(stderr.contains("hint:"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_auth_errors_exit_4() {
    let emu = emulator(false).await;
    for (user, pass, expect) in [
        ("ci-user", "wrong", "authentication refused"),
        (
            "vm-only",
            "pw",
            "Container Security (CS) module is not activated for user `vm-only`",
        ),
    ] {
        let mut c = qcs();
        c.args(["test-connection", "--gateway-url", &emu.base_url()])
            .env("QUALYS_USERNAME", user)
            .env("QUALYS_PASSWORD", pass);
        let out = run(c).await;
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
    }
    // Nothing listening: network failure after retries (bounded), exit 4.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("qcs.toml");
    std::fs::write(&conf, "[qualys]\nrequest-timeout = \"1s\"\n").unwrap();
    let mut c = qcs();
    c.args([
        "test-connection",
        "--gateway-url",
        &format!("http://127.0.0.1:{port}"),
        "--config",
    ])
    .arg(&conf)
    .env("QUALYS_USERNAME", "x")
    .env("QUALYS_PASSWORD", "y");
    let started = Instant::now();
    let out = run(c).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out).1);
    // Retried for 3 × the request timeout, at least 5 s.
    assert!(started.elapsed() < Duration::from_secs(30));
}

fn tinyproxy(user: &str, pass: &str) -> Tinyproxy {
    Tinyproxy::start(Some((user, pass)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output_at_trace_level() {
    use base64::Engine as _;
    let emu = emulator(false).await;
    let proxy = tinyproxy("proxy-user", "Proxy-Secret-0815");
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "Pw-Very-Secret-4711\n").unwrap();
    let secrets = [
        "Pw-Very-Secret-4711".to_owned(),
        "Proxy-Secret-0815".to_owned(),
        // The Basic proxy credentials as they travel in Proxy-Authorization.
        base64::engine::general_purpose::STANDARD.encode("proxy-user:Proxy-Secret-0815"),
    ];
    for (label, password_env, proxy_env) in [
        (
            "ok, proxy credentials apart",
            ("QUALYS_PASSWORD_FILE", pw_file.to_str().unwrap().to_owned()),
            None,
        ),
        (
            "ok, proxy credentials in the URL",
            ("QUALYS_PASSWORD", "Pw-Very-Secret-4711".to_owned()),
            Some(format!(
                "http://proxy-user:Proxy-Secret-0815@127.0.0.1:{}",
                proxy.port()
            )),
        ),
        (
            "wrong password",
            ("QUALYS_PASSWORD", "Pw-Very-Secret-4711-wrong".to_owned()),
            None,
        ),
    ] {
        let mut c = qcs();
        c.args(["test-connection", "--gateway-url", &emu.base_url()])
            .env("QCS_LOG", "trace")
            .env("QUALYS_USERNAME", "ci-user")
            .env(password_env.0, &password_env.1);
        match &proxy_env {
            Some(url) => {
                c.env("HTTP_PROXY", url);
            }
            None => {
                c.env("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port()))
                    .env("QCS_PROXY_USERNAME", "proxy-user")
                    .env("QCS_PROXY_PASSWORD", "Proxy-Secret-0815");
            }
        }
        let out = run(c).await;
        let (stdout, stderr) = text(&out);
        let expected = if label == "wrong password" { 4 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "{label}: {stdout}\n{stderr}"
        );
        assert!(
            stderr.contains("TRACE"),
            "{label}: trace logging is on: {stderr}"
        );
        assert!(
            stdout.contains("with authentication") || expected == 4,
            "{label}: {stdout}"
        );
        let all = format!("{stdout}\n{stderr}");
        for s in &secrets {
            assert!(
                !all.contains(s.as_str()),
                "{label}: a secret ({}…) leaked:\n{all}",
                &s[..4]
            );
        }
        // No token either (JWTs start with the base64 of `{"`).
        assert!(!all.contains("eyJ"), "{label}: a token leaked:\n{all}");
    }
}
