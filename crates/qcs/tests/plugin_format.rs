//! `--format plugin` (issue 13): the files the Jenkins plugin wrote per build, written by the
//! real binary and read back. `qcs evaluate` on the vectors with the plugin's whole result
//! objects (`vectors/plugin-format/`): every field the plugin's report page reads
//! (`plugin-behaviour.md` §5) has the plugin's value; `qualys_<id>.json` is the report byte for
//! byte; `trendingData` has the confirmed counts and repositories. `qcs scan` against the
//! emulator writes the same layout from the raw reports it saved. The files are never stale,
//! and the format cannot go to standard output.

// Helpers outside #[test] fns unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../../qcs-core/tests/support/vectors.rs"]
#[allow(dead_code)]
mod vectors;

use std::collections::BTreeSet;
use std::path::Path;

use common::{qcs, run};
use qcs_emulator::{Base, DockerImage, ReportSpec};
use serde_json::Value;

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A comma-joined list of the plugin as a set (order and repeats do not count; `a-a` is `a`).
fn set(v: &Value) -> Option<BTreeSet<String>> {
    v.as_str().map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| match x.split_once('-') {
                Some((a, b)) if a == b => a.to_owned(),
                _ => x.to_owned(),
            })
            .collect()
    })
}

/// Every field the plugin's report page reads, ours against the plugin's.
fn assert_page_fields(id: &str, ours: &Value, theirs: &Value) {
    let same = |path: &str, a: &Value, b: &Value| {
        assert_eq!(a, b, "{id}: {path}");
    };
    // build summary: pass flag, image id, tags, size, sha (the portal link)
    same("imageId", &ours["imageId"], &theirs["imageId"]);
    for f in [
        "pass",
        "Tags",
        "size",
        "sha",
        "uuid",
        "repo",
        "operatingSystem",
        "layersCount",
        "dockerVersion",
        "architecture",
    ] {
        same(
            &format!("imageSummary.{f}"),
            &ours["imageSummary"][f],
            &theirs["imageSummary"][f],
        );
    }
    // the criteria table: each condition configured vs found, with its mark
    for cond in ["qids", "cveIds", "software"] {
        same(
            &format!("{cond}.result"),
            &ours[cond]["result"],
            &theirs[cond]["result"],
        );
        for f in ["configured", "found", "excluded"] {
            assert_eq!(
                set(&ours[cond][f]),
                set(&theirs[cond][f]),
                "{id}: {cond}.{f}: ours {}, plugin {}",
                ours[cond][f],
                theirs[cond][f]
            );
        }
    }
    same("cvss", &ours["cvss"], &theirs["cvss"]);
    for level in ["5", "4", "3", "2", "1"] {
        same(
            &format!("severities.{level}"),
            &ours["severities"][level],
            &theirs["severities"][level],
        );
    }
    // the charts: by severity (confirmed, potential), patchable vs not, totals
    for f in [
        "confirmedVulnsBySev",
        "potentialVulnsBySev",
        "patchability",
        "totalVulnerabilities",
        "typeDetected",
        "potentialVulnsChecked",
    ] {
        same(f, &ours[f], &theirs[f]);
    }
    // the tables: vulnerabilities (QID, title, severity, CVEs, category, firstFound, software
    // with fix version, patchable, threat flags, type, CVSS details), software, layers
    for f in ["vulnsTable", "softwaresTable", "layersTable"] {
        same(f, &ours[f], &theirs[f]);
    }
    let v = &ours["vulnsTable"][0];
    for f in [
        "qid",
        "title",
        "severity",
        "cveids",
        "category",
        "firstFound",
        "threatIntel",
        "typeDetected",
        "cvssInfo",
        "cvss3Info",
        "software",
    ] {
        assert!(v.get(f).is_some(), "{id}: vulnsTable[0].{f} missing: {v}");
    }
}

#[test]
fn evaluate_writes_the_plugins_files_with_the_plugins_values() {
    let dir = vectors::vectors_dir();
    for id in ["0000", "0001", "0002"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let report = dir.join(format!("{id}.report.json"));
        let o = qcs()
            .args(["evaluate", "--criteria-json"])
            .arg(dir.join(format!("{id}.criteria.json")))
            .arg("--report")
            .arg(&report)
            .args(["--format", "plugin", "--output-dir"])
            .arg(&out)
            .arg("-q")
            .output()
            .unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{id}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let theirs = read_json(&dir.join(format!("plugin-format/{id}.result.json")));
        let key = theirs["imageSummary"]["sha"].as_str().unwrap()[..12].to_owned();
        let summary = read_json(&out.join("qualys_images_summary.json"));
        let results = summary["scanResult"].as_object().unwrap();
        assert_eq!(results.keys().collect::<Vec<_>>(), [&key], "{id}");
        assert_page_fields(id, &summary["scanResult"][&key], &theirs);
        // trendingData: confirmed counts by severity (1 first) and the repositories
        let trend = &summary["trendingData"];
        assert_eq!(trend.as_array().unwrap().len(), 1, "{id}");
        assert_eq!(trend[0]["imageId"], key.as_str());
        let confirmed: Vec<Value> = (1..=5)
            .map(|l| theirs["confirmedVulnsBySev"][l.to_string()].clone())
            .collect();
        assert_eq!(trend[0]["confirmedVulns"], Value::Array(confirmed), "{id}");
        assert_eq!(trend[0]["repos"], serde_json::json!(["demo/app"]), "{id}");
        // qualys_<id>.json: the image details, byte for byte
        assert_eq!(
            std::fs::read(out.join(format!("qualys_{key}.json"))).unwrap(),
            std::fs::read(&report).unwrap(),
            "{id}"
        );
    }
}

