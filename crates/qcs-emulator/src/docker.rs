//! A Docker Engine API stand-in (served on a unix socket or TCP) with the simulated CI/CD sensor.
//!
//! It answers the calls a CI connector and the docker CLI make (`qualys-api.md` §7,
//! `plugin-behaviour.md` §1): `GET|HEAD /_ping`, `GET /version`, `/info`; `GET /containers/json`
//! and `/containers/{id}/json` (the sensor container, labelled `VersionInfo="Qualys Sensor …"`,
//! its command carrying `--cicd-deployed-sensor`, switchable to missing, paused or general
//! mode); `GET /images/json` (filters `reference` and `dangling`), `GET /images/{name}/json`,
//! `POST /images/{name}/tag`, `DELETE /images/{name}`.
//!
//! Like Docker Engine 24 it announces API 1.43 (minimum 1.12) in `/version` and in the
//! `Api-Version` header of every answer (the docker CLI negotiates from `/_ping`'s header and
//! falls back to 1.24 without it), and serves versioned paths (`/v1.24/...`, `/v1.43/...`,
//! `/v1.51/...`); a version below 1.12 gets Docker's `400`.
//!
//! Image references are normalized as Docker normalizes them ([`reference`]): `app`,
//! `library/app`, `docker.io/app` and `docker.io/library/app` name one repository, a missing tag
//! means `latest`, `<64 hex>` and `sha256:<64 hex>` are ids, a unique id prefix finds its image,
//! `name@sha256:<digest>` finds the image by its repository digest. `RepoTags` and `RepoDigests`
//! are reported in the familiar form (`qualys_scan_target:<sha>`), as Docker reports them.
//!
//! Tagging an image `qualys_scan_target:<sha>`, however the client spells it (the docker CLI 28
//! sends `repo=docker.io/library/qualys_scan_target`), while the sensor runs in CI/CD mode
//! schedules its upload to the emulated platform after the scan delay and its report after the
//! processing delay; at the upload the sensor removes that tag unless it is the image's only tag
//! (`qualys-api.md` §7). All of this is computed from the emulator clock when a request arrives.

pub mod reference;

use crate::api::error_response;
use crate::config::{DockerImage, DockerSeed, SensorState};
use crate::generate::{Base, ReportSpec, generate, generate_sha};
use crate::shared::Shared;
use crate::state::Lifecycle;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reference::{AnyReference, Reference, parse_any_reference, parse_normalized_named};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The repository name the CI/CD sensor watches for (familiar form).
pub const SCAN_REPO: &str = "qualys_scan_target";

/// The API version the stand-in announces (Docker Engine 24).
pub const API_VERSION: &str = "1.43";
/// The oldest API version it serves.
pub const MIN_API_VERSION: &str = "1.12";
const MIN_API: (u32, u32) = (1, 12);
const ENGINE_VERSION: &str = "24.0.7";

const SENSOR_ID: &str = "5e7c0a1d9b3f4e2a8c6d0b1f3a5c7e9d2b4f6a8c0e1d3f5a7b9c2e4f6a8b0c1d";
const SENSOR_IMAGE_ID: &str = "9a3f7c1e5b2d4f6a8c0e2b4d6f8a1c3e5b7d9f0a2c4e6b8d1f3a5c7e9b0d2f4a";

/// Whether `r` is the Docker stand-in's scan repository, `docker.io/library/qualys_scan_target`
/// (spelled `qualys_scan_target`, `library/…`, `docker.io/…`, `index.docker.io/…`).
pub fn is_scan_repository(r: &Reference) -> bool {
    r.domain == reference::DEFAULT_DOMAIN && r.path == format!("library/{SCAN_REPO}")
}

