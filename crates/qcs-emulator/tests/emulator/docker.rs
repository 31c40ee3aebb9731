//! The Docker Engine API stand-in on a unix socket and the simulated CI/CD sensor, driven like
//! the plugin drives Docker: sensor check, resolve, tag, then poll the CS API.

use crate::common::*;
use http_body_util::BodyExt as _;
use qcs_emulator::{
    DockerImage, DockerSeed, EmulatorConfig, RunningEmulator, SensorState, SensorTiming, start,
};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

async fn docker(sock: &Path, method: &str, path: &str) -> (u16, Value) {
    let stream = tokio::net::UnixStream::connect(sock)
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "docker")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .expect("request");
    let resp = sender.send_request(req).await.expect("response");
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let v = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    (status, v)
}

async fn with_docker(seed: DockerSeed) -> (RunningEmulator, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = start(EmulatorConfig {
        docker_socket: Some(dir.path().join("docker.sock").into()),
        docker: seed,
        sensor: SensorTiming {
            scan_delay_secs: 5,
            processing_delay_secs: 20,
            watch_interval_ms: 500,
        },
        // These tests read the list while the report is processed: `lastScanned` at upload.
        processing_profile: qcs_emulator::ProcessingProfile::LastScannedAtUpload,
        ..config()
    })
    .await
    .expect("start");
    (emu, dir)
}

fn two_images() -> DockerSeed {
    DockerSeed {
        sensor: SensorState::Running,
        images: vec![
            DockerImage {
                tags: vec!["acme/api:1.0".into()],
                ..DockerImage::default()
            },
            DockerImage {
                tags: vec![],
                ..DockerImage::default()
            },
        ],
    }
}

