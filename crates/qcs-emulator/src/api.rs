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
        .route("/csapi/{version}/images/list", get(images_bulk_list))
        .route("/csapi/{version}/images/{id}", get(image_details))
        .route("/csapi/{version}/images/{id}/vuln", get(image_vulns))
        .route("/csapi/{version}/images/{id}/vuln/count", get(vuln_count))
        .route("/csapi/{version}/images/{id}/software", get(image_software))
        .fallback(not_found)
        .with_state(shared)
}

/// The other error body seen from the gateway: `{"errorCode":"CMS-2002","errorMessage":...}`.
pub(crate) fn cms_error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errorCode": code, "errorMessage": message });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
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
        Some(FaultAction::StatusCms { status, error_code, message }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = message.unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
            cms_error_response(status, error_code.as_deref().unwrap_or("CMS-2002"), &msg)
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
        FaultAction::StatusCms { status, .. } => format!("status {status} (cms body)"),
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
    guard_with(shared, headers, version, &shared.rate)
}

/// [`guard`] against another limiter (`/images/list` has its own).
#[allow(
    clippy::result_large_err,
    reason = "the error is the response itself, built once per refused call"
)]
fn guard_with(
    shared: &Shared,
    headers: &HeaderMap,
    version: &str,
    limiter: &crate::ratelimit::RateLimiter,
) -> Result<RateDecision, Response> {
    check_access(shared, headers, version, limiter).map_err(|mut r| {
        // Refused before counting: still tell the caller where its window stands.
        if !r.headers().contains_key("X-RateLimit-Limit") {
            add_rate_headers(&mut r, limiter.peek(shared.clock.now_ms()));
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
    limiter: &crate::ratelimit::RateLimiter,
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
    let d = limiter.check(now);
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
    let params = query_params(query.as_deref());
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
                "lastScanned" => e.last_scanned_at(now),
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

/// The query parameters, decoded (`+` as space); the last of a repeated key wins.
fn query_params(query: Option<&str>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for kv in query
        .unwrap_or_default()
        .split('&')
        .filter(|s| !s.is_empty())
    {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        params.insert(decode_component(k), decode_component(v));
    }
    params
}

/// Encodes like Java's `URLEncoder.encode(s, "UTF-8")`: space as `+`, `*-._` and
/// alphanumerics kept, every other byte `%XX`.
pub(crate) fn java_urlencode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(b));
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A `paginationQuery` of `/images/list`: `updated>=<ms>`, optionally
/// `AND not uuid: [<uuid>, …]` (the items at that `updated` already returned).
#[derive(Debug, Default)]
struct Cursor {
    from_updated: u64,
    seen: Vec<String>,
}

impl Cursor {
    fn parse(text: &str) -> Option<Cursor> {
        let t = text.trim();
        let rest = t.strip_prefix("updated>=")?;
        let (num, tail) = rest
            .find(|c: char| !c.is_ascii_digit())
            .map_or((rest, ""), |i| rest.split_at(i));
        let from_updated = num.parse().ok()?;
        let tail = tail.trim();
        if tail.is_empty() {
            return Some(Cursor {
                from_updated,
                seen: Vec::new(),
            });
        }
        let lower = tail.to_ascii_lowercase();
        let after = lower.strip_prefix("and")?.trim_start();
        let after = after.strip_prefix("not")?.trim_start();
        let after = after.strip_prefix("uuid")?.trim_start();
        let after = after.strip_prefix(':')?.trim_start();
        let inner = after.strip_prefix('[')?.strip_suffix(']')?;
        // Use the original casing of the ids (same byte offsets: ASCII lowercasing).
        let start = tail.len() - after.len() + 1;
        let orig = &tail[start..start + inner.len()];
        let seen = orig
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Some(Cursor { from_updated, seen })
    }

    fn render(&self) -> String {
        if self.seen.is_empty() {
            format!("updated>={}", self.from_updated)
        } else {
            format!(
                "updated>={} AND not uuid: [{}]",
                self.from_updated,
                self.seen.join(", ")
            )
        }
    }

    fn admits(&self, updated: u64, uuid: &str) -> bool {
        updated > self.from_updated
            || (updated == self.from_updated && !self.seen.iter().any(|s| s == uuid))
    }
}

/// `GET /csapi/v1.3/images/list` (`qualys-api.md` §3.5): `limit` 1..250 (default 50),
/// `filter`, `paginationQuery`; items in the details shape with `vulnerabilities` reduced to
/// `qid`, `result` and `software`, and `lastFoundOnHost` instead of `host`; the next page in a
/// `Link: <…>;rel=next` header, `Link: null` on the last page; its own rate limit (120 / 60 s).
async fn images_bulk_list(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let d = match guard_with(&shared, &headers, &version, &shared.list_rate) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = shared.clock.now_ms();
    let bad = |msg: String| with_rate(error_response(StatusCode::BAD_REQUEST, &msg, now), d);
    let params = query_params(query.as_deref());
    let limit = match params.get("limit").map(|s| s.parse::<usize>()) {
        None => 50,
        Some(Ok(n)) if (1..=250).contains(&n) => n,
        Some(_) => return bad("limit must be an integer from 1 to 250".into()),
    };
    let filter_text = params
        .get("filter")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let filter = match filter_text.as_deref().map(qql::parse) {
        None => None,
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => return bad(e.to_string()),
    };
    let cursor = match params.get("paginationQuery").map(|s| s.trim()) {
        None | Some("") => None,
        Some(q) => match Cursor::parse(q) {
            Some(c) => Some(c),
            None => {
                return bad(format!(
                    "paginationQuery `{q}` is not one this gateway issued (take it from the Link header of the previous page)"
                ));
            }
        },
    };
    let mut matches: Vec<(u64, Arc<crate::state::ImageEntry>)> = shared
        .images
        .all()
        .into_iter()
        .filter(|e| e.details_view(now).is_some())
        .filter(|e| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&e.target(now), now))
        })
        .map(|e| (e.updated_at(now), e))
        .filter(|(u, e)| cursor.as_ref().is_none_or(|c| c.admits(*u, &e.uuid)))
        .collect();
    if matches.is_empty() {
        return with_rate(StatusCode::NO_CONTENT.into_response(), d);
    }
    matches.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.uuid.cmp(&b.1.uuid)));
    let more = matches.len() > limit;
    matches.truncate(limit);
    let data: Vec<Value> = matches
        .iter()
        .filter_map(|(_, e)| e.details_view(now))
        .filter_map(|v| serde_json::from_slice::<Value>(&v.body).ok())
        .map(bulk_item)
        .collect();
    let link = if more {
        let last = matches.last().map_or(0, |(u, _)| *u);
        let mut seen: Vec<String> = cursor
            .filter(|c| c.from_updated == last)
            .map(|c| c.seen)
            .unwrap_or_default();
        seen.extend(
            matches
                .iter()
                .filter(|(u, _)| *u == last)
                .map(|(_, e)| e.uuid.clone()),
        );
        let next = Cursor {
            from_updated: last,
            seen,
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = shared.scheme.get().copied().unwrap_or("http");
        let filter_part = filter_text
            .as_deref()
            .map(|f| format!("&filter={}", java_urlencode(f)))
            .unwrap_or_default();
        format!(
            "<{scheme}://{host}/csapi/{version}/images/list?limit={limit}{filter_part}&paginationQuery={}>;rel=next",
            java_urlencode(&next.render())
        )
    } else {
        "null".to_owned()
    };
    let mut r = with_rate(
        json_response(StatusCode::OK, json!({ "data": data }).to_string()),
        d,
    );
    if let Ok(v) = HeaderValue::from_str(&link) {
        r.headers_mut().insert(header::LINK, v);
    }
    r
}

