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
    /// Limit of one HTTP request (connect, send, read the whole answer).
    pub request_timeout: Duration,
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
    /// authenticate, refresh 5 min before expiry, 2500 calls per 60 s, wall time.
    pub fn new(gateway: Gateway, credentials: Credentials) -> Self {
        ClientConfig {
            gateway,
            credentials,
            tls: TlsConfig::default(),
            proxy: ProxyConfig::default(),
            request_timeout: Duration::from_secs(30),
            auth_deadline: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            rate: RateLimit::default(),
            refresh_margin: Duration::from_secs(300),
            clock: Arc::new(SystemClock),
        }
    }
}

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
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        message: Option<String>,
    }
    if let Ok(ErrorBody { message: Some(m) }) = serde_json::from_str::<ErrorBody>(body) {
        return m;
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
        let inner = &*self.inner;
        let url = format!("{}{path}", inner.gateway.url);
        let mut attempt: u32 = 0;
        let mut refused: Option<u64> = None;
        let mut reauthed = false;
        loop {
            attempt += 1;
            let auth_deadline = deadline.max(clock::add(inner.clock.now(), inner.auth_deadline));
            let token = inner
                .tokens
                .get(inner, refused.take(), auth_deadline)
                .await?;
            inner.limiter.acquire(&*inner.clock).await;
            let query = make_query(inner.clock.now());
            tracing::trace!(path, ?query, attempt, "GET");
            let sent = inner
                .http
                .get(&url)
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
                    match resp.bytes().await {
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
            if clock::add(inner.clock.now(), wait) > deadline {
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
        assert!(json_object_problem(Some("text/html"), b"<html>").is_some());
        assert!(json_object_problem(None, b"  ").is_some());
        assert!(json_object_problem(Some("application/json"), b" {}").is_none());
    }
}
