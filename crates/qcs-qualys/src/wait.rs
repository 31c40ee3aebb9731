//! Waiting for scan results (`plugin-behaviour.md` §1 step 7, `qualys-api.md` §3–§4), in
//! rounds: each round asks the list about every waiting image
//! (`sha:<sha> and lastScanned:[now-Ns ... now]`, or one call for a group of images, see
//! [`crate::batch`]): absent = not scanned since tagging, listed with `vulnerabilities: null` =
//! processing, listed with counts = processed; a processed image's details
//! (`GET /csapi/v1.3/images/<sha>`) are fetched in the same round. Between rounds the interval
//! starts short and grows to a cap (or is fixed); the cap shrinks as more images share each
//! list call, so that no image costs more calls than the original's fixed 30 s schedule. All
//! calls share one token and one rate limiter, with a bound on calls in flight; each state
//! change goes to a callback.
//!
//! Images are waited on independently: a round starts the calls of the images with no call in
//! flight, every answer is read as it comes (a list answer that shows an image processed starts
//! its details call at once), so a slow or hanging call delays only its own images. Every
//! request ends by the deadline (its timeout is cut to what is left), and
//! [`QualysClient::wait_for_scans_until`] ends the wait at once when its `cancel` future ends,
//! keeping the results in hand.
//!
//! A details document is the result only when every signal present agrees
//! (`qualys-api.md` §4.8): it is for the image asked about (`sha`, and `imageId` when present),
//! `vulnerabilities` is an array, `lastScanned` is set and at or after the tagging time less
//! [`CLOCK_SKEW`], and `scanStatus`, when present, says the scan succeeded. A document from
//! before the tagging (a re-scan's previous document) means "not scanned yet"; a failed scan
//! (`scanStatus` a failure value, `scanErrorCode` set) ends the image's wait at once with
//! [`QualysError::ScanFailed`].

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use qcs_core::report::{ImageReport, ReportError, ScanState, Vulnerabilities};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::batch::{self, Seen};
use crate::client::{Answer, QualysClient};
use crate::clock;
use crate::error::QualysError;

/// The original polls each image every 30 s (`plugin-behaviour.md` §1 step 7): the call budget
/// of an adaptive wait earns one call per image per this long (see `Run::pause`).
pub const CALL_BUDGET: Duration = Duration::from_secs(30);

/// An image listed as processing also gets a details call this often, in case the platform's
/// list never fills in its counts (the list shape is not confirmed for every platform).
pub const PROCESSING_DETAILS_EVERY: Duration = Duration::from_secs(30);

/// The clock-skew allowance of the window: a scan counts when its `lastScanned` is at or after
/// the tagging time less this. The tagging time comes from this machine's clock and
/// `lastScanned` from Qualys's; two minutes covers a CI runner whose clock is off by that much,
/// while a previous scan of the same sha (the same image content) older than that is refused.
pub const CLOCK_SKEW: Duration = Duration::from_secs(120);

/// Unusable details answers in a row (a needed field unreadable) before the image ends with
/// [`QualysError::BadReport`]: a glitch is asked again, a report that stays unreadable is an
/// error, never a pass.
pub const BAD_REPORTS_IN_A_ROW: u32 = 3;

/// How long the wait reads the answers of calls still in flight when the deadline comes (they
/// end by the deadline themselves; this only bounds one that would not).
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// 5xx answers to one grouped list call before the run falls back to one image per call.
pub const GROUP_5XX_LIMIT: u32 = 2;

/// How often to poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    /// As often as the call budget affords (see [`CALL_BUDGET`]), never more often than every
    /// `first`, never less often than every `max`.
    Adaptive {
        /// The shortest pause between rounds.
        first: Duration,
        /// The longest pause between rounds.
        max: Duration,
    },
    /// Always this interval.
    Fixed(Duration),
}

