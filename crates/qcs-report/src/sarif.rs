//! `results.sarif`: SARIF 2.1.0 for GitHub code scanning
//! (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>, GitHub's subset:
//! <https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning>).
//!
//! One run per image with a verdict, its `automationDetails.id` the category `qcs/<repository>/`,
//! so images never overwrite each other's alerts and a new tag of the same repository replaces
//! the old tag's alerts. One rule per QID, one result per finding. A result is an `error` when the
//! finding made the image fail, a `warning` when it is a confirmed vulnerability that failed
//! nothing, a `note` otherwise (potential, out of scope); a finding removed by an exclusion
//! carries an external suppression with the exclusion, which GitHub shows as dismissed. GitHub
//! needs a file location for each result: the Dockerfile (`Options::artifact_uri`), line 1.
//! `partialFingerprints` hash the repository, QID and package names, so an alert survives new
//! tags and rebuilds. Images without a verdict get no run (an empty run would close their open
//! alerts); they are listed as tool notifications of an extra run without results.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use qcs_core::summary::{Finding, FindingType, ImageResult, Outcome, Summary};
use serde::Serialize;

use crate::common::{
    cves, escape_md, failing_conditions, fix_advice, image_keys, image_name, image_repo, kind_word,
    nvd_url, package_label, unique,
};

/// The schema URI producers put in `$schema`.
const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The artifact location used when none is configured.
pub const DEFAULT_ARTIFACT: &str = "Dockerfile";

/// GitHub shows at most this many tags of a rule (and rejects more than 20).
const MAX_TAGS: usize = 10;

/// How to write the SARIF log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The file every result points at (relative to the repository root): the Dockerfile the
    /// images are built from.
    pub artifact_uri: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            artifact_uri: DEFAULT_ARTIFACT.to_owned(),
        }
    }
}

/// Writes the SARIF log of `summary` into `out`.
pub fn write(summary: &Summary, options: &Options, mut out: impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut out, &log(summary, options))?;
    out.write_all(b"\n")
}

/// The SARIF log as bytes (for tests and small outputs).
pub fn render(summary: &Summary, options: &Options) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing plain data to a Vec cannot fail.
    let _ = write(summary, options, &mut out);
    out
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    automation_details: Option<AutomationDetails>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RunProperties<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
}

#[derive(Serialize)]
struct RunProperties<'a> {
    image: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha: Option<&'a str>,
    outcome: &'static str,
    #[serde(rename = "failedConditions")]
    failed_conditions: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Message,
    full_description: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Message {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: String,
    tags: Vec<String>,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    /// `new`, `unchanged` or (a finding of the baseline the image no longer has) `absent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    justification: String,
}

#[derive(Serialize)]
struct ResultProperties {
    image: String,
    qid: u32,
    #[serde(rename = "type")]
    kind: &'static str,
    packages: Vec<String>,
    #[serde(rename = "failedConditions")]
    failed_conditions: Vec<&'static str>,
}

/// A Qualys severity as the CVSS-like number GitHub turns into Critical (9.0+), High (7.0+),
/// Medium (4.0+) or Low: the same words GitLab and the Markdown summary use.
fn security_severity(level: u8) -> &'static str {
    match level {
        5 => "9.5",
        4 => "8.0",
        3 => "5.5",
        2 => "3.0",
        _ => "1.0",
    }
}

