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

/// `--no-config` reads no config file: not `./qcs.toml`, not `QCS_CONFIG` (each would fail the
/// report here), and it cannot be combined with `--config`.
#[test]
fn no_config_reads_no_config_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = repo("examples/reports/payments-api.json");
    let strict = "[policy.fail]\ncves = [\"CVE-2021-44228\"]\n";
    std::fs::write(tmp.path().join("qcs.toml"), strict).expect("written");
    std::fs::write(tmp.path().join("named.toml"), strict).expect("written");
    let run = |extra: &[&str], env: Option<&str>| {
        let mut c = qcs();
        c.current_dir(tmp.path())
            .env_remove("QCS_CONFIG")
            .args(["evaluate", "-q", "--report"])
            .arg(&report)
            .args(extra);
        if let Some(name) = env {
            c.env("QCS_CONFIG", tmp.path().join(name));
        }
        c.assert()
    };
    // the file in the working directory, then the one QCS_CONFIG names, fail the report …
    run(&[], None).code(1);
    run(&[], Some("named.toml")).code(1);
    // … and neither is read with --no-config (before or after the command)
    run(&["--no-config"], None).code(0);
    run(&["--no-config"], Some("named.toml")).code(0);
    qcs()
        .current_dir(tmp.path())
        .args(["--no-config", "evaluate", "-q", "--report"])
        .arg(&report)
        .assert()
        .code(0);
    // the policy flags still count
    run(&["--no-config", "--fail-cves", "CVE-2021-44228"], None).code(1);
    run(&["--no-config", "--config", "named.toml"], None)
        .code(2)
        .stderr(predicate::str::contains("--no-config").and(predicate::str::contains("--config")));
    // scan says where its settings come from
    qcs()
        .current_dir(tmp.path())
        .env("QUALYS_PLATFORM", "EU1")
        .env("QUALYS_USERNAME", "u")
        .env("QUALYS_PASSWORD", "p")
        .args(["scan", "--print-config", "--no-config", "app:1"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "config file        none (flag --no-config)",
        ));
}

/// A report with two severity-5 findings (and one of severity 4).
fn two_sev5_report(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("two-sev5.json");
    std::fs::write(
        &p,
        r#"{"sha":"4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100",
        "vulnerabilities":[
          {"qid":376209,"severity":5,"typeDetected":"CONFIRMED","cveids":["CVE-2021-44228"]},
          {"qid":376210,"severity":5,"typeDetected":"CONFIRMED"},
          {"qid":6000123,"severity":4,"typeDetected":"CONFIRMED","patchAvailable":true}]}"#,
    )
    .expect("written");
    p
}

