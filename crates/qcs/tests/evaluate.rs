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

/// A generated report of `n` vulnerabilities written to `dir` (as `examples/gen_report.rs`).
fn generated(dir: &Path, n: usize, packages: usize) -> PathBuf {
    use qcs_emulator::generate::{ReportSpec, generate};
    let spec = ReportSpec {
        vulnerabilities: n,
        packages,
        mistyped_cvss: 3,
        ..ReportSpec::default()
    };
    let path = dir.join(format!("generated-{n}.json"));
    let body = serde_json::to_vec(&generate(&spec)).expect("generated report serialises");
    std::fs::write(&path, body).expect("report written");
    path
}

/// Every kind of condition (the benchmark's policy).
const EVERY_CONDITION: [&str; 14] = [
    "--fail-severity",
    "5=0,4=10,3=100,2=1000,1=5000",
    "--fail-qids",
    "376209,100000-199999,6000000-6099999",
    "--fail-cves",
    "CVE-2021-44228,CVE-2022-22965",
    "--fail-software",
    ".*:log4j-core<2.17.1",
    "--fail-cvss",
    "max:9.0",
    "--potential",
    "--exclude-qids",
    "6000123,370000-370100,178000-178400",
    "--now=2026-12-04T00:00:00Z",
];

/// Issue 15: with only the verdict asked for, a report file is judged while it is read (a window
/// at a time, the listed findings read again from the file); with a format that shows every
/// finding, and from a pipe, it is read whole. All give the same `summary.json`, byte for byte,
/// for a report that spans many windows, carries wrongly typed parts (warnings) and has more
/// deciding findings than `summary.json` lists.
#[test]
fn the_report_read_while_judged_and_read_whole_give_the_same_summary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = generated(tmp.path(), 4000, 500);
    let run = |out: &str, formats: &[&str], input: &Path| -> Vec<u8> {
        let dir = tmp.path().join(out);
        let mut cmd = qcs();
        cmd.args(["evaluate", "-q", "--output-dir"])
            .arg(&dir)
            .arg("--report")
            .arg(input)
            .args(EVERY_CONDITION);
        for f in formats {
            cmd.args(["--format", f]);
        }
        cmd.assert().code(1);
        std::fs::read(dir.join("summary.json")).expect("summary.json written")
    };
    let streamed = run("streamed", &["json"], &report);
    let whole = run("whole", &["json", "sarif"], &report);
    assert!(streamed == whole, "the two summaries differ");
    #[cfg(unix)]
    {
        // a pipe is read whole, then judged the same way
        let piped = tmp.path().join("piped");
        let out = qcs()
            .args(["evaluate", "-q", "--output-dir"])
            .arg(&piped)
            .args(["--report", "/dev/stdin"])
            .args(EVERY_CONDITION)
            .write_stdin(std::fs::read(&report).expect("report"))
            .assert()
            .code(1)
            .get_output()
            .clone();
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(piped.join("summary.json")).expect("summary.json written");
        let mut piped: Value = serde_json::from_slice(&bytes).expect("json");
        let mut file: Value = serde_json::from_slice(&streamed).expect("json");
        assert_eq!(piped["images"][0]["input"], "/dev/stdin");
        piped["images"][0]["input"] = Value::Null;
        file["images"][0]["input"] = Value::Null;
        assert!(piped == file, "the piped summary differs");
    }
    let s: Value = serde_json::from_slice(&streamed).expect("summary.json parses");
    let img = &s["images"][0];
    let max = qcs_core::summary::FINDINGS_LISTED_MAX;
    assert_eq!(img["findings"].as_array().map(Vec::len), Some(max));
    assert!(
        img["findings_deciding"].as_u64() > Some(max as u64),
        "{}",
        img["findings_deciding"]
    );
    assert_eq!(
        img["findings_omitted"].as_u64(),
        Some(4000 - max as u64),
        "the rest are counted"
    );
    assert!(img["warnings"].as_array().is_some_and(|w| !w.is_empty()));
    assert!(
        img.get("software").is_none(),
        "installed software is not in summary.json"
    );
    assert!(
        img["findings"][0].get("result").is_none(),
        "nor the scanner's result text"
    );
}

/// Issue 15: `summary.json` lists only the findings that decide the verdict, and every other
/// format still shows every finding, read from the report.
#[test]
fn every_format_but_summary_json_shows_every_finding() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = generated(tmp.path(), 300, 120);
    let out = tmp.path().join("out");
    qcs()
        .args(["evaluate", "-q", "--output-dir"])
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .args(["--fail-severity", "5=0", "--now=2026-12-04T00:00:00Z"])
        .args([
            "--format", "json", "--format", "sarif", "--format", "gitlab",
        ])
        .args([
            "--format", "markdown", "--format", "junit", "--format", "html",
        ])
        .assert()
        .code(1);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).expect("written");
    let s: Value = serde_json::from_str(&read("summary.json")).expect("json");
    let img = &s["images"][0];
    let total = img["counts"]["total"].as_u64().expect("total");
    let fives = img["conditions"]["severity"]["levels"]["5"]["found"]
        .as_u64()
        .expect("found");
    assert_eq!(total, 300);
    // the failing severity-5 findings, and nothing else
    let listed = img["findings"].as_array().expect("findings");
    assert_eq!(listed.len() as u64, fives);
    assert!(listed.iter().all(|f| f["severity"] == 5));
    assert_eq!(img["findings_omitted"].as_u64(), Some(total - fives));
    // SARIF: one result per finding; GitLab: one vulnerability per finding and package
    let sarif: Value = serde_json::from_str(&read("results.sarif")).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len() as u64, total);
    let errors = results.iter().filter(|r| r["level"] == "error").count();
    assert_eq!(errors as u64, fives);
    let gitlab: Value =
        serde_json::from_str(&read("gl-container-scanning-report.json")).expect("gitlab");
    let vulns = gitlab["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities");
    assert!(vulns.len() as u64 >= total, "{} < {total}", vulns.len());
    // Markdown: every finding in the collapsed table; HTML: every finding in the page's data
    assert!(read("summary.md").contains(&format!("All {total} findings")));
    let html = read("report.html");
    assert!(html.contains(&format!("Vulnerabilities ({total})</h3>")));
    assert!(html.contains("Installed software (120)</h3>"));
    // JUnit names every QID that made severity fail
    let junit = read("junit.xml");
    for f in listed {
        let qid = f["qid"].as_u64().expect("qid").to_string();
        assert!(junit.contains(&qid), "QID {qid} missing from junit.xml");
    }
}
