//! The list call of a wait round: one `GET /csapi/v1.3/images` about one image
//! (`sha:<sha> and lastScanned:[now-Ns ... now]`, the original's call) or about a group
//! (`(sha:a or sha:b …) and lastScanned:[…]`), and what its answer says of each image: not
//! scanned since tagging, scanned and still processing (the item's `vulnerabilities` is `null`,
//! a counts object whose values are all null, or `scanStatus` not yet `SUCCESS`), processed (a
//! counts object with numbers), or failed (`scanStatus` a failure value, `scanErrorCode` set).
//!
//! Nothing in an answer is taken on trust (`qualys-api.md` §4.8): an item counts for an image
//! only when it names that image's sha and its `lastScanned` lies inside the window (at or after
//! the tagging time less the skew). In a one-image answer anything else means "not scanned
//! yet". In a grouped answer an item for a sha not asked about, or outside the window, means the
//! gateway did not apply the filter as sent: [`check_group`] says so and the wait falls back to
//! one image per call. `or` in QQL is not confirmed for the real gateway (§3.4).

use std::time::Duration;

use qcs_core::report::ScanState;
use serde_json::Value;

use crate::wait::scan_filter;

/// What a list answer says of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Not in the answer (or only outside the window): not scanned since tagging.
    No,
    /// Listed and still processing.
    Processing,
    /// Listed with vulnerability counts: the details are ready.
    Processed,
    /// Listed, but the item does not tell (no usable `vulnerabilities`): ask the details.
    Unknown,
    /// Listed with a failed scan (why).
    Failed(String),
}

/// One item of a list answer, as far as the wait reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    /// The lower-case sha without `sha256:`, when the item has one.
    pub(crate) sha: Option<String>,
    /// `lastScanned`, epoch ms (or `updated` for a failed scan without `lastScanned`).
    pub(crate) at_ms: Option<i64>,
    /// What it says.
    pub(crate) seen: Seen,
}

/// The filter of a list call about `shas`: the original's exact form for one image, an `or`
/// group for more; the window reaches back to `since` (the earliest tagging) plus `skew`.
pub(crate) fn filter(
    shas: &[&str],
    now: jiff::Timestamp,
    since: jiff::Timestamp,
    skew: Duration,
) -> String {
    if let [one] = shas {
        return scan_filter(one, now, since, skew);
    }
    // The single-image window arithmetic, widened from `sha:` to the group.
    let single = scan_filter("", now, since, skew);
    let window = single.trim_start_matches("sha: and ");
    let group: Vec<String> = shas.iter().map(|s| format!("sha:{s}")).collect();
    format!("({}) and {window}", group.join(" or "))
}

/// Epoch ms from a number or a numeric string.
pub(crate) fn ms(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The lower-case sha without `sha256:`.
pub(crate) fn norm_sha(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    s.strip_prefix("sha256:")
        .map_or_else(|| s.clone(), str::to_owned)
}

fn read_item(item: &Value) -> Item {
    let get = |k: &str| item.get(k);
    let state = ScanState::read(
        text(get("scanStatus")).as_deref(),
        text(get("scanErrorCode")).as_deref(),
    );
    let seen = match (&state, get("vulnerabilities")) {
        (ScanState::Failed(why), _) => Seen::Failed(why.clone()),
        (ScanState::Running(_), _) | (_, None | Some(Value::Null)) => Seen::Processing,
        // Counts whose values are all null: a scan still running (`qualys-api.md` §4.8).
        (_, Some(Value::Object(m))) if !m.is_empty() && m.values().all(Value::is_null) => {
            Seen::Processing
        }
        (_, Some(Value::Object(m))) if !m.is_empty() => Seen::Processed,
        _ => Seen::Unknown,
    };
    let at_ms = match (&seen, ms(get("lastScanned"))) {
        (Seen::Failed(_), None) => ms(get("updated")),
        (_, t) => t,
    };
    Item {
        sha: text(get("sha")).map(|s| norm_sha(&s)),
        at_ms,
        seen,
    }
}

/// Reads a 200 answer of the list: its items. `None` when the body is not a list page at all.
pub(crate) fn read_page(body: &[u8]) -> Option<Vec<Item>> {
    let page: Value = serde_json::from_slice(body).ok()?;
    match page.get("data") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => Some(items.iter().map(read_item).collect()),
        Some(_) => None,
    }
}

/// Whether `at_ms` lies inside the window of an image tagged at `tagged_at`.
pub(crate) fn in_window(at_ms: Option<i64>, tagged_at: jiff::Timestamp, skew: Duration) -> bool {
    let skew_ms = i64::try_from(skew.as_millis()).unwrap_or(i64::MAX);
    at_ms.is_some_and(|t| t >= tagged_at.as_millisecond().saturating_sub(skew_ms))
}

