//! The emulated Qualys gateway: `/auth*` and `/csapi/v1.{2,3}/images*`, with the fault and
//! request-log middleware in front of every route.

use crate::auth::{Claims, TokenError};
use crate::clock::rfc3339;
use crate::endpoint;
use crate::faults::FaultAction;
use crate::log::LogEntry;
use crate::qql;
use crate::ratelimit::RateDecision;
use crate::shared::Shared;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future as _;
use std::sync::Arc;
use std::time::Duration;

/// Kills the connection a request arrived on (inserted by the server loop).
#[derive(Clone, Debug)]
pub(crate) struct ConnKill(pub(crate) Arc<tokio::sync::Notify>);

/// The gateway router (without the control API).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/auth", post(auth_basic))
        .route("/auth/oidc", post(auth_client))
        .route("/auth/oauth", post(auth_client))
        .route("/csapi/{version}/images", get(images_list))
        .route("/csapi/{version}/images/{id}", get(image_details))
        .route("/csapi/{version}/images/{id}/vuln/count", get(vuln_count))
        .fallback(not_found)
        .with_state(shared)
}

/// The §6.1 error body: `{"errorCode":"<code> <REASON>","message":...,"timestamp":...}`.
pub(crate) fn error_response(status: StatusCode, message: &str, now_ms: u64) -> Response {
    let reason = status
        .canonical_reason()
        .unwrap_or("ERROR")
        .to_ascii_uppercase()
        .replace([' ', '-'], "_");
    let body = json!({
        "errorCode": format!("{} {reason}", status.as_u16()),
        "message": message,
        "timestamp": now_ms,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.into(),
    )
        .into_response()
}

/// Logs the request, then applies a fault rule if one selects it.
pub(crate) async fn fault_layer(
    State((shared, docker)): State<(Arc<Shared>, bool)>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let key = if docker {
        endpoint::classify_docker(&path)
    } else {
        endpoint::classify(&path)
    };
    if key == "control" {
        return next.run(req).await;
    }
    let now = shared.clock.now_ms();
    let fault = shared.faults.pick(key);
    let seq = shared.log.record(LogEntry {
        seq: 0,
        at_ms: now,
        method: req.method().to_string(),
        path: req
            .uri()
            .path_and_query()
            .map_or_else(|| path.clone(), ToString::to_string),
        endpoint: key.to_owned(),
        status: 0,
        fault: fault.as_ref().map(fault_name),
    });
    let kill = req.extensions().get::<ConnKill>().cloned();
    let resp = match fault {
        None => next.run(req).await,
        Some(FaultAction::Delay { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(FaultAction::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            error_response(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout", shared.clock.now_ms())
        }
        Some(FaultAction::Drop) => {
            if let Some(k) = kill {
                k.0.notify_one();
                std::future::pending::<()>().await;
            }
            // No connection handle (should not happen): the nearest thing is a bare 502.
            StatusCode::BAD_GATEWAY.into_response()
        }
        Some(FaultAction::Status { status, message, retry_after_secs }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = message.unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
            let mut r = error_response(status, &msg, now);
            if let Some(s) = retry_after_secs {
                let v = HeaderValue::from(s);
                r.headers_mut().insert(header::RETRY_AFTER, v.clone());
                r.headers_mut().insert("X-RateLimit-ToWait-Sec", v);
            }
            r
        }
        Some(FaultAction::ExpireToken) => {
            let msg = expired_message(now.saturating_sub(1000), now);
            error_response(StatusCode::UNAUTHORIZED, &msg, now)
        }
        Some(FaultAction::WrongContentType) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><head><title>Maintenance</title></head><body><h1>Service temporarily unavailable</h1></body></html>",
        )
            .into_response(),
        Some(FaultAction::EmptyBody) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "").into_response()
        }
        Some(FaultAction::Malformed) => {
            let r = next.run(req).await;
            let (parts, body) = r.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let cut = bytes.len() / 2;
            let mut broken = bytes.slice(..cut).to_vec();
            broken.extend_from_slice(b"<<<not json");
            let mut r = Response::from_parts(parts, Body::from(broken));
            r.headers_mut().remove(header::CONTENT_LENGTH);
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Some(FaultAction::Truncate) => {
            let r = next.run(req).await;
            let (mut parts, body) = r.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let full = bytes.len().max(2);
            let half = bytes.slice(..bytes.len() / 2);
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            let stream = futures_stream(half);
            Response::from_parts(parts, Body::from_stream(stream))
        }
    };
    shared.log.set_status(seq, resp.status().as_u16());
    resp
}

/// A body stream that yields `half`, lets it flush, and then fails, so the server aborts
/// the connection short of the promised `Content-Length`.
fn futures_stream(
    half: Bytes,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    TruncatedBody {
        half: Some(half),
        pause: Box::pin(tokio::time::sleep(Duration::from_millis(50))),
    }
}

struct TruncatedBody {
    half: Option<Bytes>,
    pause: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl futures_core::Stream for TruncatedBody {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(b) = self.half.take() {
            return std::task::Poll::Ready(Some(Ok(b)));
        }
        match self.pause.as_mut().poll(cx) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(()) => std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "emulator fault: truncated body",
            )))),
        }
    }
}

