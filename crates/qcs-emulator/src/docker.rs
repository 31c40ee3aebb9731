//! A Docker Engine API stand-in (served on a unix socket) with the simulated CI/CD sensor.
//!
//! It answers the calls a CI connector makes (`qualys-api.md` §7, `plugin-behaviour.md` §1):
//! `GET /_ping`, `/version`, `/info`; `GET /containers/json` and `/containers/{id}/json` (the
//! sensor container, labelled `VersionInfo="Qualys Sensor …"`, its command carrying
//! `--cicd-deployed-sensor`, switchable to missing, paused or general mode); `GET /images/json`,
//! `GET /images/{name}/json`, `POST /images/{name}/tag`, `DELETE /images/{name}`. Paths may carry
//! an API version prefix (`/v1.43/...`).
//!
//! Tagging an image `qualys_scan_target:<sha>` while the sensor runs in CI/CD mode schedules
//! its upload to the emulated platform after the scan delay and its report after the
//! processing delay; at the upload the sensor removes that tag unless it is the image's only
//! tag. All of this is computed from the emulator clock when a request arrives.

use crate::api::error_response;
use crate::config::{DockerImage, DockerSeed, SensorState};
use crate::generate::{Base, ReportSpec, generate, generate_sha};
use crate::shared::Shared;
use crate::state::Lifecycle;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The repository name the CI/CD sensor watches for.
pub const SCAN_REPO: &str = "qualys_scan_target";

const SENSOR_ID: &str = "5e7c0a1d9b3f4e2a8c6d0b1f3a5c7e9d2b4f6a8c0e1d3f5a7b9c2e4f6a8b0c1d";
const SENSOR_IMAGE_ID: &str = "9a3f7c1e5b2d4f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a5c7e9b0d2f4a";

#[derive(Debug, Clone)]
struct Img {
    id: String,
    tags: Vec<String>,
    created_secs: u64,
    size: u64,
    report: Option<ReportSpec>,
    never_scanned: bool,
    never_processed: bool,
    /// Scan tags waiting for the sensor: (full tag, removal time in epoch ms).
    pending_untag: Vec<(String, u64)>,
}

#[derive(Debug)]
struct Inner {
    sensor: SensorState,
    images: Vec<Img>,
}

/// State of the Docker stand-in.
#[derive(Debug)]
pub struct DockerState {
    inner: Mutex<Inner>,
}

