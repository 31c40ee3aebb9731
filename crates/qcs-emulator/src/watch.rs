//! The simulated CI/CD sensor watching a real Docker-compatible engine (Podman's service).
//!
//! Every `watch_interval_ms` (real time), and whenever [`crate::Control::watch_now`] asks, it
//! lists the engine's images (`GET /images/json`). An image carrying a tag whose repository is
//! `qualys_scan_target` (Podman shows it as `localhost/qualys_scan_target:<sha>`) is "scanned":
//! the platform learns it after the scan delay (sha, repo tags, size, created) and has its report
//! after the processing delay. At the upload the watcher removes that tag from the engine
//! (`DELETE /images/{tag}`), unless it is the image's only tag (`qualys-api.md` §7).

use crate::docker::reference::parse_normalized_named;
use crate::docker::{SCAN_REPO, is_scan_repository};
use crate::error::EmulatorError;
use crate::generate::{ReportSpec, generate};
use crate::shared::Shared;
use crate::state::Lifecycle;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineAddr {
    /// `unix:///path/to/socket` (unix only: elsewhere every request fails with a hint to use
    /// `tcp://`)
    Unix(PathBuf),
    /// `tcp://host:port` (plain HTTP)
    Tcp(String),
}

impl EngineAddr {
    /// Parses `unix:///path` or `tcp://host:port`.
    pub fn parse(url: &str) -> Result<Self, EmulatorError> {
        if let Some(p) = url.strip_prefix("unix://") {
            if p.is_empty() {
                return Err(EmulatorError::WatchEngine {
                    url: url.into(),
                    reason: "the socket path is empty".into(),
                });
            }
            return Ok(EngineAddr::Unix(PathBuf::from(p)));
        }
        if let Some(h) = url
            .strip_prefix("tcp://")
            .or_else(|| url.strip_prefix("http://"))
        {
            return Ok(EngineAddr::Tcp(h.trim_end_matches('/').to_owned()));
        }
        Err(EmulatorError::WatchEngine {
            url: url.into(),
            reason: "the scheme must be unix:// or tcp://".into(),
        })
    }
}

/// A minimal Docker Engine API client: one connection per request.
#[derive(Debug, Clone)]
pub struct EngineClient {
    addr: EngineAddr,
}

impl EngineClient {
    /// A client for `addr`.
    pub fn new(addr: EngineAddr) -> Self {
        EngineClient { addr }
    }

    /// Sends a request; returns status and body.
    pub async fn request(&self, method: &str, path: &str) -> Result<(u16, Bytes), String> {
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "docker")
            .body(http_body_util::Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let resp = match &self.addr {
            #[cfg(unix)]
            EngineAddr::Unix(p) => {
                let s = tokio::net::UnixStream::connect(p)
                    .await
                    .map_err(|e| format!("cannot connect to {}: {e}", p.display()))?;
                send(s, req).await?
            }
            #[cfg(not(unix))]
            EngineAddr::Unix(p) => {
                return Err(format!(
                    "cannot connect to {}: unix sockets are not supported on this platform",
                    p.display()
                ));
            }
            EngineAddr::Tcp(h) => {
                let s = tokio::net::TcpStream::connect(h.as_str())
                    .await
                    .map_err(|e| format!("cannot connect to {h}: {e}"))?;
                send(s, req).await?
            }
        };
        Ok(resp)
    }

