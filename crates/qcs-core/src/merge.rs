//! `qcs report merge`: one summary from the summaries of many runs (CI matrix jobs, agents,
//! Kubernetes jobs, `qcs scan --shard K/N`).
//!
//! Images are combined in the order of the runs. An image (by sha) that several runs judged
//! alike (same outcome, error kind, counts, failing conditions and finding identities) appears
//! once. Judged differently, it is a [`Conflict`]: listed in the merged summary's `conflicts`
//! and turned into an `error` image of kind `conflict` (exit 5), never a pass. Images without a
//! sha (no image was resolved) are kept as they are. Summaries of another schema version, or
//! written by a `qcs` of another major.minor version, are refused.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::summary::{ErrorKind, ImageError, ImageResult, Outcome, SCHEMA_VERSION, Summary};

/// One run that took part in a conflict, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRun {
    /// The summary it came from (its path, as given).
    pub source: String,
    /// The input that named the image in that run.
    pub input: String,
    /// Its outcome there.
    pub outcome: Outcome,
    /// The error kind, for an `error` outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<ErrorKind>,
    /// All vulnerabilities counted there, when judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    /// The conditions that failed there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

/// An image that runs judged differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The image's sha.
    pub sha: String,
    /// Every run that judged it, in the order merged.
    pub runs: Vec<ConflictRun>,
}

/// Why summaries cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Another schema version.
    #[error("`{file}` has schema_version {found}; this qcs merges schema_version {expected}")]
    Schema {
        /// The summary.
        file: String,
        /// Its version.
        found: u32,
        /// Ours.
        expected: u32,
    },
    /// Written by an incompatible `qcs`.
    #[error(
        "`{file}` was written by qcs {found}; this is qcs {ours}, which merges summaries of qcs {compatible}.x"
    )]
    Version {
        /// The summary.
        file: String,
        /// Its `qcs_version`.
        found: String,
        /// This qcs.
        ours: String,
        /// The compatible major.minor.
        compatible: String,
    },
}

/// `major.minor` of a version string.
fn major_minor(v: &str) -> &str {
    let mut dots = v.match_indices('.').map(|(i, _)| i);
    let _ = dots.next();
    dots.next().map_or(v, |i| &v[..i])
}

/// Checks that a summary can be merged by this `qcs` (`ours` is its version).
///
/// # Errors
/// Another schema version, or another major.minor `qcs` version.
pub fn check_compatible(source: &str, summary: &Summary, ours: &str) -> Result<(), MergeError> {
    if summary.schema_version != SCHEMA_VERSION {
        return Err(MergeError::Schema {
            file: source.to_owned(),
            found: summary.schema_version,
            expected: SCHEMA_VERSION,
        });
    }
    if major_minor(&summary.qcs_version) != major_minor(ours) {
        return Err(MergeError::Version {
            file: source.to_owned(),
            found: summary.qcs_version.clone(),
            ours: ours.to_owned(),
            compatible: major_minor(ours).to_owned(),
        });
    }
    Ok(())
}

/// The merged summary and, per merged image, the index of the run it was taken from (where
/// its raw report is).
#[derive(Debug)]
pub struct Merged {
    /// The merged summary (outcome and exit code recomputed).
    pub summary: Summary,
    /// Parallel to `summary.images`: the index in the input of the run it came from.
    pub origins: Vec<usize>,
}

/// What must agree between two runs for one image.
fn verdict_of(img: &ImageResult) -> impl PartialEq + '_ {
    let e = &img.evaluation;
    (
        e.outcome,
        e.error.as_ref().map(|x| x.kind),
        e.counts.clone(),
        e.conditions
            .as_ref()
            .map(crate::summary::Conditions::failed),
        e.finding_keys.as_ref(),
    )
}

