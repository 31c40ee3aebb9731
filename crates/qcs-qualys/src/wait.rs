//! Waiting for a scan result (`plugin-behaviour.md` §1 step 7, `qualys-api.md` §3–§4):
//! poll `GET /csapi/v1.3/images?filter=sha:<sha> and lastScanned:[now-Ns ... now]` until a scan
//! made after tagging shows (204 = not yet), then `GET /csapi/v1.3/images/<sha>` until
//! `vulnerabilities` is an array (`null` = processing). The interval starts short and grows to
//! a cap (or is fixed); many images are waited on at once with a bound on requests in flight,
//! one shared token and one shared rate limiter; each state change goes to a callback.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use qcs_core::report::{ImageReport, Vulnerabilities};
use tokio::sync::Semaphore;

use crate::client::QualysClient;
use crate::clock;
use crate::error::QualysError;

/// How often to poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    /// Short first checks, growing by `factor` up to `max`; back to `first` when the state
    /// changes (a processing image is usually done soon).
    Adaptive {
        /// The first interval.
        first: Duration,
        /// The cap.
        max: Duration,
        /// Growth per poll (≥ 1).
        factor: f64,
    },
    /// Always this interval.
    Fixed(Duration),
}

impl Default for Interval {
    fn default() -> Self {
        Interval::Adaptive {
            first: Duration::from_secs(1),
            max: Duration::from_secs(10),
            factor: 1.5,
        }
    }
}

/// Settings of a wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitOptions {
    /// Give up after this long (from the start of the wait).
    pub timeout: Duration,
    /// Poll interval.
    pub interval: Interval,
    /// Requests in flight at once, over all images.
    pub concurrency: usize,
    /// Clock-skew allowance added to the `lastScanned` window.
    pub skew: Duration,
    /// Images per list call while waiting for their scans (`(sha:a or sha:b …) and
    /// lastScanned:[…]`; see [`crate::batch`]). 1 (the default): one list call per image, as
    /// the original does.
    pub batch: usize,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            interval: Interval::default(),
            concurrency: 8,
            skew: Duration::from_secs(5),
            batch: 1,
        }
    }
}

/// One image to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitRequest {
    /// The 64-hex image sha.
    pub sha: String,
    /// When it was tagged for the sensor: only a scan after this (less the skew) counts.
    pub tagged_at: jiff::Timestamp,
}

/// Where a wait stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitState {
    /// Not scanned since tagging (list: 204).
    NotScanned,
    /// Scanned; the platform is computing vulnerabilities (`vulnerabilities: null`).
    Processing,
    /// A failed call is being retried (the reason).
    Retrying(String),
    /// The result is here.
    Done,
    /// Given up: the error.
    Failed(String),
}

impl std::fmt::Display for WaitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitState::NotScanned => f.write_str("not scanned yet"),
            WaitState::Processing => f.write_str("scanned, vulnerabilities being processed"),
            WaitState::Retrying(r) => write!(f, "retrying: {r}"),
            WaitState::Done => f.write_str("done"),
            WaitState::Failed(e) => write!(f, "failed: {e}"),
        }
    }
}

/// A state change of one image.
#[derive(Debug, Clone)]
pub struct WaitEvent {
    /// The image sha.
    pub sha: String,
    /// Its new state.
    pub state: WaitState,
    /// API calls made for it so far.
    pub calls: u32,
    /// Time spent waiting so far.
    pub elapsed: Duration,
}

/// A complete scan result.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// The image sha.
    pub sha: String,
    /// The parsed report (`vulnerabilities` is a list).
    pub report: ImageReport,
    /// The details answer as received, for saving.
    pub raw: Bytes,
    /// API calls made for this image.
    pub calls: u32,
    /// From the start of the wait to the result.
    pub waited: Duration,
}

/// Receives state changes.
pub type Callback = Arc<dyn Fn(&WaitEvent) + Send + Sync>;

pub(crate) struct Pacer {
    interval: Interval,
    next: Duration,
}

impl Pacer {
    pub(crate) fn new(interval: Interval) -> Self {
        let next = match interval {
            Interval::Adaptive { first, .. } => first,
            Interval::Fixed(d) => d,
        };
        Pacer { interval, next }
    }

    pub(crate) fn step(&mut self) -> Duration {
        let now = self.next;
        if let Interval::Adaptive { max, factor, .. } = self.interval {
            self.next = now.mul_f64(factor.max(1.0)).min(max);
        }
        now
    }

    pub(crate) fn reset(&mut self) {
        *self = Pacer::new(self.interval);
    }
}

/// The list filter for a scan after `tagged_at`.
pub fn scan_filter(
    sha: &str,
    now: jiff::Timestamp,
    tagged_at: jiff::Timestamp,
    skew: Duration,
) -> String {
    let window = clock::since(now, tagged_at) + skew;
    let secs = window.as_secs() + u64::from(window.subsec_nanos() > 0);
    format!("sha:{sha} and lastScanned:[now-{}s ... now]", secs.max(1))
}

