//! `gl-container-scanning-report.json`: GitLab's container-scanning report, schema 15.2.1
//! (<https://gitlab.com/gitlab-org/security-products/security-report-schemas>), for
//! `artifacts:reports:container_scanning`.
//!
//! One vulnerability per finding, image and affected package (GitLab locates a container
//! vulnerability in one package), with an `id` that stays the same across runs (UUID v5 of
//! repository, QID and package), the QID as primary identifier and each CVE with its NVD page,
//! the Qualys severity as GitLab's word (5 Critical, 4 High, 3 Medium, 2 Low, 1 Info), and the
//! fixed versions as the solution. Findings removed by an exclusion or outside the policy's scope
//! are still listed, saying so in the description: the report carries everything, the policy
//! only decides the verdict. The scan's times are the images' scan times (GitLab wants them
//! without a zone, in UTC); its status is `failure` only when no image got a verdict, and each
//! image without one is a `warn` message.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use jiff::Timestamp;
use serde::Serialize;

use qcs_core::summary::{Finding, ImageResult, Outcome, Package, Summary};

use crate::common::{
    cves, failing_conditions, fix_advice, image_keys, image_name, kind_word, nvd_url,
    severity_word, unique,
};

/// The schema version the report declares (the newest GitLab 15+ accepts).
pub const SCHEMA_VERSION: &str = "15.2.1";

/// GitLab's limits on the `name` and `solution` fields.
const MAX_NAME: usize = 255;
const MAX_SOLUTION: usize = 7000;

/// Writes the GitLab report of `summary` into `out`.
pub fn write(summary: &Summary, mut out: impl Write) -> io::Result<()> {
    write_at(summary, Timestamp::now(), &mut out)
}

/// Like [`write`], with the time used when no image says when it was scanned.
pub fn write_at(summary: &Summary, now: Timestamp, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, &report(summary, now))?;
    out.write_all(b"\n")
}

/// The GitLab report as bytes (for tests and small outputs).
pub fn render(summary: &Summary, now: Timestamp) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing plain data to a Vec cannot fail.
    let _ = write_at(summary, now, &mut out);
    out
}

#[derive(Serialize)]
struct Report<'a> {
    version: &'static str,
    scan: Scan<'a>,
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Serialize)]
struct Scan<'a> {
    analyzer: Tool<'a>,
    scanner: Tool<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
    start_time: String,
    end_time: String,
    status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<ScanMessage>,
}

#[derive(Serialize)]
struct Tool<'a> {
    id: &'static str,
    name: &'static str,
    version: &'a str,
    url: &'static str,
    vendor: Vendor,
}

#[derive(Serialize)]
struct Vendor {
    name: &'static str,
}