#[test]
fn several_images_a_directory_and_no_stale_files() {
    let dir = vectors::vectors_dir();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let artifacts = tmp.path().join("artifacts");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&artifacts).unwrap();
    // an earlier run's files, in the output directory and in the plugin's directory
    for d in [&out, &artifacts] {
        std::fs::write(d.join("qualys_0123456789ab.json"), "{}").unwrap();
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
    }
    std::fs::write(out.join("qualys_images_summary.json"), "{}").unwrap();
    let reports: Vec<_> = ["0003", "0004", "0005"]
        .iter()
        .map(|id| dir.join(format!("{id}.report.json")))
        .collect();
    let o = qcs()
        .args(["evaluate", "--fail-severity", "5=0", "--potential"])
        .args(
            reports
                .iter()
                .flat_map(|r| ["--report".as_ref(), r.as_os_str()]),
        )
        .arg("--format")
        .arg(format!("plugin={}", artifacts.display()))
        .arg("--output-dir")
        .arg(&out)
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !out.join("qualys_0123456789ab.json").exists(),
        "stale in the output directory"
    );
    assert!(
        !out.join("qualys_images_summary.json").exists(),
        "stale summary"
    );
    assert!(
        !artifacts.join("qualys_0123456789ab.json").exists(),
        "stale in the plugin's directory"
    );
    for d in [&out, &artifacts] {
        assert_eq!(
            std::fs::read_to_string(d.join("notes.txt")).unwrap(),
            "mine"
        );
    }
    let summary = read_json(&artifacts.join("qualys_images_summary.json"));
    let trend = summary["trendingData"].as_array().unwrap();
    assert_eq!(trend.len(), reports.len());
    for (r, t) in reports.iter().zip(trend) {
        let doc = read_json(r);
        let key = &doc["sha"].as_str().unwrap()[..12];
        assert_eq!(t["imageId"], key);
        let entry = &summary["scanResult"][key];
        assert_eq!(entry["potentialVulnsChecked"], true);
        assert_eq!(entry["severities"]["5"]["configured"], 0);
        assert_eq!(
            std::fs::read(artifacts.join(format!("qualys_{key}.json"))).unwrap(),
            std::fs::read(r).unwrap()
        );
    }

    // several files cannot go to standard output
    let o = qcs()
        .args(["evaluate", "--report"])
        .arg(&reports[0])
        .args(["--format", "plugin=-", "--output-dir"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot go to standard output") && err.contains("hint:"),
        "{err}"
    );

    // the format is offered where formats are listed
    let help = qcs().args(["scan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("plugin (the Jenkins plugin's"), "{help}");
}

/// `qcs scan --format plugin`: the summary and a copy of each raw report it saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_writes_the_plugins_files_from_the_reports_it_saved() {
    let images = vec![
        DockerImage {
            tags: vec!["acme/vuln:1.0".into()],
            report: Some(ReportSpec {
                seed: 13,
                base: Base::Debian,
                vulnerabilities: 25,
                packages: 60,
                log4shell: true,
                app_share: 0.3,
                ..ReportSpec::default()
            }),
            ..DockerImage::default()
        },
        DockerImage {
            tags: vec!["acme/clean:2.0".into()],
            report: Some(ReportSpec {
                seed: 14,
                base: Base::Alpine,
                vulnerabilities: 0,
                packages: 20,
                ..ReportSpec::default()
            }),
            ..DockerImage::default()
        },
    ];
    let w = common::ScanWorld::start(common::QCS, images, "Pw-Plugin-Format-7e4").await;
    let mut c = w.scan();
    c.args([
        "acme/vuln:1.0",
        "acme/clean:2.0",
        "--fail-cves",
        "CVE-2021-44228",
        "--format",
        "plugin",
        "--format",
        "json",
    ]);
    let (code, _, err) = run(c).await;
    assert_eq!(code, Some(1), "{err}");
    let out = w.out.path();
    let summary = read_json(&out.join("qualys_images_summary.json"));
    let s = common::summary_json(out);
    for (tag, pass) in [("acme/vuln:1.0", false), ("acme/clean:2.0", true)] {
        let sha = w.id_of(tag);
        let key = &sha[..12];
        let entry = &summary["scanResult"][key];
        assert_eq!(entry["imageSummary"]["pass"], pass, "{tag}: {entry}");
        assert_eq!(entry["imageSummary"]["sha"], sha.as_str());
        assert_eq!(entry["cveIds"]["configured"], "CVE-2021-44228");
        assert_eq!(entry["cveIds"]["result"], pass);
        let img = common::image(&s, tag);
        assert_eq!(entry["totalVulnerabilities"], img["counts"]["total"]);
        let copy = std::fs::read(out.join(format!("qualys_{key}.json"))).unwrap();
        assert_eq!(
            copy,
            std::fs::read(out.join(format!("images/{key}.json"))).unwrap()
        );
        let raw: Value = serde_json::from_slice(&copy).unwrap();
        assert_eq!(entry["vulnsTable"], raw["vulnerabilities"], "{tag}");
        let trend = summary["trendingData"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["imageId"] == key)
            .unwrap();
        let repos: Vec<Value> = raw["repo"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["repository"].clone())
            .collect();
        assert_eq!(trend["repos"], Value::Array(repos), "{tag}");
        let confirmed: Vec<Value> = (1..=5)
            .map(|l| img["counts"]["confirmed"][l.to_string()].clone())
            .collect();
        assert_eq!(trend["confirmedVulns"], Value::Array(confirmed), "{tag}");
    }
}
