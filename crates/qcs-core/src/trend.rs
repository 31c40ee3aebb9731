//! Trends across builds: confirmed findings by severity per build, from earlier `summary.json`
//! files (the chart the Jenkins plugin's page had).
//!
//! Each summary becomes one [`TrendPoint`]; [`order`] sorts the points by build number when
//! every point has a numeric one, else by the time the build finished, and keeps the last
//! [`MAX_POINTS`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::summary::{LevelCounts, Outcome, Summary};

/// The most points a trend keeps (the latest ones).
pub const MAX_POINTS: usize = 50;

/// The CI build that wrote a summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// `jenkins`, `github`, `gitlab` or `azure`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The build's number (`BUILD_NUMBER`, `GITHUB_RUN_NUMBER`, `CI_PIPELINE_IID`,
    /// `BUILD_BUILDNUMBER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// A link to the job or run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the summary was written (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

/// One build of a trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// How the build is labelled: `#<number>`, else the time, else the file it came from.
    pub label: String,
    /// The build's number, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// When the build finished (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// CONFIRMED findings by severity over the build's images (each image once).
    pub confirmed: LevelCounts,
    /// Images judged (with a verdict).
    pub images: u32,
    /// Images that failed the policy.
    pub failed: u32,
}

/// The point for one summary; `fallback` labels it when the summary has no build number or
/// time (e.g. the file name).
pub fn point(summary: &Summary, fallback: &str) -> TrendPoint {
    let mut confirmed = [0u32; 5];
    let mut seen = HashSet::new();
    let (mut images, mut failed) = (0u32, 0u32);
    for img in &summary.images {
        let e = &img.evaluation;
        if let Some(sha) = &e.sha
            && !seen.insert(sha.as_str())
        {
            continue;
        }
        let Some(counts) = &e.counts else { continue };
        images += 1;
        if e.outcome == Outcome::Failed {
            failed += 1;
        }
        for (total, n) in confirmed.iter_mut().zip(counts.confirmed.0) {
            *total = total.saturating_add(n);
        }
    }
    let build = summary.build.clone().unwrap_or_default();
    let label = match (&build.number, &build.finished_at) {
        (Some(n), _) => format!("#{n}"),
        (None, Some(t)) => t.clone(),
        (None, None) => fallback.to_owned(),
    };
    TrendPoint {
        label,
        number: build.number,
        finished_at: build.finished_at,
        confirmed: LevelCounts(confirmed),
        images,
        failed,
    }
}

/// Sorts points oldest first (by numeric build number when every point has one, else by
/// finish time, points without one first, in the order given) and keeps the last
/// [`MAX_POINTS`].
pub fn order(points: &mut Vec<TrendPoint>) {
    let numbers: Option<Vec<u64>> = points
        .iter()
        .map(|p| p.number.as_deref().and_then(|n| n.trim().parse().ok()))
        .collect();
    if numbers.is_some() {
        points.sort_by_key(|p| {
            p.number
                .as_deref()
                .and_then(|n| n.trim().parse::<u64>().ok())
        });
    } else {
        points.sort_by(|a, b| a.finished_at.cmp(&b.finished_at));
    }
    if points.len() > MAX_POINTS {
        points.drain(..points.len() - MAX_POINTS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(number: Option<&str>, at: Option<&str>) -> TrendPoint {
        TrendPoint {
            label: String::new(),
            number: number.map(str::to_owned),
            finished_at: at.map(str::to_owned),
            confirmed: LevelCounts::default(),
            images: 0,
            failed: 0,
        }
    }

    #[test]
    fn numbers_order_numerically_else_by_time() {
        let mut v = vec![
            p(Some("10"), None),
            p(Some("9"), None),
            p(Some("100"), None),
        ];
        order(&mut v);
        let n: Vec<_> = v.iter().filter_map(|p| p.number.as_deref()).collect();
        assert_eq!(n, ["9", "10", "100"]);
        let mut v = vec![
            p(Some("x"), Some("2026-12-03T00:00:00Z")),
            p(None, Some("2026-12-01T00:00:00Z")),
        ];
        order(&mut v);
        assert_eq!(v[0].finished_at.as_deref(), Some("2026-12-01T00:00:00Z"));
        let mut v: Vec<_> = (0..60).map(|n| p(Some(&n.to_string()), None)).collect();
        order(&mut v);
        assert_eq!(v.len(), MAX_POINTS);
        assert_eq!(v[0].number.as_deref(), Some("10"));
    }
}
