//! The nerdctl fallback. nerdctl is not packaged in Debian 12, so these tests run a stand-in
//! `nerdctl` script that translates nerdctl's commands to a real Podman (with its own storage):
//! the engine's answers are real, only the CLI in between is played.
// Drives Podman and a shell script: unix only (the engine code itself builds everywhere).
#![cfg(unix)]
// Helpers outside #[test] functions: a failed setup step should fail the test with its panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{Podman, assert_engine_error};
use qcs_engine::{EngineConfig, EngineError, connect};

/// Writes the stand-in `nerdctl` for `podman`'s storage; returns its path.
fn stand_in(podman: &Podman) -> PathBuf {
    // Podman's flags for this storage, as the words of a bash array.
    let flags: Vec<String> = podman
        .flags()
        .iter()
        .map(|f| format!("'{}'", f.to_string_lossy()))
        .collect();
    let script = format!(
        r#"#!/bin/bash
# nerdctl stand-in: nerdctl's commands on a real Podman.
set -euo pipefail
P=(podman {flags})
[ "${{1:-}}" = "-n" ] && shift 2
cmd="${{1:-}}"; shift || true
case "$cmd" in
  version) exec "${{P[@]}}" version ;;
  image)
    [ "$1" = inspect ] && shift
    [ "$1" = --format ] && shift 2
    "${{P[@]}}" image inspect "$@" 2>/dev/null || {{ echo "no such image: $*" >&2; exit 1; }} ;;
  tag) exec "${{P[@]}}" tag "$@" ;;
  ps)
    filter=""
    while [ $# -gt 0 ]; do
      case "$1" in --filter) filter="$2"; shift 2 ;; *) shift ;; esac
    done
    exec "${{P[@]}}" ps -a --filter "$filter" --format json ;;
  inspect)
    [ "$1" = --format ] && shift 2
    exec "${{P[@]}}" container inspect "$@" ;;
  *) echo "stand-in: unsupported command $cmd" >&2; exit 2 ;;
esac
"#,
        flags = flags.join(" ")
    );
    let path = podman.dir().join("nerdctl");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn url_of(path: &Path) -> String {
    format!("nerdctl://{}", path.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nerdctl_resolves_tags_and_checks_the_sensor() {
    let podman = Podman::new();
    let sha = podman.import_runnable("localhost/qcs-test/app:1.0", "nerdctl");
    let url = url_of(&stand_in(&podman));
    let engine = connect(&EngineConfig::new(&url)).await.unwrap();
    assert_eq!(
        engine.describe(),
        format!("nerdctl {url} (namespace k8s.io)")
    );

    let image = engine.resolve("localhost/qcs-test/app:1.0").await.unwrap();
    assert_eq!(image.sha, sha);
    assert_eq!(engine.resolve(&sha[..12]).await.unwrap().sha, sha);
    let tag = engine.tag(&image).await.unwrap();
    assert_eq!(tag, format!("qualys_scan_target:{sha}"));

    let e = engine.resolve("nope:1").await.unwrap_err();
    assert!(matches!(e, EngineError::ImageNotFound { .. }), "{e}");
    assert_engine_error(&e, &[&url, "nope:1"]);

    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorMissing { .. }), "{e}");
    assert_engine_error(&e, &[&url, "qualys-container-sensor"]);

    podman.run_sensor(
        "qualys-sensor",
        "localhost/qcs-test/app:1.0",
        "io.kubernetes.container.name=qualys-container-sensor",
        &["--cicd-deployed-sensor"],
    );
    let s = engine.check_sensor().await.unwrap();
    assert_eq!(s.name, "qualys-sensor");
    podman.run(&["pause", "qualys-sensor"]);
    let e = engine.check_sensor().await.unwrap_err();
    assert!(matches!(e, EngineError::SensorPaused { .. }), "{e}");
    assert_engine_error(&e, &[&url, "paused"]);
}

#[tokio::test]
async fn a_missing_nerdctl_binary_is_named() {
    let dir = common::short_tempdir();
    let url = format!("nerdctl://{}/nerdctl", dir.path().display());
    let e = connect(&EngineConfig::new(&url)).await.unwrap_err();
    assert!(matches!(e, EngineError::SocketMissing { .. }), "{e}");
    assert_engine_error(&e, &[&url, "does not exist"]);
}