impl DockerState {
    /// Builds the stand-in's content from `seed`; image ids derive from `seed_value`.
    pub fn new(seed: &DockerSeed, seed_value: u64, now_ms: u64) -> Self {
        let images = seed
            .images
            .iter()
            .enumerate()
            .map(|(i, d)| {
                img_from_seed(
                    d,
                    seed_value.wrapping_mul(1000).wrapping_add(i as u64),
                    now_ms,
                )
            })
            .collect();
        DockerState {
            inner: Mutex::new(Inner {
                sensor: seed.sensor,
                images,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The sensor container's state.
    pub fn sensor_state(&self) -> SensorState {
        self.lock().sensor
    }

    /// Switches the sensor container's state.
    pub fn set_sensor_state(&self, s: SensorState) {
        self.lock().sensor = s;
    }

    /// Adds an image; returns its 64-hex id.
    pub fn add_image(&self, d: &DockerImage, seed: u64, now_ms: u64) -> String {
        let img = img_from_seed(d, seed, now_ms);
        let id = img.id.clone();
        let mut g = self.lock();
        for t in &img.tags {
            for other in &mut g.images {
                other.tags.retain(|x| x != t);
            }
        }
        g.images.push(img);
        id
    }

    /// Image ids with their current tags (after the sensor's untagging up to `now_ms`).
    pub fn images(&self, now_ms: u64) -> Vec<(String, Vec<String>)> {
        let mut g = self.lock();
        settle(&mut g, now_ms);
        g.images
            .iter()
            .map(|i| (i.id.clone(), i.tags.clone()))
            .collect()
    }
}

fn img_from_seed(d: &DockerImage, seed: u64, now_ms: u64) -> Img {
    let id = d
        .report
        .as_ref()
        .and_then(|r| r.sha.clone())
        .unwrap_or_else(|| generate_sha(seed ^ 0xD0C4_E500));
    let size = 20_000_000 + (seed % 97) * 1_000_003;
    Img {
        id,
        tags: d.tags.iter().map(|t| normalize_ref(t)).collect(),
        created_secs: (now_ms / 1000).saturating_sub(3600),
        size,
        report: d.report.clone(),
        never_scanned: d.never_scanned,
        never_processed: d.never_processed,
        pending_untag: Vec::new(),
    }
}

/// `repo` → `repo:latest`; leaves `repo:tag` and digests alone.
fn normalize_ref(r: &str) -> String {
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') || r.contains('@') {
        r.to_owned()
    } else {
        format!("{r}:latest")
    }
}

/// Applies the sensor's tag removals that are due.
fn settle(g: &mut Inner, now_ms: u64) {
    for img in &mut g.images {
        let due: Vec<String> = img
            .pending_untag
            .iter()
            .filter(|(_, at)| *at <= now_ms)
            .map(|(t, _)| t.clone())
            .collect();
        img.pending_untag.retain(|(_, at)| *at > now_ms);
        for t in due {
            if img.tags.len() > 1 {
                img.tags.retain(|x| x != &t);
            }
        }
    }
}

fn find<'a>(images: &'a mut [Img], name: &str) -> Option<&'a mut Img> {
    let bare = name.strip_prefix("sha256:").unwrap_or(name);
    let is_hex =
        !bare.is_empty() && bare.len() <= 64 && bare.bytes().all(|b| b.is_ascii_hexdigit());
    let wanted = normalize_ref(name);
    let idx = images
        .iter()
        .position(|i| i.tags.iter().any(|t| *t == wanted || t == name))
        .or_else(|| {
            if is_hex {
                images
                    .iter()
                    .position(|i| i.id.starts_with(&bare.to_ascii_lowercase()))
            } else {
                None
            }
        })?;
    images.get_mut(idx)
}

fn not_found(what: &str, name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "message": format!("No such {what}: {name}") }).to_string(),
    )
        .into_response()
}

fn docker_json(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::HeaderName::from_static("api-version"), "1.43"),
        ],
        v.to_string(),
    )
        .into_response()
}

/// The Docker stand-in router (one dispatcher; the fault layer is added by the server).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(dispatch).with_state(shared)
}

fn sensor_command(state: SensorState) -> (String, Vec<String>) {
    let mut args = vec![
        "--storage-driver-type".to_owned(),
        "docker".to_owned(),
        "--log-level".to_owned(),
        "3".to_owned(),
    ];
    if state != SensorState::NotCicd {
        args.insert(0, "--cicd-deployed-sensor".to_owned());
    }
    (
        "/usr/local/qualys/qpa/bin/qualys-container-sensor".to_owned(),
        args,
    )
}

fn sensor_summary(state: SensorState, now_ms: u64) -> Value {
    let (path, args) = sensor_command(state);
    let paused = state == SensorState::Paused;
    json!({
        "Id": SENSOR_ID,
        "Names": ["/qualys-container-sensor"],
        "Image": "qualys/qcs-sensor:latest",
        "ImageID": format!("sha256:{SENSOR_IMAGE_ID}"),
        "Command": format!("{path} {}", args.join(" ")),
        "Created": (now_ms / 1000).saturating_sub(7200),
        "Ports": [],
        "Labels": {
            "VersionInfo": "Qualys Sensor 1.35.0.12-2024.06.01",
            "VendorInfo": "Qualys",
        },
        "State": if paused { "paused" } else { "running" },
        "Status": if paused { "Up 2 hours (Paused)" } else { "Up 2 hours" },
        "HostConfig": { "NetworkMode": "host" },
        "Mounts": [],
    })
}