/// Where a wait starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Poll the list for the scan.
    List,
    /// The batched list saw the scan: go to the details.
    Scanned,
    /// The batched list reached the deadline without seeing the scan.
    TimedOut,
}

struct Tracker<'a> {
    sha: &'a str,
    state: Option<WaitState>,
    start: jiff::Timestamp,
    clock: &'a dyn clock::Clock,
    on_event: &'a Callback,
}

impl Tracker<'_> {
    /// Records a state; a change is logged, reported, and resets an adaptive interval.
    fn set(&mut self, s: WaitState, calls: u32, pacer: &mut Pacer) {
        if self.state.as_ref() == Some(&s) {
            return;
        }
        if matches!(s, WaitState::NotScanned | WaitState::Processing) {
            pacer.reset();
        }
        tracing::debug!(sha = %self.sha, state = %s, calls, "wait state");
        (self.on_event)(&WaitEvent {
            sha: self.sha.to_owned(),
            state: s.clone(),
            calls,
            elapsed: clock::since(self.clock.now(), self.start),
        });
        self.state = Some(s);
    }
}

impl QualysClient {
    /// Waits for one image's result.
    pub async fn wait_for_scan(
        &self,
        request: &WaitRequest,
        options: &WaitOptions,
        on_event: Callback,
    ) -> Result<ScanResult, QualysError> {
        let start = self.inner.clock.now();
        let sem = Semaphore::new(options.concurrency.max(1));
        self.wait_one(request, options, start, &sem, &on_event)
            .await
    }

    /// Waits for many images at once (at most `options.concurrency` requests in flight);
    /// results come back in the order of `requests`.
    pub async fn wait_for_scans(
        &self,
        requests: Vec<WaitRequest>,
        options: &WaitOptions,
        on_event: Callback,
    ) -> Vec<(WaitRequest, Result<ScanResult, QualysError>)> {
        let start = self.inner.clock.now();
        let sem = Arc::new(Semaphore::new(options.concurrency.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let mut signals = Vec::new();
        let batched = options.batch > 1 && requests.len() > 1;
        for (i, req) in requests.iter().cloned().enumerate() {
            let client = self.clone();
            let sem = sem.clone();
            let cb = on_event.clone();
            let opts = *options;
            let (tx, mut rx) = tokio::sync::watch::channel(crate::batch::Signal::Pending);
            signals.push(tx);
            set.spawn(async move {
                let from = if batched {
                    match crate::batch::wait_signal(&mut rx).await {
                        crate::batch::Signal::Scanned => Start::Scanned,
                        crate::batch::Signal::TimedOut => Start::TimedOut,
                        crate::batch::Signal::Pending | crate::batch::Signal::Alone => Start::List,
                    }
                } else {
                    Start::List
                };
                let r = client.wait_from(&req, &opts, start, &sem, &cb, from).await;
                (i, r)
            });
        }
        if batched {
            let client = self.clone();
            let reqs = requests.clone();
            let opts = *options;
            let cb = on_event.clone();
            let sem = sem.clone();
            set.spawn(async move {
                crate::batch::list_in_batches(&client, &reqs, &opts, start, &sem, &cb, signals)
                    .await;
                (usize::MAX, Err(QualysError::ClientSetup(String::new())))
            });
        }
        let mut results: Vec<Option<Result<ScanResult, QualysError>>> =
            requests.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
            }
        }
        requests
            .into_iter()
            .zip(results)
            .map(|(req, r)| {
                let r = r.unwrap_or_else(|| {
                    Err(QualysError::ClientSetup(format!(
                        "the wait for image {} stopped unexpectedly",
                        req.sha
                    )))
                });
                (req, r)
            })
            .collect()
    }

    async fn wait_one(
        &self,
        req: &WaitRequest,
        opts: &WaitOptions,
        start: jiff::Timestamp,
        sem: &Semaphore,
        on_event: &Callback,
    ) -> Result<ScanResult, QualysError> {
        self.wait_from(req, opts, start, sem, on_event, Start::List)
            .await
    }