fn log<'a>(summary: &'a Summary, options: &Options) -> Log<'a> {
    let driver = || Driver {
        name: "qcs",
        version: &summary.qcs_version,
        information_uri: env!("CARGO_PKG_REPOSITORY"),
        rules: Vec::new(),
    };
    let mut categories = HashSet::new();
    let mut runs = Vec::new();
    let mut errors = Vec::new();
    for img in &summary.images {
        if img.evaluation.outcome == Outcome::Error {
            let why = img
                .evaluation
                .error
                .as_ref()
                .map_or("no verdict", |e| e.message.as_str());
            errors.push(Notification {
                level: "error",
                message: Message {
                    text: format!("{}: {why}", image_name(img)),
                },
            });
            continue;
        }
        // Two images of one repository in a run: the second one's category names its tag (or
        // its id).
        let repo = image_repo(img);
        let keys: Vec<String> = image_keys(img)
            .iter()
            .map(|k| format!("qcs/{k}/"))
            .collect();
        let category = unique(&mut categories, &keys);
        let mut run = Run {
            tool: Tool { driver: driver() },
            automation_details: Some(AutomationDetails { id: category }),
            invocations: vec![Invocation {
                execution_successful: true,
                tool_execution_notifications: Vec::new(),
            }],
            results: Vec::new(),
            properties: Some(RunProperties {
                image: image_name(img),
                sha: img.evaluation.sha.as_deref(),
                outcome: img.evaluation.outcome.as_str(),
                failed_conditions: img
                    .evaluation
                    .conditions
                    .as_ref()
                    .map(qcs_core::summary::Conditions::failed)
                    .unwrap_or_default(),
            }),
        };
        image_results(img, &repo, options, &mut run);
        absent_results(img, &repo, options, &mut run);
        runs.push(run);
    }
    if !errors.is_empty() {
        runs.push(Run {
            tool: Tool { driver: driver() },
            automation_details: None,
            invocations: vec![Invocation {
                execution_successful: false,
                tool_execution_notifications: errors,
            }],
            results: Vec::new(),
            properties: None,
        });
    }
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs,
    }
}

fn image_results(img: &ImageResult, repo: &str, options: &Options, run: &mut Run<'_>) {
    let e = &img.evaluation;
    let mut rule_index: BTreeMap<u32, usize> = BTreeMap::new();
    for f in e.every_finding() {
        let index = *rule_index.entry(f.qid).or_insert_with(|| {
            run.tool.driver.rules.push(rule(f));
            run.tool.driver.rules.len() - 1
        });
        let failing = failing_conditions(f, e.conditions.as_ref());
        let level = if !failing.is_empty() {
            "error"
        } else if f.kind == FindingType::Confirmed && f.in_scope && f.excluded_by.is_none() {
            "warning"
        } else {
            "note"
        };
        let packages: Vec<String> = f.packages.iter().map(package_label).collect();
        let mut text = format!("QID {} in {}: {}", f.qid, image_name(img), f.title);
        if !packages.is_empty() {
            let _ = write!(text, " ({})", packages.join(", "));
        }
        text.push('.');
        if let Some(fix) = fix_advice(f) {
            let _ = write!(text, " Fix: {fix}.");
        }
        if !failing.is_empty() {
            let names: Vec<&str> = failing.iter().map(|c| c.as_str()).collect();
            let _ = write!(text, " Fails the policy: {}.", names.join(", "));
        }
        if f.kind != FindingType::Confirmed {
            let _ = write!(text, " Detection: {}.", kind_word(f.kind));
        }
        let suppressions = f
            .excluded_by
            .iter()
            .map(|x| Suppression {
                kind: "external",
                justification: format!("excluded by the qcs policy: {x}"),
            })
            .collect();
        run.results.push(SarifResult {
            rule_id: rule_id(f.qid),
            rule_index: index,
            level,
            message: Message { text },
            locations: at_start_of(&options.artifact_uri),
            partial_fingerprints: BTreeMap::from([("qcsFinding/v1", fingerprint(repo, f))]),
            suppressions,
            baseline_state: f
                .baseline_state
                .map(qcs_core::baseline::BaselineState::as_str),
            properties: ResultProperties {
                image: image_name(img).to_owned(),
                qid: f.qid,
                kind: kind_word(f.kind),
                packages,
                failed_conditions: failing.iter().map(|c| c.as_str()).collect(),
            },
        });
    }
}