#[derive(Debug, Clone)]
struct Img {
    id: String,
    /// Tag references (normalized, each with a tag and no digest), in familiar-string order.
    tags: Vec<Reference>,
    /// Digest references (normalized, each with a digest and no tag).
    digests: Vec<Reference>,
    created_secs: u64,
    size: u64,
    report: Option<ReportSpec>,
    never_scanned: bool,
    never_processed: bool,
    /// Scan tags waiting for the sensor: (tag, removal time in epoch ms).
    pending_untag: Vec<(Reference, u64)>,
}

impl Img {
    fn repo_tags(&self) -> Vec<String> {
        self.tags.iter().map(Reference::familiar_string).collect()
    }

    fn repo_digests(&self) -> Vec<String> {
        self.digests
            .iter()
            .map(Reference::familiar_string)
            .collect()
    }

    fn add_tag(&mut self, r: Reference) {
        if !self.tags.contains(&r) {
            self.tags.push(r);
            self.tags.sort_by_key(Reference::familiar_string);
        }
    }

    /// References of every kind (Docker's `References(imageID)`).
    fn ref_count(&self) -> usize {
        self.tags.len() + self.digests.len()
    }
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
        let state = DockerState {
            inner: Mutex::new(Inner {
                sensor: seed.sensor,
                images: Vec::new(),
            }),
        };
        for (i, d) in seed.images.iter().enumerate() {
            state.add_image(
                d,
                seed_value.wrapping_mul(1000).wrapping_add(i as u64),
                now_ms,
            );
        }
        state
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

    /// Adds an image; returns its 64-hex id. Its tags move from any image that had them.
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

    /// Image ids with their current tags in the familiar form (after the sensor's untagging up
    /// to `now_ms`).
    pub fn images(&self, now_ms: u64) -> Vec<(String, Vec<String>)> {
        let mut g = self.lock();
        settle(&mut g, now_ms);
        g.images
            .iter()
            .map(|i| (i.id.clone(), i.repo_tags()))
            .collect()
    }
}

fn seed_hash(parts: &[&str]) -> u64 {
    parts.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, p| {
        p.bytes()
            .chain(std::iter::once(0))
            .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
    })
}

fn img_from_seed(d: &DockerImage, seed: u64, now_ms: u64) -> Img {
    let id = d
        .report
        .as_ref()
        .and_then(|r| r.sha.clone())
        .unwrap_or_else(|| generate_sha(seed ^ 0xD0C4_E500));
    let size = 20_000_000 + (seed % 97) * 1_000_003;
    let mut img = Img {
        id,
        tags: Vec::new(),
        digests: Vec::new(),
        created_secs: (now_ms / 1000).saturating_sub(3600),
        size,
        report: d.report.clone(),
        never_scanned: d.never_scanned,
        never_processed: d.never_processed,
        pending_untag: Vec::new(),
    };
    for t in &d.tags {
        match parse_normalized_named(t) {
            Ok(r) if r.digest.is_some() => {
                let mut r = r;
                r.tag = None;
                if !img.digests.contains(&r) {
                    img.digests.push(r);
                }
            }
            Ok(r) => img.add_tag(r.with_default_tag()),
            Err(e) => tracing::warn!("Docker stand-in: image tag `{t}` ignored: {e}"),
        }
    }
    // Each repository has a repository digest, as if the image had been pushed or pulled, so
    // that `name@sha256:<digest>` finds it.
    for t in img.tags.clone() {
        let repo = t.trimmed();
        if img.digests.iter().any(|d| d.trimmed() == repo) {
            continue;
        }
        let digest = generate_sha(seed_hash(&[&img.id, &repo.name()]));
        img.digests.push(Reference {
            digest: Some(format!("sha256:{digest}")),
            ..repo
        });
    }
    img
}

