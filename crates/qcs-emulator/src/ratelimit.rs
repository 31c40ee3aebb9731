//! Rolling-window rate limiting of the CS API, with the gateway's headers (`qualys-api.md` §6.2).
//!
//! Every `/csapi/*` response carries `X-RateLimit-Limit`, `X-RateLimit-Window-Sec` and
//! `X-RateLimit-Remaining`; past the limit the answer is 429 with `Retry-After` and
//! `X-RateLimit-ToWait-Sec`. The window is measured on the emulator [`Clock`](crate::clock::Clock),
//! so tests reopen it by advancing the clock.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Limits for the CS API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Calls allowed per window on `/csapi/vxx/images/**` (the real gateway: 5000).
    pub limit: u32,
    /// Window length in seconds (the real gateway: 60).
    pub window_secs: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            limit: 5000,
            window_secs: 60,
        }
    }
}

/// The outcome of counting one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the call may proceed.
    pub allowed: bool,
    /// `X-RateLimit-Limit`.
    pub limit: u32,
    /// `X-RateLimit-Window-Sec`.
    pub window_secs: u64,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// Seconds until the next call is allowed (only meaningful when refused).
    pub to_wait_secs: u64,
}

/// A rolling window of call times.
#[derive(Debug)]
pub struct RateLimiter {
    inner: Mutex<(RateLimitConfig, VecDeque<u64>)>,
}

impl RateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            inner: Mutex::new((config, VecDeque::new())),
        }
    }

    /// Replaces the limits (keeps the calls already counted).
    pub fn reconfigure(&self, config: RateLimitConfig) {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0 = config;
    }

    /// Where the window stands at `now_ms`, without counting a call.
    pub fn peek(&self, now_ms: u64) -> RateDecision {
        let g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (config, calls) = &*g;
        let window_ms = config.window_secs.saturating_mul(1000);
        let used = calls
            .iter()
            .filter(|&&t| t.saturating_add(window_ms) > now_ms)
            .count();
        let used = u32::try_from(used).unwrap_or(u32::MAX);
        RateDecision {
            allowed: used < config.limit,
            limit: config.limit,
            window_secs: config.window_secs,
            remaining: config.limit.saturating_sub(used),
            to_wait_secs: 0,
        }
    }

    /// Counts a call at `now_ms` (refused calls are not counted).
    pub fn check(&self, now_ms: u64) -> RateDecision {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (config, calls) = &mut *g;
        let window_ms = config.window_secs.saturating_mul(1000);
        while calls
            .front()
            .is_some_and(|&t| t.saturating_add(window_ms) <= now_ms)
        {
            calls.pop_front();
        }
        let used = u32::try_from(calls.len()).unwrap_or(u32::MAX);
        if used >= config.limit {
            let oldest = calls.front().copied().unwrap_or(now_ms);
            let wait_ms = oldest.saturating_add(window_ms).saturating_sub(now_ms);
            return RateDecision {
                allowed: false,
                limit: config.limit,
                window_secs: config.window_secs,
                remaining: 0,
                to_wait_secs: wait_ms.div_ceil(1000).max(1),
            };
        }
        calls.push_back(now_ms);
        RateDecision {
            allowed: true,
            limit: config.limit,
            window_secs: config.window_secs,
            remaining: config.limit - used - 1,
            to_wait_secs: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_reopens_as_the_window_rolls() {
        let r = RateLimiter::new(RateLimitConfig {
            limit: 3,
            window_secs: 60,
        });
        assert_eq!(r.peek(0).remaining, 3);
        assert_eq!(r.check(0).remaining, 2);
        assert_eq!(r.peek(0).remaining, 2, "peeking does not count");
        assert_eq!(r.check(10_000).remaining, 1);
        assert_eq!(r.check(20_000).remaining, 0);
        let d = r.check(30_000);
        assert!(!d.allowed);
        assert_eq!(d.to_wait_secs, 30);
        let d = r.check(60_000);
        assert!(d.allowed, "the call at 0 left the window");
        assert!(!r.check(60_500).allowed);
    }
}
