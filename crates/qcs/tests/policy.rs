//! Policy as code through the binary: `qcs policy check`, `qcs evaluate --policy`, and the
//! config file's `[policy]` table or `policy = "file"`.

mod common;

use common::{qcs, repo, summary_json as summary};
use predicates::prelude::*;

#[test]
fn check_accepts_the_documented_example_and_describes_it() {
    qcs()
        .args(["policy", "check"])
        .arg(repo("examples/qcs-policy.toml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "more than 0 of severity 5, more than 2 of severity 4",
        ))
        .stdout(predicate::str::contains(
            "excludes: QID 6000123 until 2027-03-01",
        ))
        .stdout(predicate::str::contains("valid (0 warnings)"));
}

#[test]
fn check_reports_every_mistake_with_its_line_and_exits_2() {
    let out = qcs()
        .args(["policy", "check"])
        .arg(repo("crates/qcs-core/tests/fixtures/ten-mistakes.toml"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    for (line, what) in [
        (3, "unknown severity level `6`"),
        (4, "QID range `200-100` is reversed"),
        (5, "`CVE-21-1` is not a CVE id"),
        (5, "`CVE-2021-44228` is listed twice"),
        (6, "bad name regex `lib(`"),
        (7, "CVSS score 11.0 is outside 0.0-10.0"),
        (8, "unknown key `fail.fixable_only`"),
        (10, "exclusion has neither `qid` nor `cve`"),
        (15, "exclusion has both `qid` and `cve`"),
        (18, "exclusion has no `reason`"),
        (24, "expires `next week` is not a date"),
    ] {
        // each problem is followed by its location header: ╭─[file:LINE:COL]
        let at = err
            .find(what)
            .unwrap_or_else(|| panic!("missing `{what}` in:\n{err}"));
        let header = &err[at..];
        let loc = format!("ten-mistakes.toml:{line}:");
        assert!(
            header.lines().take(3).any(|l| l.contains(&loc)),
            "`{what}` not shown at line {line}:\n{header}"
        );
    }
    assert_eq!(err.matches("hint:").count(), 11, "{err}");
    assert!(err.contains("did you mean `fixable-only`?"), "{err}");
    assert!(err.contains("invalid (9 errors, 2 warnings)"), "{err}");
}

#[test]
fn check_reads_criteria_json_and_warns_without_failing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = tmp.path().join("criteria.json");
    std::fs::write(
        &f,
        r#"{"failConditions": {"cves": ["CVE-2021-44228"], "excludeBy": "qid", "excludeCVEs": ["CVE-2020-0001"]}}"#,
    )
    .expect("written");
    qcs()
        .args(["policy", "check"])
        .arg(&f)
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "`excludeCVEs` is ignored because `excludeBy` is `qid`",
        ))
        .stdout(predicate::str::contains("valid (1 warning)"));
    qcs()
        .args(["policy", "check", "/nonexistent/p.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read policy file `/nonexistent/p.toml`",
        ));
}

#[test]
fn evaluate_with_the_policy_file_reports_exclusions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    qcs()
        .args(["evaluate", "--now", "2026-11-27T00:00:00Z", "--policy"])
        .arg(repo("examples/qcs-policy.toml"))
        .arg("--report")
        .arg(repo("examples/reports/payments-api.json"))
        .arg("--output-dir")
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("excluded: qid 6000123"))
        .stderr(predicate::str::contains(
            "unused exclusions (matched nothing): cve CVE-2023-1234",
        ));
    let s = summary(tmp.path());
    let x = &s["images"][0]["exclusions"];
    assert_eq!(x["applied"][0]["qid"], "6000123");
    assert_eq!(
        x["applied"][0]["reason"],
        "OpenSSL not reachable from the service; SEC-42"
    );
    assert_eq!(x["unused"][0]["cve"], "CVE-2023-1234");
    // after its expiry date the same entry no longer applies and is reported as expired
    qcs()
        .args([
            "evaluate",
            "-q",
            "--now",
            "2027-03-02T00:00:00Z",
            "--policy",
        ])
        .arg(repo("examples/qcs-policy.toml"))
        .arg("--report")
        .arg(repo("examples/reports/payments-api.json"))
        .arg("--output-dir")
        .arg(tmp.path())
        .assert()
        .code(1);
    let s = summary(tmp.path());
    let x = &s["images"][0]["exclusions"];
    assert_eq!(x["expired"][0]["qid"], "6000123");
    assert_eq!(x["expired"][0]["expires"], "2027-03-01");
    assert!(x["applied"].as_array().expect("list").is_empty());
    // the software condition used the dpkg order on this Ubuntu image
    let found = &s["images"][0]["conditions"]["software"]["found"];
    assert!(
        found
            .as_array()
            .expect("list")
            .iter()
            .any(|f| f == "libssl3=3.0.2-0ubuntu1.12"),
        "{found}"
    );
}

#[test]
fn the_config_file_holds_the_policy_or_names_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = repo("examples/reports/payments-api.json");
    // a [policy] table in qcs.toml, found in the working directory
    std::fs::write(
        tmp.path().join("qcs.toml"),
        "[policy.fail]\ncves = [\"CVE-2021-44228\"]\n",
    )
    .expect("written");
    qcs()
        .current_dir(tmp.path())
        .args(["evaluate", "-q", "--report"])
        .arg(&report)
        .assert()
        .code(1);
    // policy = "file", relative to the config, given by QCS_CONFIG
    let sub = tmp.path().join("ci");
    std::fs::create_dir(&sub).expect("dir");
    std::fs::write(sub.join("cfg.toml"), "policy = \"gate.toml\"\n").expect("written");
    std::fs::write(sub.join("gate.toml"), "[fail]\nqids = [\"999999\"]\n").expect("written");
    qcs()
        .env("QCS_CONFIG", sub.join("cfg.toml"))
        .args(["evaluate", "-q", "--output-dir"])
        .arg(tmp.path().join("out"))
        .arg("--report")
        .arg(&report)
        .assert()
        .code(0);
    // a mistake in the config's policy points into the config file
    std::fs::write(sub.join("bad.toml"), "[policy.fail]\ncves = [\"CVE-1\"]\n").expect("written");
    qcs()
        .args(["evaluate", "--config"])
        .arg(sub.join("bad.toml"))
        .arg("--report")
        .arg(&report)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.toml:2:9"));
    // an explicit config that does not exist is an error, not silently ignored
    qcs()
        .args(["evaluate", "--config", "/nonexistent/qcs.toml", "--report"])
        .arg(&report)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read config file"));
}