/// Applies the sensor's tag removals that are due: a scan tag goes unless it is the image's
/// only tag.
fn settle(g: &mut Inner, now_ms: u64) {
    for img in &mut g.images {
        let due: Vec<Reference> = img
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

/// Why a lookup failed: a `400` (the reference does not parse) or a `404`.
enum Lookup {
    Invalid(String),
    NotFound(String),
}

impl Lookup {
    fn into_response(self) -> Response {
        match self {
            Lookup::Invalid(m) => docker_error(StatusCode::BAD_REQUEST, &m),
            Lookup::NotFound(m) => docker_error(StatusCode::NOT_FOUND, &m),
        }
    }
}

/// Docker's `GetImage`: a repository reference (tag, `latest` when missing, or digest) first,
/// then the name as an image id or a unique id prefix (with or without `sha256:`).
fn find(images: &[Img], name: &str) -> Result<usize, Lookup> {
    let named = match parse_any_reference(name) {
        Err(e) => return Err(Lookup::Invalid(e.0)),
        Ok(AnyReference::Id(hex)) => {
            return images
                .iter()
                .position(|i| i.id == hex)
                .ok_or_else(|| Lookup::NotFound(format!("No such image: sha256:{hex}")));
        }
        Ok(AnyReference::Named(r)) => r,
    };
    let found = if named.digest.is_some() {
        let canonical = Reference {
            tag: None,
            ..named.clone()
        };
        images.iter().position(|i| i.digests.contains(&canonical))
    } else {
        let tagged = named.clone().with_default_tag();
        images.iter().position(|i| i.tags.contains(&tagged))
    };
    found.or_else(|| id_prefix(images, name)).ok_or_else(|| {
        Lookup::NotFound(format!(
            "No such image: {}",
            named.with_default_tag().familiar_string()
        ))
    })
}

/// The image whose id starts with `prefix` (`sha256:` optional), if exactly one does.
fn id_prefix(images: &[Img], prefix: &str) -> Option<usize> {
    let bare = prefix.strip_prefix("sha256:").unwrap_or(prefix);
    if bare.is_empty() || !bare.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut hits = images
        .iter()
        .enumerate()
        .filter(|(_, i)| i.id.starts_with(bare));
    match (hits.next(), hits.next()) {
        (Some((idx, _)), None) => Some(idx),
        _ => None,
    }
}

/// Docker's `isImageIDPrefix`.
fn is_id_prefix(id: &str, name: &str) -> bool {
    format!("sha256:{id}").starts_with(name) || id.starts_with(name)
}

/// Docker's `isSingleReference`: one tag at most, and every reference in one repository.
fn is_single_reference(img: &Img) -> bool {
    match img.ref_count() {
        0 => false,
        1 => true,
        _ => {
            if img.tags.len() > 1 {
                return false;
            }
            let repo = img
                .tags
                .first()
                .or_else(|| img.digests.first())
                .map(Reference::name);
            let mut names: Vec<String> = img.digests.iter().map(Reference::name).collect();
            names.sort();
            names.dedup();
            names.len() == 1 && repo.as_ref() == names.first()
        }
    }
}

fn docker_error(status: StatusCode, message: &str) -> Response {
    docker_json(status, &json!({ "message": message }))
}

fn not_found(what: &str, name: &str) -> Response {
    docker_error(StatusCode::NOT_FOUND, &format!("No such {what}: {name}"))
}

fn docker_json(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
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

fn image_summary(i: &Img, tags: &[String], digests: &[String]) -> Value {
    json!({
        "Id": format!("sha256:{}", i.id),
        "ParentId": "",
        "RepoTags": tags,
        "RepoDigests": digests,
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
        "RepoTags": i.repo_tags(),
        "RepoDigests": i.repo_digests(),
        "Parent": "",
        "Comment": "",
        "Created": crate::clock::rfc3339(i.created_secs * 1000),
        "DockerVersion": ENGINE_VERSION,
        "Author": "",
        "Config": { "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/app/entrypoint.sh"], "Labels": null },
        "Architecture": "amd64",
        "Os": "linux",
        "Size": i.size,
        "VirtualSize": i.size,
        "GraphDriver": { "Name": "overlay2", "Data": null },
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
    if let Some(t) = i.tags.iter().find(|t| !is_scan_repository(t)) {
        spec.repository = t.familiar_name();
        spec.tag = t.tag.clone().unwrap_or_else(|| "latest".into());
    }
    generate(&spec)
}

/// The `filters` of `GET /images/json`: `{"key":["v",…]}` or the older `{"key":{"v":true}}`.
fn image_filters(raw: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let v: Value = serde_json::from_str(raw).map_err(|e| format!("invalid filter: {e}"))?;
    let obj = v.as_object().ok_or("invalid filter: not a JSON object")?;
    obj.iter()
        .map(|(k, vals)| {
            let vals = match vals {
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>(),
                Value::Object(o) => Some(
                    o.iter()
                        .filter(|(_, on)| on.as_bool() == Some(true))
                        .map(|(v, _)| v.clone())
                        .collect(),
                ),
                _ => None,
            }
            .ok_or_else(|| format!("invalid filter '{k}'"))?;
            Ok((k.clone(), vals))
        })
        .collect()
}

/// `GET /images/json`, with Docker's `reference` (familiar match; only matching names are
/// listed) and `dangling` filters.
fn list_images(images: &[Img], raw_filters: &str) -> Response {
    let filters = match image_filters(raw_filters) {
        Ok(f) => f,
        Err(e) => return docker_error(StatusCode::BAD_REQUEST, &e),
    };
    let mut patterns: Option<Vec<String>> = None;
    let mut dangling: Option<bool> = None;
    for (k, vals) in filters {
        match k.as_str() {
            "reference" => patterns.get_or_insert_with(Vec::new).extend(vals),
            "dangling" => {
                for v in vals {
                    match v.as_str() {
                        "true" | "1" => dangling = Some(true),
                        "false" | "0" => dangling = Some(false),
                        _ => {
                            return docker_error(
                                StatusCode::BAD_REQUEST,
                                &format!("Invalid filter 'dangling={v}'"),
                            );
                        }
                    }
                }
            }
            other => {
                return docker_error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "invalid filter '{other}': the Docker stand-in filters images by `reference` and `dangling` only"
                    ),
                );
            }
        }
    }
    let mut out = Vec::new();
    for i in images {
        if let Some(d) = dangling {
            if d != i.tags.is_empty() {
                continue;
            }
        }
        let keep = |r: &&Reference| {
            patterns
                .as_ref()
                .is_none_or(|ps| ps.iter().any(|p| reference::familiar_match(p, r)))
        };
        let tags: Vec<String> = i
            .tags
            .iter()
            .filter(keep)
            .map(Reference::familiar_string)
            .collect();
        let digests: Vec<String> = i
            .digests
            .iter()
            .filter(keep)
            .map(Reference::familiar_string)
            .collect();
        if patterns.is_some() && tags.is_empty() && digests.is_empty() {
            continue;
        }
        out.push(image_summary(i, &tags, &digests));
    }
    docker_json(StatusCode::OK, &Value::Array(out))
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

/// An API version (major, minor), if the path had one, and the path without it.
type Versioned<'a> = (Option<(u32, u32)>, &'a str);

/// Splits an API version prefix off the path: `/v1.43/images/json` → `(Some((1, 43)),
/// "/images/json")`. `Err` for a prefix that is not `v<major>.<minor>`.
fn split_version(path: &str) -> Result<Versioned<'_>, String> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok((None, path));
    };
    let (ver, tail) = rest
        .find('/')
        .map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    if ver.is_empty() || !ver.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // Not a version (Docker's router would not match either).
        return Ok((None, path));
    }
    let parsed = ver
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match parsed {
        Some(v) => Ok((Some(v), tail)),
        None => Err(format!("invalid API version {ver}")),
    }
}

