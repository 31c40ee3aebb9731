//! containerd through its API against a real containerd (own socket, root and state in a temp
//! dir): images come from `podman save` + `ctr images import`; sensor containers are a record made
//! through the API and tasks started with `ctr run`.
// Drives a real containerd and Podman: unix only (the engine code itself builds everywhere).
#![cfg(unix)]
// Helpers outside #[test] functions: a failed setup step should fail the test with its panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;

use common::{Containerd, Podman, assert_engine_error};
use qcs_containerd_api::services::v1::{
    Container, CreateContainerRequest, DeleteContainerRequest, container::Runtime,
    containers_client::ContainersClient,
};
use qcs_containerd_api::tonic::Request;
use qcs_engine::{EngineConfig, EngineError, connect};

/// A containerd holding `localhost/qcs-test/app:1.0` (imported from Podman); returns its id.
fn containerd_with_image() -> (Containerd, String) {
    let ctd = Containerd::start();
    let podman = Podman::new();
    let sha = podman.import_runnable("localhost/qcs-test/app:1.0", "ctd");
    let archive = podman.dir().join("app.tar");
    let archive_s = archive.display().to_string();
    podman.run(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        &archive_s,
        "localhost/qcs-test/app:1.0",
    ]);
    ctd.ctr(&["images", "import", "--snapshotter", "native", &archive_s]);
    (ctd, sha)
}

/// The manifest digest containerd holds for `name` (from `ctr images ls`).
fn target_digest(ctd: &Containerd, name: &str) -> String {
    let list = ctd.ctr(&["images", "ls"]);
    let line = list
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("{name} not in:\n{list}"));
    line.split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_resolve_by_name_id_and_digest_and_tagging_creates_the_record() {
    let (ctd, sha) = containerd_with_image();
    let url = ctd.url();
    let engine = connect(&EngineConfig::new(&url)).await.unwrap();
    assert_eq!(
        engine.describe(),
        format!("containerd {url} (namespace k8s.io)")
    );
    let digest = target_digest(&ctd, "localhost/qcs-test/app:1.0");
    for input in [
        "qcs-test/app:1.0".to_owned(),
        "localhost/qcs-test/app:1.0".to_owned(),
        sha[..12].to_owned(),
        sha.clone(),
        format!("localhost/qcs-test/app@{digest}"),
    ] {
        let r = engine
            .resolve(&input)
            .await
            .unwrap_or_else(|e| panic!("{input}: {}", e.report()));
        assert_eq!(r.sha, sha, "{input}: same id as Podman's");
        assert_eq!(r.repo_tags, vec!["localhost/qcs-test/app:1.0"], "{input}");
    }

    let tag = engine
        .tag(&engine.resolve("qcs-test/app:1.0").await.unwrap())
        .await
        .unwrap();
    assert_eq!(tag, format!("qualys_scan_target:{sha}"));
    let names = ctd.ctr(&["images", "ls", "-q"]);
    let record = format!("docker.io/library/qualys_scan_target:{sha}");
    assert!(names.lines().any(|l| l == record), "{names}");
    assert_eq!(target_digest(&ctd, &record), digest);
    // Again (the record exists): updated, not an error.
    let image = engine.resolve(&tag).await.unwrap();
    assert_eq!(image.sha, sha);
    assert_eq!(engine.tag(&image).await.unwrap(), tag);

    // Unknown images, and the right image in the wrong namespace.
    let e = engine.resolve("nope:1").await.unwrap_err();
    assert!(matches!(e, EngineError::ImageNotFound { .. }), "{e}");
    assert_engine_error(&e, &[&url, "nope:1", "k8s.io", "not found"]);
    let other_ns = connect(&EngineConfig::new(&url).with_namespace("default"))
        .await
        .unwrap();
    let e = other_ns.resolve("qcs-test/app:1.0").await.unwrap_err();
    assert!(matches!(e, EngineError::ImageNotFound { .. }), "{e}");
    assert_engine_error(&e, &[&url, "qcs-test/app:1.0", "`default`"]);
    let e = connect(&EngineConfig::new(&url).with_namespace("bad ns"))
        .await
        .unwrap_err();
    assert_eq!(e.exit_code().code(), 2, "{e}");
}