fn sensor_inspect(state: SensorState, now_ms: u64) -> Value {
    let (path, args) = sensor_command(state);
    let paused = state == SensorState::Paused;
    let mut cmd = vec![path.clone()];
    cmd.extend(args.iter().cloned());
    json!({
        "Id": SENSOR_ID,
        "Created": crate::clock::rfc3339(now_ms.saturating_sub(7_200_000)),
        "Path": path,
        "Args": args,
        "State": {
            "Status": if paused { "paused" } else { "running" },
            "Running": true,
            "Paused": paused,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "Pid": 4242,
            "ExitCode": 0,
        },
        "Image": format!("sha256:{SENSOR_IMAGE_ID}"),
        "Name": "/qualys-container-sensor",
        "Config": {
            "Image": "qualys/qcs-sensor:latest",
            "Cmd": cmd,
            "Entrypoint": null,
            "Labels": {
                "VersionInfo": "Qualys Sensor 1.35.0.12-2024.06.01",
                "VendorInfo": "Qualys",
            },
        },
    })
}

fn image_summary(i: &Img) -> Value {
    json!({
        "Id": format!("sha256:{}", i.id),
        "ParentId": "",
        "RepoTags": i.tags,
        "RepoDigests": [],
        "Created": i.created_secs,
        "Size": i.size,
        "SharedSize": -1,
        "VirtualSize": i.size,
        "Labels": null,
        "Containers": -1,
    })
}

fn image_inspect(i: &Img) -> Value {
    json!({
        "Id": format!("sha256:{}", i.id),
        "RepoTags": i.tags,
        "RepoDigests": [],
        "Parent": "",
        "Comment": "",
        "Created": crate::clock::rfc3339(i.created_secs * 1000),
        "DockerVersion": "24.0.7",
        "Author": "",
        "Config": { "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/app/entrypoint.sh"], "Labels": null },
        "Architecture": "amd64",
        "Os": "linux",
        "Size": i.size,
        "VirtualSize": i.size,
        "RootFS": { "Type": "layers", "Layers": [format!("sha256:{}", i.id)] },
        "Metadata": { "LastTagTime": "0001-01-01T00:00:00Z" },
    })
}

/// What the sensor uploads for an image: its report, with the image's sha and names.
fn report_for(i: &Img) -> Value {
    let mut spec = i.report.clone().unwrap_or_else(|| ReportSpec {
        seed: i
            .id
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
        base: Base::Debian,
        vulnerabilities: 30,
        packages: 90,
        ..ReportSpec::default()
    });
    spec.sha = Some(i.id.clone());
    if let Some(t) = i.tags.iter().find(|t| !t.starts_with(SCAN_REPO)) {
        let (repo, tag) = t.rsplit_once(':').unwrap_or((t.as_str(), "latest"));
        repo.clone_into(&mut spec.repository);
        tag.clone_into(&mut spec.tag);
    }
    generate(&spec)
}