/// The baseline's findings the image no longer has, as `absent` results (SARIF §3.27.24).
fn absent_results(img: &ImageResult, repo: &str, options: &Options, run: &mut Run<'_>) {
    let Some(b) = &img.evaluation.baseline else {
        return;
    };
    for fixed in &b.fixed_findings {
        let f = Finding {
            qid: fixed.qid,
            title: format!("Qualys QID {}", fixed.qid),
            severity: 1,
            kind: FindingType::Confirmed,
            cves: Vec::new(),
            cvss2: None,
            cvss3: None,
            patchable: false,
            packages: fixed
                .package
                .iter()
                .map(|name| qcs_core::summary::Package {
                    name: name.clone(),
                    version: None,
                    fix_version: None,
                })
                .collect(),
            conditions: Vec::new(),
            excluded_by: None,
            in_scope: false,
            details: qcs_core::summary::FindingDetails::default(),
            baseline_state: None,
        };
        let id = rule_id(f.qid);
        let index = match run.tool.driver.rules.iter().position(|r| r.id == id) {
            Some(i) => i,
            None => {
                run.tool.driver.rules.push(rule(&f));
                run.tool.driver.rules.len() - 1
            }
        };
        let packages: Vec<String> = fixed.package.iter().cloned().collect();
        let mut text = format!("QID {} is gone from {}", f.qid, image_name(img));
        if !packages.is_empty() {
            let _ = write!(text, " ({})", packages.join(", "));
        }
        let _ = write!(text, ": fixed since the baseline {}.", b.source);
        run.results.push(SarifResult {
            rule_id: id,
            rule_index: index,
            level: "note",
            message: Message { text },
            locations: at_start_of(&options.artifact_uri),
            partial_fingerprints: BTreeMap::from([("qcsFinding/v1", fingerprint(repo, &f))]),
            suppressions: Vec::new(),
            baseline_state: Some("absent"),
            properties: ResultProperties {
                image: image_name(img).to_owned(),
                qid: f.qid,
                kind: kind_word(f.kind),
                packages,
                failed_conditions: Vec::new(),
            },
        });
    }
}

fn rule_id(qid: u32) -> String {
    format!("QID-{qid}")
}

/// The same for a finding of one repository from run to run: repository, QID, package names.
pub(crate) fn fingerprint(repo: &str, f: &Finding) -> String {
    let mut names: Vec<&str> = f.packages.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    let key = format!("{repo}\n{}\n{}", f.qid, names.join("\n"));
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, key.as_bytes())
        .simple()
        .to_string()
}

fn rule(f: &Finding) -> Rule {
    let title = if f.title.trim().is_empty() {
        format!("Qualys QID {}", f.qid)
    } else {
        f.title.clone()
    };
    let mut tags = vec![
        "security".to_owned(),
        "vulnerability".to_owned(),
        "container".to_owned(),
    ];
    let cves = cves(f);
    tags.extend(
        cves.iter()
            .take(MAX_TAGS - tags.len())
            .map(|c| (*c).clone()),
    );

    let mut text = format!("{title}\n\nQualys QID {}, severity {}", f.qid, f.severity);
    let mut markdown = format!(
        "**{}**\n\nQualys QID {}, severity {}",
        escape_md(&title),
        f.qid,
        f.severity
    );
    for (v, score) in [("2", f.cvss2), ("3", f.cvss3)] {
        if let Some(s) = score {
            let _ = write!(text, ", CVSS v{v} {s:.1}");
            let _ = write!(markdown, ", CVSS v{v} {s:.1}");
        }
    }
    text.push('.');
    markdown.push('.');
    let cve_list = cves
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if !cves.is_empty() {
        let _ = write!(text, "\n\nCVEs: {cve_list}");
        let links: Vec<String> = cves
            .iter()
            .map(|c| format!("[{c}]({})", nvd_url(c)))
            .collect();
        let _ = write!(markdown, "\n\nCVEs: {}", links.join(", "));
    }
    if !f.packages.is_empty() {
        text.push_str("\n\nPackages:");
        markdown.push_str("\n\n| Package | Installed | Fixed in |\n|---|---|---|");
        for p in &f.packages {
            let v = p.version.as_deref().unwrap_or("?");
            let fix = p.fix_version.as_deref().unwrap_or("no fix known");
            let _ = write!(text, "\n- {} {v}, fixed in {fix}", p.name);
            let _ = write!(
                markdown,
                "\n| {} | {} | {} |",
                escape_md(&p.name),
                escape_md(v),
                escape_md(fix)
            );
        }
    }
    Rule {
        id: rule_id(f.qid),
        name: title.clone(),
        short_description: Message {
            text: title.clone(),
        },
        full_description: Message {
            text: if cves.is_empty() {
                title
            } else {
                format!("{title} ({cve_list})")
            },
        },
        help_uri: cves.first().map(|c| nvd_url(c)),
        help: Help { text, markdown },
        default_configuration: Configuration {
            level: if f.severity >= 4 { "error" } else { "warning" },
        },
        properties: RuleProperties {
            security_severity: security_severity(f.severity).to_owned(),
            tags,
            precision: if f.kind == FindingType::Confirmed {
                "high"
            } else {
                "medium"
            },
        },
    }
}