    async fn wait_from(
        &self,
        req: &WaitRequest,
        opts: &WaitOptions,
        start: jiff::Timestamp,
        sem: &Semaphore,
        on_event: &Callback,
        from: Start,
    ) -> Result<ScanResult, QualysError> {
        let clock = self.inner.clock.clone();
        let deadline = clock::add(start, opts.timeout);
        let mut pacer = Pacer::new(opts.interval);
        let mut calls: u32 = 0;
        let mut scanned = from == Start::Scanned;
        let mut last_bad: Option<String>;
        let retried = AtomicBool::new(false);
        let mut tracker = Tracker {
            sha: &req.sha,
            state: None,
            start,
            clock: &*clock,
            on_event,
        };
        if from == Start::TimedOut {
            let err = QualysError::Timeout {
                sha: req.sha.clone(),
                waited: clock::since(clock.now(), start),
                last_state: WaitState::NotScanned.to_string(),
            };
            tracker.set(WaitState::Failed(err.to_string()), calls, &mut pacer);
            return Err(err);
        }
        loop {
            let answer = {
                let _permit = sem.acquire().await;
                calls += 1;
                let hook = |reason: &str| {
                    retried.store(true, Ordering::Relaxed);
                    on_event(&WaitEvent {
                        sha: req.sha.clone(),
                        state: WaitState::Retrying(reason.to_owned()),
                        calls,
                        elapsed: clock::since(clock.now(), start),
                    });
                };
                if scanned {
                    self.image_details_observed(&req.sha, deadline, Some(&hook))
                        .await
                } else {
                    self.list_scans_observed(
                        &req.sha,
                        req.tagged_at,
                        opts.skew,
                        deadline,
                        Some(&hook),
                    )
                    .await
                }
            };
            if retried.swap(false, Ordering::Relaxed) {
                // The callback saw `Retrying`: the next state is news again.
                tracker.state = None;
            }
            let answer = match answer {
                Ok(a) => a,
                Err(e) => {
                    tracker.set(WaitState::Failed(e.to_string()), calls, &mut pacer);
                    return Err(e);
                }
            };
            match (scanned, answer.status) {
                (false, 200) => {
                    scanned = true;
                    continue;
                }
                (false, _) => {
                    last_bad = None;
                    tracker.set(WaitState::NotScanned, calls, &mut pacer);
                }
                (true, 200) => match ImageReport::from_json(&answer.body) {
                    Ok(report) => match report.vulnerabilities {
                        Vulnerabilities::List(_) => {
                            tracker.set(WaitState::Done, calls, &mut pacer);
                            return Ok(ScanResult {
                                sha: req.sha.clone(),
                                report,
                                raw: answer.body,
                                calls,
                                waited: clock::since(clock.now(), start),
                            });
                        }
                        _ => {
                            last_bad = None;
                            tracker.set(WaitState::Processing, calls, &mut pacer);
                        }
                    },
                    Err(e) => {
                        let why = format!("the image details are not usable: {e}");
                        tracker.set(WaitState::Retrying(why.clone()), calls, &mut pacer);
                        last_bad = Some(why);
                    }
                },
                // Listed as scanned, but the details do not know it (yet): keep asking.
                (true, _) => {
                    last_bad = None;
                    tracker.set(WaitState::Processing, calls, &mut pacer);
                }
            }
            let now = clock.now();
            if now >= deadline {
                let waited = clock::since(now, start);
                let err = match last_bad {
                    Some(last) => QualysError::GaveUp {
                        method: "GET",
                        endpoint: format!(
                            "/csapi/v1.3/images/{} at {}",
                            req.sha, self.inner.gateway.url
                        ),
                        attempts: calls,
                        last,
                    },
                    None => QualysError::Timeout {
                        sha: req.sha.clone(),
                        waited,
                        last_state: tracker
                            .state
                            .as_ref()
                            .map_or_else(|| "no answer yet".to_owned(), ToString::to_string),
                    },
                };
                tracker.set(WaitState::Failed(err.to_string()), calls, &mut pacer);
                return Err(err);
            }
            let pause = pacer.step().min(clock::since(deadline, now));
            clock.sleep(pause.max(Duration::from_millis(1))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_the_time_since_tagging_and_the_skew() {
        let t = jiff::Timestamp::from_second(1_000).unwrap();
        let now = jiff::Timestamp::from_millisecond(1_042_500).unwrap();
        assert_eq!(
            scan_filter("ab", now, t, Duration::from_secs(5)),
            "sha:ab and lastScanned:[now-48s ... now]"
        );
        assert_eq!(
            scan_filter("ab", t, now, Duration::ZERO),
            "sha:ab and lastScanned:[now-1s ... now]"
        );
    }

    #[test]
    fn adaptive_interval_grows_to_its_cap() {
        let mut p = Pacer::new(Interval::default());
        let steps: Vec<u128> = (0..8).map(|_| p.step().as_millis()).collect();
        assert_eq!(steps, [1000, 1500, 2250, 3375, 5062, 7593, 10000, 10000]);
        p.reset();
        assert_eq!(p.step(), Duration::from_secs(1));
        let mut f = Pacer::new(Interval::Fixed(Duration::from_secs(30)));
        assert_eq!(
            (f.step(), f.step()),
            (Duration::from_secs(30), Duration::from_secs(30))
        );
    }
}