/// A details document in the bulk list's shape.
fn bulk_item(mut doc: Value) -> Value {
    if let Some(o) = doc.as_object_mut() {
        if let Some(Value::Array(vulns)) = o.get_mut("vulnerabilities") {
            for v in vulns.iter_mut() {
                let g = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
                *v = json!({ "qid": g("qid"), "result": g("result"), "software": g("software") });
            }
        }
        let host = o
            .remove("host")
            .and_then(|h| h.as_array().and_then(|a| a.first().cloned()))
            .unwrap_or(Value::Null);
        o.insert("lastFoundOnHost".into(), host);
    }
    doc
}

/// `GET /csapi/v1.3/images/{id}/vuln` (`qualys-api.md` §5): `{"details":[…]}` with the
/// findings of the details document (`null` while there are none yet). `type=SUMMARY` keeps
/// `qid`, `title`, `severity`, `typeDetected`, `cveids` and `patchAvailable`; `DETAILS` and
/// `ALL` (default) keep everything. `filter`: `field:value` terms joined by `and` on `qid`,
/// `severity`, `typeDetected`, `cveids`, `patchAvailable`, `title` (prefix `vulnerabilities.`
/// allowed). `sort`: `qid` or `severity`, `:asc`/`:desc`. `applyException` is accepted.
async fn image_vulns(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (d, now, entry) = match image_at(&shared, &headers, &version, &id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let bad = |msg: String| with_rate(error_response(StatusCode::BAD_REQUEST, &msg, now), d);
    let params = query_params(query.as_deref());
    let summary_only = match params
        .get("type")
        .map(|s| s.to_ascii_uppercase())
        .as_deref()
    {
        None | Some("" | "ALL" | "DETAILS") => false,
        Some("SUMMARY") => true,
        Some(other) => return bad(format!("type `{other}` must be SUMMARY, DETAILS or ALL")),
    };
    let terms = match params.get("filter").map(|f| parse_vuln_filter(f)) {
        None => Vec::new(),
        Some(Ok(t)) => t,
        Some(Err(e)) => return bad(e),
    };
    let sort = match params.get("sort").map(String::as_str) {
        None | Some("") => None,
        Some(s) => {
            let (f, dir) = s.split_once(':').unwrap_or((s, "asc"));
            let f = f.strip_prefix("vulnerabilities.").unwrap_or(f);
            let desc = match dir {
                "asc" => false,
                "desc" => true,
                _ => return bad(format!("sort direction `{dir}` must be asc or desc")),
            };
            if f != "qid" && f != "severity" {
                return bad(format!("cannot sort on `{f}`; use qid or severity"));
            }
            Some((f.to_owned(), desc))
        }
    };
    let Some(view) = entry.details_view(now) else {
        return with_rate(unknown_image(&id, now), d);
    };
    let doc: Value = serde_json::from_slice(&view.body).unwrap_or(Value::Null);
    let details = match doc.get("vulnerabilities") {
        Some(Value::Array(vulns)) => {
            let mut out: Vec<Value> = vulns
                .iter()
                .filter(|v| terms.iter().all(|t| t.matches(v)))
                .cloned()
                .collect();
            if let Some((f, desc)) = &sort {
                out.sort_by_key(|v| v.get(f.as_str()).and_then(Value::as_u64).unwrap_or(0));
                if *desc {
                    out.reverse();
                }
            }
            if summary_only {
                for v in &mut out {
                    let g = |k: &str| v.get(k).cloned().unwrap_or(Value::Null);
                    *v = json!({
                        "qid": g("qid"),
                        "title": g("title"),
                        "severity": g("severity"),
                        "typeDetected": g("typeDetected"),
                        "cveids": g("cveids"),
                        "patchAvailable": g("patchAvailable"),
                    });
                }
            }
            Value::Array(out)
        }
        _ => Value::Null,
    };
    with_rate(
        json_response(StatusCode::OK, json!({ "details": details }).to_string()),
        d,
    )
}

/// One `field:value` term of a `/vuln` filter.
struct VulnTerm {
    field: String,
    value: String,
}

impl VulnTerm {
    fn matches(&self, v: &Value) -> bool {
        let got = v.get(self.field.as_str());
        match self.field.as_str() {
            "qid" | "severity" => {
                got.and_then(Value::as_u64)
                    .map(|n| n.to_string())
                    .as_deref()
                    == Some(self.value.as_str())
            }
            "patchAvailable" => {
                got.and_then(Value::as_bool)
                    .map(|b| b.to_string())
                    .as_deref()
                    == Some(self.value.to_ascii_lowercase().as_str())
            }
            "typeDetected" => got
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case(&self.value)),
            "cveids" => got.and_then(Value::as_array).is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|c| c.eq_ignore_ascii_case(&self.value))
            }),
            "title" => got.and_then(Value::as_str).is_some_and(|s| {
                s.to_ascii_lowercase()
                    .contains(&self.value.to_ascii_lowercase())
            }),
            _ => false,
        }
    }
}

