//! What several formats say the same way: which findings made an image fail, each configured
//! condition as a check with configured vs found, image names, severity words, fix advice and
//! what the exclusions did.

use std::collections::HashSet;
use std::fmt::{Display, Write as _};

use qcs_core::summary::{
    ConditionName, Conditions, CveCondition, CvssCondition, Evaluation, ExclusionUse,
    ExclusionsReport, Finding, FindingType, ImageResult, QidCondition,
};

/// The conditions of `f` that failed on its image: why the finding made the image fail. Empty
/// for a finding that counted toward nothing that failed (or was excluded).
pub(crate) fn failing_conditions(f: &Finding, c: Option<&Conditions>) -> Vec<ConditionName> {
    let Some(c) = c else {
        return Vec::new();
    };
    if f.excluded_by.is_some() {
        return Vec::new();
    }
    f.conditions
        .iter()
        .copied()
        .filter(|name| c.fails(*name, f.severity))
        .collect()
}

/// The name people know the image by: its first `repository:tag`, else the input as given.
pub(crate) fn image_name(img: &ImageResult) -> &str {
    img.evaluation
        .tags
        .first()
        .map_or(img.input.as_str(), String::as_str)
}

/// The image's repository without tag or digest (`registry:5000/team/app`), the part that stays
/// the same from one build to the next; stable ids and categories are made from it.
pub(crate) fn image_repo(img: &ImageResult) -> String {
    let name = image_name(img);
    let name = name.split_once('@').map_or(name, |(n, _)| n);
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo.to_owned(),
        _ => name.to_owned(),
    }
}

/// The first of `candidates` not in `used` (then the last one with `#2`, `#3`, …), now marked
/// used: the most stable name that is still unique in the report.
pub(crate) fn unique(used: &mut HashSet<String>, candidates: &[String]) -> String {
    let last = candidates.last().map_or("", String::as_str);
    let pick = candidates
        .iter()
        .find(|c| !used.contains(*c))
        .cloned()
        .unwrap_or_else(|| {
            // Of these `used.len() + 1` names at least one is free.
            (2..=used.len() + 2)
                .map(|n| format!("{last}#{n}"))
                .find(|c| !used.contains(c))
                .unwrap_or_default()
        });
    used.insert(pick.clone());
    pick
}

/// The names of an image from the most to the least stable: repository, `repository:tag`, and
/// that with the image id.
pub(crate) fn image_keys(img: &ImageResult) -> Vec<String> {
    let mut keys = vec![image_repo(img), image_name(img).to_owned()];
    if let Some(id) = &img.evaluation.image_id {
        keys.push(format!("{}@{id}", image_name(img)));
    }
    keys
}

/// The word GitLab and GitHub use for a Qualys severity level (5 is Qualys' "Urgent").
pub(crate) fn severity_word(level: u8) -> &'static str {
    match level {
        5 => "Critical",
        4 => "High",
        3 => "Medium",
        2 => "Low",
        1 => "Info",
        _ => "Unknown",
    }
}

/// The finding's CVEs, each once, in report order (reports may repeat one).
pub(crate) fn cves(f: &Finding) -> Vec<&String> {
    let mut seen = HashSet::new();
    f.cves.iter().filter(|c| seen.insert(c.as_str())).collect()
}

/// The NVD page of a CVE.
pub(crate) fn nvd_url(cve: &str) -> String {
    format!("https://nvd.nist.gov/vuln/detail/{cve}")
}

/// Text safe in a Markdown table cell: no pipes, no HTML, one line.
pub(crate) fn escape_md(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// `confirmed`, `potential` or `other`.
pub(crate) fn kind_word(k: FindingType) -> &'static str {
    match k {
        FindingType::Confirmed => "confirmed",
        FindingType::Potential => "potential",
        FindingType::Other => "other",
    }
}

/// `name version` of a package, the version left out when unknown.
pub(crate) fn package_label(p: &qcs_core::summary::Package) -> String {
    match &p.version {
        Some(v) => format!("{} {v}", p.name),
        None => p.name.clone(),
    }
}

