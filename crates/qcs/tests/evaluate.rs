//! `qcs evaluate` as a user runs it: the real binary, real files, exit codes, stderr messages and
//! the `summary.json` contract.

mod common;
#[path = "../../qcs-core/tests/support/vectors.rs"]
mod vectors;

use std::path::{Path, PathBuf};

use common::{qcs, repo as example};
use predicates::prelude::*;
use qcs_core::summary::Summary;
use serde_json::Value;

const SHA: &str = "4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100";

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("temp file written");
    p
}

fn report(vulns: &str) -> String {
    format!(
        r#"{{"sha":"{SHA}","imageId":"4f67c83422ec","operatingSystem":"Debian Linux 12",
    "repo":[{{"repository":"acme/app","tag":"1.0"}}],"vulnerabilities":{vulns},
    "softwares":[{{"name":"openssl","version":"1.1.1k"}}]}}"#
    )
}

const ONE_SEV5: &str = r#"[{"qid":376209,"title":"Log4Shell","severity":5,"typeDetected":"CONFIRMED",
    "cveids":["CVE-2021-44228"],"cvssInfo":{"baseScore":"9.3"},"cvss3Info":{"baseScore":"10.0"},
    "patchAvailable":true,"software":[{"name":"log4j-core","version":"2.14.1","fixVersion":"2.17.1"}]}]"#;

fn summary(dir: &Path) -> Summary {
    let bytes = std::fs::read(dir.join("summary.json")).expect("summary.json written");
    serde_json::from_slice(&bytes).expect("summary.json parses")
}

#[test]
fn a_sample_of_the_vectors_agrees_through_the_binary() {
    let dir = vectors::vectors_dir();
    for id in vectors::vector_ids().iter().step_by(10) {
        let out = qcs()
            .args(["evaluate", "-q", "--format", "json=-", "--report"])
            .arg(dir.join(format!("{id}.report.json")))
            .arg("--criteria-json")
            .arg(dir.join(format!("{id}.criteria.json")))
            .output()
            .expect("qcs runs");
        let s: Summary = serde_json::from_slice(&out.stdout).expect("summary JSON on stdout");
        let expected: Value = serde_json::from_slice(
            &std::fs::read(dir.join(format!("{id}.expected.json"))).expect("expected"),
        )
        .expect("expected JSON");
        let e = &s.images[0].evaluation;
        let bad = vectors::compare(
            id,
            &expected,
            e.outcome,
            e.conditions.as_ref().expect("conditions"),
            e.counts.as_ref().expect("counts"),
        );
        assert!(bad.is_empty(), "{bad:#?}");
        let pass = expected["pass"].as_bool().expect("pass");
        assert_eq!(out.status.code(), Some(i32::from(!pass)), "{id}: exit code");
    }
}

#[test]
fn passing_and_failing_images_set_exit_codes_0_and_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = write(tmp.path(), "r.json", &report(ONE_SEV5));
    qcs()
        .args(["evaluate", "--fail-severity", "5=1", "--output-dir"])
        .arg(tmp.path())
        .arg("--report")
        .arg(&r)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("PASSED"));
    assert_eq!(summary(tmp.path()).exit_code, 0);

    qcs()
        .args([
            "evaluate",
            "--fail-severity",
            "5=0",
            "--fail-software",
            "openssl=1\\.1\\..*",
        ])
        .arg("--output-dir")
        .arg(tmp.path())
        .arg("--report")
        .arg(&r)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "FAIL severity 5: found 1, limit 0",
        ))
        .stderr(predicate::str::contains(
            "FAIL software: found openssl=1.1.1k",
        ));
    let s = summary(tmp.path());
    assert_eq!((s.exit_code, s.outcome.as_str()), (1, "failed"));
    // --report-only writes the same verdict but exits 0
    qcs()
        .args([
            "evaluate",
            "--report-only",
            "--fail-severity",
            "5=0",
            "--output-dir",
        ])
        .arg(tmp.path())
        .arg("--report")
        .arg(&r)
        .assert()
        .code(0);
    assert_eq!(summary(tmp.path()).exit_code, 1);
}

