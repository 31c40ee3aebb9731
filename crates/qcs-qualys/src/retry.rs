//! Retrying: exponential backoff with jitter, the server's wait hints (`Retry-After`,
//! `X-RateLimit-ToWait-Sec`), and [`Limiter`], the one rate limiter all requests of a client
//! share (a steady pace, and a pause for everyone after a 429).

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng as _;
use reqwest::header::HeaderMap;

use crate::clock::{self, Clock};

/// How failed requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first backoff.
    pub initial: Duration,
    /// The largest backoff.
    pub max: Duration,
    /// The largest server wait hint honoured (a longer one is cut to this).
    pub max_hint: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_hint: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `attempt` (1-based): `initial × 2^(attempt-1)`, capped,
    /// with "equal jitter" (between half and all of it).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let full = exp.min(self.max);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_ms)
        };
        half + Duration::from_millis(extra)
    }
}

/// The server's wait hint: `Retry-After` (seconds; an HTTP date is not used by the gateway)
/// or `X-RateLimit-ToWait-Sec`, whichever is larger.
pub fn wait_hint(headers: &HeaderMap) -> Option<Duration> {
    let secs = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    };
    match (secs("retry-after"), secs("x-ratelimit-towait-sec")) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The pace of requests one client may make.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second at most (the gateway allows 5000 per 60 s on `/images/**`; the
    /// default keeps well below: 20/s).
    pub per_second: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit { per_second: 20.0 }
    }
}

#[derive(Debug)]
struct LimiterState {
    next_slot: jiff::Timestamp,
    blocked_until: jiff::Timestamp,
}

/// A rate limiter shared by every request of a client.
#[derive(Debug)]
pub struct Limiter {
    spacing: Duration,
    state: Mutex<LimiterState>,
}

impl Limiter {
    /// A limiter with this pace.
    pub fn new(limit: RateLimit) -> Self {
        let spacing = if limit.per_second > 0.0 && limit.per_second.is_finite() {
            Duration::from_secs_f64(1.0 / limit.per_second)
        } else {
            Duration::ZERO
        };
        Limiter {
            spacing,
            state: Mutex::new(LimiterState {
                next_slot: jiff::Timestamp::UNIX_EPOCH,
                blocked_until: jiff::Timestamp::UNIX_EPOCH,
            }),
        }
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self, clock: &dyn Clock) {
        let now = clock.now();
        let wait = {
            let mut s = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let slot = now.max(s.next_slot).max(s.blocked_until);
            s.next_slot = clock::add(slot, self.spacing);
            clock::since(slot, now)
        };
        if !wait.is_zero() {
            clock.sleep(wait).await;
        }
    }

    /// Holds every request back for `d` from now (after a 429 with a wait hint).
    pub fn block_for(&self, clock: &dyn Clock, d: Duration) {
        let until = clock::add(clock.now(), d);
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.blocked_until = s.blocked_until.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let p = RetryPolicy::default();
        for attempt in 1..30 {
            let b = p.backoff(attempt);
            let full = p
                .initial
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(p.max);
            assert!(b >= full / 2 && b <= full, "{attempt}: {b:?}");
        }
    }

    #[test]
    fn hints_take_the_larger() {
        let mut h = HeaderMap::new();
        assert_eq!(wait_hint(&h), None);
        h.insert("Retry-After", HeaderValue::from_static("3"));
        assert_eq!(wait_hint(&h), Some(Duration::from_secs(3)));
        h.insert("X-RateLimit-ToWait-Sec", HeaderValue::from_static("7"));
        assert_eq!(wait_hint(&h), Some(Duration::from_secs(7)));
        h.insert("Retry-After", HeaderValue::from_static("soon"));
        assert_eq!(wait_hint(&h), Some(Duration::from_secs(7)));
    }
}
