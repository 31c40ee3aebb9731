//! `--format plugin` against the original: the result objects `qualys_images_summary.json` holds
//! agree with the plugin's on every vector (`shared/vectors`: verdict, per-condition results,
//! configured and found values, excluded ids, counts), and equal the plugin's whole objects of
//! `vectors/plugin-format/` (comma-joined lists compared as sets: the plugin repeats a QID once
//! per vulnerability and keeps report order, `qcs` lists each once, sorted).
//!
//! The vectors live beside the repository (`../shared/vectors`); `QCS_VECTORS_DIR` overrides.

// Test helpers may panic on bad fixtures.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use qcs_core::policy::criteria;
use qcs_core::summary::ImageResult;
use qcs_core::{ImageReport, evaluate};
use qcs_report::plugin::{Options, PluginImage, write_summary};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    std::env::var_os("QCS_VECTORS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Judges vector `id` as `qcs evaluate --criteria-json --format plugin` does and returns the
/// summary document and the image's 12-hex key.
fn plugin_summary(id: &str) -> (Value, String) {
    let dir = vectors_dir();
    let crit: Value =
        serde_json::from_slice(&read(&dir.join(format!("{id}.criteria.json")))).unwrap();
    let (policy, issues) = criteria::from_json(id, &crit).validate();
    let policy = policy.unwrap_or_else(|| panic!("{id}: {issues:?}"));
    let raw = read(&dir.join(format!("{id}.report.json")));
    let report = ImageReport::from_json(&raw).unwrap();
    let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    let result = ImageResult {
        input: format!("{id}.report.json"),
        evaluation: evaluate(&policy, &report, now),
    };
    let mut out = Vec::new();
    write_summary(
        &[PluginImage {
            result: &result,
            report: &raw,
        }],
        &Options {
            potential_checked: policy.potential,
        },
        &mut out,
    )
    .unwrap();
    let key = report.sha.as_str()[..12].to_owned();
    (serde_json::from_slice(&out).unwrap(), key)
}

/// A comma-joined list as a set (`null` and `""` are empty).
fn set(v: &Value) -> BTreeSet<String> {
    v.as_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The list-valued fields, replaced by sorted sets so that order and repeats do not count;
/// `null` stays `null` (the plugin writes `null` for an empty list, and so must we).
fn normalise(mut v: Value) -> Value {
    for (cond, field) in [
        ("qids", "found"),
        ("qids", "excluded"),
        ("cveIds", "found"),
        ("cveIds", "excluded"),
        ("software", "found"),
        ("software", "configured"),
        ("qids", "configured"),
        ("cveIds", "configured"),
    ] {
        let slot = &mut v[cond][field];
        if let Value::String(_) = slot {
            // a one-QID range `a-a` is the QID `a` (qcs writes it so)
            let one = |s: String| match s.split_once('-') {
                Some((a, b)) if a == b => a.to_owned(),
                _ => s,
            };
            let sorted: BTreeSet<String> = set(slot).into_iter().map(one).collect();
            let sorted: Vec<String> = sorted.into_iter().collect();
            *slot = Value::String(sorted.join(","));
        }
    }
    v
}

#[test]
fn the_whole_result_objects_equal_the_plugins() {
    for id in ["0000", "0001", "0002"] {
        let (doc, key) = plugin_summary(id);
        let ours = doc["scanResult"][&key].clone();
        assert!(ours.is_object(), "{id}: no scanResult entry {key}: {doc}");
        let theirs: Value = serde_json::from_slice(&read(
            &vectors_dir().join(format!("plugin-format/{id}.result.json")),
        ))
        .unwrap();
        let (ours, theirs) = (normalise(ours), normalise(theirs));
        if ours != theirs {
            let (o, t) = (ours.as_object().unwrap(), theirs.as_object().unwrap());
            let keys: BTreeSet<&String> = o.keys().chain(t.keys()).collect();
            let diff: Vec<String> = keys
                .into_iter()
                .filter(|k| o.get(*k) != t.get(*k))
                .map(|k| format!("{k}: ours {:?}, plugin {:?}", o.get(k), t.get(k)))
                .collect();
            panic!("{id} differs:\n{}", diff.join("\n"));
        }
        // trendingData: confirmed counts by severity (1 first) and the repositories
        let trend = &doc["trendingData"][0];
        assert_eq!(trend["imageId"], key.as_str(), "{id}");
        let confirmed: Vec<Value> = (1..=5)
            .map(|l| theirs["confirmedVulnsBySev"][l.to_string()].clone())
            .collect();
        assert_eq!(trend["confirmedVulns"], Value::Array(confirmed), "{id}");
        let repos: Vec<Value> = theirs["imageSummary"]["repo"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["repository"].clone())
            .collect();
        assert_eq!(trend["repos"], Value::Array(repos), "{id}");
    }
}

#[test]
fn every_vector_agrees_on_what_the_report_page_reads() {
    let dir = vectors_dir();
    let mut ids: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".criteria.json").map(str::to_owned)
        })
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 300, "vectors in {}", dir.display());
    let mut bad = Vec::new();
    for id in &ids {
        let (doc, key) = plugin_summary(id);
        let ours = normalise(doc["scanResult"][&key].clone());
        let expected = normalise(
            serde_json::from_slice(&read(&dir.join(format!("{id}.expected.json")))).unwrap(),
        );
        if ours["imageSummary"]["pass"] != expected["pass"] {
            bad.push(format!("{id}: pass"));
        }
        for field in [
            "qids",
            "cveIds",
            "severities",
            "cvss",
            "software",
            "confirmedVulnsBySev",
            "potentialVulnsBySev",
            "patchability",
            "totalVulnerabilities",
            "typeDetected",
        ] {
            if ours[field] != expected[field] {
                bad.push(format!(
                    "{id}: {field}: ours {}, plugin {}",
                    ours[field], expected[field]
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} differences:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
