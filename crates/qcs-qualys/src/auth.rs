//! Authentication (`qualys-api.md` §2): basic (`POST /auth`, form) and OAuth (`POST /auth/oidc`
//! or `/auth/oauth`, `clientId`/`clientSecret` headers); both answer a raw JWT with 200 or 201.
//! A token cache keeps one token for every request and image, refreshes it before it expires,
//! and replaces it when the gateway says it expired.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::client::{Inner, Screened};
use crate::clock;
use crate::error::QualysError;
use crate::token::{self, Token};
use crate::transport;

/// Which OAuth endpoint a client id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OAuthEndpoint {
    /// `POST /auth/oidc` (user-level client; what the plugin uses for both).
    #[default]
    Oidc,
    /// `POST /auth/oauth` (subscription-level client).
    Oauth,
}

/// The credentials of one account.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Username and password.
    Basic {
        /// The Qualys user.
        username: String,
        /// Its password.
        password: SecretString,
    },
    /// An OAuth client.
    OAuth {
        /// Client id.
        client_id: SecretString,
        /// Client secret.
        client_secret: SecretString,
        /// Which endpoint mints its tokens.
        endpoint: OAuthEndpoint,
    },
}

/// The kind of authentication, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// Username/password.
    Basic,
    /// OAuth client.
    OAuth,
}

impl std::fmt::Display for AuthKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthKind::Basic => "basic",
            AuthKind::OAuth => "oauth",
        })
    }
}

impl Credentials {
    /// Basic or OAuth.
    pub fn kind(&self) -> AuthKind {
        match self {
            Credentials::Basic { .. } => AuthKind::Basic,
            Credentials::OAuth { .. } => AuthKind::OAuth,
        }
    }

    /// The token endpoint's path.
    pub fn path(&self) -> &'static str {
        match self {
            Credentials::Basic { .. } => "/auth",
            Credentials::OAuth {
                endpoint: OAuthEndpoint::Oidc,
                ..
            } => "/auth/oidc",
            Credentials::OAuth {
                endpoint: OAuthEndpoint::Oauth,
                ..
            } => "/auth/oauth",
        }
    }
}

/// One token shared by all requests.
#[derive(Debug)]
pub(crate) struct TokenCache {
    current: tokio::sync::Mutex<Option<Token>>,
    generation: AtomicU64,
}

impl TokenCache {
    pub(crate) fn new() -> Self {
        TokenCache {
            current: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// The current token, fetched or refreshed when missing, expiring soon, or `stale` (the
    /// generation the gateway just refused).
    pub(crate) async fn get(
        &self,
        inner: &Inner,
        stale: Option<u64>,
        deadline: jiff::Timestamp,
    ) -> Result<Token, QualysError> {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref() {
            let now = inner.clock.now();
            let lifetime_left = clock::since(t.info.expires_at, now);
            let fresh = lifetime_left > inner.refresh_margin;
            if fresh && stale != Some(t.generation) {
                return Ok(t.clone());
            }
            tracing::debug!(
                generation = t.generation,
                refused = stale == Some(t.generation),
                "refreshing the Qualys token"
            );
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let t = fetch(inner, generation, deadline).await?;
        *guard = Some(t.clone());
        Ok(t)
    }
}

/// Gets a new token, retrying transient failures until `deadline` (but at least once), and
/// checks that it grants Container Security.
async fn fetch(
    inner: &Inner,
    generation: u64,
    deadline: jiff::Timestamp,
) -> Result<Token, QualysError> {
    let path = inner.creds.path();
    let url = format!("{}{path}", inner.gateway.url);
    let endpoint = format!("POST {path}");
    let mut attempt: u32 = 0;
    let mut last: Option<String> = None;
    loop {
        attempt += 1;
        // The request timeout, cut to what is left before the deadline (at least a moment for
        // the first attempt, which is always made).
        let timeout = match inner.time_left(deadline) {
            Some(t) => t,
            None if attempt == 1 => Duration::from_millis(100).min(inner.request_timeout),
            None => {
                return Err(QualysError::GaveUp {
                    method: "POST",
                    endpoint: format!("{path} at {}", inner.gateway.url),
                    attempts: attempt - 1,
                    last: last.unwrap_or_else(|| "no time left before the deadline".into()),
                });
            }
        };
        let req = inner
            .http
            .post(&url)
            .timeout(timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        let req = match &inner.creds {
            Credentials::Basic { username, password } => req.form(&[
                ("username", username.as_str()),
                ("password", password.expose_secret()),
                ("token", "true"),
            ]),
            Credentials::OAuth {
                client_id,
                client_secret,
                ..
            } => req
                .header("clientId", client_id.expose_secret())
                .header("clientSecret", client_secret.expose_secret())
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                ),
        };
        tracing::debug!(%endpoint, attempt, "authenticating");
        let (failure, hint) = match inner.screen(req.send().await)? {
            Screened::Transient(reason) => (reason, None),
            Screened::Answer(resp, hint) => {
                let status = resp.status().as_u16();
                let body = inner
                    .read_body(resp)
                    .await
                    .map_err(|limit| QualysError::TooLarge {
                        endpoint: format!("{endpoint} at {}", inner.gateway.url),
                        limit,
                    })?
                    .map(|b| String::from_utf8_lossy(&b).into_owned());
                match body {
                    Err(e) => (
                        format!(
                            "HTTP {status}, body unreadable: {}",
                            transport::chain(&e.without_url())
                        ),
                        None,
                    ),
                    Ok(body) => match status {
                        200 | 201 => match token::parse(&body, inner.clock.now()) {
                            Ok(info) => {
                                tracing::debug!(user = %info.user, expires = %info.expires_at, "authenticated");
                                if !info.has_cs() {
                                    return Err(QualysError::NoCsModule {
                                        user: info.user,
                                        modules: info.modules.join(", "),
                                    });
                                }
                                return Ok(Token {
                                    secret: SecretString::from(body.trim().to_owned()),
                                    info,
                                    generation,
                                });
                            }
                            Err(reason) => (format!("HTTP {status} but {reason}"), None),
                        },
                        408 | 409 | 425 | 429 | 500..=599 => (
                            format!("HTTP {status}: {}", crate::client::message_of(&body)),
                            hint,
                        ),
                        _ => {
                            return Err(QualysError::AuthRejected {
                                endpoint: format!("{endpoint} at {}", inner.gateway.url),
                                status,
                                message: crate::client::message_of(&body),
                            });
                        }
                    },
                }
            }
        };
        let wait = hint.map_or_else(
            || inner.retry.backoff(attempt),
            |h| h.min(inner.retry.max_hint),
        );
        if clock::add(inner.clock.now(), wait) > deadline {
            if failure.starts_with("HTTP 2") {
                return Err(QualysError::BadToken {
                    endpoint: format!("{endpoint} at {}", inner.gateway.url),
                    reason: failure,
                });
            }
            return Err(QualysError::GaveUp {
                method: "POST",
                endpoint: format!("{path} at {}", inner.gateway.url),
                attempts: attempt,
                last: failure,
            });
        }
        tracing::info!(%endpoint, attempt, wait = ?wait, reason = %failure, "retrying authentication");
        last = Some(failure);
        inner.clock.sleep(wait.max(Duration::from_millis(1))).await;
    }
}
