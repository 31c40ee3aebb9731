//! [`QualysClient`]: authenticated CS API calls with retries, one shared token and one shared
//! rate limiter. Cloning is cheap; all clones share the connection pool, token and limiter.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use secrecy::ExposeSecret;

use crate::auth::{AuthKind, Credentials, TokenCache};
use crate::clock::{self, Clock, SystemClock};
use crate::error::QualysError;
use crate::platform::Gateway;
use crate::retry::{Limiter, RateLimit, RetryPolicy, wait_hint};
use crate::token::TokenInfo;
use crate::transport::{self, Failure, ProxyConfig, TlsConfig};

/// Everything a client needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where to send requests.
    pub gateway: Gateway,
    /// Who to authenticate as.
    pub credentials: Credentials,
    /// Extra trust anchors.
    pub tls: TlsConfig,
    /// Proxy.
    pub proxy: ProxyConfig,
    /// Limit of one HTTP request (connect, send, read the whole answer); a request is never
    /// given more than what is left before its caller's deadline.
    pub request_timeout: Duration,
    /// The largest answer read, in bytes ([`DEFAULT_MAX_ANSWER`]); a larger one ends the call
    /// with [`QualysError::TooLarge`] without being read further.
    pub max_answer: u64,
    /// How long authentication may keep retrying.
    pub auth_deadline: Duration,
    /// Backoff settings.
    pub retry: RetryPolicy,
    /// Request pace.
    pub rate: RateLimit,
    /// Refresh the token when it has less than this left.
    pub refresh_margin: Duration,
    /// Time source (tests drive an emulator's clock).
    pub clock: Arc<dyn Clock>,
}

impl ClientConfig {
    /// Defaults for everything but the gateway and the credentials: 30 s per request, 2 min to
    /// authenticate, refresh 5 min before expiry, 2500 calls per 60 s, answers up to 256 MiB,
    /// wall time.
    pub fn new(gateway: Gateway, credentials: Credentials) -> Self {
        ClientConfig {
            gateway,
            credentials,
            tls: TlsConfig::default(),
            proxy: ProxyConfig::default(),
            request_timeout: Duration::from_secs(30),
            max_answer: DEFAULT_MAX_ANSWER,
            auth_deadline: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            rate: RateLimit::default(),
            refresh_margin: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The largest API answer read by default: 256 MiB (the largest image details seen are a few
/// tens of MiB).
pub const DEFAULT_MAX_ANSWER: u64 = 256 * 1024 * 1024;

/// What `test-connection` shows.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The gateway URL.
    pub gateway: String,
    /// The platform code, when the gateway is a known platform's.
    pub platform: Option<&'static str>,
    /// basic or oauth.
    pub auth: AuthKind,
    /// The token's claims.
    pub token: TokenInfo,
    /// The proxy in use (no credentials), if any.
    pub proxy: Option<String>,
    /// Whether the proxy sends credentials.
    pub proxy_auth: bool,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) gateway: Gateway,
    pub(crate) creds: Credentials,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) retry: RetryPolicy,
    pub(crate) refresh_margin: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_answer: u64,
    auth_deadline: Duration,
    limiter: Limiter,
    tokens: TokenCache,
    pub(crate) proxy: Option<String>,
    proxy_auth: bool,
}

/// A sent request after [`Inner::screen`].
pub(crate) enum Screened {
    /// A transport failure worth retrying, described.
    Transient(String),
    /// An answer, with the server's wait hint (`Retry-After`, `X-RateLimit-ToWait-Sec`).
    Answer(reqwest::Response, Option<Duration>),
}

impl Inner {
    /// Screens a sent request, for auth and API calls alike: TLS failures and proxy refusals end
    /// the call (no retry helps); other transport failures are transient; anything else is an
    /// answer whose status the caller judges.
    pub(crate) fn screen(
        &self,
        sent: reqwest::Result<reqwest::Response>,
    ) -> Result<Screened, QualysError> {
        match sent {
            Err(e) => match transport::classify(e) {
                Failure::Tls(reason) => Err(QualysError::Tls {
                    url: self.gateway.url.clone(),
                    reason,
                }),
                Failure::ProxyAuth => Err(self.proxy_auth_error()),
                Failure::Transient(reason) => Ok(Screened::Transient(reason)),
            },
            Ok(resp) => {
                let status = resp.status().as_u16();
                if transport::is_proxy_refusal(status, resp.headers(), self.proxy.is_some()) {
                    return Err(self.proxy_auth_error());
                }
                let hint = wait_hint(resp.headers());
                Ok(Screened::Answer(resp, hint))
            }
        }
    }