#[derive(Serialize)]
struct ScanMessage {
    level: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Vulnerability {
    id: String,
    name: String,
    description: String,
    severity: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    solution: Option<String>,
    identifiers: Vec<Identifier>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
    location: Location,
}

#[derive(Serialize)]
struct Identifier {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Link {
    name: String,
    url: String,
}

#[derive(Serialize)]
struct Location {
    dependency: Dependency,
    operating_system: String,
    image: String,
}

#[derive(Serialize)]
struct Dependency {
    package: PackageName,
    version: String,
}

#[derive(Serialize)]
struct PackageName {
    name: String,
}

fn report(summary: &Summary, now: Timestamp) -> Report<'_> {
    let times: Vec<Timestamp> = summary
        .images
        .iter()
        .filter_map(|i| i.evaluation.scanned_at.as_deref()?.parse().ok())
        .collect();
    let start = times.iter().min().copied().unwrap_or(now);
    let end = times.iter().max().copied().unwrap_or(now);
    let tool = || Tool {
        id: "qcs",
        name: "qcs (Qualys Container Security)",
        version: &summary.qcs_version,
        url: env!("CARGO_PKG_REPOSITORY"),
        vendor: Vendor { name: "qcs" },
    };
    let messages: Vec<ScanMessage> = summary
        .images
        .iter()
        .filter_map(|img| {
            let err = img.evaluation.error.as_ref()?;
            Some(ScanMessage {
                level: "warn",
                value: format!("{}: no verdict: {}", image_name(img), err.message),
            })
        })
        .collect();
    let judged = summary
        .images
        .iter()
        .any(|i| i.evaluation.outcome != Outcome::Error);
    Report {
        version: SCHEMA_VERSION,
        scan: Scan {
            analyzer: tool(),
            scanner: tool(),
            kind: "container_scanning",
            start_time: gitlab_time(start),
            end_time: gitlab_time(end),
            status: if judged || summary.images.is_empty() {
                "success"
            } else {
                "failure"
            },
            messages,
        },
        vulnerabilities: {
            let mut ids = HashSet::new();
            summary
                .images
                .iter()
                .flat_map(|img| vulnerabilities(img, &mut ids))
                .collect()
        },
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC, without a zone, as the schema demands.
fn gitlab_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The image's vulnerabilities; `ids` holds those already given out in the report.
fn vulnerabilities(img: &ImageResult, ids: &mut HashSet<String>) -> Vec<Vulnerability> {
    let e = &img.evaluation;
    let keys = image_keys(img);
    let os = e
        .operating_system
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let unknown = Package {
        name: "unknown".to_owned(),
        version: None,
        fix_version: None,
    };
    let mut out = Vec::new();
    for f in e.every_finding() {
        let packages: Vec<&Package> = if f.packages.is_empty() {
            vec![&unknown]
        } else {
            f.packages.iter().collect()
        };
        for p in packages {
            out.push(Vulnerability {
                id: id(ids, &keys, f.qid, p),
                name: truncate(
                    if f.title.trim().is_empty() {
                        format!("Qualys QID {}", f.qid)
                    } else {
                        f.title.clone()
                    },
                    MAX_NAME,
                ),
                description: description(img, f),
                severity: severity_word(f.severity),
                solution: fix_advice(f).map(|s| truncate(capitalize(&s), MAX_SOLUTION)),
                identifiers: identifiers(f),
                links: cves(f)
                    .into_iter()
                    .map(|c| Link {
                        name: c.clone(),
                        url: nvd_url(c),
                    })
                    .collect(),
                location: Location {
                    dependency: Dependency {
                        package: PackageName {
                            name: p.name.clone(),
                        },
                        version: p.version.clone().unwrap_or_else(|| "unknown".to_owned()),
                    },
                    operating_system: os.clone(),
                    image: image_name(img).to_owned(),
                },
            });
        }
    }
    out
}

/// A UUID v5 of repository, QID and package name: the same from run to run. When that is taken
/// in the report (two images of one repository, one package twice), of the tag, the image id,
/// the package version.
fn id(ids: &mut HashSet<String>, image_keys: &[String], qid: u32, p: &Package) -> String {
    let mut candidates: Vec<String> = image_keys
        .iter()
        .map(|k| format!("qcs/gitlab/{k}\n{qid}\n{}", p.name))
        .collect();
    if let Some(last) = candidates.last() {
        let v = format!("{last}\n{}", p.version.as_deref().unwrap_or(""));
        candidates.push(v);
    }
    let key = unique(ids, &candidates);
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes()).to_string()
}

fn identifiers(f: &Finding) -> Vec<Identifier> {
    let mut out = vec![Identifier {
        kind: "qid",
        name: format!("QID-{}", f.qid),
        value: f.qid.to_string(),
        url: None,
    }];
    out.extend(cves(f).into_iter().map(|c| Identifier {
        kind: "cve",
        name: c.clone(),
        value: c.clone(),
        url: Some(nvd_url(c)),
    }));
    out
}

fn description(img: &ImageResult, f: &Finding) -> String {
    let mut d = format!("Qualys QID {}, severity {}", f.qid, f.severity);
    for (v, score) in [("2", f.cvss2), ("3", f.cvss3)] {
        if let Some(s) = score {
            let _ = write!(d, ", CVSS v{v} {s:.1}");
        }
    }
    let _ = write!(d, ", {} detection.", kind_word(f.kind));
    let cves = cves(f);
    if !cves.is_empty() {
        let cves: Vec<&str> = cves.iter().map(|c| c.as_str()).collect();
        let _ = write!(d, " CVEs: {}.", cves.join(", "));
    }
    let failing = failing_conditions(f, img.evaluation.conditions.as_ref());
    if let Some(x) = &f.excluded_by {
        let _ = write!(d, " Excluded by the qcs policy ({x}).");
    } else if !failing.is_empty() {
        let names: Vec<&str> = failing.iter().map(|c| c.as_str()).collect();
        let _ = write!(d, " Fails the qcs policy: {}.", names.join(", "));
    } else if !f.in_scope {
        d.push_str(" Not judged by the qcs policy (out of scope).");
    }
    match f.baseline_state {
        Some(qcs_core::baseline::BaselineState::New) => d.push_str(" New since the baseline."),
        Some(qcs_core::baseline::BaselineState::Unchanged) => {
            d.push_str(" Unchanged since the baseline.");
        }
        None => {}
    }
    d
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// At most `max` bytes, cut at a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max.saturating_sub(3);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::common::fixture;

    fn report() -> Value {
        serde_json::from_slice(&render(&fixture::summary(), Timestamp::UNIX_EPOCH)).unwrap()
    }

    #[test]
    fn the_scan_block_declares_version_type_times_and_status() {
        let v = report();
        assert_eq!(v["version"], "15.2.1");
        let scan = &v["scan"];
        assert_eq!(scan["type"], "container_scanning");
        assert_eq!(scan["analyzer"]["id"], "qcs");
        assert_eq!(scan["scanner"]["version"], "0.1.0");
        assert_eq!(scan["start_time"], "2026-11-27T10:00:00");
        assert_eq!(scan["end_time"], "2026-11-27T10:00:00");
        assert_eq!(scan["status"], "success");
        assert_eq!(scan["messages"][0]["level"], "warn");
        assert_eq!(
            scan["messages"][0]["value"],
            "acme/db:3.0: no verdict: no scan result after 600 s"
        );
    }

    #[test]
    fn only_errored_images_make_a_failed_scan_at_the_current_time() {
        let mut s = fixture::summary();
        s.images.drain(..2);
        let v: Value = serde_json::from_slice(&render(&s, Timestamp::UNIX_EPOCH)).unwrap();
        assert_eq!(v["scan"]["status"], "failure");
        assert_eq!(v["scan"]["start_time"], "1970-01-01T00:00:00");
        assert_eq!(v["vulnerabilities"], serde_json::json!([]));
    }

    #[test]
    fn one_vulnerability_per_finding_with_identifiers_and_location() {
        let v = report();
        let vulns = v["vulnerabilities"].as_array().unwrap();
        assert_eq!(
            vulns.len(),
            4,
            "3 findings of the failed image, 1 of the passed"
        );
        let first = &vulns[0];
        assert_eq!(first["severity"], "Critical");
        assert_eq!(first["identifiers"][0]["type"], "qid");
        assert_eq!(first["identifiers"][0]["value"], "376209");
        assert_eq!(first["identifiers"][1]["type"], "cve");
        assert_eq!(
            first["identifiers"][1]["url"],
            "https://nvd.nist.gov/vuln/detail/CVE-2024-376209"
        );
        assert_eq!(first["solution"], "Upgrade openssl 1.1.1k to 1.1.1t");
        let loc = &first["location"];
        assert_eq!(loc["dependency"]["package"]["name"], "openssl");
        assert_eq!(loc["dependency"]["version"], "1.1.1k");
        assert_eq!(loc["operating_system"], "Debian Linux 12");
        assert_eq!(loc["image"], "registry.example:5000/acme/app:1.0");
        let d = first["description"].as_str().unwrap();
        assert!(d.contains("Fails the qcs policy: severity, cves."), "{d}");
        let d = vulns[1]["description"].as_str().unwrap();
        assert!(
            d.contains("Excluded by the qcs policy (qid 179203)."),
            "{d}"
        );
        let d = vulns[2]["description"].as_str().unwrap();
        assert!(d.contains("potential detection"), "{d}");
        assert!(d.contains("out of scope"), "{d}");
        assert_eq!(vulns[3]["severity"], "Low");
    }

    #[test]
    fn ids_are_stable_uuids_per_repository_qid_and_package_and_unique() {
        let p = |name: &str| Package {
            name: name.into(),
            version: Some("1".into()),
            fix_version: None,
        };
        let keys = ["acme/app".to_owned(), "acme/app:1".to_owned()];
        let fresh = |qid, pkg: &str| id(&mut HashSet::new(), &keys, qid, &p(pkg));
        let a = fresh(1, "openssl");
        assert_eq!(a, fresh(1, "openssl"), "stable from run to run");
        assert_ne!(a, fresh(1, "libssl"));
        assert_ne!(a, fresh(2, "openssl"));
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 5);
        let mut used = HashSet::new();
        let ids: HashSet<String> = (0..4)
            .map(|_| id(&mut used, &keys, 1, &p("openssl")))
            .collect();
        assert_eq!(ids.len(), 4, "unique within a report");
        assert!(ids.contains(&a));
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let s = truncate("é".repeat(200), 255);
        assert!(s.len() <= 255 && s.ends_with("..."));
    }
}