fn parse_vuln_filter(text: &str) -> Result<Vec<VulnTerm>, String> {
    let mut terms = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut rest = text;
    let mut rest_lower = lower.as_str();
    loop {
        let (term, next) = match rest_lower.find(" and ") {
            Some(i) => (&rest[..i], Some(i + 5)),
            None => (rest, None),
        };
        let term = term.trim();
        if !term.is_empty() {
            let (f, v) = term.split_once(':').ok_or_else(|| {
                format!(
                    "filter term `{term}` is not `field:value` (e.g. `vulnerabilities.severity:5`)"
                )
            })?;
            let f = f.trim();
            let f = f.strip_prefix("vulnerabilities.").unwrap_or(f);
            if ![
                "qid",
                "severity",
                "typeDetected",
                "cveids",
                "patchAvailable",
                "title",
            ]
            .contains(&f)
            {
                return Err(format!(
                    "cannot filter findings on `{f}`; use qid, severity, typeDetected, cveids, patchAvailable or title"
                ));
            }
            let v = v.trim().trim_matches(|c| c == '\'' || c == '"' || c == '`');
            terms.push(VulnTerm {
                field: f.to_owned(),
                value: v.to_owned(),
            });
        }
        match next {
            Some(i) => {
                rest = &rest[i..];
                rest_lower = &rest_lower[i..];
            }
            None => break,
        }
    }
    Ok(terms)
}

