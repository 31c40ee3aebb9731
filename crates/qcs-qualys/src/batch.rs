//! The list call of a wait round: one `GET /csapi/v1.3/images` about one image
//! (`sha:<sha> and lastScanned:[now-Ns ... now]`, the original's call) or about a group
//! (`(sha:a or sha:b …) and lastScanned:[…]`), and what its answer says of each image: not
//! scanned since tagging, scanned and still processing (the list item's `vulnerabilities` is
//! `null`), or processed (a counts object). `or` in QQL is not confirmed for the real gateway
//! (`qualys-api.md` §3.4); the wait falls back to one image per call when a group is refused.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use crate::wait::scan_filter;

/// What a list answer says of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Not in the answer: not scanned since tagging.
    No,
    /// Listed with `vulnerabilities: null`: the platform is still processing it.
    Processing,
    /// Listed with vulnerability counts: the details are ready.
    Processed,
    /// Listed, but the item does not tell (no usable `vulnerabilities`): ask the details.
    Unknown,
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
    /// `null` while processing, a counts object once processed.
    #[serde(default)]
    vulnerabilities: Option<serde_json::Value>,
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

/// Reads a 200 answer of the list: each listed sha and its state. `None` when the body is
/// not a list page at all.
pub(crate) fn read_page(body: &[u8]) -> Option<HashMap<String, Seen>> {
    let page: ListPage = serde_json::from_slice(body).ok()?;
    Some(
        page.data
            .into_iter()
            .filter_map(|item| {
                let seen = match item.vulnerabilities {
                    None | Some(serde_json::Value::Null) => Seen::Processing,
                    Some(serde_json::Value::Object(_)) => Seen::Processed,
                    Some(_) => Seen::Unknown,
                };
                let sha = item.sha?.to_ascii_lowercase();
                let sha = sha
                    .strip_prefix("sha256:")
                    .map_or_else(|| sha.clone(), str::to_owned);
                Some((sha, seen))
            })
            .collect(),
    )
}

/// What a 200 answer says of the image `sha` asked about in a call about `asked` images. A
/// single-image call whose answer does not name it still means "scanned" (the original goes to
/// the details on any 200); in a group call it means "not scanned".
pub(crate) fn seen_in(page: Option<&HashMap<String, Seen>>, sha: &str, asked: usize) -> Seen {
    match page.and_then(|p| p.get(&sha.to_ascii_lowercase())) {
        Some(s) => *s,
        None if asked == 1 => Seen::Unknown,
        None => Seen::No,
    }
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
    fn a_page_tells_processing_from_processed() {
        let body = br#"{"count":3,"data":[
            {"sha":"sha256:AA","vulnerabilities":null},
            {"sha":"bb","vulnerabilities":{"severity5Count":1}},
            {"sha":"cc","vulnerabilities":[]},
            {"vulnerabilities":null}]}"#;
        let page = read_page(body).unwrap();
        assert_eq!(seen_in(Some(&page), "aa", 4), Seen::Processing);
        assert_eq!(seen_in(Some(&page), "bb", 4), Seen::Processed);
        assert_eq!(seen_in(Some(&page), "cc", 4), Seen::Unknown);
        assert_eq!(seen_in(Some(&page), "dd", 4), Seen::No);
        assert!(read_page(b"[1]").is_none());
        // A 200 about one image that names nothing still means it was scanned.
        assert_eq!(seen_in(None, "aa", 1), Seen::Unknown);
        assert_eq!(seen_in(Some(&page), "dd", 1), Seen::Unknown);
        assert_eq!(seen_in(None, "aa", 2), Seen::No);
    }
}