    /// The timeout of a request sent now: the request timeout, cut to what is left before
    /// `deadline`; `None` when nothing is left.
    pub(crate) fn time_left(&self, deadline: jiff::Timestamp) -> Option<Duration> {
        let left = clock::since(deadline, self.clock.now());
        (!left.is_zero()).then(|| left.min(self.request_timeout))
    }

    /// Reads an answer's body, at most [`Inner::max_answer`] bytes: `Err` (the limit) when it
    /// is larger (told by `Content-Length` or found while reading); the inner error when the
    /// body broke off.
    pub(crate) async fn read_body(
        &self,
        mut resp: reqwest::Response,
    ) -> Result<reqwest::Result<Bytes>, u64> {
        let limit = self.max_answer;
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(limit);
        }
        let mut body = bytes::BytesMut::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(limit);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(Ok(body.freeze())),
                Err(e) => return Ok(Err(e)),
            }
        }
    }

    pub(crate) fn proxy_auth_error(&self) -> QualysError {
        QualysError::ProxyAuth {
            proxy: self
                .proxy
                .clone()
                .unwrap_or_else(|| "(from the environment)".into()),
        }
    }
}

/// Makes the query of a request from the time it is sent.
pub type Query<'a> = dyn Fn(jiff::Timestamp) -> Vec<(String, String)> + Send + Sync + 'a;

/// Told the reason of each retry (for progress display).
pub(crate) type RetryHook<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// The answer of a CS API GET that did not fail.
#[derive(Debug, Clone)]
pub struct Answer {
    /// 200, 204 or 404.
    pub status: u16,
    /// The body (empty for 204).
    pub body: Bytes,
}

/// The Qualys CS API client.
#[derive(Debug, Clone)]
pub struct QualysClient {
    pub(crate) inner: Arc<Inner>,
}

/// The `message` of an error body, or a short excerpt of a body that has none.
pub(crate) fn message_of(body: &str) -> String {
    /// The documented shape (`message`), or the `CMS-…` one (`errorCode`, `errorMessage`).
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ErrorBody {
        message: Option<String>,
        error_message: Option<String>,
        error_code: Option<serde_json::Value>,
    }
    if let Ok(b) = serde_json::from_str::<ErrorBody>(body) {
        if let Some(m) = b.message.filter(|m| !m.trim().is_empty()) {
            return m;
        }
        if let Some(m) = b.error_message.filter(|m| !m.trim().is_empty()) {
            return match b.error_code {
                Some(serde_json::Value::String(c)) if !c.is_empty() => format!("{c}: {m}"),
                _ => m,
            };
        }
    }
    let t = body.trim();
    if t.is_empty() {
        return "(empty body)".into();
    }
    let mut s: String = t.chars().take(200).collect();
    if s.len() < t.len() {
        s.push('…');
    }
    s
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// A 200 body that is not a JSON object is a bad answer (an HTML error page, nothing, a cut
/// body): worth asking again.
fn json_object_problem(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html")) {
        return Some(format!(
            "an HTML page ({} bytes) instead of JSON",
            body.len()
        ));
    }
    match body.iter().copied().find(|b| !b.is_ascii_whitespace()) {
        None => Some("an empty body instead of JSON".into()),
        Some(b'{') => None,
        Some(_) => Some("a body that is not a JSON object".into()),
    }
}

impl QualysClient {
    /// Builds the client (no request is made yet).
    pub fn new(config: ClientConfig) -> Result<Self, QualysError> {
        let http = transport::build(
            &config.gateway.url,
            &config.tls,
            &config.proxy,
            config.request_timeout,
        )?;
        let proxy = config
            .proxy
            .for_gateway(&config.gateway.url)
            .map(str::to_owned);
        let proxy_auth = proxy.is_some() && config.proxy.username.is_some();
        Ok(QualysClient {
            inner: Arc::new(Inner {
                http,
                gateway: config.gateway,
                creds: config.credentials,
                clock: config.clock,
                retry: config.retry,
                refresh_margin: config.refresh_margin,
                request_timeout: config.request_timeout,
                max_answer: config.max_answer,
                auth_deadline: config.auth_deadline,
                limiter: Limiter::new(config.rate),
                tokens: TokenCache::new(),
                proxy,
                proxy_auth,
            }),
        })
    }

    /// The gateway in use.
    pub fn gateway(&self) -> &Gateway {
        &self.inner.gateway
    }

    /// The clock in use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Authenticates (or reuses the token) and checks the CS module.
    pub async fn connect(&self) -> Result<ConnectionInfo, QualysError> {
        let deadline = clock::add(self.inner.clock.now(), self.inner.auth_deadline);
        self.connect_until(deadline).await
    }