/// Where every result points: the first line of the artifact (the Dockerfile).
fn at_start_of(uri: &str) -> Vec<Location> {
    vec![Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri.to_owned(),
            },
            region: Region { start_line: 1 },
        },
    }]
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::common::fixture;

    fn sarif() -> Value {
        serde_json::from_slice(&render(&fixture::summary(), &Options::default())).unwrap()
    }

    #[test]
    fn one_run_per_judged_image_and_one_for_the_errors() {
        let v = sarif();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SCHEMA);
        let runs = v["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 3);
        assert_eq!(
            runs[0]["automationDetails"]["id"],
            "qcs/registry.example:5000/acme/app/"
        );
        assert_eq!(runs[1]["automationDetails"]["id"], "qcs/acme/lib/");
        assert_eq!(runs[2].get("automationDetails"), None);
        assert_eq!(runs[2]["invocations"][0]["executionSuccessful"], false);
        let note = &runs[2]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            note["message"]["text"],
            "acme/db:3.0: no scan result after 600 s"
        );
        assert_eq!(runs[0]["tool"]["driver"]["name"], "qcs");
        assert_eq!(runs[0]["tool"]["driver"]["version"], "0.1.0");
    }

    #[test]
    fn levels_follow_what_made_the_image_fail() {
        let v = sarif();
        let results = v["runs"][0]["results"].as_array().unwrap();
        let levels: Vec<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        // counted toward failed severity 5, excluded, potential
        assert_eq!(levels, ["error", "note", "note"]);
        assert_eq!(results[0]["ruleId"], "QID-376209");
        assert_eq!(
            results[0]["properties"]["failedConditions"],
            serde_json::json!(["severity", "cves"])
        );
        assert_eq!(results[1]["suppressions"][0]["kind"], "external");
        assert_eq!(results[2].get("suppressions"), None);
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "Dockerfile");
        assert_eq!(loc["region"]["startLine"], 1);
        // The passed image's confirmed finding failed nothing: a warning.
        assert_eq!(v["runs"][1]["results"][0]["level"], "warning");
    }

    #[test]
    fn rules_carry_severity_tags_and_help() {
        let v = sarif();
        let rule = &v["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(rule["id"], "QID-376209");
        assert_eq!(
            rule["shortDescription"]["text"],
            "Vulnerability <376209> | pipe"
        );
        assert_eq!(rule["properties"]["security-severity"], "9.5");
        assert_eq!(
            rule["properties"]["tags"],
            serde_json::json!(["security", "vulnerability", "container", "CVE-2024-376209"])
        );
        assert_eq!(
            rule["helpUri"],
            "https://nvd.nist.gov/vuln/detail/CVE-2024-376209"
        );
        let md = rule["help"]["markdown"].as_str().unwrap();
        assert!(md.contains("| openssl | 1.1.1k | 1.1.1t |"), "{md}");
        assert!(md.contains("&lt;376209> \\| pipe"), "{md}");
    }

    #[test]
    fn fingerprints_ignore_tag_and_version_but_not_the_package() {
        let s = fixture::summary();
        let f = &s.images[0].evaluation.findings[0];
        let a = fingerprint("acme/app", f);
        let mut g = f.clone();
        g.packages[0].version = Some("1.1.1l".into());
        assert_eq!(fingerprint("acme/app", &g), a);
        g.packages[0].name = "libssl".into();
        assert_ne!(fingerprint("acme/app", &g), a);
        assert_ne!(fingerprint("acme/api", f), a);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn the_artifact_location_is_configurable() {
        let o = Options {
            artifact_uri: "build/app.Dockerfile".into(),
        };
        let v: Value = serde_json::from_slice(&render(&fixture::summary(), &o)).unwrap();
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "build/app.Dockerfile"
        );
    }
}