#[tokio::test]
async fn demo_settings_serve_a_tagged_image_with_log4shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu = start(EmulatorConfig {
        frozen_clock_ms: Some(T0),
        ..EmulatorConfig::demo(dir.path().join("d.sock"))
    })
    .await
    .expect("start");
    assert_eq!(emu.addr().ip().to_string(), "127.0.0.1");
    assert_ne!(emu.addr().port(), 8443);
    let sock = emu.docker_socket().expect("socket").to_owned();
    let (_, img) = docker(&sock, "GET", "/images/qcs-demo/app:1.0/json").await;
    let sha = img["Id"]
        .as_str()
        .expect("id")
        .trim_start_matches("sha256:")
        .to_owned();
    let (s, _) = docker(
        &sock,
        "POST",
        &format!("/images/qcs-demo/app:1.0/tag?repo=qualys_scan_target&tag={sha}"),
    )
    .await;
    assert_eq!(s, 201);
    emu.control().advance(Duration::from_secs(5));
    let t = demo_token(&emu).await;
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    let vulns = d["vulnerabilities"]
        .as_array()
        .expect("processed after 2 s + 3 s");
    assert_eq!(vulns.len(), 30);
    assert!(
        vulns.iter().any(|v| v["qid"] == 376_209),
        "Log4Shell is there to fail a policy"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn sensor_container_checks_like_the_plugin() {
    let (emu, _dir) = with_docker(two_images()).await;
    let sock = emu.docker_socket().expect("socket").to_owned();
    assert_eq!(
        docker(&sock, "GET", "/_ping").await,
        (200, Value::String("OK".into()))
    );
    let (s, v) = docker(&sock, "GET", "/v1.43/version").await;
    assert_eq!(s, 200);
    assert_eq!(v["ApiVersion"], "1.43");
    let (s, v) = docker(&sock, "GET", "/info").await;
    assert_eq!((s, v["Containers"].as_u64()), (200, Some(1)));
    assert_eq!(v["Images"], 2);
    let (s, v) = docker(&sock, "GET", "/networks").await;
    assert_eq!(s, 404);
    assert!(
        v["message"]
            .as_str()
            .expect("message")
            .contains("does not serve")
    );
    let (s, list) = docker(&sock, "GET", "/v1.41/containers/json").await;
    assert_eq!(s, 200);
    let sensor = list
        .as_array()
        .expect("array")
        .iter()
        .find(|c| {
            c["Labels"]["VersionInfo"]
                .as_str()
                .is_some_and(|v| v.contains("Qualys Sensor"))
        })
        .expect("sensor container listed");
    let id = sensor["Id"].as_str().expect("id").to_owned();
    let (s, inspect) = docker(&sock, "GET", &format!("/containers/{id}/json")).await;
    assert_eq!(s, 200);
    assert_eq!(inspect["State"]["Status"], "running");
    assert!(
        inspect["Args"]
            .to_string()
            .contains("--cicd-deployed-sensor")
    );
    assert!(
        sensor["Command"]
            .as_str()
            .expect("command")
            .contains("cicd-deployed-sensor")
    );

    emu.control().set_sensor_state(SensorState::Paused);
    let (_, inspect) = docker(&sock, "GET", &format!("/containers/{id}/json")).await;
    assert_eq!(inspect["State"]["Status"], "paused");

    emu.control().set_sensor_state(SensorState::NotCicd);
    let (_, inspect) = docker(&sock, "GET", &format!("/containers/{id}/json")).await;
    assert_eq!(inspect["State"]["Status"], "running");
    assert!(!inspect["Args"].to_string().contains("cicd-deployed-sensor"));
    assert!(
        !inspect["Config"]["Cmd"]
            .to_string()
            .contains("cicd-deployed-sensor")
    );

    // Through the control API too.
    let r = control_post(&emu, "sensor", &serde_json::json!({"state": "missing"})).await;
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        docker(&sock, "GET", "/containers/json").await,
        (200, serde_json::json!([]))
    );
    assert_eq!(
        docker(&sock, "GET", &format!("/containers/{id}/json"))
            .await
            .0,
        404
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn tagging_drives_the_sensor_and_the_platform() {
    let (emu, _dir) = with_docker(two_images()).await;
    let sock = emu.docker_socket().expect("socket").to_owned();
    let t = demo_token(&emu).await;

    // Resolve by name, as the plugin does: Id without sha256:.
    let (s, img) = docker(&sock, "GET", "/images/acme/api:1.0/json").await;
    assert_eq!(s, 200);
    let sha = img["Id"]
        .as_str()
        .expect("Id")
        .strip_prefix("sha256:")
        .expect("prefixed")
        .to_owned();
    assert_eq!(docker(&sock, "GET", "/images/nope:1/json").await.0, 404);
    // Resolve by short id too.
    assert_eq!(
        docker(&sock, "GET", &format!("/images/{}/json", &sha[..12]))
            .await
            .0,
        200
    );

    let (s, _) = docker(
        &sock,
        "POST",
        &format!("/images/acme/api:1.0/tag?repo=qualys_scan_target&tag={sha}"),
    )
    .await;
    assert_eq!(s, 201);
    let scan_tag = format!("qualys_scan_target:{sha}");
    let (_, img) = docker(&sock, "GET", "/images/acme/api:1.0/json").await;
    assert!(img["RepoTags"].to_string().contains(&scan_tag));

    // Before the scan delay: unknown to the platform.
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{sha}"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        get(
            &emu,
            &t,
            &format!("/csapi/v1.3/images?filter={}", plugin_filter(&sha, 0))
        )
        .await
        .status()
        .as_u16(),
        204
    );

    // After it: uploaded (processing), and the scan tag is removed (the image has another tag).
    emu.control().advance(Duration::from_secs(5));
    let r = get(
        &emu,
        &t,
        &format!("/csapi/v1.3/images?filter={}", plugin_filter(&sha, 5)),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert!(d["vulnerabilities"].is_null());
    assert_eq!(d["repo"][0]["repository"], "acme/api");
    assert_eq!(d["repo"][0]["tag"], "1.0");
    let (_, img) = docker(&sock, "GET", "/images/acme/api:1.0/json").await;
    assert_eq!(img["RepoTags"], serde_json::json!(["acme/api:1.0"]));

    // After processing: the report.
    emu.control().advance(Duration::from_secs(20));
    let d = json(get(&emu, &t, &format!("/csapi/v1.3/images/{sha}")).await).await;
    assert!(
        d["vulnerabilities"]
            .as_array()
            .is_some_and(|v| !v.is_empty())
    );

    // The untagged image: its scan tag is its only tag, so the sensor keeps it.
    let (_, list) = docker(&sock, "GET", "/images/json").await;
    let dangling = list
        .as_array()
        .expect("array")
        .iter()
        .find(|i| i["RepoTags"] == serde_json::json!([]))
        .expect("dangling image");
    let other = dangling["Id"]
        .as_str()
        .expect("id")
        .trim_start_matches("sha256:")
        .to_owned();
    let (s, _) = docker(
        &sock,
        "POST",
        &format!("/images/{other}/tag?repo=qualys_scan_target&tag={other}"),
    )
    .await;
    assert_eq!(s, 201);
    emu.control().advance(Duration::from_secs(30));
    let (_, img) = docker(&sock, "GET", &format!("/images/{other}/json")).await;
    assert_eq!(
        img["RepoTags"],
        serde_json::json!([format!("qualys_scan_target:{other}")])
    );
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{other}"))
            .await
            .status()
            .as_u16(),
        200
    );

    // Untag and delete.
    let (s, out) = docker(
        &sock,
        "DELETE",
        &format!("/images/qualys_scan_target:{other}"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(out.to_string().contains("Deleted"));
    let (s, _) = docker(
        &sock,
        "POST",
        "/images/acme/api:1.0/tag?repo=acme/api&tag=latest",
    )
    .await;
    assert_eq!(s, 201);
    let (s, out) = docker(&sock, "DELETE", "/images/acme/api:latest").await;
    assert_eq!(
        (s, out),
        (200, serde_json::json!([{"Untagged": "acme/api:latest"}]))
    );
    assert_eq!(
        docker(&sock, "POST", "/images/acme/api:1.0/tag").await.0,
        400,
        "repo is required"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn sensor_faults_never_scanned_not_cicd_and_docker_fault_rules() {
    let seed = DockerSeed {
        sensor: SensorState::Running,
        images: vec![
            DockerImage {
                tags: vec!["never:1".into()],
                never_scanned: true,
                ..DockerImage::default()
            },
            DockerImage {
                tags: vec!["stuck:1".into()],
                never_processed: true,
                ..DockerImage::default()
            },
            DockerImage {
                tags: vec!["plain:1".into()],
                ..DockerImage::default()
            },
        ],
    };
    let (emu, _dir) = with_docker(seed).await;
    let sock = emu.docker_socket().expect("socket").to_owned();
    let mut shas = Vec::new();
    for name in ["never:1", "stuck:1", "plain:1"] {
        let (_, img) = docker(&sock, "GET", &format!("/images/{name}/json")).await;
        shas.push(
            img["Id"]
                .as_str()
                .expect("id")
                .trim_start_matches("sha256:")
                .to_owned(),
        );
    }
    emu.control().set_sensor_state(SensorState::NotCicd);
    for (name, sha) in ["never:1", "stuck:1", "plain:1"].iter().zip(&shas) {
        let (s, _) = docker(
            &sock,
            "POST",
            &format!("/images/{name}/tag?repo=qualys_scan_target&tag={sha}"),
        )
        .await;
        assert_eq!(s, 201);
    }
    emu.control().advance(Duration::from_secs(60));
    let t = demo_token(&emu).await;
    for sha in &shas {
        assert_eq!(
            get(&emu, &t, &format!("/csapi/v1.3/images/{sha}"))
                .await
                .status()
                .as_u16(),
            404,
            "general-mode sensor ignores tags"
        );
    }
    emu.control().set_sensor_state(SensorState::Running);
    for (name, sha) in ["never:1", "stuck:1", "plain:1"].iter().zip(&shas) {
        docker(
            &sock,
            "POST",
            &format!("/images/{name}/tag?repo=qualys_scan_target&tag={sha}"),
        )
        .await;
    }
    emu.control().advance(Duration::from_secs(3600));
    let t = demo_token(&emu).await;
    assert_eq!(
        get(&emu, &t, &format!("/csapi/v1.3/images/{}", shas[0]))
            .await
            .status()
            .as_u16(),
        404
    );
    assert!(json(get(&emu, &t, &format!("/csapi/v1.3/images/{}", shas[1])).await).await["vulnerabilities"].is_null());
    assert!(json(get(&emu, &t, &format!("/csapi/v1.3/images/{}", shas[2])).await).await["vulnerabilities"].is_array());

    // Fault rules apply to Docker endpoints too, and the log counts them.
    emu.control()
        .inject(qcs_emulator::FaultRule {
            endpoint: "docker/images/tag".into(),
            action: qcs_emulator::FaultAction::Status {
                status: 500,
                message: None,
                retry_after_secs: None,
            },
            times: Some(1),
            probability: None,
        })
        .expect("valid");
    let (s, _) = docker(
        &sock,
        "POST",
        &format!(
            "/images/plain:1/tag?repo=qualys_scan_target&tag={}",
            shas[2]
        ),
    )
    .await;
    assert_eq!(s, 500);
    let log = emu.control().requests();
    assert_eq!(log.counts.get("docker/images/tag").copied(), Some(7));
    emu.shutdown().await;
}