fn query_params(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                crate::api::decode_component(k),
                crate::api::decode_component(v),
            )
        })
        .collect()
}

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let now = shared.clock.now_ms();
    let Some(docker) = shared.docker.as_ref() else {
        return error_response(
            StatusCode::NOT_FOUND,
            "the Docker stand-in is not enabled",
            now,
        );
    };
    let raw_path = crate::api::decode_component(req.uri().path());
    let path = match raw_path.strip_prefix("/v1.") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
        None => raw_path.clone(),
    };
    let method = req.method().clone();
    let params = query_params(&req);
    let param = |k: &str| {
        params
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.clone())
    };
    let mut g = docker.lock();
    settle(&mut g, now);
    let sensor = g.sensor;
    match (method.clone(), path.as_str()) {
        (Method::GET | Method::HEAD, "/_ping") => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "OK",
            )
                .into_response();
        }
        (Method::GET, "/version") => {
            return docker_json(
                StatusCode::OK,
                &json!({ "Version": "24.0.7", "ApiVersion": "1.43", "MinAPIVersion": "1.12", "Os": "linux", "Arch": "amd64", "KernelVersion": "6.1.0", "Components": [{"Name": "Engine", "Version": "24.0.7"}], "Platform": {"Name": "qcs-emulator Docker stand-in"} }),
            );
        }
        (Method::GET, "/info") => {
            let running = u32::from(sensor != SensorState::Missing);
            return docker_json(
                StatusCode::OK,
                &json!({ "ID": "QCSE:MULA:TOR0", "Containers": running, "ContainersRunning": running, "Images": g.images.len(), "Driver": "overlay2", "OperatingSystem": "qcs-emulator", "OSType": "linux", "Architecture": "x86_64", "ServerVersion": "24.0.7" }),
            );
        }
        (Method::GET, "/containers/json") => {
            let list = if sensor == SensorState::Missing {
                json!([])
            } else {
                json!([sensor_summary(sensor, now)])
            };
            return docker_json(StatusCode::OK, &list);
        }
        (Method::GET, "/images/json") => {
            let list: Vec<Value> = g.images.iter().map(image_summary).collect();
            return docker_json(StatusCode::OK, &Value::Array(list));
        }
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/containers/") {
        if let (&Method::GET, Some(id)) = (&method, rest.strip_suffix("/json")) {
            let matches = sensor != SensorState::Missing
                && (SENSOR_ID.starts_with(id) && !id.is_empty()
                    || id == "qualys-container-sensor"
                    || id == "/qualys-container-sensor");
            return if matches {
                docker_json(StatusCode::OK, &sensor_inspect(sensor, now))
            } else {
                not_found("container", id)
            };
        }
    }
    if let Some(rest) = path.strip_prefix("/images/") {
        if method == Method::GET {
            if let Some(name) = rest.strip_suffix("/json") {
                return match find(&mut g.images, name) {
                    Some(i) => docker_json(StatusCode::OK, &image_inspect(i)),
                    None => not_found("image", name),
                };
            }
        }
        if method == Method::POST {
            if let Some(name) = rest.strip_suffix("/tag") {
                let Some(repo) = param("repo").filter(|r| !r.is_empty()) else {
                    return docker_json(
                        StatusCode::BAD_REQUEST,
                        &json!({ "message": "repository name must have at least one component (query parameter `repo`)" }),
                    );
                };
                let tag = param("tag")
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "latest".into());
                let full = format!("{repo}:{tag}");
                let Some(target) = find(&mut g.images, name).map(|i| i.id.clone()) else {
                    return not_found("image", name);
                };
                for other in &mut g.images {
                    if other.id != target {
                        other.tags.retain(|t| *t != full);
                    }
                }
                let timing = shared.sensor_timing();
                let Some(img) = g.images.iter_mut().find(|i| i.id == target) else {
                    return not_found("image", name);
                };
                if !img.tags.contains(&full) {
                    img.tags.push(full.clone());
                }
                if repo == SCAN_REPO && sensor == SensorState::Running && !img.never_scanned {
                    let upload = now.saturating_add(timing.scan_delay_secs.saturating_mul(1000));
                    let processed =
                        upload.saturating_add(timing.processing_delay_secs.saturating_mul(1000));
                    let life = Lifecycle {
                        uploaded_at: Some(upload),
                        processed_at: (!img.never_processed).then_some(processed),
                    };
                    img.pending_untag.push((full, upload));
                    let doc = report_for(img);
                    drop(g);
                    if let Err(e) = shared.images.insert(doc, life) {
                        return error_response(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            &e.to_string(),
                            now,
                        );
                    }
                }
                return StatusCode::CREATED.into_response();
            }
        }
        if method == Method::DELETE {
            let name = rest;
            let wanted = normalize_ref(name);
            let Some(pos) = g
                .images
                .iter()
                .position(|i| i.tags.contains(&wanted))
                .or_else(|| {
                    let bare = name.strip_prefix("sha256:").unwrap_or(name);
                    g.images
                        .iter()
                        .position(|i| !bare.is_empty() && i.id.starts_with(bare))
                })
            else {
                return not_found("image", name);
            };
            let img = &mut g.images[pos];
            if img.tags.contains(&wanted) && img.tags.len() > 1 {
                img.tags.retain(|t| *t != wanted);
                return docker_json(StatusCode::OK, &json!([{ "Untagged": wanted }]));
            }
            let removed = g.images.remove(pos);
            let mut out: Vec<Value> = removed
                .tags
                .iter()
                .map(|t| json!({ "Untagged": t }))
                .collect();
            out.push(json!({ "Deleted": format!("sha256:{}", removed.id) }));
            return docker_json(StatusCode::OK, &Value::Array(out));
        }
    }
    docker_json(
        StatusCode::NOT_FOUND,
        &json!({ "message": format!("page not found: the Docker stand-in does not serve {method} {path}") }),
    )
}