    /// [`Self::connect`], giving up at `deadline` (or after the authentication deadline, when
    /// that comes first): no request outlives it.
    pub async fn connect_until(
        &self,
        deadline: jiff::Timestamp,
    ) -> Result<ConnectionInfo, QualysError> {
        let deadline = deadline.min(clock::add(self.inner.clock.now(), self.inner.auth_deadline));
        let t = self.inner.tokens.get(&self.inner, None, deadline).await?;
        Ok(ConnectionInfo {
            gateway: self.inner.gateway.url.clone(),
            platform: self.inner.gateway.platform.map(|p| p.code),
            auth: self.inner.creds.kind(),
            token: t.info,
            proxy: self.inner.proxy.clone(),
            proxy_auth: self.inner.proxy_auth,
        })
    }

    /// `GET /csapi/v1.3/images?filter=…` (200, or 204 when nothing matches).
    pub async fn list_images(
        &self,
        filter: &str,
        deadline: jiff::Timestamp,
    ) -> Result<Answer, QualysError> {
        let q = |_: jiff::Timestamp| vec![("filter".to_owned(), filter.to_owned())];
        self.get_with("/csapi/v1.3/images", &q, deadline).await
    }

    /// `GET /csapi/v1.3/images/{sha}` (200, or 404/204 while unknown).
    pub async fn image_details(
        &self,
        sha: &str,
        deadline: jiff::Timestamp,
    ) -> Result<Answer, QualysError> {
        self.image_details_observed(sha, deadline, None).await
    }

    pub(crate) async fn image_details_observed(
        &self,
        sha: &str,
        deadline: jiff::Timestamp,
        on_retry: Option<RetryHook<'_>>,
    ) -> Result<Answer, QualysError> {
        let path = format!("/csapi/v1.3/images/{sha}");
        let q = |_: jiff::Timestamp| Vec::new();
        self.get_observed(&path, &q, deadline, on_retry).await
    }