impl Default for Interval {
    fn default() -> Self {
        Interval::Adaptive {
            first: Duration::from_secs(1),
            max: Duration::from_secs(10),
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
    /// Clock-skew allowance of the `lastScanned` window ([`CLOCK_SKEW`]).
    pub skew: Duration,
    /// Images per list call (`(sha:a or sha:b …) and lastScanned:[…]`; see [`crate::batch`]).
    /// 1: one list call per image, as the original does. A grouped answer that names an image
    /// not asked about or outside the window, a 4xx (but 414) or [`GROUP_5XX_LIMIT`] 5xx
    /// answers switch the run to one image per call; a 414 (URI too long) halves the group.
    pub batch: usize,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            interval: Interval::default(),
            concurrency: 8,
            skew: CLOCK_SKEW,
            batch: DEFAULT_BATCH,
        }
    }
}

/// Images per list call by default.
pub const DEFAULT_BATCH: usize = 50;

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
    /// API calls that asked about this image (a list call about a group counts for each image
    /// in it).
    pub calls: u32,
    /// From the start of the wait to the result.
    pub waited: Duration,
}

/// Receives state changes.
pub type Callback = Arc<dyn Fn(&WaitEvent) + Send + Sync>;

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

/// Where one image's wait stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not listed since tagging: ask the list.
    Unscanned,
    /// Listed, `vulnerabilities: null`: ask the list (and now and then the details).
    Processing,
    /// Listed as processed (or the list does not tell): ask the details.
    Details,
    /// Result or error in hand.
    Finished,
}

struct Slot {
    req: WaitRequest,
    phase: Phase,
    calls: u32,
    state: Option<WaitState>,
    /// For a processing image: when its next details call is due.
    details_due: Option<jiff::Timestamp>,
    /// The last unusable details answer, for the error at the deadline.
    last_bad: Option<String>,
    /// Unusable details answers in a row.
    bad_in_row: u32,
    /// A call about this image is in flight: the image is left out of new rounds until it
    /// answers (so a slow call delays only its own images).
    busy: bool,
    outcome: Option<Result<ScanResult, QualysError>>,
}

/// What a details document means for the image asked about.
enum Ready {
    /// It is the result.
    Yes,
    /// The scan failed (why).
    Failed(String),
    /// From before the tagging: not scanned yet (why).
    Stale(String),
    /// Another image's document (why).
    Foreign(String),
    /// Scanned, not processed yet (why).
    NotYet(String),
}

/// One call and the images it is about.
enum Call {
    List(Vec<usize>),
    Details(usize),
}

/// A finished call: which, its answer, and whether it was retried on the way.
type Done = (Call, Result<Answer, QualysError>, bool);

/// The call budget of a wait: each image earns what the original would spend on it (a list
/// call when the wait starts, its details call, and a list call per [`CALL_BUDGET`] of
/// waiting); a round may start once the budget covers its calls. Images asked about in one
/// list call share it, so a group earns more than it spends and polls faster.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Calls made so far (a group call once).
    spent: u32,
    /// What the images already finished earned.
    earned_by_finished: u64,
    /// Images still waiting (each earning).
    waiting: usize,
    /// Time since the wait started.
    waited: Duration,
}

impl Budget {
    /// What one image earns by waiting `waited`: the original's calls by then (list calls at
    /// 0, 30 s, 60 s … and the details call).
    fn earned(waited: Duration) -> u64 {
        2 + waited.as_secs() / CALL_BUDGET.as_secs()
    }

    /// How long until the budget covers `next` more calls (zero when it already does).
    fn affords(&self, next: usize) -> Duration {
        let waiting = self.waiting.max(1) as u64;
        let need = u64::from(self.spent) + next as u64;
        let have = self.earned_by_finished + waiting * Self::earned(self.waited);
        if need <= have {
            return Duration::ZERO;
        }
        // Each CALL_BUDGET boundary earns one call per waiting image.
        let periods = (need - have).div_ceil(waiting);
        let boundary =
            (self.waited.as_secs() / CALL_BUDGET.as_secs() + periods) * CALL_BUDGET.as_secs();
        Duration::from_secs(boundary).saturating_sub(self.waited)
    }
}

