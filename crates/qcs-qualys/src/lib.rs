//! The Qualys Container Security (CS) API client used by `qcs`.
//!
//! - [`platform`]: the Qualys platforms (US1…KSA1) and the mapping of API/portal URLs to the
//!   gateway;
//! - [`secret`]: credentials in wrapper types that never print;
//! - [`token`]: reading the JWT (`sub`, `exp`, `modulesAllowed`);
//! - [`auth`]: basic and OAuth authentication, one token shared and refreshed;
//! - [`transport`]: the HTTP client (rustls, extra trust anchors, proxy, timeouts, user agent);
//! - [`retry`]: backoff with jitter, server wait hints and the shared rate limiter;
//! - [`clock`]: time and sleeping behind a trait, so tests can drive an emulator's clock;
//! - [`client`]: [`QualysClient`], the authenticated, retrying CS API calls;
//! - [`wait`]: waiting for an image's scan result, one or many images at once;
//! - [`batch`]: one list call for many images while they wait for their scans (opt-in);
//! - [`error`]: [`QualysError`], each failure with its exit code and a hint.

pub mod auth;
pub mod batch;
pub mod client;
pub mod clock;
pub mod error;
pub mod platform;
pub mod retry;
pub mod secret;
pub mod token;
pub mod transport;
pub mod wait;

pub use auth::{AuthKind, Credentials};
pub use client::{ClientConfig, ConnectionInfo, QualysClient};
pub use clock::{Clock, SystemClock};
pub use error::QualysError;
pub use platform::{Gateway, PLATFORMS, Platform};
pub use retry::{RateLimit, RetryPolicy};
pub use secret::{ExposeSecret, SecretString};
pub use token::TokenInfo;
pub use transport::{ProxyConfig, TlsConfig};
pub use wait::{Callback, Interval, ScanResult, WaitEvent, WaitOptions, WaitRequest, WaitState};

/// The `User-Agent` every request carries: `qcs/<version>`.
pub const USER_AGENT: &str = concat!("qcs/", env!("CARGO_PKG_VERSION"));