    /// [`Self::get_with`] with a fixed query.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
        deadline: jiff::Timestamp,
    ) -> Result<Answer, QualysError> {
        let q = |_: jiff::Timestamp| {
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        self.get_with(path, &q, deadline).await
    }

    /// A GET with the shared token and limiter, retried until `deadline` on transport errors,
    /// 5xx, 408/409/429 (with the server's wait hints) and bad 200 bodies; a 401 re-authenticates
    /// once; 400, 403 and other 4xx stop at once. 200, 204 and 404 are answers. The query is
    /// made for each attempt from the time it is sent.
    pub async fn get_with(
        &self,
        path: &str,
        make_query: &Query<'_>,
        deadline: jiff::Timestamp,
    ) -> Result<Answer, QualysError> {
        self.get_observed(path, make_query, deadline, None).await
    }

    /// [`Self::get_with`], telling `on_retry` the reason of each retry.
    pub(crate) async fn get_observed(
        &self,
        path: &str,
        make_query: &Query<'_>,
        deadline: jiff::Timestamp,
        on_retry: Option<RetryHook<'_>>,
    ) -> Result<Answer, QualysError> {
        self.get_limited(path, make_query, deadline, on_retry, None)
            .await
    }

    /// [`Self::get_observed`]; with `max_5xx`, the `max_5xx`-th 5xx answer of this call ends it
    /// with [`QualysError::Http`] instead of another retry (a grouped list call then falls back
    /// to one image per call).
    pub(crate) async fn get_limited(
        &self,
        path: &str,
        make_query: &Query<'_>,
        deadline: jiff::Timestamp,
        on_retry: Option<RetryHook<'_>>,
        max_5xx: Option<u32>,
    ) -> Result<Answer, QualysError> {
        let inner = &*self.inner;
        let url = format!("{}{path}", inner.gateway.url);
        let mut server_errors: u32 = 0;
        let mut attempt: u32 = 0;
        let mut refused: Option<u64> = None;
        let mut reauthed = false;
        let mut last: Option<String> = None;
        loop {
            attempt += 1;
            // Authentication too ends by the deadline: no request outlives it.
            let token = inner.tokens.get(inner, refused.take(), deadline).await?;
            inner.limiter.acquire(&*inner.clock).await;
            let Some(timeout) = inner.time_left(deadline) else {
                return Err(QualysError::GaveUp {
                    method: "GET",
                    endpoint: format!("{path} at {}", inner.gateway.url),
                    attempts: attempt - 1,
                    last: last.unwrap_or_else(|| "no time left before the deadline".into()),
                });
            };
            let query = make_query(inner.clock.now());
            tracing::trace!(path, ?query, attempt, ?timeout, "GET");
            let sent = inner
                .http
                .get(&url)
                .timeout(timeout)
                .query(&query)
                .bearer_auth(token.secret.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await;
            let (failure, hint) = match inner.screen(sent)? {
                Screened::Transient(r) => (r, None),
                Screened::Answer(resp, hint) => {
                    let status = resp.status().as_u16();
                    let ctype = resp
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let body =
                        inner
                            .read_body(resp)
                            .await
                            .map_err(|limit| QualysError::TooLarge {
                                endpoint: format!("GET {path} at {}", inner.gateway.url),
                                limit,
                            })?;
                    match body {
                        Err(e) => (
                            format!(
                                "HTTP {status} with a body that broke off: {}",
                                transport::chain(&e.without_url())
                            ),
                            None,
                        ),
                        Ok(body) => {
                            tracing::trace!(path, status, bytes = body.len(), "answer");
                            match status {
                                200 if is_blank(&body)
                                    && !ctype.as_deref().is_some_and(|c| {
                                        c.to_ascii_lowercase().contains("html")
                                    }) =>
                                {
                                    // A Qualys-written client reads this as "no records"
                                    // (`qualys-api.md` §4.8): the same as 204.
                                    tracing::debug!(
                                        path,
                                        "HTTP 200 with an empty body: read as 204"
                                    );
                                    return Ok(Answer {
                                        status: 204,
                                        body: Bytes::new(),
                                    });
                                }
                                200 => match json_object_problem(ctype.as_deref(), &body) {
                                    None => return Ok(Answer { status, body }),
                                    Some(p) => (format!("HTTP 200 with {p}"), None),
                                },
                                204 | 404 => return Ok(Answer { status, body }),
                                401 if !reauthed => {
                                    tracing::info!(
                                        path,
                                        message = %message_of(&String::from_utf8_lossy(&body)),
                                        "token refused; authenticating again"
                                    );
                                    reauthed = true;
                                    refused = Some(token.generation);
                                    attempt -= 1;
                                    continue;
                                }
                                500..=599
                                    if max_5xx.is_some_and(|m| {
                                        server_errors += 1;
                                        server_errors >= m
                                    }) =>
                                {
                                    return Err(QualysError::Http {
                                        method: "GET",
                                        endpoint: format!("{path} at {}", inner.gateway.url),
                                        status,
                                        message: message_of(&String::from_utf8_lossy(&body)),
                                    });
                                }
                                408 | 409 | 425 | 429 | 500..=599 => {
                                    if let (409 | 429, Some(h)) = (status, hint) {
                                        inner
                                            .limiter
                                            .block_for(&*inner.clock, h.min(inner.retry.max_hint));
                                    }
                                    (
                                        format!(
                                            "HTTP {status}: {}",
                                            message_of(&String::from_utf8_lossy(&body))
                                        ),
                                        hint,
                                    )
                                }
                                _ => {
                                    return Err(QualysError::Http {
                                        method: "GET",
                                        endpoint: format!("{path} at {}", inner.gateway.url),
                                        status,
                                        message: message_of(&String::from_utf8_lossy(&body)),
                                    });
                                }
                            }
                        }
                    }
                }
            };
            let wait = hint.map_or_else(
                || inner.retry.backoff(attempt),
                |h| h.min(inner.retry.max_hint),
            );
            if clock::add(inner.clock.now(), wait) >= deadline {
                return Err(QualysError::GaveUp {
                    method: "GET",
                    endpoint: format!("{path} at {}", inner.gateway.url),
                    attempts: attempt,
                    last: failure,
                });
            }
            tracing::info!(path, attempt, wait = ?wait, reason = %failure, "retrying");
            if let Some(hook) = on_retry {
                hook(&failure);
            }
            last = Some(failure);
            inner.clock.sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_bodies() {
        assert_eq!(
            message_of(r#"{"errorCode":"403 FORBIDDEN","message":"Request Forbidden"}"#),
            "Request Forbidden"
        );
        assert_eq!(message_of(""), "(empty body)");
        assert_eq!(message_of("oops"), "oops");
        assert_eq!(
            message_of(r#"{"errorCode":"CMS-2002","errorMessage":"Image not found"}"#),
            "CMS-2002: Image not found"
        );
        assert!(json_object_problem(Some("text/html"), b"<html>").is_some());
        assert!(json_object_problem(None, b"  ").is_some());
        assert!(json_object_problem(Some("application/json"), b" {}").is_none());
    }
}
