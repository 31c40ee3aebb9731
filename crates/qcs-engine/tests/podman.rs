//! The Docker Engine API implementation against a real Podman service on a unix socket:
//! resolving every input form, tagging, the sensor check and its failures, and the connection
//! errors (socket missing, engine down, permission denied).
// Drives a Podman service on a unix socket: unix only (the engine code itself builds everywhere).
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::{Podman, assert_engine_error, require, short_tempdir};
use qcs_engine::{EngineConfig, EngineError, connect, dedupe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_input_form_resolves_to_the_image_id_and_duplicates_are_merged() {
    let podman = Podman::with_unix_service();
    let sha = podman.import_runnable("localhost/qcs-test/app:1.0", "app");
    podman.run(&[
        "tag",
        "localhost/qcs-test/app:1.0",
        "registry.example.com:5000/team/app:2.0",
    ]);
    let digest = podman.run(&[
        "image",
        "inspect",
        "--format",
        "{{.Digest}}",
        "localhost/qcs-test/app:1.0",
    ]);
    let by_digest = format!("localhost/qcs-test/app@{}", digest.trim());
    let engine = connect(&EngineConfig::new(podman.url())).await.unwrap();
    assert_eq!(engine.describe(), format!("docker {}", podman.url()));

    let inputs = [
        "qcs-test/app:1.0",
        "localhost/qcs-test/app:1.0",
        "registry.example.com:5000/team/app:2.0",
        &sha[..12],
        &sha,
        &format!("sha256:{sha}"),
        &by_digest,
        " qcs-test/app:1.0 ",
    ];
    let mut resolved = Vec::new();
    for input in inputs {
        let r = engine
            .resolve(input)
            .await
            .unwrap_or_else(|e| panic!("{input}: {}", e.report()));
        assert_eq!(r.sha, sha, "{input}");
        assert_eq!(r.input, input.trim());
        assert!(
            r.repo_tags.iter().any(|t| t.ends_with("qcs-test/app:1.0")),
            "{:?}",
            r.repo_tags
        );
        resolved.push(r);
    }
    let unique = dedupe(resolved);
    assert_eq!(unique.len(), 1);
    assert_eq!(unique[0].inputs.len(), inputs.len());
    assert_eq!(
        unique[0].inputs[2],
        "registry.example.com:5000/team/app:2.0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_lands_with_podmans_name_prefixes_and_is_idempotent() {
    let podman = Podman::with_unix_service();
    let sha = podman.import_runnable("localhost/qcs-test/app:1.0", "tag");
    let other = podman.import_runnable("localhost/qcs-test/other:1.0", "other");
    assert_ne!(sha, other);
    let engine = connect(&EngineConfig::new(podman.url())).await.unwrap();
    let image = engine.resolve("qcs-test/app:1.0").await.unwrap();
    let tag = engine.tag(&image).await.unwrap();
    assert_eq!(tag, format!("qualys_scan_target:{sha}"));
    // Podman names it with a registry prefix; the tag must point at our image, not the other.
    let names = podman.run(&["image", "inspect", "--format", "{{.RepoTags}}", &sha]);
    assert!(
        names.contains(&format!("qualys_scan_target:{sha}")),
        "{names}"
    );
    let names = podman.run(&["image", "inspect", "--format", "{{.RepoTags}}", &other]);
    assert!(!names.contains("qualys_scan_target"), "{names}");
    // Tagging again is fine.
    assert_eq!(engine.tag(&image).await.unwrap(), tag);
    let again = engine.resolve(&tag).await.unwrap();
    assert_eq!(again.sha, sha);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_images_are_reported_with_the_engine_url() {
    let podman = Podman::with_unix_service();
    let sha = podman.import_runnable("localhost/qcs-test/app:1.0", "nf");
    let engine = connect(&EngineConfig::new(podman.url())).await.unwrap();
    for missing in ["nope:1", "registry.example.com/team/nope:2", "0123456789ab"] {
        let e = engine.resolve(missing).await.unwrap_err();
        assert!(matches!(e, EngineError::ImageNotFound { .. }), "{e}");
        assert_engine_error(&e, &[podman.url(), missing, "not found"]);
    }
    // Tagging an image that has gone away.
    let mut image = engine.resolve(&sha).await.unwrap();
    image.sha = "f".repeat(64);
    let e = engine.tag(&image).await.unwrap_err();
    assert!(matches!(e, EngineError::ImageNotFound { .. }), "{e}");
    assert_engine_error(&e, &[podman.url(), &"f".repeat(64)]);
    // An input that is no reference at all is a configuration error.
    let e = engine.resolve("  ").await.unwrap_err();
    assert!(matches!(e, EngineError::InvalidImage { .. }), "{e}");
    assert_eq!(e.exit_code().code(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_check_missing_general_cicd_paused_and_exited() {
    let podman = Podman::with_unix_service();
    podman.import_runnable("localhost/qcs-test/sensor:1.0", "sensor");
    let engine = connect(&EngineConfig::new(podman.url())).await.unwrap();
    let url = podman.url();

    // No sensor at all (an unrelated container does not count).
    podman.run_sensor(
        "unrelated",
        "qcs-test/sensor:1.0",
        "VersionInfo=Something Else",
        &["-c"],
    );
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorMissing { .. }), "{e}");
    assert_engine_error(&e, &[url, "not running", "VersionInfo"]);
    assert!(e.hint().contains("--skip-sensor-check"));

    // A general-mode sensor: running, but not in CI/CD mode.
    podman.run_sensor(
        "general",
        "qcs-test/sensor:1.0",
        "VersionInfo=Qualys Sensor 1.x",
        &[],
    );
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorNotCicd { .. }), "{e}");
    assert_engine_error(
        &e,
        &[url, "`general`", "not deployed in CI/CD mode", "/sensor.sh"],
    );
    assert!(e.hint().contains("--cicd-deployed-sensor"));
    podman.run(&["rm", "-f", "-t", "0", "general"]);

    // A CI/CD sensor passes.
    podman.run_sensor(
        "qualys-sensor",
        "qcs-test/sensor:1.0",
        "VersionInfo=Qualys Sensor 1.x",
        &["--cicd-deployed-sensor"],
    );
    let s = engine.check_sensor().await.unwrap();
    assert_eq!(s.name, "qualys-sensor");
    assert_eq!(s.version.as_deref(), Some("Qualys Sensor 1.x"));
    assert!(s.command.contains(&"--cicd-deployed-sensor".to_owned()));

    // Paused.
    podman.run(&["pause", "qualys-sensor"]);
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorPaused { .. }), "{e}");
    assert_engine_error(&e, &[url, "`qualys-sensor`", "paused"]);
    assert!(e.hint().contains("unpause"));
    podman.run(&["unpause", "qualys-sensor"]);
    engine.check_sensor().await.unwrap();

    // Stopped.
    podman.run(&["stop", "-t", "0", "qualys-sensor"]);
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorMissing { .. }), "{e}");
    assert_engine_error(&e, &[url, "`qualys-sensor` is exited"]);
}