fn fault_name(a: &FaultAction) -> String {
    match a {
        FaultAction::Status { status, .. } => format!("status {status}"),
        FaultAction::Delay { ms } => format!("delay {ms}ms"),
        FaultAction::Hang => "hang".into(),
        FaultAction::Drop => "drop".into(),
        FaultAction::Truncate => "truncate".into(),
        FaultAction::Malformed => "malformed".into(),
        FaultAction::WrongContentType => "wrong_content_type".into(),
        FaultAction::EmptyBody => "empty_body".into(),
        FaultAction::ExpireToken => "expire_token".into(),
    }
}

fn expired_message(exp_ms: u64, now_ms: u64) -> String {
    format!(
        "JWT expired at {}. Current time: {}, a difference of {} milliseconds. Allowed clock skew: 0 milliseconds.",
        rfc3339(exp_ms),
        rfc3339(now_ms),
        now_ms.saturating_sub(exp_ms)
    )
}

fn token_response(shared: &Shared, sub: &str, modules: &[String], credential: &str) -> Response {
    let now = shared.clock.now_ms();
    let lifetime = shared.token_lifetime_secs();
    let token = shared.signer.mint(sub, modules, credential, now, lifetime);
    shared.remember_token(&token);
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
        token,
    )
        .into_response()
}

/// Parses an `application/x-www-form-urlencoded` body (`+` is a space).
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// URL-decodes a query or form component, `+` as space.
pub(crate) fn decode_component(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

async fn auth_basic(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let now = shared.clock.now_ms();
    let form = parse_form(&body);
    let (Some(username), Some(password)) = (form.get("username"), form.get("password")) else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: username and password are required (form fields `username`, `password`, `token=true`)",
            now,
        );
    };
    let user = shared.find_user(username, password);
    match user {
        Some(u) => token_response(
            &shared,
            &u.username,
            &u.modules,
            "UsernamePasswordCredential",
        ),
        None => error_response(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: invalid username or password",
            now,
        ),
    }
}

async fn auth_client(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let now = shared.clock.now_ms();
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (Some(id), Some(secret)) = (h("clientId"), h("clientSecret")) else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: the `clientId` and `clientSecret` headers are required",
            now,
        );
    };
    match shared.find_client(&id, &secret) {
        Some(c) => token_response(&shared, &c.client_id, &c.modules, "ClientCredential"),
        None => error_response(
            StatusCode::UNAUTHORIZED,
            "Authentication failed: invalid client credentials",
            now,
        ),
    }
}

/// Bearer check, module check and rate limit for `/csapi/*`. `Ok` carries the rate headers.
#[allow(
    clippy::result_large_err,
    reason = "the error is the response itself, built once per refused call"
)]
fn guard(shared: &Shared, headers: &HeaderMap, version: &str) -> Result<RateDecision, Response> {
    check_access(shared, headers, version).map_err(|mut r| {
        // Refused before counting: still tell the caller where its window stands.
        if !r.headers().contains_key("X-RateLimit-Limit") {
            add_rate_headers(&mut r, shared.rate.peek(shared.clock.now_ms()));
        }
        r
    })
}

