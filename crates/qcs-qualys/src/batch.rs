//! One list call for many images (opt-in, [`crate::WaitOptions::batch`] > 1): while images wait
//! for their scans, `GET /csapi/v1.3/images?filter=(sha:a or sha:b …) and lastScanned:[now-Ns ...
//! now]` asks about up to `batch` of them at once (`N` reaches back to the earliest tagging time
//! of the group); each image seen in the answer's `data` goes on to poll its own details. This cuts
//! the list calls per image by up to `batch` times. `or` in QQL is not confirmed for the real
//! gateway (`qualys-api.md` §3.4): a 400 answer, or any other failure of a batched call, hands the
//! images back to one list call each.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::sync::watch;

use crate::client::QualysClient;
use crate::clock;
use crate::wait::{Callback, WaitEvent, WaitOptions, WaitRequest, WaitState, scan_filter};

/// What the batched list tells one image's wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Not seen yet.
    Pending,
    /// Seen scanned after tagging: poll the details.
    Scanned,
    /// The deadline passed without a scan.
    TimedOut,
    /// Batching gave up (unsupported or failing): poll the list alone.
    Alone,
}

/// Waits until the signal is no longer `Pending` (a dropped sender counts as `Alone`).
pub(crate) async fn wait_signal(rx: &mut watch::Receiver<Signal>) -> Signal {
    match rx.wait_for(|s| *s != Signal::Pending).await {
        Ok(s) => *s,
        Err(_) => Signal::Alone,
    }
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    data: Vec<ListItem>,
}

#[derive(Deserialize)]
struct ListItem {
    #[serde(default)]
    sha: Option<String>,
}

/// The filter for a group: `(sha:a or sha:b) and lastScanned:[now-Ns ... now]`.
fn group_filter(
    shas: &[&str],
    now: jiff::Timestamp,
    since: jiff::Timestamp,
    skew: Duration,
) -> String {
    // Reuse the single-image window arithmetic, then widen `sha:x` to the group.
    let single = scan_filter("", now, since, skew);
    let window = single.trim_start_matches("sha: and ");
    let group: Vec<String> = shas.iter().map(|s| format!("sha:{s}")).collect();
    format!("({}) and {window}", group.join(" or "))
}

/// Polls the list for the pending images in groups until each is seen, the deadline passes,
/// or batching gives up; tells each image's wait through its signal.
pub(crate) async fn list_in_batches(
    client: &QualysClient,
    requests: &[WaitRequest],
    opts: &WaitOptions,
    start: jiff::Timestamp,
    sem: &Semaphore,
    on_event: &Callback,
    signals: Vec<watch::Sender<Signal>>,
) {
    let clock = client.clock().clone();
    let deadline = clock::add(start, opts.timeout);
    let mut pending: Vec<usize> = (0..requests.len()).collect();
    let mut reported: HashSet<usize> = HashSet::new();
    let mut pacer = crate::wait::Pacer::new(opts.interval);
    let give_up = |idx: &[usize], why: &str| {
        tracing::info!(
            images = idx.len(),
            reason = why,
            "batched list calls given up; one list call per image"
        );
        for &i in idx {
            let _ = signals[i].send(Signal::Alone);
        }
    };
    loop {
        let mut still: Vec<usize> = Vec::new();
        for group in pending.chunks(opts.batch.max(2)) {
            let shas: Vec<&str> = group.iter().map(|&i| requests[i].sha.as_str()).collect();
            let since = group
                .iter()
                .map(|&i| requests[i].tagged_at)
                .min()
                .unwrap_or(start);
            let make_query = |now: jiff::Timestamp| {
                vec![
                    (
                        "filter".to_owned(),
                        group_filter(&shas, now, since, opts.skew),
                    ),
                    ("pageSize".to_owned(), shas.len().max(1).to_string()),
                ]
            };
            let answer = {
                let _permit = sem.acquire().await;
                client
                    .get_with("/csapi/v1.3/images", &make_query, deadline)
                    .await
            };
            let found: HashSet<String> = match answer {
                Err(e) => {
                    // 400 (QQL `or` refused), or a failure each image will meet and report alone.
                    give_up(&pending, &e.to_string());
                    return;
                }
                Ok(a) if a.status == 200 => match serde_json::from_slice::<ListPage>(&a.body) {
                    Ok(page) => page.data.into_iter().filter_map(|i| i.sha).collect(),
                    Err(e) => {
                        give_up(&pending, &format!("the list answer is not usable: {e}"));
                        return;
                    }
                },
                Ok(_) => HashSet::new(),
            };
            for &i in group {
                if found.contains(&requests[i].sha) {
                    // Its own wait takes over (and polls at its first interval again).
                    let _ = signals[i].send(Signal::Scanned);
                } else {
                    if reported.insert(i) {
                        on_event(&WaitEvent {
                            sha: requests[i].sha.clone(),
                            state: WaitState::NotScanned,
                            calls: 0,
                            elapsed: clock::since(clock.now(), start),
                        });
                    }
                    still.push(i);
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            return;
        }
        let now = clock.now();
        if now >= deadline {
            for &i in &pending {
                let _ = signals[i].send(Signal::TimedOut);
            }
            return;
        }
        let pause = pacer.step().min(clock::since(deadline, now));
        clock.sleep(pause.max(Duration::from_millis(1))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_filter() {
        let t = jiff::Timestamp::from_second(1_000).unwrap();
        let now = jiff::Timestamp::from_second(1_060).unwrap();
        assert_eq!(
            group_filter(&["aa", "bb"], now, t, Duration::from_secs(5)),
            "(sha:aa or sha:bb) and lastScanned:[now-65s ... now]"
        );
    }
}