fn sensor_record(id: &str, args: &[&str]) -> Container {
    let spec = serde_json::json!({
        "ociVersion": "1.0.2",
        "process": {"args": args, "cwd": "/"},
        "root": {"path": "rootfs"},
    });
    Container {
        id: id.to_owned(),
        labels: HashMap::from([(
            "io.kubernetes.container.name".to_owned(),
            "qualys-container-sensor".to_owned(),
        )]),
        image: "localhost/qcs-test/app:1.0".to_owned(),
        runtime: Some(Runtime {
            name: "io.containerd.runc.v2".to_owned(),
            options: None,
        }),
        spec: Some(qcs_containerd_api::prost_types::Any {
            type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec".to_owned(),
            value: serde_json::to_vec(&spec).unwrap(),
        }),
        ..Default::default()
    }
}

fn in_k8s_ns<T>(msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut()
        .insert("containerd-namespace", "k8s.io".parse().unwrap());
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_check_missing_record_only_general_cicd_and_paused() {
    let (mut ctd, _) = containerd_with_image();
    let url = ctd.url();
    let engine = connect(&EngineConfig::new(&url)).await.unwrap();
    let label = "io.kubernetes.container.name=qualys-container-sensor";

    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorMissing { .. }), "{e}");
    assert_engine_error(&e, &[&url, "no container labelled", label, "k8s.io"]);

    // A container record made through the API, in CI/CD mode but never started.
    let channel = qcs_engine::containerd::channel_to(&ctd.socket)
        .await
        .unwrap();
    let mut containers = ContainersClient::new(channel);
    containers
        .create(in_k8s_ns(CreateContainerRequest {
            container: Some(sensor_record(
                "sensor-record",
                &["/bin/sh", "/sensor.sh", "--cicd-deployed-sensor"],
            )),
        }))
        .await
        .unwrap();
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorMissing { .. }), "{e}");
    assert_engine_error(&e, &[&url, "`sensor-record` is not started"]);
    containers
        .delete(in_k8s_ns(DeleteContainerRequest {
            id: "sensor-record".to_owned(),
        }))
        .await
        .unwrap();

    // A general-mode sensor, running.
    ctd.run_container(
        "general",
        "localhost/qcs-test/app:1.0",
        &[label],
        &["/bin/sh", "/sensor.sh"],
    );
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorNotCicd { .. }), "{e}");
    assert_engine_error(&e, &[&url, "`general`", "CI/CD", "/sensor.sh"]);
    ctd.ctr(&["task", "rm", "-f", "general"]);
    ctd.ctr(&["containers", "rm", "general"]);

    // A CI/CD sensor (`-c`), running: passes.
    ctd.run_container(
        "qualys-sensor",
        "localhost/qcs-test/app:1.0",
        &[label],
        &["/bin/sh", "/sensor.sh", "-c"],
    );
    let s = engine.check_sensor().await.unwrap();
    assert_eq!(s.id, "qualys-sensor");
    assert_eq!(s.command, vec!["/bin/sh", "/sensor.sh", "-c"]);

    // Paused, then resumed.
    ctd.ctr(&["task", "pause", "qualys-sensor"]);
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorPaused { .. }), "{e}");
    assert_engine_error(&e, &[&url, "`qualys-sensor`", "paused"]);
    ctd.ctr(&["task", "resume", "qualys-sensor"]);
    engine.check_sensor().await.unwrap();
}

#[tokio::test]
async fn a_missing_or_dead_containerd_socket_is_reported() {
    let dir = common::short_tempdir();
    let url = format!("containerd://{}/containerd.sock", dir.path().display());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::SocketMissing { .. }), "{e}");
    assert_engine_error(&e, &[&url, "does not exist"]);

    let path = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let url = format!("containerd://{}", path.display());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::Unreachable { .. }), "{e}");
    assert_engine_error(&e, &[&url, "not reachable"]);
}
