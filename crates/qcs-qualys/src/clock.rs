//! Time behind a trait: [`SystemClock`] in production; tests plug in a clock that moves an
//! emulator's clock instead of sleeping, so waits of minutes take milliseconds.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future that ends when a sleep is over.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Now and sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> jiff::Timestamp;
    /// Sleeps for `d` (of this clock's time).
    fn sleep(&self, d: Duration) -> Sleep<'_>;
}

/// Wall time and Tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }

    fn sleep(&self, d: Duration) -> Sleep<'_> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// `a - b` as a duration, zero when `a` is earlier.
pub fn since(a: jiff::Timestamp, b: jiff::Timestamp) -> Duration {
    let diff = a.as_millisecond().saturating_sub(b.as_millisecond());
    Duration::from_millis(u64::try_from(diff).unwrap_or(0))
}

/// `t + d`, saturating.
pub fn add(t: jiff::Timestamp, d: Duration) -> jiff::Timestamp {
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4);
    jiff::Timestamp::from_millisecond(t.as_millisecond().saturating_add(ms))
        .unwrap_or(jiff::Timestamp::MAX)
}
