//! Baseline semantics: finding identities (QID and package), the same QID in another package,
//! an image with no baseline entry, fixed findings, `new` mode deciding the verdict, and a
//! summary as the next run's baseline.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

use jiff::Timestamp;
use qcs_core::baseline::{Baseline, BaselineError, BaselineMode, BaselineState};
use qcs_core::evaluate::{BaselineInput, evaluate_full, evaluate_with};
use qcs_core::policy::flags::PolicyFlags;
use qcs_core::summary::{Outcome, Summary};
use qcs_core::{ImageReport, Policy};
use serde_json::{Value, json};

const SHA: &str = "4f67c83422ec4f67c83422ec4f67c83422ec4f67c83422ec4f67c83422ec0001";

/// A report of `repository` with `(qid, severity, packages)` findings.
fn report(repository: &str, vulns: &[(u32, i64, &[&str])]) -> Value {
    json!({
        "sha": SHA,
        "repo": [{"repository": repository, "tag": "1.0"}],
        "vulnerabilities": vulns.iter().map(|(qid, sev, pkgs)| json!({
            "qid": qid,
            "severity": sev,
            "typeDetected": "CONFIRMED",
            "software": pkgs.iter().map(|p| json!({"name": p, "version": "1"})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn parse(v: &Value) -> ImageReport {
    ImageReport::from_json(&serde_json::to_vec(v).unwrap()).unwrap()
}

fn policy(severity: &str) -> Policy {
    let flags = PolicyFlags {
        fail_severity: vec![severity.to_owned()],
        ..PolicyFlags::default()
    };
    flags.to_raw().validate().0.unwrap()
}

fn baseline(v: &Value) -> Baseline {
    Baseline::from_json("base.json", &serde_json::to_vec(v).unwrap()).unwrap()
}

/// The state of finding `qid` among every finding (`summary.json` lists only the deciding ones).
fn state(e: &qcs_core::Evaluation, qid: u32) -> Option<BaselineState> {
    e.every_finding()
        .iter()
        .find(|f| f.qid == qid)
        .unwrap()
        .baseline_state
}

#[test]
fn qid_and_package_identify_a_finding() {
    let base = baseline(&report(
        "acme/app",
        &[
            (100, 5, &["openssl"]),
            (200, 4, &["zlib"]),
            (300, 3, &[]),
            (400, 3, &["curl"]),
        ],
    ));
    let now = report(
        "acme/app",
        &[
            (100, 5, &["openssl"]),         // unchanged
            (200, 4, &["zlib", "libxml2"]), // another package too: new
            (300, 3, &[]),                  // no package, keyed by QID: unchanged
            (100, 5, &["gnutls"]),          // the same QID in another package: new
            (500, 5, &["bash"]),            // new
        ],
    );
    let input = Some(BaselineInput {
        baseline: &base,
        mode: BaselineMode::All,
    });
    let e = evaluate_full(
        &policy("5=0"),
        &parse(&now),
        Timestamp::UNIX_EPOCH,
        input,
        true,
    );
    // the deciding findings `summary.json` lists carry their state too, as without details
    let lean = evaluate_with(&policy("5=0"), &parse(&now), Timestamp::UNIX_EPOCH, input);
    assert_eq!(lean.findings, e.findings);
    assert_eq!(e.findings.len(), 3, "the three severity-5 findings decide");
    assert!(e.findings.iter().all(|f| f.baseline_state.is_some()));
    let states: Vec<_> = e
        .every_finding()
        .iter()
        .map(|f| {
            (
                f.qid,
                f.packages[..].first().map(|p| p.name.clone()),
                f.baseline_state,
            )
        })
        .collect();
    assert!(states.contains(&(100, Some("openssl".into()), Some(BaselineState::Unchanged))));
    assert!(states.contains(&(100, Some("gnutls".into()), Some(BaselineState::New))));
    assert_eq!(state(&e, 200), Some(BaselineState::New));
    assert_eq!(state(&e, 300), Some(BaselineState::Unchanged));
    assert_eq!(state(&e, 500), Some(BaselineState::New));
    let b = e.baseline.as_ref().unwrap();
    assert_eq!(b.repository.as_deref(), Some("acme/app"));
    assert_eq!((b.new, b.unchanged, b.fixed), (3, 2, 1));
    assert_eq!(b.fixed_findings[0].qid, 400);
    assert_eq!(b.fixed_findings[0].package.as_deref(), Some("curl"));
    // mode all: every finding counts, as without a baseline
    assert_eq!(e.outcome, Outcome::Failed);
    assert_eq!(e.conditions.as_ref().unwrap().severity.levels["5"].found, 3);
}

#[test]
fn new_mode_fails_only_on_new_findings() {
    let old = report("acme/app", &[(100, 5, &["openssl"]), (200, 5, &["zlib"])]);
    let base = baseline(&old);
    let run = |r: &Value, mode| {
        evaluate_full(
            &policy("5=0"),
            &parse(r),
            Timestamp::UNIX_EPOCH,
            Some(BaselineInput {
                baseline: &base,
                mode,
            }),
            true,
        )
    };
    // hundreds of known findings, none new: passes in new mode, fails in all mode
    assert_eq!(run(&old, BaselineMode::New).outcome, Outcome::Passed);
    assert_eq!(run(&old, BaselineMode::All).outcome, Outcome::Failed);
    let e = run(&old, BaselineMode::New);
    assert_eq!(e.conditions.as_ref().unwrap().severity.levels["5"].found, 0);
    assert!(e.findings.is_empty(), "nothing decides the verdict");
    assert_eq!(e.every_finding().len(), 2);
    assert!(e.every_finding().iter().all(|f| f.conditions.is_empty()));
    assert!(
        e.failing_qids(qcs_core::summary::ConditionName::Severity)
            .is_empty()
    );
    // one new finding fails it, and only that one counts
    let newer = report(
        "acme/app",
        &[
            (100, 5, &["openssl"]),
            (200, 5, &["zlib"]),
            (100, 5, &["gnutls"]),
        ],
    );
    let e = run(&newer, BaselineMode::New);
    assert_eq!(e.outcome, Outcome::Failed);
    assert_eq!(e.conditions.as_ref().unwrap().severity.levels["5"].found, 1);
}

#[test]
fn an_image_without_a_baseline_entry_has_every_finding_new_and_says_so() {
    let base = baseline(&report("acme/other", &[(100, 5, &["openssl"])]));
    let e = evaluate_with(
        &policy("5=0"),
        &parse(&report("acme/app", &[(100, 5, &["openssl"])])),
        Timestamp::UNIX_EPOCH,
        Some(BaselineInput {
            baseline: &base,
            mode: BaselineMode::New,
        }),
    );
    assert_eq!(e.outcome, Outcome::Failed, "nothing is silently known");
    let b = e.baseline.as_ref().unwrap();
    assert_eq!(b.repository, None);
    assert_eq!((b.new, b.unchanged, b.fixed), (1, 0, 0));
    assert_eq!(state(&e, 100), Some(BaselineState::New));
    let json = serde_json::to_value(b).unwrap();
    assert_eq!(json["repository"], Value::Null, "written, not left out");
}

#[test]
fn a_summary_is_the_next_runs_baseline_through_its_finding_keys() {
    let r = report(
        "acme/app",
        &[(100, 5, &["openssl", "libssl3"]), (300, 3, &[])],
    );
    let e = qcs_core::evaluate(&policy("5=0"), &parse(&r), Timestamp::UNIX_EPOCH);
    let keys = e.finding_keys.clone().unwrap();
    assert_eq!(keys[""], vec![300]);
    assert_eq!(keys["openssl"], vec![100]);
    let mut summary = Summary::new(
        "0.1.0",
        vec![qcs_core::summary::ImageResult {
            input: "acme/app:1.0".into(),
            evaluation: e,
        }],
    );
    // the summary may list only the deciding findings: the keys still carry every identity
    summary.images[0].evaluation.findings.clear();
    let base = baseline(&serde_json::to_value(&summary).unwrap());
    let e = evaluate_with(
        &policy("5=0"),
        &parse(&r),
        Timestamp::UNIX_EPOCH,
        Some(BaselineInput {
            baseline: &base,
            mode: BaselineMode::New,
        }),
    );
    assert_eq!(e.outcome, Outcome::Passed);
    assert_eq!(e.baseline.as_ref().unwrap().unchanged, 2);
}

#[test]
fn unusable_baselines_are_errors() {
    let err = |v: &[u8]| Baseline::from_json("b", v).unwrap_err();
    assert!(matches!(err(b"not json"), BaselineError::Unknown(_)));
    assert!(matches!(err(b"{\"x\": 1}"), BaselineError::Unknown(_)));
    assert!(matches!(
        err(b"{\"schema_version\": 99, \"images\": []}"),
        BaselineError::Schema(99)
    ));
    let unprocessed = json!({"sha": SHA, "vulnerabilities": null});
    assert!(matches!(
        err(&serde_json::to_vec(&unprocessed).unwrap()),
        BaselineError::NotProcessed
    ));
}

#[test]
fn finding_keys_of_20000_findings_stay_small() {
    // 20,000 findings over 2,000 packages, as a large image has
    let vulns: Vec<Value> = (0..20_000u32)
        .map(|n| {
            json!({"qid": 100_000 + n * 7, "severity": 3, "typeDetected": "CONFIRMED",
                   "software": [{"name": format!("package-{:04}", n % 2000), "version": "1"}]})
        })
        .collect();
    let r = json!({"sha": SHA, "repo": [{"repository": "acme/big"}], "vulnerabilities": vulns});
    let e = qcs_core::evaluate(&Policy::default(), &parse(&r), Timestamp::UNIX_EPOCH);
    let bytes = serde_json::to_vec(&e.finding_keys).unwrap().len();
    assert!(
        bytes < 200_000,
        "finding_keys of 20,000 findings: {bytes} bytes"
    );
}