#[test]
fn a_report_not_processed_yet_is_an_error_never_a_pass() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let pending = write(tmp.path(), "pending.json", &report("null"));
    // no condition configured: still exit 5, not 0
    qcs()
        .args(["evaluate", "--output-dir"])
        .arg(tmp.path())
        .arg("--report")
        .arg(&pending)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("scan not processed yet"));
    let s = summary(tmp.path());
    let e = &s.images[0].evaluation;
    assert_eq!(e.outcome.as_str(), "error");
    assert_eq!(
        serde_json::to_value(e.error.as_ref().expect("error")).expect("json")["kind"],
        "not_processed"
    );
    // a policy failure elsewhere wins: exit 1
    let failing = write(tmp.path(), "failing.json", &report(ONE_SEV5));
    qcs()
        .args(["evaluate", "--fail-cves", "CVE-2021-44228", "--output-dir"])
        .arg(tmp.path())
        .arg("--report")
        .arg(&pending)
        .arg(&failing)
        .assert()
        .code(1);
    // an empty list is a clean image: it passes
    let clean = write(tmp.path(), "clean.json", &report("[]"));
    qcs()
        .args(["evaluate", "-q", "--fail-severity", "5=0", "--output-dir"])
        .arg(tmp.path())
        .arg("--report")
        .arg(&clean)
        .assert()
        .code(0);
}

#[test]
fn unusable_reports_exit_2_naming_file_and_position() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broken = write(
        tmp.path(),
        "broken.json",
        "{\n  \"sha\": \"abc\",\n  oops\n}",
    );
    let array = write(tmp.path(), "array.json", "[]");
    let other = write(tmp.path(), "other.json", r#"{"name": "not an image"}"#);
    let listing = write(tmp.path(), "list.json", &report(r#"{"severity5Count": 1}"#));
    let out = qcs()
        .args(["evaluate", "--output-dir"])
        .arg(tmp.path())
        .arg("--report")
        .args([&broken, &array, &other, &listing])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("broken.json") && err.contains("line 3, column 3"),
        "{err}"
    );
    assert!(
        err.contains("array.json") && err.contains("JSON array, not an object"),
        "{err}"
    );
    assert!(
        err.contains("other.json") && err.contains("missing field `sha`"),
        "{err}"
    );
    assert!(
        err.contains("list.json") && err.contains("image list entry"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert!(
        !tmp.path().join("summary.json").exists(),
        "no summary for unusable input"
    );

    // a missing file is reported together with the other unusable ones
    let out = qcs()
        .args(["evaluate", "--report", "/nonexistent/r.json"])
        .arg(&array)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(
        err.contains("cannot read report `/nonexistent/r.json`"),
        "{err}"
    );
    assert!(
        err.contains("array.json") && err.contains("JSON array, not an object"),
        "{err}"
    );
}

#[test]
fn invalid_policy_values_are_all_reported_with_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = write(tmp.path(), "r.json", &report("[]"));
    let crit = write(
        tmp.path(),
        "criteria.json",
        r#"{"failConditions": {"qids": ["300-200"], "cvss": {"version": "4", "configured": 7}}}"#,
    );
    let out = qcs()
        .args([
            "evaluate",
            "--fail-cves",
            "CVE-2021-1",
            "--fail-qids",
            "12x",
            "--fail-cvss",
            "3:11.5",
            "--fail-software",
            "lib(=1",
            "--report",
        ])
        .arg(&r)
        .arg("--criteria-json")
        .arg(&crit)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    for want in [
        "failConditions.qids[0]: QID range `300-200` is reversed",
        "--fail-cves CVE-2021-1: `CVE-2021-1` is not a CVE id",
        "--fail-qids 12x: `12x` is not a QID",
        "--fail-cvss 3:11.5: CVSS score 11.5 is outside 0.0-10.0",
        "--fail-software lib(=1: software filter `lib(=1`: bad name regex",
        "the policy is invalid (5 errors)",
    ] {
        assert!(err.contains(want), "missing `{want}` in:\n{err}");
    }
    // the criteria file's `cvss` (version 4) was replaced by --fail-cvss, so it is not judged
    assert!(!err.contains("unknown CVSS version"), "{err}");
}

#[test]
fn summary_json_has_the_contract_field_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    qcs()
        .args(["evaluate", "-q", "--output-dir"])
        .arg(tmp.path())
        .arg("--report")
        .arg(example("examples/reports/payments-api.json"))
        .arg("--criteria-json")
        .arg(example("examples/criteria.json"))
        .assert()
        .code(1);
    let v: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).expect("written"))
            .expect("json");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    let has = |v: &Value, want: &[&str]| {
        let k = keys(v);
        for w in want {
            assert!(k.iter().any(|x| x == w), "missing `{w}` in {k:?}");
        }
    };
    has(
        &v,
        &[
            "schema_version",
            "qcs_version",
            "outcome",
            "exit_code",
            "images",
        ],
    );
    assert_eq!(v["schema_version"], 2);
    let img = &v["images"][0];
    has(
        img,
        &[
            "input",
            "sha",
            "image_id",
            "outcome",
            "error",
            "scanned_at",
            "counts",
            "conditions",
            "findings",
            "findings_deciding",
            "findings_omitted",
            "exclusions",
        ],
    );
    assert_eq!(img["scanned_at"], "2024-06-01T12:01:00Z");
    has(
        &img["counts"],
        &[
            "confirmed",
            "potential",
            "total",
            "patchable",
            "not_patchable",
        ],
    );
    has(&img["counts"]["confirmed"], &["1", "2", "3", "4", "5"]);
    let c = &img["conditions"];
    has(c, &["severity", "qids", "cves", "cvss", "software"]);
    has(&c["severity"], &["configured", "passed", "levels"]);
    has(&c["severity"]["levels"]["5"], &["limit", "found", "passed"]);
    assert_eq!(c["severity"]["levels"]["3"]["limit"], Value::Null);
    has(&c["qids"], &["configured", "passed", "found", "excluded"]);
    has(&c["cves"], &["configured", "passed", "found", "excluded"]);
    has(
        &c["cvss"],
        &[
            "configured",
            "passed",
            "version",
            "score",
            "found",
            "by_score",
        ],
    );
    assert_eq!(c["cvss"]["by_score"]["10.0"], 1);
    has(&c["software"], &["configured", "passed", "found"]);
    let f = &img["findings"][0];
    has(
        f,
        &[
            "qid",
            "title",
            "severity",
            "type",
            "cves",
            "cvss2",
            "cvss3",
            "patchable",
            "packages",
            "conditions",
            "excluded_by",
        ],
    );
    assert_eq!(f["qid"], 376_209);
    assert_eq!(
        f["conditions"],
        serde_json::json!(["severity", "cves", "cvss"])
    );
    has(&f["packages"][0], &["name", "version", "fix_version"]);
    has(&img["exclusions"], &["applied", "expired", "unused"]);
    assert_eq!(img["exclusions"]["applied"][0]["qid"], "6000123");
    assert_eq!(img["findings"][1]["excluded_by"], "qid 6000123");
}

