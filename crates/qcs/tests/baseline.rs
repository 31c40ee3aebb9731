//! Baselines through the real binary: `qcs evaluate --baseline` with a raw report and with a
//! summary, the same QID in another package, an image with no baseline entry, fixed findings,
//! the reports showing it, unusable baselines (exit 2 with a hint), `[baseline]` in a policy
//! file; and the adoption workflow with `qcs scan` against the emulator: an image with hundreds
//! of known findings fails a strict policy, then passes with its own summary as the baseline in
//! `new` mode.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{qcs, repo};
use serde_json::{Value, json};

fn example() -> Value {
    serde_json::from_slice(&std::fs::read(repo("examples/reports/payments-api.json")).unwrap())
        .unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p
}

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// `qcs evaluate` of `report` into `out` with every format; exit code and stderr.
fn evaluate(out: &Path, report: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut c = qcs();
    c.args(["evaluate", "--output-dir"])
        .arg(out)
        .arg("--report")
        .arg(report);
    for f in ["json", "sarif", "junit", "gitlab", "markdown", "html"] {
        c.args(["--format", f]);
    }
    c.arg("--format")
        .arg(format!("table={}", out.join("table.txt").display()));
    let o = c.args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The example with its log4j finding moved to another package (the same QID, new), and a
/// finding the baseline does not have.
fn current(dir: &Path) -> PathBuf {
    let mut doc = example();
    let vulns = doc["vulnerabilities"].as_array_mut().unwrap();
    vulns[1]["software"][0]["name"] = json!("org.apache.logging.log4j:log4j-api");
    write(dir, "current.json", &doc)
}

/// The example plus a finding the current image no longer has.
fn baseline_report(dir: &Path) -> PathBuf {
    let mut doc = example();
    let mut gone = doc["vulnerabilities"][0].clone();
    gone["qid"] = json!(38_170);
    gone["software"] = json!([{"name": "bash", "version": "5.1"}]);
    doc["vulnerabilities"].as_array_mut().unwrap().push(gone);
    write(dir, "baseline.json", &doc)
}

fn finding(summary: &Value, qid: u64) -> &Value {
    summary["images"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["qid"] == qid)
        .unwrap()
}

#[test]
fn a_raw_report_as_baseline_marks_new_unchanged_and_fixed_everywhere() {
    let t = tempfile::tempdir().unwrap();
    let (cur, base) = (current(t.path()), baseline_report(t.path()));
    let out = t.path().join("out");
    let (code, err) = evaluate(
        &out,
        &cur,
        &["--fail-severity", "5=0,4=0", "--baseline"]
            .into_iter()
            .chain([base.to_str().unwrap(), "--baseline-mode", "new"])
            .collect::<Vec<_>>(),
    );
    // the log4j QID in another package is new, so the image fails on it alone
    assert_eq!(code, Some(1), "{err}");
    let s = read(&out.join("summary.json"));
    let img = &s["images"][0];
    assert_eq!(img["baseline"]["repository"], "acme/payments-api");
    assert_eq!(img["baseline"]["mode"], "new");
    assert_eq!(img["baseline"]["new"], 1);
    assert_eq!(img["baseline"]["unchanged"], 1);
    // fixed: QID 38170 in bash, and log4j in the package it left
    assert_eq!(img["baseline"]["fixed"], 2);
    assert_eq!(finding(&s, 376_209)["baseline_state"], "new");
    // unchanged in new mode, it decides nothing: summary.json (schema 2) lists only the
    // deciding findings, and the formats that show every finding give its state (SARIF below)
    assert!(
        img["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["qid"] != 6_000_123)
    );
    assert_eq!(img["findings_omitted"], 1);
    assert_eq!(img["conditions"]["severity"]["levels"]["4"]["found"], 0);
    assert_eq!(img["conditions"]["severity"]["levels"]["5"]["found"], 1);
    assert!(img["finding_keys"]["libssl3"].as_array().is_some());

    let sarif = read(&out.join("results.sarif"));
    let states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["baselineState"].as_str())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == "new").count(),
        1,
        "{states:?}"
    );
    assert_eq!(states.iter().filter(|s| **s == "unchanged").count(), 1);
    assert_eq!(states.iter().filter(|s| **s == "absent").count(), 2);
    let table = std::fs::read_to_string(out.join("table.txt")).unwrap();
    assert!(table.contains("1 new, 1 unchanged, 2 fixed"), "{table}");
    assert!(
        table.contains("fixed since the baseline: QID 38170 (bash)"),
        "{table}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("🆕 new") && md.contains("unchanged ·"), "{md}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("1 new, 1 unchanged, 2 fixed"));
    let gl = std::fs::read_to_string(out.join("gl-container-scanning-report.json")).unwrap();
    assert!(gl.contains("New since the baseline.") && gl.contains("Unchanged since the baseline."));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Baseline</h3>") && html.contains("1 new, 1 unchanged, 2 fixed"));

    // mode all (the default): the states are reported, every finding still counts
    let (code, err) = evaluate(
        &out,
        &cur,
        &[
            "--fail-severity",
            "4=0",
            "--baseline",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1), "{err}");
    let s = read(&out.join("summary.json"));
    assert_eq!(s["images"][0]["baseline"]["mode"], "all");
    assert_eq!(
        s["images"][0]["conditions"]["severity"]["levels"]["4"]["found"],
        1
    );
}