/// One wait over many images.
struct Run {
    client: QualysClient,
    clock: Arc<dyn clock::Clock>,
    opts: WaitOptions,
    start: jiff::Timestamp,
    deadline: jiff::Timestamp,
    on_event: Callback,
    sem: Arc<Semaphore>,
    slots: Vec<Slot>,
    batch: usize,
    /// API calls made (a group call once).
    spent: u32,
    /// The call budget earned by the images already finished.
    earned: u64,
}

impl Run {
    fn new(
        client: &QualysClient,
        requests: Vec<WaitRequest>,
        opts: &WaitOptions,
        cb: Callback,
    ) -> Self {
        let clock = client.clock().clone();
        let start = clock.now();
        Run {
            client: client.clone(),
            deadline: clock::add(start, opts.timeout),
            clock,
            opts: *opts,
            start,
            on_event: cb,
            sem: Arc::new(Semaphore::new(opts.concurrency.max(1))),
            slots: requests
                .into_iter()
                .map(|req| Slot {
                    req,
                    phase: Phase::Unscanned,
                    calls: 0,
                    state: None,
                    details_due: None,
                    last_bad: None,
                    bad_in_row: 0,
                    busy: false,
                    outcome: None,
                })
                .collect(),
            batch: opts.batch.clamp(1, 1000),
            spent: 0,
            earned: 0,
        }
    }

    fn elapsed(&self) -> Duration {
        clock::since(self.clock.now(), self.start)
    }

    /// Records a state; a change is logged and reported.
    fn set(&mut self, i: usize, s: WaitState) {
        let elapsed = self.elapsed();
        let slot = &mut self.slots[i];
        if slot.state.as_ref() == Some(&s) {
            return;
        }
        tracing::debug!(sha = %slot.req.sha, state = %s, calls = slot.calls, "wait state");
        (self.on_event)(&WaitEvent {
            sha: slot.req.sha.clone(),
            state: s.clone(),
            calls: slot.calls,
            elapsed,
        });
        slot.state = Some(s);
    }

    fn finish(&mut self, i: usize, outcome: Result<ScanResult, QualysError>) {
        let state = match &outcome {
            Ok(_) => WaitState::Done,
            Err(e) => WaitState::Failed(e.to_string()),
        };
        self.set(i, state);
        self.earned += Budget::earned(self.elapsed());
        let slot = &mut self.slots[i];
        slot.phase = Phase::Finished;
        slot.outcome = Some(outcome);
    }

