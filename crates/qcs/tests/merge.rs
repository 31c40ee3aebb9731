//! `qcs report merge` and `--history` through the binary, on `qcs evaluate` runs: an image two
//! runs judged differently is a conflict (exit 5, listed, never a pass), alike it appears once;
//! summaries of another schema are refused; an empty shard merges cleanly; `--history` adds
//! the trend.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{qcs, repo};
use serde_json::Value;

fn run_evaluate(out: &Path, args: &[&str]) -> Option<i32> {
    qcs()
        .args(["evaluate", "-q", "--report"])
        .arg(repo("examples/reports/payments-api.json"))
        .arg("--output-dir")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
        .status
        .code()
}

fn merge(dir: &Path, summaries: &[PathBuf], extra: &[&str]) -> (Option<i32>, String) {
    let o = qcs()
        .args(["report", "merge", "--output-dir"])
        .arg(dir.join("merged"))
        .args(summaries)
        .args(extra)
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn runs_that_disagree_on_an_image_are_a_conflict_never_a_pass() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    assert_eq!(run_evaluate(&a, &[]), Some(0));
    assert_eq!(run_evaluate(&b, &["--fail-severity", "5=0"]), Some(1));
    let summaries = [a.join("summary.json"), b.join("summary.json")];
    let (code, err) = merge(t.path(), &summaries, &[]);
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains("conflict: image") && err.contains("hint:"),
        "{err}"
    );
    let s = read(&t.path().join("merged/summary.json"));
    assert_eq!(s["images"].as_array().unwrap().len(), 1);
    assert_eq!(s["images"][0]["outcome"], "error");
    assert_eq!(s["images"][0]["error"]["kind"], "conflict");
    assert_eq!(s["conflicts"][0]["runs"][0]["outcome"], "passed");
    assert_eq!(s["conflicts"][0]["runs"][1]["outcome"], "failed");
    // --report-only does not hide it in the summary
    let (code, _) = merge(t.path(), &summaries, &["--report-only"]);
    assert_eq!(code, Some(0));
    assert_eq!(read(&t.path().join("merged/summary.json"))["exit_code"], 5);

    // alike: once, no conflict, the same verdict
    let (code, err) = merge(
        t.path(),
        &[b.join("summary.json"), b.join("summary.json")],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    let s = read(&t.path().join("merged/summary.json"));
    assert_eq!(s["images"].as_array().unwrap().len(), 1);
    assert!(s.get("conflicts").is_none());
}

#[test]
fn other_schemas_are_refused_and_an_empty_shard_merges() {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    assert_eq!(run_evaluate(&a, &["--fail-severity", "5=0"]), Some(1));
    let mut other = read(&a.join("summary.json"));
    other["schema_version"] = 99.into();
    let odd = t.path().join("odd.json");
    std::fs::write(&odd, other.to_string()).unwrap();
    let (code, err) = merge(t.path(), &[a.join("summary.json"), odd.clone()], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("schema_version 99"), "{err}");

    // an empty shard (no image falls into it) exits 0 before any I/O and merges cleanly
    let other_shard = 2 - qcs_core::shard::bucket("acme/only:1", 2);
    let empty = t.path().join("empty");
    let o = qcs()
        .env_clear()
        .env("QUALYS_USERNAME", "u")
        .env("QUALYS_PASSWORD", "p")
        .args([
            "scan",
            "--gateway-url",
            "http://127.0.0.1:9",
            "--images",
            "acme/only:1",
        ])
        .args(["--shard", &format!("{other_shard}/2"), "--output-dir"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no image falls into shard"));
    let s = empty.join("summary.json");
    let empty_summary = read(&s);
    assert_eq!(empty_summary["exit_code"], 0);
    assert_eq!(empty_summary["shard"]["count"], 2);
    assert_eq!(empty_summary["images"], serde_json::json!([]));
    let (code, err) = merge(t.path(), &[a.join("summary.json"), s], &[]);
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn history_adds_the_trend() {
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("history");
    for n in [3, 1, 2] {
        let dir = history.join(format!("build-{n}"));
        let code = qcs()
            .env("BUILD_NUMBER", n.to_string())
            .args(["evaluate", "-q", "--report"])
            .arg(repo("examples/reports/payments-api.json"))
            .arg("--output-dir")
            .arg(&dir)
            .output()
            .unwrap()
            .status
            .code();
        assert_eq!(code, Some(0));
    }
    let out = t.path().join("now");
    let o = qcs()
        .env("BUILD_NUMBER", "4")
        .args(["evaluate", "-q", "--report"])
        .arg(repo("examples/reports/payments-api.json"))
        .arg("--output-dir")
        .arg(&out)
        .arg("--history")
        .arg(&history)
        .args(["--format", "json", "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let s = read(&out.join("summary.json"));
    let labels: Vec<&str> = s["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["#1", "#2", "#3", "#4"]);
    assert_eq!(s["trend"][3]["confirmed"]["5"], 1);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("**Trend**") && md.contains("| #4 | 1 | 1 |"),
        "{md}"
    );
}