/// What a 200 answer says of the image `sha` (tagged at `tagged_at`). `page` is `None` when the
/// answer is not a list page: a one-image call then asks the details (which are checked in
/// full); an item for another sha, or from before the tagging, never counts.
pub(crate) fn seen_in(
    page: Option<&[Item]>,
    sha: &str,
    tagged_at: jiff::Timestamp,
    skew: Duration,
) -> Seen {
    let Some(page) = page else {
        return Seen::Unknown;
    };
    let sha = norm_sha(sha);
    let mine = page
        .iter()
        .filter(|i| i.sha.as_deref() == Some(sha.as_str()));
    let mut seen = Seen::No;
    for item in mine {
        if !in_window(item.at_ms, tagged_at, skew) {
            tracing::debug!(
                sha = %sha,
                last_scanned = ?item.at_ms,
                "a list item for this image from before the tagging (or without lastScanned): not scanned yet"
            );
            continue;
        }
        // Several in-window items: the most telling one wins.
        let rank = |s: &Seen| match s {
            Seen::No => 0,
            Seen::Processing => 1,
            Seen::Unknown => 2,
            Seen::Processed => 3,
            Seen::Failed(_) => 4,
        };
        if rank(&item.seen) > rank(&seen) {
            seen = item.seen.clone();
        }
    }
    if seen == Seen::No && !page.is_empty() {
        tracing::debug!(
            sha = %sha,
            items = page.len(),
            "the list answer names no item for this image inside the window: not scanned yet"
        );
    }
    seen
}

/// Checks a grouped answer: every item must name a sha asked about (`asked`: sha and tagging
/// time) and lie inside that image's window. `Err` says why not.
pub(crate) fn check_group(
    page: &[Item],
    asked: &[(&str, jiff::Timestamp)],
    skew: Duration,
) -> Result<(), String> {
    for item in page {
        let Some(sha) = item.sha.as_deref() else {
            return Err("an item of the grouped list answer has no sha".into());
        };
        let Some((_, tagged_at)) = asked.iter().find(|(s, _)| norm_sha(s) == sha) else {
            return Err(format!(
                "the grouped list answer names image {sha}, which was not asked about"
            ));
        };
        if !in_window(item.at_ms, *tagged_at, skew) {
            return Err(format!(
                "the grouped list answer names image {sha} with lastScanned {:?}, outside the window asked for",
                item.at_ms
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters() {
        let t = jiff::Timestamp::from_second(1_000).unwrap();
        let now = jiff::Timestamp::from_second(1_060).unwrap();
        let skew = Duration::from_secs(5);
        assert_eq!(
            filter(&["aa", "bb"], now, t, skew),
            "(sha:aa or sha:bb) and lastScanned:[now-65s ... now]"
        );
        assert_eq!(
            filter(&["aa"], now, t, skew),
            "sha:aa and lastScanned:[now-65s ... now]"
        );
    }

    #[test]
    fn a_page_tells_processing_from_processed_and_failed() {
        let t = jiff::Timestamp::from_second(1_000).unwrap();
        let skew = Duration::from_secs(10);
        let body = br#"{"count":3,"data":[
            {"sha":"sha256:AA","lastScanned":"1000000","vulnerabilities":null},
            {"sha":"bb","lastScanned":1000000,"vulnerabilities":{"severity5Count":1}},
            {"sha":"cc","lastScanned":"1000000","vulnerabilities":[]},
            {"sha":"dd","lastScanned":"1000000","vulnerabilities":{"severity5Count":null,"severity4Count":null}},
            {"sha":"ee","lastScanned":"1000000","vulnerabilities":{"severity5Count":0},"scanStatus":"RUNNING"},
            {"sha":"ff","lastScanned":null,"updated":"1000000","scanStatus":"FAILED"},
            {"sha":"gg","lastScanned":"900000","vulnerabilities":{"severity5Count":1}},
            {"vulnerabilities":null}]}"#;
        let page = read_page(body).unwrap();
        let seen = |sha| seen_in(Some(&page), sha, t, skew);
        assert_eq!(seen("aa"), Seen::Processing);
        assert_eq!(seen("bb"), Seen::Processed);
        assert_eq!(seen("cc"), Seen::Unknown);
        assert_eq!(seen("dd"), Seen::Processing);
        assert_eq!(seen("ee"), Seen::Processing);
        assert!(matches!(seen("ff"), Seen::Failed(_)));
        // Before the tagging, or not named at all: not scanned yet.
        assert_eq!(seen("gg"), Seen::No);
        assert_eq!(seen("hh"), Seen::No);
        assert!(read_page(br#"{"data":3}"#).is_none());
        assert_eq!(read_page(b"{}").unwrap(), []);
        assert_eq!(seen_in(None, "aa", t, skew), Seen::Unknown);
    }

    #[test]
    fn a_group_answer_names_only_what_was_asked_inside_the_window() {
        let t = jiff::Timestamp::from_second(1_000).unwrap();
        let skew = Duration::from_secs(10);
        let page = |items: &str| read_page(format!(r#"{{"data":[{items}]}}"#).as_bytes()).unwrap();
        let asked = [("aa", t), ("bb", t)];
        let ok = page(r#"{"sha":"AA","lastScanned":"995000","vulnerabilities":null}"#);
        assert_eq!(check_group(&ok, &asked, skew), Ok(()));
        let foreign = page(r#"{"sha":"cc","lastScanned":"1000000","vulnerabilities":null}"#);
        assert!(
            check_group(&foreign, &asked, skew)
                .unwrap_err()
                .contains("not asked")
        );
        let old = page(r#"{"sha":"bb","lastScanned":"980000","vulnerabilities":null}"#);
        assert!(
            check_group(&old, &asked, skew)
                .unwrap_err()
                .contains("window")
        );
        let nameless = page(r#"{"lastScanned":"1000000"}"#);
        assert!(check_group(&nameless, &asked, skew).is_err());
    }
}
