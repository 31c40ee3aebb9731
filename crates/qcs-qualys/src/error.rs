//! [`QualysError`]: what failed, with which value (never a secret), the exit code it ends with
//! (`product.md` §4) and a hint on what to do.

use std::path::PathBuf;
use std::time::Duration;

use qcs_core::exit::ExitCode;

use crate::transport;

/// A failure of the Qualys API client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QualysError {
    /// The platform code is not one of the known platforms.
    #[error("unknown Qualys platform `{0}`")]
    UnknownPlatform(String),
    /// A URL setting is not usable.
    #[error("invalid {what} URL `{url}`: {reason}")]
    BadUrl {
        /// Which URL (API, gateway, proxy).
        what: &'static str,
        /// The URL, with any credentials masked.
        url: String,
        /// Why.
        reason: String,
    },
    /// Credentials are missing or incomplete.
    #[error("missing credentials: {0}")]
    MissingCredentials(String),
    /// The CA bundle cannot be read or holds no certificate.
    #[error("cannot use the CA bundle `{}`: {reason}", path.display())]
    CaBundle {
        /// Its path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    ClientSetup(String),
    /// The gateway refused the credentials.
    #[error("authentication refused by {endpoint} (HTTP {status}): {message}")]
    AuthRejected {
        /// `POST <gateway>/auth` and the like.
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The answer's `message` (or a short excerpt of its body).
        message: String,
    },
    /// The token endpoint answered with something that is not a JWT.
    #[error("the answer of {endpoint} is not a usable token: {reason}")]
    BadToken {
        /// The token endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The user's subscription lacks the Container Security module.
    #[error(
        "the Container Security (CS) module is not activated for user `{user}` (modules: {modules})"
    )]
    NoCsModule {
        /// The token's `sub`.
        user: String,
        /// The modules the token lists.
        modules: String,
    },
    /// An answer that will not get better by asking again (400, 401 after a re-auth, 403, …).
    #[error("{method} {endpoint} answered HTTP {status}: {message}")]
    Http {
        /// GET or POST.
        method: &'static str,
        /// The path called (no query secrets; the gateway is in the message of the caller).
        endpoint: String,
        /// HTTP status.
        status: u16,
        /// The answer's `message`.
        message: String,
    },
    /// The proxy wants (other) credentials.
    #[error("the proxy {proxy} refused the request (HTTP 407 Proxy Authentication Required)")]
    ProxyAuth {
        /// The proxy URL, without credentials.
        proxy: String,
    },
    /// The TLS handshake failed (certificate not trusted, wrong host, …).
    #[error("TLS failure connecting to {url}: {reason}")]
    Tls {
        /// The gateway URL.
        url: String,
        /// The TLS library's reason.
        reason: String,
    },
    /// Retries ran out of time: transport errors, 5xx, 429 or bad answers until the deadline.
    #[error("{method} {endpoint} failed {attempts} time(s) until the deadline; last: {last}")]
    GaveUp {
        /// GET or POST.
        method: &'static str,
        /// The path called.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Qualys reports the image's scan as failed (`scanStatus` a failure value, or
    /// `scanErrorCode` set): no result will come for this tagging.
    #[error("Qualys reports the scan of image {sha} as failed ({reason})")]
    ScanFailed {
        /// The image sha.
        sha: String,
        /// What the answer said (`scanStatus`, `scanErrorCode`).
        reason: String,
    },
    /// The image details answer is not a usable report, again and again: a field the verdict
    /// needs cannot be read (or the document is not image details at all).
    #[error("the image details of {sha} are not usable: {reason}")]
    BadReport {
        /// The image sha.
        sha: String,
        /// Why.
        reason: String,
    },
    /// No complete scan result before the wait timeout.
    #[error("timed out after {} waiting for the scan result of image {sha}: {last_state}", fmt_duration(*.waited))]
    Timeout {
        /// The image sha.
        sha: String,
        /// How long it waited.
        waited: Duration,
        /// The last state seen (not scanned yet, processing).
        last_state: String,
    },
    /// The wait was cancelled (the process got SIGINT or SIGTERM) before a result came.
    #[error("cancelled after {} while waiting for the scan result of image {sha}: {last_state}", fmt_duration(*.waited))]
    Cancelled {
        /// The image sha.
        sha: String,
        /// How long it waited.
        waited: Duration,
        /// The last state seen.
        last_state: String,
    },
    /// An answer is larger than the limit on API answers (`QCS_MAX_ANSWER_SIZE`).
    #[error("the answer of {endpoint} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// What was called.
        endpoint: String,
        /// The limit in bytes.
        limit: u64,
    },
}