/// How to fix the finding, one clause per package with a fixed version ("upgrade openssl
/// 1.1.1k to 1.1.1t"), or `None` when the report names no fixed version.
pub(crate) fn fix_advice(f: &Finding) -> Option<String> {
    let parts: Vec<String> = f
        .packages
        .iter()
        .filter_map(|p| {
            let fix = p.fix_version.as_deref().filter(|v| !v.is_empty())?;
            Some(match &p.version {
                Some(v) => format!("upgrade {} {v} to {fix}", p.name),
                None => format!("upgrade {} to {fix}", p.name),
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// At most `show` items, comma-separated, the rest counted ("a, b and 3 more").
pub(crate) fn list<T: Display>(items: &[T], show: usize) -> String {
    let mut s = items
        .iter()
        .take(show)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > show {
        let _ = write!(s, " and {} more", items.len() - show);
    }
    s
}

/// One configured condition of an image, as a check that passed or failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Check {
    /// `severity`, `qids`, `cves`, `cvss` or `software`.
    pub(crate) name: ConditionName,
    /// Whether it passed.
    pub(crate) passed: bool,
    /// What the policy says, e.g. `5 <= 0, 4 <= 2`.
    pub(crate) configured: String,
    /// What was counted, e.g. `5: 2, 4: 1`.
    pub(crate) found: String,
    /// QIDs of the findings that made this condition fail (empty when it passed).
    pub(crate) qids: Vec<u32>,
}

/// At most this many items of a configured or found list are spelled out in a check.
const SHOW: usize = 20;

/// The configured conditions of an image as checks, in display order, each failing one with
/// the QIDs of every finding that made it fail ([`Evaluation::failing_qids`]).
pub(crate) fn checks(c: &Conditions, e: &Evaluation) -> Vec<Check> {
    let offending = |name: ConditionName| -> Vec<u32> {
        if c.failed().contains(&name.as_str()) {
            e.failing_qids(name)
        } else {
            Vec::new()
        }
    };
    let mut out = Vec::new();
    if c.severity.configured {
        let configured: Vec<(&String, u32, u32)> = c
            .severity
            .levels
            .iter()
            .rev()
            .filter_map(|(k, l)| l.limit.map(|limit| (k, limit, l.found)))
            .collect();
        out.push(Check {
            name: ConditionName::Severity,
            passed: c.severity.passed,
            configured: configured
                .iter()
                .map(|(k, limit, _)| format!("severity {k} at most {limit}"))
                .collect::<Vec<_>>()
                .join(", "),
            found: configured
                .iter()
                .map(|(k, _, found)| format!("severity {k}: {found}"))
                .collect::<Vec<_>>()
                .join(", "),
            qids: offending(ConditionName::Severity),
        });
    }
    if c.qids.configured {
        let counted = counted_qids(&c.qids);
        out.push(Check {
            name: ConditionName::Qids,
            passed: c.qids.passed,
            configured: list(&c.qids.list, SHOW),
            found: found_text(&counted, &c.qids.excluded),
            qids: offending(ConditionName::Qids),
        });
    }
    if c.cves.configured {
        let counted = counted_cves(&c.cves);
        out.push(Check {
            name: ConditionName::Cves,
            passed: c.cves.passed,
            configured: list(&c.cves.list, SHOW),
            found: found_text(&counted, &c.cves.excluded),
            qids: offending(ConditionName::Cves),
        });
    }
    if c.cvss.configured {
        let by = cvss_by_score(&c.cvss);
        let n = c.cvss.found;
        out.push(Check {
            name: ConditionName::Cvss,
            passed: c.cvss.passed,
            configured: format!(
                "CVSS v{} base score below {:.1}",
                c.cvss.version.as_deref().unwrap_or("?"),
                c.cvss.score.unwrap_or(0.0)
            ),
            found: if n == 0 {
                "none".to_owned()
            } else {
                format!(
                    "{n} vulnerabilit{} ({})",
                    if n == 1 { "y" } else { "ies" },
                    list(&by, SHOW)
                )
            },
            qids: offending(ConditionName::Cvss),
        });
    }
    if c.software.configured {
        out.push(Check {
            name: ConditionName::Software,
            passed: c.software.passed,
            configured: list(&c.software.list, SHOW),
            found: if c.software.found.is_empty() {
                "none".to_owned()
            } else {
                list(&c.software.found, SHOW)
            },
            qids: Vec::new(),
        });
    }
    out
}

/// The configured QIDs found and counted (not only on excluded vulnerabilities).
pub(crate) fn counted_qids(q: &QidCondition) -> Vec<u32> {
    q.found
        .iter()
        .copied()
        .filter(|x| !q.excluded.contains(x))
        .collect()
}

/// The configured CVEs found and counted (not excluded).
pub(crate) fn counted_cves(c: &CveCondition) -> Vec<&String> {
    c.found.iter().filter(|x| !c.excluded.contains(x)).collect()
}

/// The scores that reached the CVSS threshold, highest first, with their counts (`9.8 x2`).
pub(crate) fn cvss_by_score(c: &CvssCondition) -> Vec<String> {
    let mut by: Vec<(&String, &u32)> = c.by_score.iter().collect();
    by.sort_by(|a, b| {
        let score = |s: &str| s.parse::<f64>().unwrap_or(0.0);
        score(b.0).total_cmp(&score(a.0))
    });
    by.iter().map(|(s, n)| format!("{s} x{n}")).collect()
}

fn found_text<T: Display, U: Display>(counted: &[T], excluded: &[U]) -> String {
    let mut s = if counted.is_empty() {
        "none".to_owned()
    } else {
        list(counted, SHOW)
    };
    if !excluded.is_empty() {
        let _ = write!(s, " (excluded: {})", list(excluded, SHOW));
    }
    s
}

/// One exclusion entry as people read it: `qid 179203 (reason)` or `cve CVE-… (reason)`.
pub(crate) fn exclusion_entry(u: &ExclusionUse) -> String {
    let id = u.qid.as_ref().map_or_else(
        || format!("cve {}", u.cve.as_deref().unwrap_or("?")),
        |q| format!("qid {q}"),
    );
    match &u.reason {
        Some(r) => format!("{id} ({r})"),
        None => id,
    }
}

/// What a baseline made of an image: a line with the counts (or that the baseline has no entry
/// for the image's repository, so every finding is new), and one with the fixed findings (at
/// most `show`).
pub(crate) fn baseline_lines(b: &qcs_core::baseline::ImageBaseline, show: usize) -> Vec<String> {
    let head = format!("baseline `{}` (mode {})", b.source, b.mode.as_str());
    let mut out = vec![match &b.repository {
        Some(_) => format!(
            "{head}: {} new, {} unchanged, {} fixed",
            b.new, b.unchanged, b.fixed
        ),
        None => format!(
            "{head}: none for this repository, so all {} findings are new",
            b.new
        ),
    }];
    if !b.fixed_findings.is_empty() {
        let items: Vec<String> = b
            .fixed_findings
            .iter()
            .map(|f| match &f.package {
                Some(p) => format!("QID {} ({p})", f.qid),
                None => format!("QID {}", f.qid),
            })
            .collect();
        out.push(format!("fixed since the baseline: {}", list(&items, show)));
    }
    out
}

/// What the exclusions did, one line for each non-empty kind (applied, expired, unused), at most
/// `show` entries per line.
pub(crate) fn exclusion_lines(x: &ExclusionsReport, show: usize) -> Vec<String> {
    let mut out = Vec::new();
    if !x.applied.is_empty() {
        let items: Vec<String> = x
            .applied
            .iter()
            .map(|u| format!("{} x{}", exclusion_entry(u), u.matched))
            .collect();
        out.push(format!("excluded: {}", list(&items, show)));
    }
    if !x.expired.is_empty() {
        let items: Vec<String> = x
            .expired
            .iter()
            .map(|u| {
                format!(
                    "{} expired {}",
                    exclusion_entry(u),
                    u.expires.as_deref().unwrap_or("?")
                )
            })
            .collect();
        out.push(format!(
            "expired exclusions (not applied): {}",
            list(&items, show)
        ));
    }
    if !x.unused.is_empty() {
        let items: Vec<String> = x.unused.iter().map(exclusion_entry).collect();
        out.push(format!(
            "unused exclusions (matched nothing): {}",
            list(&items, show)
        ));
    }
    out
}

/// A small summary shared by the unit tests of every format: a failed image (a counted severity
/// 5, an excluded finding, a potential one), a passed image and an errored one.
#[cfg(test)]
pub(crate) mod fixture {
    use std::collections::BTreeMap;

    use qcs_core::summary::{
        ConditionName, Conditions, Counts, CveCondition, ErrorKind, Evaluation, ExclusionUse,
        ExclusionsReport, Finding, FindingType, ImageError, ImageResult, LevelCounts, Outcome,
        Package, QidCondition, SeverityCondition, SeverityLevel, Summary,
    };

    fn levels(limit5: Option<u32>, found5: u32) -> BTreeMap<String, SeverityLevel> {
        (1..=5)
            .map(|l| {
                let (limit, found) = if l == 5 { (limit5, found5) } else { (None, 0) };
                let passed = limit.is_none_or(|x| found <= x);
                (
                    l.to_string(),
                    SeverityLevel {
                        limit,
                        found,
                        passed,
                    },
                )
            })
            .collect()
    }

    /// Every condition unconfigured (and so passed).
    fn unconfigured() -> Conditions {
        let mut c = Conditions::default();
        c.severity.passed = true;
        c.qids.passed = true;
        c.cves.passed = true;
        c.cvss.passed = true;
        c.software.passed = true;
        c
    }

    fn finding(qid: u32, severity: u8, kind: FindingType) -> Finding {
        Finding {
            qid,
            title: format!("Vulnerability <{qid}> | pipe"),
            severity,
            kind,
            cves: vec![format!("CVE-2024-{qid}")],
            cvss2: Some(7.5),
            cvss3: Some(9.8),
            patchable: true,
            packages: vec![Package {
                name: "openssl".into(),
                version: Some("1.1.1k".into()),
                fix_version: Some("1.1.1t".into()),
            }],
            conditions: Vec::new(),
            excluded_by: None,
            in_scope: kind != FindingType::Potential,
            details: qcs_core::summary::FindingDetails::default(),
            baseline_state: None,
        }
    }

    /// Three images: `acme/app:1.0` failed, `acme/lib:2.0` passed, `acme/db:3.0` errored.
    pub(crate) fn summary() -> Summary {
        let mut counted = finding(376_209, 5, FindingType::Confirmed);
        counted.conditions = vec![ConditionName::Severity, ConditionName::Cves];
        let mut excluded = finding(179_203, 5, FindingType::Confirmed);
        excluded.excluded_by = Some("qid 179203".into());
        let potential = finding(105_000, 3, FindingType::Potential);
        let failed = Evaluation {
            sha: Some("a".repeat(64)),
            image_id: Some("a".repeat(12)),
            outcome: Outcome::Failed,
            error: None,
            scanned_at: Some("2026-11-27T10:00:00Z".into()),
            counts: Some(Counts {
                confirmed: LevelCounts([0, 0, 0, 0, 2]),
                potential: LevelCounts([0, 0, 1, 0, 0]),
                total: 3,
                patchable: 3,
                not_patchable: 0,
            }),
            conditions: Some(Conditions {
                severity: SeverityCondition {
                    configured: true,
                    passed: false,
                    levels: levels(Some(0), 1),
                },
                qids: QidCondition {
                    configured: true,
                    passed: true,
                    list: vec!["179203".into()],
                    found: vec![179_203],
                    excluded: vec![179_203],
                },
                cves: CveCondition {
                    configured: true,
                    passed: false,
                    list: vec!["CVE-2024-376209".into()],
                    found: vec!["CVE-2024-376209".into()],
                    excluded: Vec::new(),
                },
                ..unconfigured()
            }),
            findings: vec![counted, excluded, potential],
            findings_deciding: 2,
            findings_omitted: 1,
            exclusions: ExclusionsReport {
                applied: vec![ExclusionUse {
                    qid: Some("179203".into()),
                    cve: None,
                    reason: Some("not reachable".into()),
                    expires: Some("2099-01-01".into()),
                    matched: 1,
                }],
                expired: Vec::new(),
                unused: vec![ExclusionUse {
                    qid: None,
                    cve: Some("CVE-2020-0001".into()),
                    reason: None,
                    expires: None,
                    matched: 0,
                }],
            },
            tags: vec!["registry.example:5000/acme/app:1.0".into()],
            operating_system: Some("Debian Linux 12".into()),
            image: qcs_core::summary::ImageDetails::default(),
            warnings: Vec::new(),
            finding_keys: None,
            baseline: None,
            judged: None,
            all_findings: None,
        };
        let mut passed = failed.clone();
        passed.outcome = Outcome::Passed;
        passed.sha = Some("b".repeat(64));
        passed.image_id = Some("b".repeat(12));
        passed.findings = vec![finding(38_170, 2, FindingType::Confirmed)];
        passed.conditions = Some(Conditions {
            severity: SeverityCondition {
                configured: true,
                passed: true,
                levels: levels(Some(0), 0),
            },
            ..unconfigured()
        });
        passed.counts = Some(Counts {
            confirmed: LevelCounts([0, 1, 0, 0, 0]),
            potential: LevelCounts::default(),
            total: 1,
            patchable: 1,
            not_patchable: 0,
        });
        passed.exclusions = ExclusionsReport::default();
        passed.tags = vec!["acme/lib:2.0".into()];
        let errored = Evaluation::error(
            Some("c".repeat(64)),
            ImageError {
                kind: ErrorKind::Timeout,
                message: "no scan result after 600 s".into(),
            },
        );
        Summary::new(
            "0.1.0",
            vec![
                ImageResult {
                    input: "acme/app:1.0".into(),
                    evaluation: failed,
                },
                ImageResult {
                    input: "acme/lib:2.0".into(),
                    evaluation: passed,
                },
                ImageResult {
                    input: "acme/db:3.0".into(),
                    evaluation: errored,
                },
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_findings_counted_toward_a_failed_condition_made_the_image_fail() {
        let s = fixture::summary();
        let img = &s.images[0];
        let c = img.evaluation.conditions.as_ref();
        let fails: Vec<bool> = img
            .evaluation
            .findings
            .iter()
            .map(|f| !failing_conditions(f, c).is_empty())
            .collect();
        assert_eq!(fails, [true, false, false]);
        assert_eq!(
            failing_conditions(&img.evaluation.findings[0], c),
            [ConditionName::Severity, ConditionName::Cves]
        );
    }

    #[test]
    fn repositories_lose_tag_and_digest_but_keep_a_registry_port() {
        let s = fixture::summary();
        assert_eq!(image_repo(&s.images[0]), "registry.example:5000/acme/app");
        assert_eq!(image_repo(&s.images[2]), "acme/db");
        let mut img = s.images[2].clone();
        img.input = "localhost:5000/x@sha256:abc".into();
        assert_eq!(image_repo(&img), "localhost:5000/x");
    }

    #[test]
    fn unique_names_prefer_the_most_stable_candidate() {
        let mut used = HashSet::new();
        let c = ["a".to_owned(), "a:1".to_owned()];
        assert_eq!(unique(&mut used, &c), "a");
        assert_eq!(unique(&mut used, &c), "a:1");
        assert_eq!(unique(&mut used, &c), "a:1#2");
        assert_eq!(unique(&mut used, &c), "a:1#3");
    }

    #[test]
    fn checks_list_configured_conditions_with_configured_vs_found() {
        let s = fixture::summary();
        let e = &s.images[0].evaluation;
        let checks = checks(e.conditions.as_ref().unwrap(), e);
        let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["severity", "qids", "cves"]);
        assert!(!checks[0].passed);
        assert_eq!(checks[0].configured, "severity 5 at most 0");
        assert_eq!(checks[0].found, "severity 5: 1");
        assert_eq!(checks[0].qids, [376_209]);
        assert!(checks[1].passed);
        assert_eq!(checks[1].found, "none (excluded: 179203)");
        assert_eq!(checks[2].qids, [376_209]);
    }

    #[test]
    fn fix_advice_names_each_fixed_package() {
        let s = fixture::summary();
        let f = &s.images[0].evaluation.findings[0];
        assert_eq!(
            fix_advice(f).as_deref(),
            Some("upgrade openssl 1.1.1k to 1.1.1t")
        );
        let mut f = f.clone();
        f.packages[0].fix_version = None;
        assert_eq!(fix_advice(&f), None);
    }
}
