//! The control API under `/_emulator/` for tests and demos: seed images, move the clock,
//! inject faults, expire tokens, manage accounts and read the request log.
//!
//! | method and path | body | effect |
//! |---|---|---|
//! | `GET /_emulator/health` | | `{"ok":true,"now":ms,"frozen":bool}` |
//! | `GET /_emulator/state` | | images with their phase, faults, users (no secrets), sensor |
//! | `POST /_emulator/images` | [`SeedRequest`] | stores an image; `201 {"sha","imageId","phase"}` |
//! | `POST /_emulator/images/{id}/lifecycle` | [`LifecycleRequest`] | re-times an image |
//! | `POST /_emulator/advance` | `{"seconds":N}` or `{"ms":N}` | moves the clock; `{"now":ms}` |
//! | `POST /_emulator/faults` | [`FaultRule`] | adds a rule; `201 {"id":n}` |
//! | `GET /_emulator/faults`, `DELETE /_emulator/faults` | | lists / removes all rules |
//! | `GET /_emulator/requests`, `DELETE /_emulator/requests` | | request log with counts / reset |
//! | `POST /_emulator/tokens/expire` | | every token issued so far now gets 401 `JWT expired` |
//! | `POST /_emulator/token-lifetime` | `{"seconds":N}` | lifetime of tokens minted from now on |
//! | `POST /_emulator/users`, `POST /_emulator/clients` | a user / client | adds or replaces an account |
//! | `POST /_emulator/rate-limit` | `{"limit":N,"window_secs":S}` | changes the CS API limit |
//! | `POST /_emulator/list-rate-limit` | `{"limit":N,"window_secs":S}` | changes the `/images/list` limit |
//! | `POST /_emulator/processing-profile` | `{"profile":"last-scanned-at-upload\|…"}` | profile of images stored from now on |
//! | `POST /_emulator/sensor` | `{"state":"running\|missing\|paused\|not-cicd"}` | Docker stand-in sensor |
//!
//! Errors are `400 {"message": ...}`.

use crate::auth::{Client, User};
use crate::config::{PreviousScan, SensorState};
use crate::faults::FaultRule;
use crate::generate::{ReportSpec, generate};
use crate::ratelimit::RateLimitConfig;
use crate::shared::Shared;
use crate::state::{Lifecycle, Phase, ProcessingProfile};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State, rejection::JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Body of `POST /_emulator/images`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRequest {
    /// An image-details document (the body of `GET /csapi/v1.3/images/{sha}`).
    pub document: Option<Value>,
    /// Or a generator spec.
    pub generate: Option<ReportSpec>,
    /// Override the sha (64 hex).
    pub sha: Option<String>,
    /// A re-scan: the platform already holds an earlier report of this sha (`{}` for the
    /// defaults: a clean report from a day ago), served until this one is processed.
    pub previous_scan: Option<PreviousScan>,
    /// Timing, relative to now.
    #[serde(flatten)]
    pub timing: LifecycleRequest,
}

/// Lifecycle timing relative to now (the body of `POST /_emulator/images/{id}/lifecycle`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleRequest {
    /// Seconds from now until the inventory upload.
    pub upload_in_secs: u64,
    /// Seconds from the upload until processing is done.
    pub processing_secs: u64,
    /// Never uploaded (stays unknown).
    pub never_scanned: bool,
    /// Never processed (stays `vulnerabilities: null`).
    pub never_processed: bool,
}

impl LifecycleRequest {
    /// The absolute lifecycle for `now_ms`.
    pub fn at(self, now_ms: u64) -> Lifecycle {
        let up = now_ms.saturating_add(self.upload_in_secs.saturating_mul(1000));
        Lifecycle {
            uploaded_at: (!self.never_scanned).then_some(up),
            processed_at: (!self.never_processed)
                .then_some(up.saturating_add(self.processing_secs.saturating_mul(1000))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    #[serde(default)]
    seconds: Option<u64>,
    #[serde(default)]
    ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondsRequest {
    seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensorRequest {
    state: SensorState,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileRequest {
    profile: ProcessingProfile,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_emulator/health", get(health))
        .route("/_emulator/state", get(state))
        .route("/_emulator/images", post(seed))
        .route("/_emulator/images/{id}/lifecycle", post(lifecycle))
        .route("/_emulator/advance", post(advance))
        .route(
            "/_emulator/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/tokens/expire", post(expire_tokens))
        .route("/_emulator/token-lifetime", post(token_lifetime))
        .route("/_emulator/users", post(add_user))
        .route("/_emulator/clients", post(add_client))
        .route("/_emulator/rate-limit", post(rate_limit))
        .route("/_emulator/list-rate-limit", post(list_rate_limit))
        .route(
            "/_emulator/processing-profile",
            post(processing_profile).get(get_processing_profile),
        )
        .route("/_emulator/sensor", post(sensor))
        // Real reports run to tens of megabytes (20,000 findings are about 28 MB).
        .layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024))
        .with_state(shared)
}

fn bad(message: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "message": message.to_string() })),
    )
        .into_response()
}

#[allow(clippy::result_large_err, reason = "the error is the response itself")]
fn body<T>(r: Result<Json<T>, JsonRejection>) -> Result<T, Response> {
    r.map(|Json(t)| t)
        .map_err(|e| bad(format!("invalid JSON body: {}", e.body_text())))
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "ok": true, "now": shared.clock.now_ms(), "frozen": shared.clock.is_frozen() }))
        .into_response()
}

