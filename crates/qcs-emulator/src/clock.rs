//! The emulator's clock: wall time plus an offset that tests move forward with `advance`.
//!
//! Every time the emulator reasons about (token expiry, lifecycle steps, rate-limit windows,
//! QQL `now`) comes from one [`Clock`], so a test can skip minutes without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A shared clock in epoch milliseconds. Cloning gives another handle on the same clock.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
struct ClockInner {
    /// `Some(t)`: a frozen clock standing at `t` plus the offset; `None`: wall time plus offset.
    frozen_at: Option<u64>,
    offset_ms: AtomicU64,
}

impl Clock {
    /// A clock that follows wall time (plus whatever was advanced).
    pub fn system() -> Self {
        Clock {
            inner: Arc::new(ClockInner {
                frozen_at: None,
                offset_ms: AtomicU64::new(0),
            }),
        }
    }

    /// A clock that stands still at `start_ms` and only moves by [`Clock::advance`].
    pub fn frozen(start_ms: u64) -> Self {
        Clock {
            inner: Arc::new(ClockInner {
                frozen_at: Some(start_ms),
                offset_ms: AtomicU64::new(0),
            }),
        }
    }

    /// Now, in epoch milliseconds.
    pub fn now_ms(&self) -> u64 {
        let base = self.inner.frozen_at.unwrap_or_else(wall_ms);
        base.saturating_add(self.inner.offset_ms.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `ms` milliseconds and returns the new now.
    pub fn advance(&self, ms: u64) -> u64 {
        self.inner.offset_ms.fetch_add(ms, Ordering::SeqCst);
        self.now_ms()
    }

    /// Whether the clock is frozen (moves only by `advance`).
    pub fn is_frozen(&self) -> bool {
        self.inner.frozen_at.is_some()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Formats epoch milliseconds as an RFC 3339 UTC timestamp (`2024-06-01T12:00:00Z`).
pub fn rfc3339(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(
            || ms.to_string(),
            |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_by_advance() {
        let c = Clock::frozen(1_000);
        assert_eq!(c.now_ms(), 1_000);
        let other = c.clone();
        assert_eq!(other.advance(500), 1_500);
        assert_eq!(c.now_ms(), 1_500);
        assert!(c.is_frozen());
    }

    #[test]
    fn system_clock_is_near_wall_time_and_advances() {
        let c = Clock::system();
        let before = wall_ms();
        let t = c.advance(60_000);
        assert!(t >= before + 60_000);
        assert!(!c.is_frozen());
        assert_eq!(rfc3339(1_717_243_200_000), "2024-06-01T12:00:00Z");
    }
}