    /// Images still waiting.
    fn waiting(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.phase != Phase::Finished)
            .count()
    }

    /// Waits until every image has its outcome, the deadline passes or `cancel` ends. Each
    /// image is asked about on its own schedule: a round starts the calls of the images with
    /// no call in flight, and every answer is read as it comes (a list answer that finds an
    /// image processed starts its details call at once), so a slow call never delays another
    /// image's result.
    async fn run(
        mut self,
        cancel: impl Future<Output = ()>,
    ) -> Vec<(WaitRequest, Result<ScanResult, QualysError>)> {
        let mut cancel = std::pin::pin!(cancel);
        let mut set: JoinSet<Done> = JoinSet::new();
        let mut next_round = self.clock.now();
        loop {
            if self.waiting() == 0 {
                break;
            }
            let now = self.clock.now();
            if now >= self.deadline {
                // Calls in flight end by the deadline themselves (their timeout is cut to it,
                // and a retry finds no time left), so their answers are read rather than raced:
                // a gateway that stops answering always ends as that call's error, never as a
                // timeout or an error depending on which came first. The grace only bounds a
                // call that would not end; it is then cut.
                let grace = tokio::time::sleep(DEADLINE_GRACE);
                tokio::pin!(grace);
                loop {
                    tokio::select! {
                        joined = set.join_next() => match joined {
                            Some(joined) => self.joined_at_deadline(joined),
                            None => break,
                        },
                        () = &mut grace => break,
                    }
                }
                set.abort_all();
                self.time_out();
                break;
            }
            if now >= next_round {
                self.start_round(&mut set);
                let now = self.clock.now();
                next_round = clock::add(now, self.pause(now).max(Duration::from_millis(1)));
            }
            let wake = next_round.min(self.deadline);
            let pause = clock::since(wake, self.clock.now()).max(Duration::from_millis(1));
            if set.is_empty() {
                // Nothing in flight: the clock's own sleep (a test clock moves on at once).
                tokio::select! {
                    () = self.clock.sleep(pause) => {}
                    () = &mut cancel => return self.cancelled(&mut set),
                }
            } else {
                // Calls in flight: read each answer as it comes; start the next round when it
                // is due (a real timer, so that a test clock does not race ahead of answers).
                tokio::select! {
                    joined = set.join_next() => {
                        if let Some(joined) = joined {
                            self.joined(joined, &mut set);
                        }
                    }
                    () = tokio::time::sleep(pause) => {}
                    () = &mut cancel => return self.cancelled(&mut set),
                }
            }
        }
        self.into_results()
    }

    /// The outcome of every image, in the order of the requests.
    fn into_results(self) -> Vec<(WaitRequest, Result<ScanResult, QualysError>)> {
        self.slots
            .into_iter()
            .map(|s| {
                let r = s.outcome.unwrap_or_else(|| {
                    Err(QualysError::ClientSetup(format!(
                        "the wait for image {} stopped unexpectedly",
                        s.req.sha
                    )))
                });
                (s.req, r)
            })
            .collect()
    }

    /// The wait was cancelled: calls in flight are dropped, every image still waiting ends
    /// with [`QualysError::Cancelled`]; the results already in are kept.
    fn cancelled(
        mut self,
        set: &mut JoinSet<Done>,
    ) -> Vec<(WaitRequest, Result<ScanResult, QualysError>)> {
        while let Some(joined) = set.try_join_next() {
            self.joined(joined, set);
        }
        set.abort_all();
        let waited = self.elapsed();
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.phase == Phase::Finished {
                continue;
            }
            let err = QualysError::Cancelled {
                sha: slot.req.sha.clone(),
                waited,
                last_state: slot
                    .state
                    .as_ref()
                    .map_or_else(|| "no answer yet".to_owned(), ToString::to_string),
            };
            self.finish(i, Err(err));
        }
        self.into_results()
    }

    /// The pause before the next round: a fixed interval as configured; an adaptive one as
    /// short as the call budget affords, between `first` and `max`.
    fn pause(&self, now: jiff::Timestamp) -> Duration {
        let (first, max) = match self.opts.interval {
            Interval::Fixed(d) => return d,
            Interval::Adaptive { first, max } => (first, max.max(first)),
        };
        let waiting = self
            .slots
            .iter()
            .filter(|s| s.phase != Phase::Finished)
            .count();
        let listed = self
            .slots
            .iter()
            .filter(|s| matches!(s.phase, Phase::Unscanned | Phase::Processing))
            .count();
        let next = listed.div_ceil(self.batch) + (waiting - listed);
        let budget = Budget {
            spent: self.spent,
            earned_by_finished: self.earned,
            waiting,
            waited: clock::since(now, self.start),
        };
        budget.affords(next).clamp(first, max)
    }

    /// A round: a list call for each group of images not scanned or processing, a details
    /// call for each image awaiting its details, leaving out images with a call in flight.
    fn start_round(&mut self, set: &mut JoinSet<Done>) {
        let ask: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                let s = &self.slots[i];
                !s.busy && matches!(s.phase, Phase::Unscanned | Phase::Processing)
            })
            .collect();
        self.ask_list(&ask, set);
        let details: Vec<usize> = (0..self.slots.len())
            .filter(|&i| !self.slots[i].busy && self.slots[i].phase == Phase::Details)
            .collect();
        for i in details {
            self.spawn(Call::Details(i), set);
        }
    }

    /// List calls for `ask`, in groups of the current batch size.
    fn ask_list(&mut self, ask: &[usize], set: &mut JoinSet<Done>) {
        let groups: Vec<Vec<usize>> = ask.chunks(self.batch).map(<[usize]>::to_vec).collect();
        for g in groups {
            self.spawn(Call::List(g), set);
        }
    }

    /// A finished task: its answer read, or a task that stopped unexpectedly.
    /// An answer read at the deadline: its result counts, but it starts no further call.
    fn joined_at_deadline(&mut self, joined: Result<Done, tokio::task::JoinError>) {
        let mut none = JoinSet::new();
        self.joined(joined, &mut none);
        none.abort_all();
    }

    fn joined(&mut self, joined: Result<Done, tokio::task::JoinError>, set: &mut JoinSet<Done>) {
        match joined {
            Ok((call, answer, retried)) => self.answered(call, answer, retried, set),
            // Only an aborted task ends this way (the calls do not panic); its images stay
            // busy and end at the deadline or the cancellation.
            Err(e) => tracing::error!(error = %e, "a Qualys API call stopped unexpectedly"),
        }
    }

    /// Reads one answer; a list answer that leaves images awaiting their details starts those
    /// calls at once.
    fn answered(
        &mut self,
        call: Call,
        answer: Result<Answer, QualysError>,
        retried: bool,
        set: &mut JoinSet<Done>,
    ) {
        let group = match call {
            Call::Details(i) => {
                let slot = &mut self.slots[i];
                slot.busy = false;
                slot.calls += 1;
                if retried {
                    // The callback saw `Retrying`: the next state is news again.
                    slot.state = None;
                }
                if slot.phase != Phase::Finished {
                    self.details(i, answer);
                }
                return;
            }
            Call::List(group) => group,
        };
        for &i in &group {
            let slot = &mut self.slots[i];
            slot.busy = false;
            slot.calls += 1;
            if retried {
                slot.state = None;
            }
        }
        match answer {
            Ok(a) if a.status == 200 => {
                let page = batch::read_page(&a.body);
                if group.len() > 1 {
                    let asked: Vec<(&str, jiff::Timestamp)> = group
                        .iter()
                        .map(|&i| (self.slots[i].req.sha.as_str(), self.slots[i].req.tagged_at))
                        .collect();
                    let doubt = match &page {
                        None => Some("the list answer is not a page of images".to_owned()),
                        Some(p) => batch::check_group(p, &asked, self.opts.skew).err(),
                    };
                    if let Some(why) = doubt {
                        self.shrink(1, &why);
                        return self.ask_list(&group, set);
                    }
                }
                for &i in &group {
                    if self.slots[i].phase == Phase::Finished {
                        continue;
                    }
                    let req = &self.slots[i].req;
                    let seen =
                        batch::seen_in(page.as_deref(), &req.sha, req.tagged_at, self.opts.skew);
                    self.listed(i, seen);
                }
            }
            Ok(_) => {
                for &i in &group {
                    if self.slots[i].phase != Phase::Finished {
                        self.listed(i, Seen::No);
                    }
                }
            }
            Err(QualysError::Http {
                status, message, ..
            }) if group.len() > 1 => {
                let to = if status == 414 { group.len() / 2 } else { 1 };
                self.shrink(to, &format!("HTTP {status}: {message}"));
                return self.ask_list(&group, set);
            }
            Err(e) => {
                for &i in &group {
                    if self.slots[i].phase != Phase::Finished {
                        self.finish(i, Err(e.clone()));
                    }
                }
            }
        }
        let now = self.clock.now();
        for i in group {
            let s = &self.slots[i];
            let due = s.phase == Phase::Details
                || (s.phase == Phase::Processing && s.details_due.is_some_and(|d| d <= now));
            if due && !s.busy {
                self.spawn(Call::Details(i), set);
            }
        }
    }

    /// What a list answer said of image `i`.
    fn listed(&mut self, i: usize, seen: Seen) {
        let now = self.clock.now();
        let slot = &mut self.slots[i];
        match seen {
            Seen::Failed(reason) => {
                let sha = slot.req.sha.clone();
                self.finish(i, Err(QualysError::ScanFailed { sha, reason }));
            }
            // Listed before and not now (a platform that hides `lastScanned` while processing):
            // still processing.
            Seen::No if slot.phase == Phase::Processing => {}
            Seen::No => self.set(i, WaitState::NotScanned),
            Seen::Processing => {
                if slot.phase == Phase::Unscanned {
                    slot.phase = Phase::Processing;
                    slot.details_due = Some(clock::add(now, PROCESSING_DETAILS_EVERY));
                }
                self.set(i, WaitState::Processing);
            }
            Seen::Processed | Seen::Unknown => slot.phase = Phase::Details,
        }
    }

    /// What the details answer said of image `i`.
    fn details(&mut self, i: usize, answer: Result<Answer, QualysError>) {
        let answer = match answer {
            Ok(a) => a,
            Err(e) => return self.finish(i, Err(e)),
        };
        let report = (answer.status == 200).then(|| ImageReport::from_json(&answer.body));
        match report {
            Some(Ok(report)) => {
                self.slots[i].bad_in_row = 0;
                match self.readiness(i, &report) {
                    Ready::Yes => {
                        let slot = &self.slots[i];
                        let result = ScanResult {
                            sha: slot.req.sha.clone(),
                            report,
                            raw: answer.body,
                            calls: slot.calls,
                            waited: self.elapsed(),
                        };
                        self.finish(i, Ok(result));
                    }
                    Ready::Failed(reason) => {
                        let sha = self.slots[i].req.sha.clone();
                        self.finish(i, Err(QualysError::ScanFailed { sha, reason }));
                    }
                    Ready::Stale(why) => self.not_scanned(i, &why, None),
                    Ready::Foreign(why) => self.not_scanned(i, &why.clone(), Some(why)),
                    Ready::NotYet(why) => {
                        tracing::debug!(sha = %self.slots[i].req.sha, reason = %why, "details not ready yet");
                        self.processing(i);
                    }
                }
            }
            // 204/404 while the details lag behind the list; counts instead of a list (a
            // summary shape while the scan runs).
            None | Some(Err(ReportError::ListEntry)) => self.processing(i),
            Some(Err(e)) => {
                let why = format!("the image details are not usable: {e}");
                let slot = &mut self.slots[i];
                slot.bad_in_row += 1;
                // Bad JSON may be a cut answer; a document that parses but cannot be read is
                // asked again a few times, then it is the image's error (never a pass).
                let lasting = !matches!(e, ReportError::Syntax { .. });
                if lasting && slot.bad_in_row >= BAD_REPORTS_IN_A_ROW {
                    let sha = slot.req.sha.clone();
                    let reason = e.to_string();
                    return self.finish(i, Err(QualysError::BadReport { sha, reason }));
                }
                slot.last_bad = Some(why.clone());
                self.set(i, WaitState::Retrying(why));
            }
        }
    }

    /// The details of image `i` are not its result for this tagging (`why`): back to asking
    /// the list. `bad`: kept for the error at the deadline.
    fn not_scanned(&mut self, i: usize, why: &str, bad: Option<String>) {
        tracing::debug!(sha = %self.slots[i].req.sha, reason = %why, "details not accepted: not scanned yet");
        let slot = &mut self.slots[i];
        slot.last_bad = bad;
        slot.phase = Phase::Unscanned;
        slot.details_due = None;
        self.set(i, WaitState::NotScanned);
    }

    /// Image `i` is being processed: its details again in a while (or when the list says so).
    fn processing(&mut self, i: usize) {
        let now = self.clock.now();
        let slot = &mut self.slots[i];
        slot.last_bad = None;
        if slot.phase == Phase::Processing {
            slot.details_due = Some(clock::add(now, PROCESSING_DETAILS_EVERY));
        }
        self.set(i, WaitState::Processing);
    }

    /// Whether a parsed details document is image `i`'s result (see the module documentation).
    fn readiness(&self, i: usize, report: &ImageReport) -> Ready {
        let req = &self.slots[i].req;
        let want = batch::norm_sha(&req.sha);
        let got = batch::norm_sha(report.sha.as_str());
        if got != want {
            return Ready::Foreign(format!(
                "the details answer asked for image {want} is the document of image {got}"
            ));
        }
        if let Some(id) = report.image_id.as_deref().map(str::trim)
            && !id.is_empty()
            && !want.starts_with(&id.to_ascii_lowercase())
        {
            return Ready::Foreign(format!(
                "the details answer for image {want} has imageId {id}"
            ));
        }
        let skew_ms = i64::try_from(self.opts.skew.as_millis()).unwrap_or(i64::MAX);
        let tagged_ms = req.tagged_at.as_millisecond();
        let since = tagged_ms.saturating_sub(skew_ms);
        let state = report.scan_state();
        if let ScanState::Failed(why) = state {
            // A failure from before the tagging is an earlier scan's.
            return match report.last_scanned.or(report.updated) {
                Some(t) if t < since => Ready::Stale(format!(
                    "a failed scan from before the tagging ({why}, at {t} ms; tagged at {tagged_ms} ms)"
                )),
                _ => Ready::Failed(why),
            };
        }
        match report.last_scanned {
            None => return Ready::NotYet("lastScanned is null".into()),
            Some(t) if t < since => {
                return Ready::Stale(format!(
                    "lastScanned {t} ms is before the tagging at {tagged_ms} ms less the skew of {} s",
                    self.opts.skew.as_secs()
                ));
            }
            Some(_) => {}
        }
        if let ScanState::Running(status) = state {
            return Ready::NotYet(format!("scanStatus is {status}"));
        }
        if !matches!(report.vulnerabilities, Vulnerabilities::List(_)) {
            return Ready::NotYet("vulnerabilities is null".into());
        }
        Ready::Yes
    }

    /// Fewer images per list call from now on.
    fn shrink(&mut self, to: usize, why: &str) {
        let to = to.max(1);
        if to < self.batch {
            tracing::debug!(
                from = self.batch,
                to,
                reason = why,
                "fewer images per list call from now on (1: one image per call, as the Jenkins plugin does)"
            );
            self.batch = to;
        }
    }

    /// The deadline has passed: every image still waiting ends with its error.
    fn time_out(&mut self) {
        let waited = self.elapsed();
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if slot.phase == Phase::Finished {
                continue;
            }
            let err = match &slot.last_bad {
                Some(last) => QualysError::GaveUp {
                    method: "GET",
                    endpoint: format!(
                        "/csapi/v1.3/images/{} at {}",
                        slot.req.sha,
                        self.client.gateway().url
                    ),
                    attempts: slot.calls,
                    last: last.clone(),
                },
                None => QualysError::Timeout {
                    sha: slot.req.sha.clone(),
                    waited,
                    last_state: slot
                        .state
                        .as_ref()
                        .map_or_else(|| "no answer yet".to_owned(), ToString::to_string),
                },
            };
            self.finish(i, Err(err));
        }
    }

    /// Starts one call (at most `concurrency` in flight over all images); its images are busy
    /// until it answers.
    fn spawn(&mut self, call: Call, set: &mut JoinSet<Done>) {
        self.spent = self.spent.saturating_add(1);
        let client = self.client.clone();
        let sem = self.sem.clone();
        let cb = self.on_event.clone();
        let (start, deadline, skew) = (self.start, self.deadline, self.opts.skew);
        let idx: Vec<usize> = match &call {
            Call::List(g) => g.clone(),
            Call::Details(i) => vec![*i],
        };
        for &i in &idx {
            self.slots[i].busy = true;
        }
        let shas: Vec<(String, u32)> = idx
            .iter()
            .map(|&i| (self.slots[i].req.sha.clone(), self.slots[i].calls + 1))
            .collect();
        let since = match &call {
            Call::List(g) => g
                .iter()
                .map(|&i| self.slots[i].req.tagged_at)
                .min()
                .unwrap_or(start),
            Call::Details(_) => start,
        };
        let details = matches!(call, Call::Details(_));
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let retried = AtomicBool::new(false);
            let clock = client.clock().clone();
            let hook = |reason: &str| {
                retried.store(true, Ordering::Relaxed);
                for (sha, calls) in &shas {
                    cb(&WaitEvent {
                        sha: sha.clone(),
                        state: WaitState::Retrying(reason.to_owned()),
                        calls: *calls,
                        elapsed: clock::since(clock.now(), start),
                    });
                }
            };
            let answer = if details {
                client
                    .image_details_observed(&shas[0].0, deadline, Some(&hook))
                    .await
            } else {
                let refs: Vec<&str> = shas.iter().map(|(s, _)| s.as_str()).collect();
                let query = |now: jiff::Timestamp| {
                    let mut q = vec![("filter".to_owned(), batch::filter(&refs, now, since, skew))];
                    if refs.len() > 1 {
                        q.push(("pageSize".to_owned(), refs.len().to_string()));
                    }
                    q
                };
                let max_5xx = (refs.len() > 1).then_some(GROUP_5XX_LIMIT);
                client
                    .get_limited("/csapi/v1.3/images", &query, deadline, Some(&hook), max_5xx)
                    .await
            };
            (call, answer, retried.load(Ordering::Relaxed))
        });
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
        let mut results = self
            .wait_for_scans(vec![request.clone()], options, on_event)
            .await;
        results.pop().map_or_else(
            || {
                Err(QualysError::ClientSetup(format!(
                    "the wait for image {} stopped unexpectedly",
                    request.sha
                )))
            },
            |(_, r)| r,
        )
    }

    /// Waits for many images at once, in rounds (see the module documentation); results come
    /// back in the order of `requests`.
    pub async fn wait_for_scans(
        &self,
        requests: Vec<WaitRequest>,
        options: &WaitOptions,
        on_event: Callback,
    ) -> Vec<(WaitRequest, Result<ScanResult, QualysError>)> {
        if requests.is_empty() {
            return Vec::new();
        }
        Run::new(self, requests, options, on_event)
            .run(std::future::pending())
            .await
    }

    /// [`Self::wait_for_scans`], ending as soon as `cancel` ends: the images with a result by
    /// then keep it, the others end with [`QualysError::Cancelled`] (calls in flight are
    /// dropped).
    pub async fn wait_for_scans_until(
        &self,
        requests: Vec<WaitRequest>,
        options: &WaitOptions,
        on_event: Callback,
        cancel: impl Future<Output = ()>,
    ) -> Vec<(WaitRequest, Result<ScanResult, QualysError>)> {
        if requests.is_empty() {
            return Vec::new();
        }
        Run::new(self, requests, options, on_event)
            .run(cancel)
            .await
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
    fn the_budget_earns_the_originals_calls() {
        let b = |spent, waiting, secs| Budget {
            spent,
            earned_by_finished: 0,
            waiting,
            waited: Duration::from_secs(secs),
        };
        // One image: two calls at the start, then one at each 30 s.
        assert_eq!(b(0, 1, 0).affords(1), Duration::ZERO);
        assert_eq!(b(2, 1, 0).affords(1), Duration::from_secs(30));
        assert_eq!(b(2, 1, 12).affords(1), Duration::from_secs(18));
        assert_eq!(b(3, 1, 30).affords(1), Duration::from_secs(30));
        // 60 images: 120 calls at the start, 60 more at each 30 s.
        assert_eq!(b(100, 60, 0).affords(2), Duration::ZERO);
        assert_eq!(b(119, 60, 29).affords(2), Duration::from_secs(1));
        assert_eq!(b(170, 60, 31).affords(2), Duration::ZERO);
        assert_eq!(b(180, 60, 31).affords(2), Duration::from_secs(29));
        // What finished images earned stays in the budget.
        let done = Budget {
            earned_by_finished: 50,
            ..b(50, 1, 0)
        };
        assert_eq!(done.affords(1), Duration::ZERO);
    }
}