#[test]
fn a_summary_as_baseline_and_an_image_without_an_entry() {
    let t = tempfile::tempdir().unwrap();
    let report = write(t.path(), "image.json", &example());
    let first = t.path().join("first");
    let (code, err) = evaluate(&first, &report, &["--fail-severity", "5=0"]);
    assert_eq!(code, Some(1), "{err}");
    let base = first.join("summary.json");
    let policy = t.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[fail]\nseverity = {{ 5 = 0 }}\n\n[baseline]\nmode = \"new\"\npath = {:?}\n",
            base.display().to_string()
        ),
    )
    .unwrap();
    let second = t.path().join("second");
    let (code, err) = evaluate(&second, &report, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(0), "nothing new: {err}");
    let s = read(&second.join("summary.json"));
    assert_eq!(s["images"][0]["baseline"]["unchanged"], 2);
    assert_eq!(s["images"][0]["baseline"]["fixed"], 0);

    // another repository: no entry, every finding new, and said so
    let mut other = example();
    other["repo"][0]["repository"] = json!("acme/ledger");
    let other = write(t.path(), "other.json", &other);
    let third = t.path().join("third");
    let (code, err) = evaluate(&third, &other, &["--policy", policy.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    let s = read(&third.join("summary.json"));
    assert_eq!(s["images"][0]["baseline"]["repository"], Value::Null);
    assert_eq!(s["images"][0]["baseline"]["new"], 2);
    let table = std::fs::read_to_string(third.join("table.txt")).unwrap();
    assert!(
        table.contains("none for this repository, so all 2 findings are new"),
        "{table}"
    );
}

#[test]
fn an_unusable_baseline_is_a_configuration_error_with_a_hint() {
    let t = tempfile::tempdir().unwrap();
    let report = write(t.path(), "image.json", &example());
    let garbage = t.path().join("garbage.json");
    std::fs::write(&garbage, "{\"neither\": true}").unwrap();
    let unprocessed = write(
        t.path(),
        "unprocessed.json",
        &json!({"sha": "4f67c83422ec".repeat(5) + "abcd", "vulnerabilities": null}),
    );
    let missing = t.path().join("missing.json");
    for (args, says) in [
        (
            vec!["--baseline", missing.to_str().unwrap()],
            "cannot read the baseline",
        ),
        (
            vec!["--baseline", garbage.to_str().unwrap()],
            "neither a qcs summary.json",
        ),
        (
            vec!["--baseline", unprocessed.to_str().unwrap()],
            "not processed",
        ),
        (vec!["--baseline-mode", "new"], "no baseline is given"),
    ] {
        let out = t.path().join("out");
        let (code, err) = evaluate(&out, &report, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            err.contains("hint:") && err.contains("docs/policy.md"),
            "{err}"
        );
        assert!(
            !out.join("summary.json").exists(),
            "no verdict without the baseline"
        );
    }
    // a typo in [baseline] is caught like any other key
    let policy = t.path().join("typo.toml");
    std::fs::write(&policy, "[baseline]\nmod = \"new\"\n").unwrap();
    let (code, err) = evaluate(
        &t.path().join("o"),
        &report,
        &["--policy", policy.to_str().unwrap()],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("baseline.mod") && err.contains("mode"),
        "{err}"
    );
    std::fs::write(&policy, "[baseline]\nmode = \"fresh\"\n").unwrap();
    let (code, err) = evaluate(
        &t.path().join("o"),
        &report,
        &["--policy", policy.to_str().unwrap()],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown baseline mode `fresh`"), "{err}");
}

/// The adoption workflow: day one, an image with 300 known findings fails a strict policy; its
/// summary kept as the baseline, the next scan in `new` mode passes, and fails again only when
/// something new appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_adopts_qcs_on_an_image_with_hundreds_of_known_findings() {
    use qcs_emulator::{Base, DockerImage, ReportSpec};
    let spec = |seed| ReportSpec {
        seed,
        base: Base::Debian,
        vulnerabilities: 300,
        packages: 200,
        repository: "acme/legacy".into(),
        ..ReportSpec::default()
    };
    let images = vec![
        DockerImage {
            tags: vec!["acme/legacy:1.0".into()],
            report: Some(spec(7)),
            ..DockerImage::default()
        },
        DockerImage {
            tags: vec!["acme/legacy:1.1".into()],
            report: Some(spec(8)),
            ..DockerImage::default()
        },
    ];
    let w = common::ScanWorld::start(common::QCS, images, "Pw-Baseline-Secret-77").await;
    let mut c = w.scan();
    c.args(["acme/legacy:1.0", "--fail-severity", "5=0,4=0,3=0", "-q"]);
    let (code, _, err) = common::run(c).await;
    assert_eq!(code, Some(1), "day one fails: {err}");
    let kept = w.out.path().join("baseline-summary.json");
    std::fs::copy(w.out.path().join("summary.json"), &kept).unwrap();

    // the strict policy, judging only what the kept summary does not have
    let against_kept = |image: &str| {
        let mut c = w.scan();
        c.args([image, "--fail-severity", "5=0,4=0,3=0", "-q"])
            .args([
                "--baseline",
                kept.to_str().unwrap(),
                "--baseline-mode",
                "new",
            ]);
        c
    };
    let (code, _, err) = common::run(against_kept("acme/legacy:1.0")).await;
    assert_eq!(code, Some(0), "nothing new: {err}");
    let s = w.summary();
    assert_eq!(s["images"][0]["baseline"]["new"], 0);
    assert_eq!(s["images"][0]["baseline"]["unchanged"], 300);

    // a rebuilt image with other findings: only what is new fails it
    let (code, _, err) = common::run(against_kept("acme/legacy:1.1")).await;
    let s = w.summary();
    let b = &s["images"][0]["baseline"];
    assert_eq!(b["repository"], "acme/legacy");
    let new = b["new"].as_u64().unwrap();
    assert!(new > 0 && b["fixed"].as_u64().unwrap() > 0, "{b}");
    let sev = &s["images"][0]["conditions"]["severity"]["levels"];
    let counted: u64 = ["3", "4", "5"]
        .iter()
        .map(|l| sev[*l]["found"].as_u64().unwrap())
        .sum();
    assert!(
        counted <= new,
        "only new findings count: {counted} of {new}"
    );
    assert_eq!(code, Some(i32::from(counted > 0)), "{err}");
}