fn with_engine_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (k, v) in [
        ("api-version", API_VERSION),
        ("docker-experimental", "false"),
        ("ostype", "linux"),
        ("server", "Docker/24.0.7 (linux)"),
    ] {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    r
}

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    with_engine_headers(handle(&shared, &req))
}

#[allow(
    clippy::too_many_lines,
    reason = "one match over the served routes reads best in one place"
)]
fn handle(shared: &Shared, req: &Request) -> Response {
    let now = shared.clock.now_ms();
    let Some(docker) = shared.docker.as_ref() else {
        return error_response(
            StatusCode::NOT_FOUND,
            "the Docker stand-in is not enabled",
            now,
        );
    };
    let raw_path = crate::api::decode_component(req.uri().path());
    let path = match split_version(&raw_path) {
        Ok((Some(v), _)) if v < MIN_API => {
            return docker_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "client version {}.{} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version",
                    v.0, v.1
                ),
            );
        }
        Ok((_, tail)) => tail.to_owned(),
        Err(e) => return docker_error(StatusCode::BAD_REQUEST, &e),
    };
    let method = req.method().clone();
    let params = query_params(req);
    let param = |k: &str| {
        params
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.clone())
    };
    let flag = |k: &str| param(k).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let mut g = docker.lock();
    settle(&mut g, now);
    let sensor = g.sensor;
    match (method.clone(), path.as_str()) {
        (Method::GET | Method::HEAD, "/_ping") => {
            let body = if method == Method::HEAD { "" } else { "OK" };
            return (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
                    (header::PRAGMA, "no-cache"),
                ],
                body,
            )
                .into_response();
        }
        (Method::GET, "/version") => {
            let build_time = "2023-10-26T09:08:02.000000000+00:00";
            return docker_json(
                StatusCode::OK,
                &json!({
                    "Platform": {"Name": "qcs-emulator Docker stand-in"},
                    "Components": [{
                        "Name": "Engine",
                        "Version": ENGINE_VERSION,
                        "Details": {
                            "ApiVersion": API_VERSION,
                            "Arch": "amd64",
                            "BuildTime": build_time,
                            "Experimental": "false",
                            "GitCommit": "311b9ff",
                            "GoVersion": "go1.20.10",
                            "KernelVersion": "6.1.0",
                            "MinAPIVersion": MIN_API_VERSION,
                            "Os": "linux",
                        },
                    }],
                    "Version": ENGINE_VERSION,
                    "ApiVersion": API_VERSION,
                    "MinAPIVersion": MIN_API_VERSION,
                    "GitCommit": "311b9ff",
                    "GoVersion": "go1.20.10",
                    "Os": "linux",
                    "Arch": "amd64",
                    "KernelVersion": "6.1.0",
                    "BuildTime": build_time,
                }),
            );
        }
        (Method::GET, "/info") => {
            let running = u32::from(sensor != SensorState::Missing);
            return docker_json(
                StatusCode::OK,
                &json!({ "ID": "QCSE:MULA:TOR0", "Containers": running, "ContainersRunning": running, "Images": g.images.len(), "Driver": "overlay2", "OperatingSystem": "qcs-emulator", "OSType": "linux", "Architecture": "x86_64", "ServerVersion": ENGINE_VERSION }),
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
            return list_images(&g.images, &param("filters").unwrap_or_default());
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
                return match find(&g.images, name) {
                    Ok(i) => docker_json(StatusCode::OK, &image_inspect(&g.images[i])),
                    Err(e) => e.into_response(),
                };
            }
        }
        if method == Method::POST {
            if let Some(name) = rest.strip_suffix("/tag") {
                let target = match tag_reference(param("repo"), param("tag")) {
                    Ok(r) => r,
                    Err(m) => return docker_error(StatusCode::BAD_REQUEST, &m),
                };
                let idx = match find(&g.images, name) {
                    Ok(i) => i,
                    // Docker answers 404 to any source lookup failure here.
                    Err(Lookup::Invalid(m) | Lookup::NotFound(m)) => {
                        return docker_error(StatusCode::NOT_FOUND, &m);
                    }
                };
                let id = g.images[idx].id.clone();
                for other in &mut g.images {
                    if other.id != id {
                        other.tags.retain(|t| *t != target);
                    }
                }
                let timing = shared.sensor_timing();
                let img = &mut g.images[idx];
                img.add_tag(target.clone());
                if is_scan_repository(&target)
                    && sensor == SensorState::Running
                    && !img.never_scanned
                {
                    let upload = now.saturating_add(timing.scan_delay_secs.saturating_mul(1000));
                    let processed =
                        upload.saturating_add(timing.processing_delay_secs.saturating_mul(1000));
                    let life = Lifecycle {
                        uploaded_at: Some(upload),
                        processed_at: (!img.never_processed).then_some(processed),
                    };
                    img.pending_untag.push((target, upload));
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
            return delete_image(&mut g.images, rest, flag("force"));
        }
    }
    docker_json(
        StatusCode::NOT_FOUND,
        &json!({ "message": format!("page not found: the Docker stand-in does not serve {method} {path}") }),
    )
}

