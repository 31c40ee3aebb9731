//! `qcs emulator` as a user runs it: it prints its URL and the credentials it accepts, serves
//! the documented flow over real HTTP, and stops cleanly on Ctrl-C (SIGINT).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use qcs_test_support::emulator_process::EmulatorProcess;

/// One HTTP/1.1 request on loopback; returns the status line and the body.
fn http(addr: &str, request: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the emulator");
    s.write_all(request.as_bytes()).expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let status = raw.lines().next().unwrap_or_default().to_owned();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Starts `qcs emulator ARGS` and reads its banner up to the `Ctrl-C` line.
fn start_emulator(args: &[&str]) -> EmulatorProcess {
    EmulatorProcess::start(env!("CARGO_BIN_EXE_qcs"), args)
}

#[test]
fn the_emulator_command_serves_auth_and_polling_and_stops_on_sigint() {
    let emulator = start_emulator(&["--listen", "127.0.0.1:0"]);
    let banner = emulator.banner();
    assert!(
        banner.contains("user:           qcs-demo / qcs-demo"),
        "{banner}"
    );
    assert!(emulator.url().starts_with("http://127.0.0.1:"), "{banner}");
    let addr = &emulator.addr();

    let form = "username=qcs-demo&password=qcs-demo&token=true";
    let (status, token) = http(
        addr,
        &format!(
            "POST /auth HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    );
    assert!(status.contains(" 201"), "{status}");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let (status, _) = http(
        addr,
        &format!(
            "GET /csapi/v1.3/images?filter=sha:{}+and+lastScanned:[now-60s+...+now] HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            "0".repeat(64),
            token.trim()
        ),
    );
    assert!(
        status.contains(" 204"),
        "an unknown image is not scanned yet: {status}"
    );
    let (status, _) = http(
        addr,
        &format!(
            "GET /csapi/v1.3/images/{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            "0".repeat(64)
        ),
    );
    assert!(status.contains(" 401"), "no token, no data: {status}");

    assert_eq!(emulator.interrupt(), Some(0), "Ctrl-C is a clean stop");
}

#[test]
fn a_busy_address_is_a_clear_error_with_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_qcs"))
        .args(["emulator", "--listen", &addr])
        .env("NO_COLOR", "1")
        .output()
        .expect("qcs runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the emulator could not start") && err.contains(&addr),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn with_tls_it_prints_the_ca_certificate_clients_must_trust() {
    let emulator = start_emulator(&["--listen", "127.0.0.1:0", "--tls"]);
    let banner = emulator.banner();
    assert!(
        banner.contains("listening on https://127.0.0.1:"),
        "{banner}"
    );
    let ca = emulator.banner_value("CA certificate:");
    let pem = std::fs::read_to_string(ca).expect("the CA file exists");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_eq!(emulator.interrupt(), Some(0));
}

#[test]
fn the_docker_stand_in_can_listen_on_tcp() {
    let emulator = start_emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--docker-socket",
        "tcp://127.0.0.1:0",
    ]);
    let docker = emulator.banner_value("Docker API:");
    let addr = docker.strip_prefix("tcp://127.0.0.1:").map_or_else(
        || panic!("not a TCP address with its bound port: {docker}"),
        |port| format!("127.0.0.1:{port}"),
    );
    assert!(!addr.ends_with(":0"), "{addr}");
    let (status, body) = http(
        &addr,
        &format!("GET /_ping HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    );
    assert!(status.contains(" 200"), "{status}");
    assert_eq!(body, "OK");
}

#[test]
fn a_docker_socket_that_is_no_address_is_refused_with_a_hint() {
    let out = Command::new(env!("CARGO_BIN_EXE_qcs"))
        .args(["emulator", "--docker-socket", "tcp://localhost:2375"])
        .env("NO_COLOR", "1")
        .output()
        .expect("qcs runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tcp://localhost:2375") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn the_processing_profile_flag_wins_over_the_scenario_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "processing-profile = \"last-scanned-at-upload\"\n",
    )
    .expect("write");
    let scenario = scenario.to_str().expect("a UTF-8 temp path");
    let emulator = start_emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--scenario",
        scenario,
        "--processing-profile",
        "counts-null-with-status",
    ]);
    let banner = emulator.banner();
    assert!(
        banner.contains("processing:     counts-null-with-status"),
        "{banner}"
    );
    let addr = &emulator.addr();
    let (status, body) = http(
        addr,
        &format!(
            "GET /_emulator/processing-profile HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(status.contains(" 200"), "{status}");
    assert!(body.contains("\"counts-null-with-status\""), "{body}");
    drop(emulator);

    // Without the flag, the scenario's profile.
    let emulator = start_emulator(&["--listen", "127.0.0.1:0", "--scenario", scenario]);
    let banner = emulator.banner();
    assert!(
        banner.contains("processing:     last-scanned-at-upload"),
        "{banner}"
    );
    drop(emulator);

    // An unknown name is refused with the choices.
    let out = Command::new(env!("CARGO_BIN_EXE_qcs"))
        .args(["emulator", "--processing-profile", "eventually"])
        .env("NO_COLOR", "1")
        .output()
        .expect("qcs runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("last-scanned-when-processed"), "{err}");
}