    /// `GET` returning JSON.
    pub async fn get_json(&self, path: &str) -> Result<Value, String> {
        let (status, body) = self.request("GET", path).await?;
        if status != 200 {
            return Err(format!(
                "GET {path} answered {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
        serde_json::from_slice(&body).map_err(|e| format!("GET {path}: invalid JSON: {e}"))
    }
}

async fn send<IO>(
    io: IO,
    req: hyper::Request<http_body_util::Empty<Bytes>>,
) -> Result<(u16, Bytes), String>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    tokio::spawn(conn);
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body failed: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// Whether `tag` is a scan tag: a tagged reference to the repository `qualys_scan_target`,
/// normalized as Docker does (`qualys_scan_target:<sha>`, `docker.io/library/…`), or as Podman
/// names local images (`localhost/qualys_scan_target:<sha>`).
pub fn is_scan_tag(tag: &str) -> bool {
    parse_normalized_named(tag).is_ok_and(|r| {
        r.tag.is_some()
            && (is_scan_repository(&r) || (r.domain == "localhost" && r.path == SCAN_REPO))
    })
}

/// A scan the watcher has started: the tag to remove and when.
#[derive(Debug, Clone)]
struct Scan {
    upload_at: u64,
}

/// Requests for an immediate pass, answered when it is done.
pub(crate) type WatchTrigger = mpsc::Sender<oneshot::Sender<Result<(), String>>>;

/// Checks that the engine answers `/_ping`.
pub(crate) async fn check(url: &str) -> Result<EngineClient, EmulatorError> {
    let client = EngineClient::new(EngineAddr::parse(url)?);
    match client.request("GET", "/_ping").await {
        Ok((200, _)) => Ok(client),
        Ok((s, body)) => Err(EmulatorError::WatchEngine {
            url: url.into(),
            reason: format!(
                "GET /_ping answered {s}: {}",
                String::from_utf8_lossy(&body)
            ),
        }),
        Err(reason) => Err(EmulatorError::WatchEngine {
            url: url.into(),
            reason,
        }),
    }
}

/// Runs the watcher until `shutdown`.
pub(crate) async fn run(
    shared: Arc<Shared>,
    client: EngineClient,
    mut triggers: mpsc::Receiver<oneshot::Sender<Result<(), String>>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut scans: HashMap<(String, String), Scan> = HashMap::new();
    loop {
        let interval = Duration::from_millis(shared.sensor_timing().watch_interval_ms.max(10));
        let reply = tokio::select! {
            () = tokio::time::sleep(interval) => None,
            Some(r) = triggers.recv() => Some(r),
            _ = shutdown.changed() => return,
        };
        let result = pass(&shared, &client, &mut scans).await;
        if let Err(e) = &result {
            tracing::warn!("engine watcher: {e}");
        }
        if let Some(r) = reply {
            let _ = r.send(result);
        }
    }
}

/// One pass: start scans for new scan tags, remove tags whose upload is due.
async fn pass(
    shared: &Shared,
    client: &EngineClient,
    scans: &mut HashMap<(String, String), Scan>,
) -> Result<(), String> {
    let now = shared.clock.now_ms();
    let list = client.get_json("/images/json").await?;
    let images = list
        .as_array()
        .ok_or("GET /images/json did not answer an array")?;
    let timing = shared.sensor_timing();
    let mut present = std::collections::HashSet::new();
    for img in images {
        let id = img["Id"].as_str().unwrap_or_default();
        let id = id.strip_prefix("sha256:").unwrap_or(id).to_owned();
        if id.len() != 64 {
            continue;
        }
        let tags: Vec<String> = img["RepoTags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for tag in tags.iter().filter(|t| is_scan_tag(t)) {
            let key = (id.clone(), tag.clone());
            present.insert(key.clone());
            if !scans.contains_key(&key) {
                let upload = now.saturating_add(timing.scan_delay_secs.saturating_mul(1000));
                let processed =
                    upload.saturating_add(timing.processing_delay_secs.saturating_mul(1000));
                let doc = report(&id, &tags, img);
                shared
                    .images
                    .insert(
                        doc,
                        Lifecycle {
                            uploaded_at: Some(upload),
                            processed_at: Some(processed),
                        },
                    )
                    .map_err(|e| e.to_string())?;
                tracing::info!("engine watcher: scanning {id} (tag {tag})");
                scans.insert(key.clone(), Scan { upload_at: upload });
            }
            let Some(scan) = scans.get(&key) else {
                continue;
            };
            let other_tags = tags.iter().filter(|t| *t != tag).count();
            if now >= scan.upload_at && other_tags > 0 {
                let (status, body) = client.request("DELETE", &format!("/images/{tag}")).await?;
                if status != 200 {
                    return Err(format!(
                        "removing tag {tag} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
                // The tag is gone: if it comes back, that is a new scan.
                scans.remove(&key);
                present.remove(&key);
            }
        }
    }
    // Forget scans whose tag is gone, so that tagging again starts a new scan.
    scans.retain(|k, _| present.contains(k));
    Ok(())
}

/// The report the platform will hold for an engine image.
fn report(id: &str, tags: &[String], img: &Value) -> Value {
    let seed = id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut spec = ReportSpec {
        seed,
        vulnerabilities: 25,
        packages: 80,
        sha: Some(id.to_owned()),
        ..ReportSpec::default()
    };
    if let Some(t) = tags.iter().find(|t| !is_scan_tag(t)) {
        let (repo, tag) = t.rsplit_once(':').unwrap_or((t.as_str(), "latest"));
        repo.clone_into(&mut spec.repository);
        tag.clone_into(&mut spec.tag);
    }
    let mut doc = generate(&spec);
    if let Some(o) = doc.as_object_mut() {
        if let Some(size) = img["Size"].as_u64() {
            o.insert("size".into(), json!(size));
        }
        if let Some(created) = img["Created"].as_u64() {
            o.insert("created".into(), json!((created * 1000).to_string()));
        }
        let repos: Vec<Value> = tags
            .iter()
            .filter(|t| !is_scan_tag(t))
            .map(|t| {
                let (repo, tag) = t.rsplit_once(':').unwrap_or((t.as_str(), "latest"));
                let (registry, repository) = match repo.split_once('/') {
                    Some((r, rest)) if r.contains('.') || r == "localhost" => (r, rest),
                    _ => ("docker.io", repo),
                };
                json!({ "registry": registry, "repository": repository, "tag": tag })
            })
            .collect();
        o.insert("repo".into(), Value::Array(repos));
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_tags_and_urls() {
        for yes in [
            "qualys_scan_target:abc",
            "localhost/qualys_scan_target:abc",
            "docker.io/library/qualys_scan_target:abc",
            "library/qualys_scan_target:abc",
            "docker.io/qualys_scan_target:abc",
        ] {
            assert!(is_scan_tag(yes), "{yes}");
        }
        for no in [
            "acme/qualys_scan_target_x:abc",
            "acme/qualys_scan_target:abc",
            "registry.example.com/qualys_scan_target:abc",
            "acme/app:1.0",
            "qualys_scan_target",
            "<none>:<none>",
        ] {
            assert!(!is_scan_tag(no), "{no}");
        }
        assert_eq!(
            EngineAddr::parse("unix:///run/podman.sock").expect("ok"),
            EngineAddr::Unix("/run/podman.sock".into())
        );
        assert_eq!(
            EngineAddr::parse("tcp://127.0.0.1:2375").expect("ok"),
            EngineAddr::Tcp("127.0.0.1:2375".into())
        );
        let e = EngineAddr::parse("ssh://host").expect_err("scheme");
        assert!(e.to_string().contains("ssh://host") && e.to_string().contains("unix://"));
    }
}