#[allow(
    clippy::result_large_err,
    reason = "the error is the response itself, built once per refused call"
)]
fn check_access(
    shared: &Shared,
    headers: &HeaderMap,
    version: &str,
) -> Result<RateDecision, Response> {
    let now = shared.clock.now_ms();
    if version != "v1.3" && version != "v1.2" {
        return Err(error_response(
            StatusCode::NOT_FOUND,
            &format!("Unknown API version `{version}`; the emulator serves v1.3 and v1.2"),
            now,
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token else {
        return Err(error_response(
            StatusCode::UNAUTHORIZED,
            "Full authentication is required to access this resource (send Authorization: Bearer <JWT from POST /auth>)",
            now,
        ));
    };
    if let Some(at) = shared.revoked_at(token) {
        return Err(error_response(
            StatusCode::UNAUTHORIZED,
            &expired_message(at, now),
            now,
        ));
    }
    let claims: Claims = match shared.signer.verify(token, now) {
        Ok(c) => c,
        Err(TokenError::Expired { exp, now_ms }) => {
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                &expired_message(exp.saturating_mul(1000), now_ms),
                now,
            ));
        }
        Err(TokenError::BadSignature) => {
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "JWT signature does not match locally computed signature. JWT validity cannot be asserted and should not be trusted.",
                now,
            ));
        }
        Err(TokenError::Malformed) => {
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "Malformed JWT",
                now,
            ));
        }
    };
    if !claims.has_cs() {
        return Err(error_response(
            StatusCode::FORBIDDEN,
            "Request Forbidden",
            now,
        ));
    }
    let d = shared.rate.check(now);
    if !d.allowed {
        let mut r = error_response(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "Rate limit exceeded: {} calls per {} seconds. Retry after {} seconds.",
                d.limit, d.window_secs, d.to_wait_secs
            ),
            now,
        );
        add_rate_headers(&mut r, d);
        let v = HeaderValue::from(d.to_wait_secs);
        r.headers_mut().insert(header::RETRY_AFTER, v.clone());
        r.headers_mut().insert("X-RateLimit-ToWait-Sec", v);
        return Err(r);
    }
    Ok(d)
}

fn add_rate_headers(r: &mut Response, d: RateDecision) {
    let h = r.headers_mut();
    h.insert("X-RateLimit-Limit", HeaderValue::from(d.limit));
    h.insert("X-RateLimit-Window-Sec", HeaderValue::from(d.window_secs));
    h.insert("X-RateLimit-Remaining", HeaderValue::from(d.remaining));
}

fn with_rate(mut r: Response, d: RateDecision) -> Response {
    add_rate_headers(&mut r, d);
    r
}

async fn images_list(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let d = match guard(&shared, &headers, &version) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = shared.clock.now_ms();
    let bad = |msg: String| with_rate(error_response(StatusCode::BAD_REQUEST, &msg, now), d);
    let mut params: HashMap<String, String> = HashMap::new();
    for kv in query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.insert(decode_component(k), decode_component(v));
    }
    let page_number = match params.get("pageNumber").map(|s| s.parse::<u64>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return bad("pageNumber must be an integer starting at 1".into()),
    };
    let page_size = match params.get("pageSize").map(|s| s.parse::<u64>()) {
        None => 50,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return bad("pageSize must be an integer from 1 to 1000".into()),
    };
    if page_number.saturating_mul(page_size) > 10_000 {
        return bad(format!(
            "pageNumber * pageSize = {} exceeds the 10000-record window; narrow the filter (e.g. an `updated` range) or use /images/list",
            page_number.saturating_mul(page_size)
        ));
    }
    let filter = match params.get("filter").map(String::as_str).map(str::trim) {
        None | Some("") => None,
        Some(f) => match qql::parse(f) {
            Ok(e) => Some(e),
            Err(e) => return bad(e.to_string()),
        },
    };
    let (sort_field, descending) = match params.get("sort").map(String::as_str) {
        None | Some("") => ("updated", true),
        Some(s) => {
            let (f, dir) = s.split_once(':').unwrap_or((s, "asc"));
            let desc = match dir {
                "asc" => false,
                "desc" => true,
                _ => return bad(format!("sort direction `{dir}` must be asc or desc")),
            };
            match f {
                "updated" | "created" | "lastScanned" => (f, desc),
                _ => {
                    return bad(format!(
                        "cannot sort on `{f}`; use created, updated or lastScanned"
                    ));
                }
            }
        }
    };
    let mut matches: Vec<(u64, Arc<crate::state::ImageEntry>)> = shared
        .images
        .all()
        .into_iter()
        .filter(|e| e.summary_at(now).is_some())
        .filter(|e| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&e.target(now), now))
        })
        .map(|e| {
            let key = match sort_field {
                "created" => qql::QqlTarget::time(&e.target(now), qql::Field::Created),
                "lastScanned" => e.lifecycle.uploaded_at,
                _ => Some(e.updated_at(now)),
            }
            .unwrap_or(0);
            (key, e)
        })
        .collect();
    if matches.is_empty() {
        return with_rate(StatusCode::NO_CONTENT.into_response(), d);
    }
    matches.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.sha.cmp(&b.1.sha)));
    if descending {
        matches.reverse();
    }
    let count = matches.len();
    let skip = usize::try_from((page_number - 1) * page_size).unwrap_or(usize::MAX);
    let take = usize::try_from(page_size).unwrap_or(usize::MAX);
    let data: Vec<Value> = matches
        .iter()
        .skip(skip)
        .take(take)
        .filter_map(|(_, e)| e.summary_at(now).cloned())
        .collect();
    let body = json!({ "data": data, "count": count });
    with_rate(json_response(StatusCode::OK, body.to_string()), d)
}