#[tokio::test]
async fn a_missing_socket_is_named() {
    let dir = short_tempdir();
    let url = format!("unix://{}/docker.sock", dir.path().display());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::SocketMissing { .. }), "{e}");
    assert_engine_error(&e, &[&url, "does not exist"]);
}

#[tokio::test]
async fn an_engine_that_is_down_is_unreachable() {
    // A socket file nobody listens on (the engine died and left it behind).
    let dir = short_tempdir();
    let path = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let url = format!("unix://{}", path.display());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::Unreachable { .. }), "{e}");
    assert_engine_error(&e, &[&url, "not reachable"]);
    // A TCP port nobody listens on.
    let url = format!("tcp://127.0.0.1:{}", common::free_port());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::Unreachable { .. }), "{e}");
    assert_engine_error(&e, &[&url, "not reachable"]);
}

/// Root may open any socket, so the permission check runs this test binary again as `nobody`
/// (with `setpriv`), against a socket only root may use.
#[tokio::test]
async fn permission_denied_on_the_socket_is_reported() {
    let setpriv = require("setpriv");
    let dir = short_tempdir();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("root-only.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    // This test binary where `nobody` can run it, wherever the build tree lives: a hard link
    // when the temporary directory is on the same file system (no file is open for writing, so
    // no other test's fork can hold it), else a copy.
    let exe = dir.path().join("engine-tests");
    let me = std::env::current_exe().unwrap();
    if std::fs::hard_link(&me, &exe).is_err() {
        std::fs::copy(&me, &exe).unwrap();
    }
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = || {
        let out = Command::new(&setpriv)
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args([
                "--exact",
                "permission_denied_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("QCS_ENGINE_TEST_SOCKET", &path)
            .current_dir("/")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out, text)
    };
    // A copy is written through a file descriptor that a process forked meanwhile by another
    // test holds until it execs; executing the copy then fails with ETXTBSY ("Text file busy")
    // until that exec. That is a property of fork, not of the code under test: run it again.
    let (mut out, mut text) = run();
    for _ in 0..50 {
        if out.status.success() || !text.contains("Text file busy") {
            break;
        }
        (out, text) = run();
    }
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("CHILD-CHECKED permission denied"), "{text}");
}

/// The half of the test above that runs as `nobody`; does nothing when run directly.
#[tokio::test]
async fn permission_denied_child() {
    let Some(path) = std::env::var_os("QCS_ENGINE_TEST_SOCKET") else {
        return;
    };
    let url = format!("unix://{}", std::path::Path::new(&path).display());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::PermissionDenied { .. }), "{e}");
    assert_engine_error(&e, &[&url, "permission denied"]);
    assert!(e.hint().contains("docker"));
    println!("CHILD-CHECKED permission denied");
}
