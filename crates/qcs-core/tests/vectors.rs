//! Compatibility with the original plugin's evaluator: every case of `shared/vectors/` must agree
//! on every point of `vectors/README.md` (verdict, each condition's result, per-level counts,
//! found sets, CVSS count and the summary counts).
//!
//! The vectors live beside the repository (`../shared/vectors`); `QCS_VECTORS_DIR` overrides.

mod support;

use qcs_core::policy::criteria;
use qcs_core::{ImageReport, evaluate};
use serde_json::Value;
use support::vectors::{compare, vector_ids, vectors_dir};

#[test]
fn all_vectors_agree_with_the_original() {
    let dir = vectors_dir();
    let ids = vector_ids();
    assert_eq!(ids.len(), 300, "expected 300 vectors in {}", dir.display());
    let now = jiff::Timestamp::from_second(1_800_000_000).expect("valid time");
    let mut disagreements = Vec::new();
    for id in &ids {
        let read = |suffix: &str| {
            std::fs::read(dir.join(format!("{id}.{suffix}.json"))).expect("readable vector file")
        };
        let crit: Value = serde_json::from_slice(&read("criteria")).expect("criteria JSON");
        let (policy, issues) = criteria::from_json(id, &crit).validate();
        let policy = policy.unwrap_or_else(|| panic!("{id}: criteria rejected: {issues:?}"));
        let report = ImageReport::from_json(&read("report")).expect("report parses");
        let expected: Value = serde_json::from_slice(&read("expected")).expect("expected JSON");
        let e = evaluate(&policy, &report, now);
        let c = e
            .conditions
            .as_ref()
            .expect("processed report has conditions");
        let counts = e.counts.as_ref().expect("processed report has counts");
        disagreements.extend(compare(id, &expected, e.outcome, c, counts));
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