/// Issue 12, item 2: with the two severity-5 findings of a report given severity 9, null,
/// missing, 0 or -1, `--fail-severity 5=0` passed (exit 0) and the per-severity counts said 28
/// where the total said 30. Now the image is an error (`invalid_finding`, exit 5), never a pass.
#[test]
fn a_severity_out_of_range_is_an_error_never_a_pass() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for severity in ["9", "null", "missing", "0", "-1"] {
        let field = if severity == "missing" {
            String::new()
        } else {
            format!(r#""severity":{severity},"#)
        };
        let vulns = format!(
            r#"[{{"qid":376209,{field}"typeDetected":"CONFIRMED"}},
                {{"qid":376210,{field}"typeDetected":"CONFIRMED"}},
                {{"qid":6000123,"severity":4,"typeDetected":"CONFIRMED"}}]"#
        );
        let r = write(tmp.path(), "bad.json", &report(&vulns));
        let out = tmp.path().join(format!("out-{severity}"));
        qcs()
            .args(["evaluate", "--fail-severity", "5=0", "--output-dir"])
            .arg(&out)
            .arg("--report")
            .arg(&r)
            .assert()
            .code(5)
            .stderr(predicate::str::contains(
                "the report has 2 findings with a field out of range",
            ));
        let s = summary(&out);
        assert_eq!(
            (s.exit_code, s.outcome.as_str()),
            (5, "error"),
            "{severity}"
        );
        let e = &s.images[0].evaluation;
        assert_eq!(
            serde_json::to_value(e.error.as_ref().expect("error")).expect("json")["kind"],
            "invalid_finding"
        );
        // no counts that could disagree with a total
        assert!(e.counts.is_none(), "{severity}");
        // --report-only still records the real verdict
        qcs()
            .args(["evaluate", "-q", "--report-only", "--output-dir"])
            .arg(&out)
            .arg("--report")
            .arg(&r)
            .assert()
            .code(0);
        assert_eq!(summary(&out).exit_code, 5);
    }
}