/// `GET /csapi/v1.3/images/{id}/software` (`qualys-api.md` §4.4, §5): `{"data":[…]}` with the
/// document's `softwares`, each with `layerSha` and `vulnerabilities` as a counts object (null
/// while the report is not processed; under `counts-null-with-status` a counts object of nulls).
async fn image_software(
    State(shared): State<Arc<Shared>>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (d, now, entry) = match image_at(&shared, &headers, &version, &id) {
        Ok(found) => found,
        Err(r) => return r,
    };
    let Some(view) = entry.details_view(now) else {
        return with_rate(unknown_image(&id, now), d);
    };
    let doc: Value = serde_json::from_slice(&view.body).unwrap_or(Value::Null);
    let vulns = doc.get("vulnerabilities").and_then(Value::as_array);
    let mut by_qid: HashMap<u64, (u64, Vec<Value>)> = HashMap::new();
    for v in vulns.into_iter().flatten() {
        if let Some(q) = v.get("qid").and_then(Value::as_u64) {
            let sev = v.get("severity").and_then(Value::as_u64).unwrap_or(0);
            let layers = v
                .get("layerSha")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            by_qid.insert(q, (sev, layers));
        }
    }
    let pending = if entry.profile == crate::state::ProcessingProfile::CountsNullWithStatus {
        json!({"severity5Count": null, "severity3Count": null, "severity4Count": null, "severity1Count": null, "severity2Count": null})
    } else {
        Value::Null
    };
    let data: Vec<Value> = doc
        .get("softwares")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let g = |k: &str| s.get(k).cloned().unwrap_or(Value::Null);
            let mut counts = [0u64; 6];
            let mut layers: Vec<Value> = match s.get("layerSha") {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            for q in s
                .get("vulnerabilities")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|q| q.get("qid").and_then(Value::as_u64))
            {
                if let Some((sev, ls)) = by_qid.get(&q) {
                    if let Some(c) = usize::try_from(*sev).ok().and_then(|i| counts.get_mut(i)) {
                        *c += 1;
                    }
                    for l in ls {
                        if !layers.contains(l) {
                            layers.push(l.clone());
                        }
                    }
                }
            }
            let vulnerabilities = if vulns.is_some() {
                json!({
                    "severity5Count": counts[5],
                    "severity3Count": counts[3],
                    "severity4Count": counts[4],
                    "severity1Count": counts[1],
                    "severity2Count": counts[2],
                })
            } else {
                pending.clone()
            };
            json!({
                "name": g("name"),
                "version": g("version"),
                "fixVersion": g("fixVersion"),
                "packagePath": g("packagePath"),
                "scanType": g("scanType"),
                "layerSha": layers,
                "vulnerabilities": vulnerabilities,
            })
        })
        .collect();
    with_rate(
        json_response(StatusCode::OK, json!({ "data": data }).to_string()),
        d,
    )
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
    // The counts the list shows (a re-scan under `last-scanned-when-processed`: the previous
    // report's; `counts-null-with-status` while the scan runs: nulls).
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