async fn state(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.clock.now_ms();
    let mut images: Vec<Value> = shared
        .images
        .all()
        .iter()
        .map(|e| {
            json!({
                "sha": e.sha,
                "imageId": e.image_id,
                "phase": e.phase(now),
                "uploadedAt": e.lifecycle.uploaded_at,
                "processedAt": e.lifecycle.processed_at,
                "vulnerabilities": e.vulnerability_count,
                "failed": e.failed,
                "rescan": e.previous.is_some(),
                "profile": e.profile,
            })
        })
        .collect();
    images.sort_by(|a, b| a["sha"].as_str().cmp(&b["sha"].as_str()));
    let users: Vec<Value> = shared
        .users
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|u| json!({ "username": u.username, "modules": u.modules }))
        .collect();
    let sensor = shared
        .docker
        .as_ref()
        .map(crate::docker::DockerState::sensor_state);
    Json(json!({
        "now": now,
        "frozen": shared.clock.is_frozen(),
        "images": images,
        "faults": shared.faults.list(),
        "users": users,
        "tokenLifetimeSecs": shared.token_lifetime_secs(),
        "processingProfile": shared.images.profile(),
        "sensor": sensor,
    }))
    .into_response()
}

/// Stores an image from a seed request at `now_ms`.
pub(crate) fn seed_image(shared: &Shared, req: SeedRequest) -> Result<(String, Phase), String> {
    let now = shared.clock.now_ms();
    let mut doc = match (req.document, req.generate) {
        (Some(d), _) => d,
        (None, Some(spec)) => generate(&spec),
        (None, None) => {
            return Err(
                "give `document` (an image-details object) or `generate` (a report spec)".into(),
            );
        }
    };
    if let (Some(sha), Some(o)) = (req.sha, doc.as_object_mut()) {
        o.insert("sha".into(), json!(sha));
        o.remove("imageId");
    }
    let life = req.timing.at(now);
    let sha = match req.previous_scan {
        Some(p) => {
            let prev = p.document(&doc);
            let at = now.saturating_sub(p.age_secs.saturating_mul(1000));
            shared.images.insert_rescan(doc, life, prev, at)
        }
        None => shared.images.insert_fresh(doc, life),
    }
    .map_err(|e| e.to_string())?;
    let phase = shared
        .images
        .get(&sha)
        .map_or(Phase::Unknown, |e| e.phase(now));
    Ok((sha, phase))
}

async fn seed(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<SeedRequest>, JsonRejection>,
) -> Response {
    let req = match body(req) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match seed_image(&shared, req) {
        Ok((sha, phase)) => (
            StatusCode::CREATED,
            Json(json!({ "imageId": &sha[..12], "sha": sha, "phase": phase })),
        )
            .into_response(),
        Err(e) => bad(e),
    }
}

async fn lifecycle(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    req: Result<Json<LifecycleRequest>, JsonRejection>,
) -> Response {
    let req = match body(req) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let now = shared.clock.now_ms();
    let life = req.at(now);
    if shared.images.set_lifecycle(&id, life) {
        let phase = shared
            .images
            .get(&id)
            .map_or(Phase::Unknown, |e| e.phase(now));
        Json(json!({ "phase": phase })).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": format!("no image `{id}` (give a 64-hex sha or 12-hex id)") })),
        )
            .into_response()
    }
}

async fn advance(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<AdvanceRequest>, JsonRejection>,
) -> Response {
    let req = match body(req) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let ms = match (req.seconds, req.ms) {
        (Some(s), None) => s.saturating_mul(1000),
        (None, Some(ms)) => ms,
        _ => return bad("give exactly one of `seconds` or `ms`"),
    };
    Json(json!({ "now": shared.clock.advance(ms) })).into_response()
}

async fn add_fault(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<FaultRule>, JsonRejection>,
) -> Response {
    let req = match body(req) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match shared.faults.add(req) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(e) => bad(e),
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.faults.list()).into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.log.snapshot()).into_response()
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.log.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Response {
    shared.expire_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn token_lifetime(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<SecondsRequest>, JsonRejection>,
) -> Response {
    match body(req) {
        Ok(r) => {
            shared.set_token_lifetime_secs(r.seconds);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn add_user(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<User>, JsonRejection>,
) -> Response {
    match body(req) {
        Ok(u) => {
            let mut g = shared
                .users
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            g.retain(|x| x.username != u.username);
            g.push(u);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn add_client(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<Client>, JsonRejection>,
) -> Response {
    match body(req) {
        Ok(c) => {
            let mut g = shared
                .clients
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            g.retain(|x| x.client_id != c.client_id);
            g.push(c);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn rate_limit(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<RateLimitConfig>, JsonRejection>,
) -> Response {
    match body(req) {
        Ok(c) => {
            shared.rate.reconfigure(c);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn list_rate_limit(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<RateLimitConfig>, JsonRejection>,
) -> Response {
    match body(req) {
        Ok(c) => {
            shared.list_rate.reconfigure(c);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn processing_profile(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<ProfileRequest>, JsonRejection>,
) -> Response {
    match body(req) {
        Ok(r) => {
            shared.images.set_profile(r.profile);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

async fn get_processing_profile(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "profile": shared.images.profile() })).into_response()
}

async fn sensor(
    State(shared): State<Arc<Shared>>,
    req: Result<Json<SensorRequest>, JsonRejection>,
) -> Response {
    let req = match body(req) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match shared.docker.as_ref() {
        Some(d) => {
            d.set_sensor_state(req.state);
            StatusCode::NO_CONTENT.into_response()
        }
        None => bad("the Docker stand-in is not running (start the emulator with a Docker socket)"),
    }
}