async fn image_details(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (d, now, entry) = match image_at(&shared, &headers, &version, &id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    match entry.details_at(now) {
        Some(body) => with_rate(json_response(StatusCode::OK, body), d),
        None => with_rate(unknown_image(&id, now), d),
    }
}

/// The image an image path (`/images/{id}…`) names: after the access check, the `{id}` is
/// the 64-hex sha or the 12-hex id (`sha256:` allowed; anything else is a 400), and an image
/// the platform does not know yet is a 404.
#[allow(
    clippy::result_large_err,
    reason = "the error is the response itself, as for `guard`"
)]
fn image_at(
    shared: &Shared,
    headers: &HeaderMap,
    version: &str,
    id: &str,
) -> Result<(RateDecision, u64, Arc<crate::state::ImageEntry>), Response> {
    let d = guard(shared, headers, version)?;
    let now = shared.clock.now_ms();
    let bare = id.strip_prefix("sha256:").unwrap_or(id);
    if !((bare.len() == 64 || bare.len() == 12) && bare.bytes().all(|b| b.is_ascii_hexdigit())) {
        let message = format!(
            "Invalid image id `{bare}`: expected the 64-hex image sha or the 12-hex image id"
        );
        return Err(with_rate(
            error_response(StatusCode::BAD_REQUEST, &message, now),
            d,
        ));
    }
    match shared.images.get(bare) {
        Some(e) if e.phase(now) != crate::state::Phase::Unknown => Ok((d, now, e)),
        _ => Err(with_rate(unknown_image(bare, now), d)),
    }
}

fn unknown_image(id: &str, now: u64) -> Response {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    error_response(
        StatusCode::NOT_FOUND,
        &format!("Image {id} not known to Qualys"),
        now,
    )
}

/// `GET /csapi/v1.3/images/{id}/vuln/count`: the severity counts (`qualys-api.md` §5);
/// `404` while unknown, zero counts while processing.
async fn vuln_count(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (d, now, entry) = match image_at(&shared, &headers, &version, &id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(summary) = entry.summary_at(now) else {
        return with_rate(unknown_image(&id, now), d);
    };
    let counts = match &summary["vulnerabilities"] {
        Value::Object(_) => summary["vulnerabilities"].clone(),
        _ => {
            json!({"severity5Count": 0, "severity3Count": 0, "severity4Count": 0, "severity1Count": 0, "severity2Count": 0})
        }
    };
    with_rate(json_response(StatusCode::OK, counts.to_string()), d)
}

async fn not_found(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let now = shared.clock.now_ms();
    let path = req.uri().path().to_owned();
    let message = format!("No such endpoint: {} {path}", req.method());
    // Every /csapi call is authenticated and counted, even one to an unknown path.
    if let Some(rest) = path.strip_prefix("/csapi/") {
        let version = rest.split('/').next().unwrap_or_default();
        return match guard(&shared, req.headers(), version) {
            Ok(d) => with_rate(error_response(StatusCode::NOT_FOUND, &message, now), d),
            Err(r) => r,
        };
    }
    error_response(StatusCode::NOT_FOUND, &message, now)
}
