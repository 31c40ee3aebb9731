//! Retrying: exponential backoff with jitter, the server's wait hints (`Retry-After`,
//! `X-RateLimit-ToWait-Sec`), and [`Limiter`], the one rate limiter all requests of a client
//! share (a budget of calls per rolling window, and a pause for everyone after a 429).

use std::collections::VecDeque;
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

/// The calls one client may make: at most `calls` in any `window` (rolling). The gateway allows
/// 5000 calls per 60 s on `/csapi/v1.3/images/**`, counted per subscription (`qualys-api.md`
/// §6.2); the default takes half of that, leaving the rest to the subscription's other jobs.
/// Within the budget calls go out at once (the wait's `concurrency` bounds how many are in
/// flight), so a burst of details calls for many finished images is not spread out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Calls at most per window.
    pub calls: u32,
    /// The rolling window.
    pub window: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            calls: 2500,
            window: Duration::from_secs(60),
        }
    }
}

impl RateLimit {
    /// No limit (tests, benchmarks against an emulator).
    pub fn unlimited() -> Self {
        RateLimit {
            calls: u32::MAX,
            window: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
struct LimiterState {
    /// When the calls of the current window were (or are to be) sent, oldest first.
    sent: VecDeque<jiff::Timestamp>,
    blocked_until: jiff::Timestamp,
}

/// A rate limiter shared by every request of a client.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    state: Mutex<LimiterState>,
}

impl Limiter {
    /// A limiter with this budget.
    pub fn new(limit: RateLimit) -> Self {
        Limiter {
            limit,
            state: Mutex::new(LimiterState {
                sent: VecDeque::new(),
                blocked_until: jiff::Timestamp::UNIX_EPOCH,
            }),
        }
    }

    /// Waits for this request's turn: at once while the window has room, else until its
    /// oldest call leaves the window; never before a 429's pause is over.
    pub async fn acquire(&self, clock: &dyn Clock) {
        let now = clock.now();
        let wait = {
            let mut s = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let window = self.limit.window;
            while s
                .sent
                .front()
                .is_some_and(|&t| clock::add(t, window) <= now)
            {
                s.sent.pop_front();
            }
            let calls = usize::try_from(self.limit.calls.max(1)).unwrap_or(usize::MAX);
            // The call `calls` places back must have left the window before this one goes.
            let room = s
                .sent
                .len()
                .checked_sub(calls)
                .and_then(|i| s.sent.get(i))
                .map_or(now, |&t| clock::add(t, window));
            let back = s.sent.back().copied().unwrap_or(now);
            let slot = now.max(room).max(s.blocked_until).max(back);
            s.sent.push_back(slot);
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

    /// A clock that only moves when told to.
    #[derive(Debug)]
    struct Frozen(Mutex<jiff::Timestamp>);

    impl Clock for Frozen {
        fn now(&self) -> jiff::Timestamp {
            *self.0.lock().unwrap()
        }

        fn sleep(&self, d: Duration) -> clock::Sleep<'_> {
            let mut t = self.0.lock().unwrap();
            *t = clock::add(*t, d);
            Box::pin(std::future::ready(()))
        }
    }

    #[tokio::test]
    async fn the_window_lets_a_burst_through_then_waits_for_room() {
        let clock = Frozen(Mutex::new(jiff::Timestamp::from_second(1_000).unwrap()));
        let l = Limiter::new(RateLimit {
            calls: 3,
            window: Duration::from_secs(60),
        });
        let start = clock.now();
        for _ in 0..3 {
            l.acquire(&clock).await;
        }
        assert_eq!(clock.now(), start, "three calls fit the window at once");
        l.acquire(&clock).await;
        assert_eq!(clock::since(clock.now(), start), Duration::from_secs(60));
        // A 429's pause holds the next call back even with room in the window.
        l.block_for(&clock, Duration::from_secs(5));
        let before = clock.now();
        l.acquire(&clock).await;
        assert_eq!(clock::since(clock.now(), before), Duration::from_secs(5));
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
