//! The Docker Engine API stand-in on TCP loopback: the transport `qcs demo` uses where there are
//! no unix sockets (Windows), and `--docker-socket tcp://IP:PORT` everywhere. The same calls as
//! over the unix socket, through reqwest.

use crate::common::*;
use qcs_emulator::{DockerListen, EmulatorConfig, Phase, start};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;

async fn docker(base: &str, method: reqwest::Method, path: &str) -> (u16, Value) {
    let r = http()
        .request(method, format!("{base}{path}"))
        .send()
        .await
        .expect("request to the Docker stand-in");
    let status = r.status().as_u16();
    let body = r.bytes().await.expect("body");
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    (status, v)
}

#[tokio::test]
async fn the_stand_in_serves_on_a_free_tcp_port_and_drives_the_sensor() {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let emu = start(EmulatorConfig {
        frozen_clock_ms: Some(T0),
        ..EmulatorConfig::demo(DockerListen::Tcp(any_port))
    })
    .await
    .expect("start");
    assert_eq!(emu.docker_socket(), None, "no unix socket");
    let Some(DockerListen::Tcp(bound)) = emu.docker_listen().cloned() else {
        panic!("the stand-in listens on TCP: {:?}", emu.docker_listen());
    };
    assert_eq!(bound.ip(), any_port.ip());
    assert_ne!(
        bound.port(),
        0,
        "the bound port is told, not the asked-for 0"
    );
    assert_ne!(bound, emu.addr(), "a listener of its own");
    let host = emu.docker_host().expect("a Docker host URL");
    assert_eq!(host, format!("tcp://{bound}"));
    assert!(emu.describe().contains(&format!("Docker API:     {host}")));

    let base = format!("http://{bound}");
    assert_eq!(
        docker(&base, reqwest::Method::GET, "/_ping").await,
        (200, Value::String("OK".into()))
    );
    let (s, img) = docker(
        &base,
        reqwest::Method::GET,
        "/v1.43/images/qcs-demo/app:1.0/json",
    )
    .await;
    assert_eq!(s, 200);
    let sha = img["Id"]
        .as_str()
        .expect("id")
        .trim_start_matches("sha256:")
        .to_owned();
    let (s, _) = docker(
        &base,
        reqwest::Method::POST,
        &format!("/images/qcs-demo/app:1.0/tag?repo=qualys_scan_target&tag={sha}"),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(emu.control().phase(&sha), Phase::Unknown);
    emu.control().advance(Duration::from_secs(5));
    let t = demo_token(&emu).await;
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert_eq!(
        d["vulnerabilities"].as_array().map(Vec::len),
        Some(30),
        "processed after 2 s + 3 s"
    );
    // The stand-in's requests are logged like the unix socket's.
    let log = emu.control().requests();
    assert_eq!(log.counts.get("docker/_ping"), Some(&1), "{:?}", log.counts);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_taken_tcp_port_is_an_error_naming_it_with_a_hint() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let e = start(EmulatorConfig {
        docker_socket: Some(DockerListen::Tcp(addr)),
        ..config()
    })
    .await
    .expect_err("the port is taken");
    let msg = e.to_string();
    assert!(
        msg.contains(&addr.to_string()) && msg.contains("hint:") && msg.contains("tcp://"),
        "{msg}"
    );
}

#[test]
fn listen_addresses_parse_from_text() {
    let tcp = DockerListen::parse("tcp://127.0.0.1:2375").expect("tcp");
    assert_eq!(
        tcp,
        DockerListen::Tcp("127.0.0.1:2375".parse().expect("addr"))
    );
    assert_eq!(tcp.url(), "tcp://127.0.0.1:2375");
    let unix = DockerListen::parse("unix:///tmp/d.sock").expect("unix");
    assert_eq!(unix, DockerListen::Unix("/tmp/d.sock".into()));
    assert_eq!(unix.url(), "unix:///tmp/d.sock");
    assert_eq!(
        DockerListen::parse("/tmp/d.sock").expect("a plain path"),
        unix,
        "a plain path is a unix socket, as before"
    );
    for bad in [
        "",
        "unix://",
        "tcp://localhost:2375",
        "tcp://127.0.0.1",
        "ssh://host",
    ] {
        let e = DockerListen::parse(bad).expect_err(bad);
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("`{bad}`")) && msg.contains("hint:"),
            "{bad}: {msg}"
        );
    }
}

/// Where there are no unix sockets, asking for one fails at start with a hint to use TCP.
#[cfg(not(unix))]
#[tokio::test]
async fn a_unix_socket_is_refused_with_a_hint_to_use_tcp() {
    let e = start(EmulatorConfig {
        docker_socket: Some(DockerListen::Unix("docker.sock".into())),
        ..config()
    })
    .await
    .expect_err("no unix sockets here");
    let msg = e.to_string();
    assert!(
        msg.contains("docker.sock") && msg.contains("tcp://127.0.0.1"),
        "{msg}"
    );
}
