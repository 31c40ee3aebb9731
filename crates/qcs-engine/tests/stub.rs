//! Engine answers no real engine gives on demand: a tag refused with an error, and a tag
//! "accepted" that did not land. A minimal Docker Engine API stand-in on a unix socket plays them.
// Drives a unix-socket stand-in: unix only (the engine code itself builds everywhere).
#![cfg(unix)]
// Helpers outside #[test] functions: a failed setup step should fail the test with its panic.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::{assert_engine_error, short_tempdir};
use qcs_engine::{EngineConfig, EngineError, connect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;

const SHA: &str = "8153d67096bbe83ed5c4f8c793b4f44bfd80ec99ac2098e6af455d12c50911c4";

#[derive(Clone, Copy)]
enum TagAnswer {
    Refused,
    AcceptedButMissing,
}

/// Serves the stand-in until the test ends; returns the socket path.
fn serve(dir: &std::path::Path, answer: TagAnswer) -> PathBuf {
    let path = dir.join("stub.sock");
    let listener = UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf);
                let line = head.lines().next().unwrap_or_default().to_owned();
                let (status, body) = if line.contains("/version") {
                    (
                        "200 OK",
                        r#"{"ApiVersion":"1.41","Version":"stub"}"#.to_owned(),
                    )
                } else if line.starts_with("POST") && line.contains("/tag") {
                    match answer {
                        TagAnswer::Refused => (
                            "500 Internal Server Error",
                            r#"{"message":"image store is read-only"}"#.to_owned(),
                        ),
                        TagAnswer::AcceptedButMissing => ("201 Created", String::new()),
                    }
                } else if line.contains("/images/") {
                    (
                        "200 OK",
                        format!(r#"{{"Id":"sha256:{SHA}","RepoTags":["localhost/app:1"]}}"#),
                    )
                } else {
                    ("404 Not Found", r#"{"message":"no such thing"}"#.to_owned())
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    path
}

#[tokio::test]
async fn a_refused_tag_is_reported_with_the_engines_reason() {
    let dir = short_tempdir();
    let path = serve(dir.path(), TagAnswer::Refused);
    let url = format!("unix://{}", path.display());
    let engine = connect(&EngineConfig::new(&url)).await.unwrap();
    let image = engine.resolve("app:1").await.unwrap();
    let e = engine.tag(&image).await.unwrap_err();
    assert!(matches!(e, EngineError::TagRefused { .. }), "{e}");
    assert_engine_error(
        &e,
        &[
            &url,
            "app:1",
            &format!("qualys_scan_target:{SHA}"),
            "HTTP 500",
            "read-only",
        ],
    );
}

#[tokio::test]
async fn a_tag_that_did_not_land_is_refused() {
    let dir = short_tempdir();
    let path = serve(dir.path(), TagAnswer::AcceptedButMissing);
    let url = format!("unix://{}", path.display());
    let engine = connect(&EngineConfig::new(&url)).await.unwrap();
    let image = engine.resolve("app:1").await.unwrap();
    let e = engine.tag(&image).await.unwrap_err();
    assert!(matches!(e, EngineError::TagRefused { .. }), "{e}");
    assert_engine_error(&e, &[&url, "app:1", "localhost/app:1", "accepted"]);
}