/// The reference `POST /images/{name}/tag?repo=&tag=` creates (Docker's `RepoTagReference`):
/// `repo` normalized, `tag` (else a tag in `repo`, else `latest`), never a digest.
fn tag_reference(repo: Option<String>, tag: Option<String>) -> Result<Reference, String> {
    let Some(repo) = repo.filter(|r| !r.is_empty()) else {
        return Err(
            "repository name must have at least one component (query parameter `repo`)".into(),
        );
    };
    let mut r = parse_normalized_named(&repo).map_err(|e| e.0)?;
    if r.digest.is_some() {
        return Err("refusing to create a tag with a digest reference".into());
    }
    if let Some(t) = tag.filter(|t| !t.is_empty()) {
        if !reference::is_tag(&t) {
            return Err("invalid tag format".into());
        }
        r.tag = Some(t);
    }
    Ok(r.with_default_tag())
}

/// `DELETE /images/{name}` as Docker's `ImageDelete`: a name removes that reference (and the
/// image with its last one); an id (or prefix) removes the image, refusing without `force=1`
/// when it is referenced in several repositories.
fn delete_image(images: &mut Vec<Img>, name: &str, force: bool) -> Response {
    let idx = match find(images, name) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let img = &mut images[idx];
    let mut records: Vec<Value> = Vec::new();
    if !is_id_prefix(&img.id, name) {
        let Ok(parsed) = parse_normalized_named(name) else {
            return docker_error(StatusCode::BAD_REQUEST, "invalid reference format");
        };
        if parsed.digest.is_some() {
            let canonical = Reference {
                tag: None,
                ..parsed
            };
            img.digests.retain(|d| *d != canonical);
            records.push(json!({ "Untagged": canonical.familiar_string() }));
        } else {
            let tagged = parsed.with_default_tag();
            img.tags.retain(|t| *t != tagged);
            records.push(json!({ "Untagged": tagged.familiar_string() }));
            // The repository's last tag gone: its digest references go too.
            if !img.tags.iter().any(|t| t.name() == tagged.name()) {
                let (gone, kept): (Vec<Reference>, Vec<Reference>) = img
                    .digests
                    .drain(..)
                    .partition(|d| d.name() == tagged.name());
                img.digests = kept;
                records.extend(
                    gone.iter()
                        .map(|d| json!({ "Untagged": d.familiar_string() })),
                );
            }
        }
        if img.ref_count() > 0 {
            return docker_json(StatusCode::OK, &Value::Array(records));
        }
    } else if img.ref_count() > 0 && !is_single_reference(img) && !force {
        return docker_error(
            StatusCode::CONFLICT,
            &format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                &img.id[..12]
            ),
        );
    }
    let removed = images.remove(idx);
    records.extend(
        removed
            .tags
            .iter()
            .chain(&removed.digests)
            .map(|t| json!({ "Untagged": t.familiar_string() })),
    );
    records.push(json!({ "Deleted": format!("sha256:{}", removed.id) }));
    docker_json(StatusCode::OK, &Value::Array(records))
}