/// Issue 12, item 1: a typo in `qcs.toml` (an unknown top-level key, an unknown table, a table
/// in the wrong case, an unknown key in a table) is refused by `evaluate` and `scan` with exit 2,
/// its `file:line:col` and a "did you mean" hint, as `qcs policy check qcs.toml` reports it.
/// Before, `polciy = …`, `[wiat]` and `[Policy.fail]` were ignored and a report with two
/// severity-5 findings passed with exit 0.
#[test]
fn a_typo_in_the_config_is_refused_everywhere_with_its_place() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = two_sev5_report(tmp.path());
    std::fs::write(
        tmp.path().join("strict.toml"),
        "[fail]\nseverity = { 5 = 0 }\n",
    )
    .expect("written");
    let cases = [
        (
            "polciy = \"strict.toml\"\n",
            "unknown key `polciy`",
            "qcs.toml:1:1",
            "`policy`",
        ),
        (
            "[wait]\ntimeout = \"1m\"\n[wiat]\ntimeout = \"2m\"\n",
            "unknown table `[wiat]`",
            "qcs.toml:3:2",
            "`wait`",
        ),
        (
            "[Policy.fail]\nseverity = { 5 = 0 }\n",
            "unknown table `[Policy]`",
            "qcs.toml:1:2",
            "`policy`",
        ),
        (
            "[policy.fail]\nseverty = { 5 = 0 }\n",
            "unknown key `policy.fail.severty`",
            "qcs.toml:2:1",
            "`severity`",
        ),
        (
            "[output]\nformat = [\"json\"]\n",
            "unknown key `format` in [output]",
            "qcs.toml:2:1",
            "`formats`",
        ),
    ];
    for (text, what, place, suggestion) in cases {
        std::fs::write(tmp.path().join("qcs.toml"), text).expect("written");
        let hint = format!("did you mean {suggestion}?");
        for args in [
            vec!["evaluate", "--fail-severity", "4=9", "--report"],
            vec![
                "scan",
                "--platform",
                "US1",
                "myapp:1.4",
                "--report-only",
                "--report",
            ],
        ] {
            // `scan` takes no --report: the config is refused before the arguments are used.
            let mut c = qcs();
            c.current_dir(tmp.path()).env_remove("QCS_CONFIG");
            if args[0] == "scan" {
                c.args(&args[..args.len() - 1]);
            } else {
                c.args(&args)
                    .arg(&report)
                    .arg("--output-dir")
                    .arg(tmp.path().join("out"));
            }
            let out = c.output().expect("qcs runs");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{text:?} {args:?}: {err}");
            assert!(err.contains(what), "{text:?} {args:?}: {err}");
            assert!(err.contains(place), "{text:?} {args:?}: {err}");
            assert!(err.contains(&hint), "{text:?} {args:?}: {err}");
            assert!(
                err.contains("the config file `qcs.toml` is invalid"),
                "{err}"
            );
        }
        let out = qcs()
            .current_dir(tmp.path())
            .args(["policy", "check", "qcs.toml"])
            .output()
            .expect("qcs runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {err}");
        assert!(
            err.contains(what) && err.contains(place) && err.contains(&hint),
            "{err}"
        );
    }
    // The corrected config gates: policy = "strict.toml" fails the two severity-5 findings.
    std::fs::write(tmp.path().join("qcs.toml"), "policy = \"strict.toml\"\n").expect("written");
    qcs()
        .current_dir(tmp.path())
        .args(["evaluate", "-q", "--output-dir", "out", "--report"])
        .arg(&report)
        .assert()
        .code(1);
    qcs()
        .current_dir(tmp.path())
        .args(["policy", "check", "qcs.toml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("more than 0 of severity 5"));
}

/// Issue 12, item 7: flags win over the policy file per condition, including switching off,
/// and each replacement is shown (a `note:` on stderr, `overrides:` in --print-config). Before,
/// `--fail-severity 5=1` over `severity = { 5 = 0 }` was "given twice", `--fail-cvss` replaced
/// the file's threshold silently, and `potential` could not be switched off.
#[test]
fn flags_win_over_the_policy_file_per_condition() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = two_sev5_report(tmp.path());
    let policy = tmp.path().join("p.toml");
    std::fs::write(
        &policy,
        "[fail]\nseverity = { 5 = 0, 4 = 0 }\ncvss = { version = \"3\", score = 9.0 }\npotential = true\n",
    )
    .expect("written");
    let eval = |extra: &[&str]| {
        let out = qcs()
            .args(["evaluate", "--format", "json=-", "--policy"])
            .arg(&policy)
            .arg("--report")
            .arg(&report)
            .args(extra)
            .output()
            .expect("qcs runs");
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
        (
            out.status.code(),
            s,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, s, err) = eval(&[
        "--fail-severity",
        "5=2,4=off",
        "--fail-cvss",
        "3:9.5",
        "--potential=false",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let levels = &s["images"][0]["conditions"]["severity"]["levels"];
    assert_eq!(levels["5"]["limit"], 2, "{levels}");
    assert!(levels["4"]["limit"].is_null(), "{levels}");
    assert_eq!(s["images"][0]["conditions"]["cvss"]["score"], 9.5);
    for want in [
        "note: --fail-severity 5=2 replaces the severity 5 limit 0 of",
        "note: --fail-severity 4=off switches off the severity 4 limit 0 of",
        "note: --fail-cvss 3:9.5 replaces the CVSS threshold 3:9.0 of",
        "note: --potential=false replaces potential = true of",
    ] {
        assert!(err.contains(want), "{want} missing:\n{err}");
    }
    let (code, _, err) = eval(&["--fail-severity", "5=1"]);
    assert_eq!(code, Some(1), "5=1 replaces 5=0 and two are found: {err}");
    assert!(!err.contains("given twice"), "{err}");
    // the same notes in --print-config
    let out = qcs()
        .args([
            "scan",
            "--print-config",
            "myapp:1.4",
            "--platform",
            "US1",
            "--policy",
        ])
        .arg(&policy)
        .args(["--fail-cvss", "3:7.0"])
        .output()
        .expect("qcs runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("overrides: --fail-cvss 3:7.0 replaces the CVSS threshold 3:9.0 of"),
        "{stdout}"
    );
}

/// Issue 12, item 7: `--fail-severity ""` is an error (before: read as no condition, a pass).
#[test]
fn an_empty_policy_flag_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = two_sev5_report(tmp.path());
    qcs()
        .current_dir(tmp.path())
        .args(["evaluate", "--fail-severity", "", "--report"])
        .arg(&report)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--fail-severity \"\": the value is empty",
        ));
}

/// Issue 12, item 7: a key given twice in criteria JSON is an error with its line and column
/// (before: the last one silently won), and criteria JSON given to `--policy` is read as
/// criteria JSON (before: a TOML syntax error with a TOML hint).
#[test]
fn criteria_json_duplicate_keys_and_criteria_given_as_policy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = two_sev5_report(tmp.path());
    let dup = tmp.path().join("dup.json");
    std::fs::write(
        &dup,
        "{\"failConditions\": {\"severities\": {\"5\": 0},\n  \"severities\": {\"4\": 9}}}",
    )
    .expect("written");
    for args in [
        vec!["evaluate", "--criteria-json"],
        vec!["evaluate", "--policy"],
    ] {
        qcs()
            .args(&args)
            .arg(&dup)
            .arg("--report")
            .arg(&report)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("line 2, column 14"))
            .stderr(predicate::str::contains("`severities` is given twice"));
    }
    qcs()
        .args(["policy", "check"])
        .arg(&dup)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2, column 14"));
    // criteria JSON under any name given to --policy (or named by the config) is read as such
    let crit = tmp.path().join("gate.policy");
    std::fs::write(&crit, r#"{"failConditions": {"severities": {"5": 0}}}"#).expect("written");
    qcs()
        .args(["evaluate", "-q", "--output-dir"])
        .arg(tmp.path().join("out"))
        .arg("--policy")
        .arg(&crit)
        .arg("--report")
        .arg(&report)
        .assert()
        .code(1);
    std::fs::write(tmp.path().join("qcs.toml"), "policy = \"gate.policy\"\n").expect("written");
    qcs()
        .current_dir(tmp.path())
        .args(["evaluate", "-q", "--output-dir", "out", "--report"])
        .arg(&report)
        .assert()
        .code(1);
}
