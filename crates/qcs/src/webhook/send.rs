//! Posting the webhook body: one POST of JSON, signed with HMAC-SHA256 when a key is set
//! (`X-Qcs-Signature-256: sha256=<hex>`, as GitHub's webhooks), retried once after a transport
//! error (connection, timeout) or a 5xx answer; a TLS failure or a proxy refusal is final. The URL is never put in a message: errors are read without it and
//! scrubbed of it, and the target is named by its `scheme://host/…` form only.

use std::time::Duration;

use hmac::{Hmac, Mac as _};
use qcs_qualys::transport::{self, Failure};
use qcs_qualys::{ExposeSecret as _, SecretString};
use sha2::Sha256;

/// The signature header.
pub(crate) const SIGNATURE_HEADER: &str = "X-Qcs-Signature-256";
/// Tries in all: one, and one retry.
pub(crate) const TRIES: u32 = 2;
/// The pause before the retry.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Why a post failed (messages carry no URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SendError {
    /// The receiver answered with a status other than 2xx.
    #[error("the receiver answered HTTP {status} (after {tries} {})", plural(*tries))]
    Status {
        /// The last status.
        status: u16,
        /// How many tries were made.
        tries: u32,
    },
    /// No answer: connection refused or dropped, timeout.
    #[error("{reason} (after {tries} {})", plural(*tries))]
    Transport {
        /// What went wrong.
        reason: String,
        /// How many tries were made.
        tries: u32,
    },
    /// The receiver's certificate is not trusted, or the handshake failed (not retried).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The proxy refused the credentials (not retried).
    #[error("the proxy demanded other credentials (HTTP 407)")]
    ProxyAuth,
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "try" } else { "tries" }
}

impl SendError {
    /// What to do about it.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            SendError::Status { status, .. } if (400..500).contains(status) => {
                "the receiver refused the post: check the URL's token and the receiver's signing key (QCS_WEBHOOK_SECRET)"
            }
            SendError::Status { .. } => {
                "the receiver failed: check its logs; the verdict and exit code are not affected"
            }
            SendError::Transport { .. } => {
                "check that the receiver is reachable from here, the proxy and NO_PROXY, and [webhook] timeout"
            }
            SendError::Tls(_) => {
                "a receiver with a private CA needs it in --ca-bundle / QUALYS_CA_BUNDLE (PEM)"
            }
            SendError::ProxyAuth => "check QCS_PROXY_USERNAME and QCS_PROXY_PASSWORD",
        }
    }
}

/// `sha256=<hex of HMAC-SHA256(key, body)>`.
pub(crate) fn signature(key: &SecretString, body: &[u8]) -> String {
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes()) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + digest.len() * 2);
    hex.push_str("sha256=");
    for b in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    hex
}

/// Removes the URL, and its path and query, from a message.
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let mut out = text.replace(url, "<webhook URL>");
    if let Ok(u) = reqwest::Url::parse(url) {
        for part in [u.path(), u.query().unwrap_or("")] {
            if part.len() > 1 {
                out = out.replace(part, "…");
            }
        }
    }
    out
}

/// Posts `body` to `url`: 2xx is done; a connection error, a timeout or a 5xx is tried once
/// more after a short pause; any other status, a TLS failure or a proxy refusal ends it. Returns the status of the answer that was accepted.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &SecretString,
    key: Option<&SecretString>,
    body: Vec<u8>,
) -> Result<u16, SendError> {
    let signature = key.map(|k| signature(k, &body));
    let mut tries = 0;
    loop {
        tries += 1;
        let mut request = client
            .post(url.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(s) = &signature {
            request = request.header(SIGNATURE_HEADER, s);
        }
        let error = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // The body is of no use; reading it lets the connection be reused.
                let _ = response.bytes().await;
                if (200..300).contains(&status) {
                    return Ok(status);
                }
                let error = SendError::Status { status, tries };
                if status < 500 {
                    return Err(error);
                }
                error
            }
            Err(e) => match transport::classify(e) {
                Failure::Tls(reason) => {
                    return Err(SendError::Tls(scrub(&reason, url.expose_secret())));
                }
                Failure::ProxyAuth => return Err(SendError::ProxyAuth),
                Failure::Transient(reason) => SendError::Transport {
                    reason: scrub(&reason, url.expose_secret()),
                    tries,
                },
            },
        };
        tracing::debug!("webhook try {tries} failed: {error}");
        if tries >= TRIES {
            return Err(error);
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_value() {
        // RFC 4231, test case 2.
        let key = SecretString::from("Jefe");
        assert_eq!(
            signature(&key, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn scrub_removes_the_url_and_its_token() {
        let url = "https://hooks.example.com/services/tok3n?sig=s3cret";
        let text = format!("error sending request for url ({url}): /services/tok3n failed");
        let s = scrub(&text, url);
        assert!(!s.contains("tok3n") && !s.contains("s3cret"), "{s}");
    }

    #[test]
    fn messages_and_hints() {
        let e = SendError::Status {
            status: 500,
            tries: 2,
        };
        assert_eq!(
            e.to_string(),
            "the receiver answered HTTP 500 (after 2 tries)"
        );
        assert!(e.hint().contains("not affected"));
        let e = SendError::Status {
            status: 403,
            tries: 1,
        };
        assert!(e.hint().contains("token"));
    }
}