fn run_of(source: &str, img: &ImageResult) -> ConflictRun {
    let e = &img.evaluation;
    ConflictRun {
        source: source.to_owned(),
        input: img.input.clone(),
        outcome: e.outcome,
        error_kind: e.error.as_ref().map(|x| x.kind),
        total: e.counts.as_ref().map(|c| c.total),
        failed: e
            .conditions
            .as_ref()
            .map(|c| c.failed().into_iter().map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}

/// Merges the summaries (already checked with [`check_compatible`]), each with the name of its
/// source, into one written by `qcs_version`.
pub fn merge(runs: Vec<(String, Summary)>, qcs_version: &str) -> Merged {
    let mut images: Vec<ImageResult> = Vec::new();
    let mut origins: Vec<usize> = Vec::new();
    let mut by_sha: HashMap<String, usize> = HashMap::new();
    // per merged image in conflict: the runs seen
    let mut conflicts: HashMap<usize, Vec<ConflictRun>> = HashMap::new();
    let mut firsts: HashMap<usize, ConflictRun> = HashMap::new();
    let mut portal_url = None;
    let mut sources: Vec<String> = Vec::new();
    for (n, (source, summary)) in runs.into_iter().enumerate() {
        portal_url = portal_url.or(summary.portal_url);
        for img in summary.images {
            let Some(sha) = img.evaluation.sha.clone() else {
                images.push(img);
                origins.push(n);
                continue;
            };
            match by_sha.get(&sha) {
                None => {
                    by_sha.insert(sha, images.len());
                    firsts.insert(images.len(), run_of(&source, &img));
                    images.push(img);
                    origins.push(n);
                }
                Some(&at) => {
                    // the same run listing an image twice (two inputs naming it) is no conflict
                    if origins[at] == n || verdict_of(&images[at]) == verdict_of(&img) {
                        continue;
                    }
                    let entry = conflicts.entry(at).or_insert_with(|| {
                        firsts.get(&at).cloned().into_iter().collect::<Vec<_>>()
                    });
                    entry.push(run_of(&source, &img));
                }
            }
        }
        sources.push(source);
    }
    let mut list: Vec<(usize, Vec<ConflictRun>)> = conflicts.into_iter().collect();
    list.sort_by_key(|(at, _)| *at);
    let mut out = Vec::with_capacity(list.len());
    for (at, runs) in list {
        let e = &mut images[at].evaluation;
        let sha = e.sha.clone().unwrap_or_default();
        let said: Vec<String> = runs
            .iter()
            .map(|r| format!("{} in `{}`", r.outcome.as_str(), r.source))
            .collect();
        e.outcome = Outcome::Error;
        e.error = Some(ImageError {
            kind: ErrorKind::Conflict,
            message: format!(
                "the merged runs judged this image differently ({}), so no verdict can be trusted",
                said.join(", ")
            ),
        });
        out.push(Conflict { sha, runs });
    }
    let mut summary = Summary::new(qcs_version, images);
    summary.portal_url = portal_url;
    summary.conflicts = out;
    Merged { summary, origins }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Counts, Evaluation};

    fn img(input: &str, sha: &str, outcome: Outcome, total: u32) -> ImageResult {
        let mut evaluation = Evaluation::error(
            Some(sha.to_owned()),
            crate::summary::ImageError {
                kind: crate::summary::ErrorKind::Api,
                message: String::new(),
            },
        );
        evaluation.outcome = outcome;
        evaluation.error = None;
        evaluation.counts = Some(Counts {
            total,
            ..Counts::default()
        });
        evaluation.findings_omitted = total;
        ImageResult {
            input: input.to_owned(),
            evaluation,
        }
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn images_combine_and_agreeing_duplicates_appear_once() {
        let one = Summary::new("0.1.0", vec![img("a:1", A, Outcome::Passed, 3)]);
        let two = Summary::new(
            "0.1.0",
            vec![
                img("b:1", B, Outcome::Failed, 4),
                img("a:1", A, Outcome::Passed, 3),
            ],
        );
        let m = merge(vec![("1".into(), one), ("2".into(), two)], "0.1.0");
        assert_eq!(m.summary.images.len(), 2);
        assert_eq!(m.origins, [0, 1]);
        assert_eq!(m.summary.exit_code, 1);
        assert!(m.summary.conflicts.is_empty());
    }

    #[test]
    fn a_disagreement_is_a_conflict_and_never_a_pass() {
        let one = Summary::new("0.1.0", vec![img("a:1", A, Outcome::Passed, 3)]);
        let two = Summary::new("0.1.0", vec![img("a:1", A, Outcome::Passed, 5)]);
        let m = merge(vec![("s1".into(), one), ("s2".into(), two)], "0.1.0");
        assert_eq!(m.summary.images.len(), 1);
        let e = &m.summary.images[0].evaluation;
        assert_eq!(e.outcome, Outcome::Error);
        assert_eq!(e.error.as_ref().map(|x| x.kind), Some(ErrorKind::Conflict));
        assert_eq!(m.summary.exit_code, 5);
        assert_eq!(m.summary.conflicts.len(), 1);
        assert_eq!(m.summary.conflicts[0].runs.len(), 2);
        assert_eq!(m.summary.conflicts[0].runs[1].total, Some(5));
    }

    #[test]
    fn other_schemas_and_versions_are_refused() {
        let mut s = Summary::new("0.1.3", Vec::new());
        assert!(check_compatible("x", &s, "0.1.0").is_ok());
        assert!(matches!(
            check_compatible("x", &s, "0.2.0"),
            Err(MergeError::Version { .. })
        ));
        s.schema_version = 99;
        assert!(matches!(
            check_compatible("x", &s, "0.1.0"),
            Err(MergeError::Schema { .. })
        ));
    }
}