/// `90s` → `1m30s`.
pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    let ms = d.subsec_millis();
    match (s / 60, s % 60) {
        (0, 0) => format!("{ms}ms"),
        (0, sec) if ms > 0 => format!("{sec}.{:01}s", ms / 100),
        (0, sec) => format!("{sec}s"),
        (m, 0) => format!("{m}m"),
        (m, sec) => format!("{m}m{sec}s"),
    }
}

impl QualysError {
    /// The documented exit code: 2 configuration, 4 API, 5 no result.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::UnknownPlatform(_)
            | Self::BadUrl { .. }
            | Self::MissingCredentials(_)
            | Self::CaBundle { .. }
            | Self::ClientSetup(_) => ExitCode::Config,
            Self::AuthRejected { .. }
            | Self::BadToken { .. }
            | Self::NoCsModule { .. }
            | Self::Http { .. }
            | Self::ProxyAuth { .. }
            | Self::Tls { .. }
            | Self::GaveUp { .. }
            | Self::TooLarge { .. }
            | Self::BadReport { .. } => ExitCode::Api,
            Self::Timeout { .. } | Self::ScanFailed { .. } | Self::Cancelled { .. } => {
                ExitCode::NoResult
            }
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::UnknownPlatform(_) => {
                "use one of `qcs platforms` (US1…US4, EU1…EU3, IN1, CA1, AE1, UK1, AU1, KSA1), or --gateway-url for a private platform"
            }
            Self::BadUrl { .. } => "give the full URL, e.g. https://gateway.qg2.apps.qualys.com",
            Self::MissingCredentials(_) => {
                "set QUALYS_USERNAME and QUALYS_PASSWORD (or QUALYS_CLIENT_ID and QUALYS_CLIENT_SECRET with --auth oauth), or their *_FILE variants"
            }
            Self::CaBundle { .. } => {
                "give a readable PEM file with one or more CA certificates (--ca-bundle / QUALYS_CA_BUNDLE)"
            }
            Self::ClientSetup(_) => "check the proxy and TLS settings",
            Self::AuthRejected { status: 401, .. } => {
                "check the credentials, and that the account has API access; for OAuth clients check --auth oauth"
            }
            Self::AuthRejected { .. } => {
                "check the gateway URL (--platform, --api-url, --gateway-url) and the credentials"
            }
            Self::BadToken { .. } => {
                "check that the gateway URL points at a Qualys gateway (not the portal or a proxy page)"
            }
            Self::NoCsModule { .. } => {
                "ask your Qualys administrator to enable Container Security for this user"
            }
            Self::Http { status: 400, .. } => {
                "this is a bug in qcs or an API change; please report it with the message"
            }
            Self::Http { status: 401, .. } => {
                "the token was refused even after re-authenticating; check the account's API access"
            }
            Self::Http { status: 403, .. } => {
                "the user lacks access to Container Security or to this image; check its role and scope"
            }
            Self::Http { .. } => "check the gateway URL and the service status",
            Self::ProxyAuth { .. } => {
                "set QCS_PROXY_USERNAME and QCS_PROXY_PASSWORD (or credentials in HTTPS_PROXY) for the proxy"
            }
            Self::Tls { reason, .. } if transport::not_tls(reason) => {
                "the server did not answer in TLS: check the URL's port and scheme (a plain-HTTP server, or a proxy given as the gateway, answers like this)"
            }
            Self::Tls { .. } => {
                "if a corporate proxy or private platform uses its own CA, pass it with --ca-bundle / QUALYS_CA_BUNDLE"
            }
            Self::GaveUp { .. } => {
                "the gateway or the network kept failing; check connectivity, the proxy, and the Qualys status page, then retry"
            }
            Self::Timeout { .. } => {
                "check that the CI/CD sensor runs and sees the image, or raise the wait limit (--timeout)"
            }
            Self::ScanFailed { .. } => {
                "look at the image in the Qualys portal (Container Security > Images) and at the sensor's log; tag the image again (run qcs scan again) for a new scan"
            }
            Self::Cancelled { .. } => {
                "the run was interrupted; run qcs scan again for a verdict on this image"
            }
            Self::TooLarge { .. } => {
                "raise the limit with the environment variable QCS_MAX_ANSWER_SIZE (e.g. QCS_MAX_ANSWER_SIZE=1GiB) if such an answer is expected; otherwise check the gateway URL"
            }
            Self::BadReport { .. } => {
                "Qualys answered image details that qcs cannot judge; run with -vv to see the answer and report it (qcs never passes an image on a report it cannot read)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(fmt_duration(Duration::from_secs(600)), "10m");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(fmt_duration(Duration::from_millis(20)), "20ms");
    }
}
