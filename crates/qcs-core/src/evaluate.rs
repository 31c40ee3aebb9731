//! The evaluator: `evaluate(policy, report, now) -> Evaluation`, pure and deterministic.
//!
//! Semantics are the original plugin's (`plugin-behaviour.md` §2) with the deliberate
//! differences of §7: version operators in software filters work, exclusions by QID and by CVE
//! combine (each with an optional expiry, judged against `now`), and a report that is not
//! processed yet is an error, never a pass.
//!
//! Definitions: a vulnerability is *in scope* when it is not POTENTIAL (or the policy checks
//! potential ones) and, with `fixable-only`, has a patch. It is *excluded* when an exclusion in
//! force covers its QID, or when it has CVEs and every one of them is excluded.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::baseline::{Baseline, BaselineMode, BaselineState, Entry};
use crate::ids::Severity;
use crate::policy::{CvssVersion, Exclusion, ExclusionTarget, Policy};
use crate::report::{Detection, ImageReport, ScanState, Vulnerabilities, Vulnerability};
use crate::summary::{
    ConditionName, Conditions, Counts, CveCondition, CvssCondition, ErrorKind, ExclusionUse,
    ExclusionsReport, Finding, FindingDetails, FindingType, ImageDetails, ImageError, LEVEL_KEYS,
    LayerInfo, Package, QidCondition, SeverityCondition, SeverityLevel, SoftwareCondition,
};

pub use crate::summary::{Evaluation, Outcome};

/// Judges one image report against a policy at time `now` (which decides expired exclusions).
pub fn evaluate(policy: &Policy, report: &ImageReport, now: Timestamp) -> Evaluation {
    evaluate_with(policy, report, now, None)
}

/// A baseline to judge against, and what it decides ([`crate::baseline`]).
#[derive(Debug, Clone, Copy)]
pub struct BaselineInput<'a> {
    /// The baseline's finding identities.
    pub baseline: &'a Baseline,
    /// `all`: the states are only reported; `new`: only new findings count toward the
    /// conditions.
    pub mode: BaselineMode,
}

/// [`evaluate`] against a baseline, when one is given: each finding gets its `baseline_state`,
/// the image its `baseline` result, and in `new` mode unchanged findings fail no condition.
pub fn evaluate_with(
    policy: &Policy,
    report: &ImageReport,
    now: Timestamp,
    baseline: Option<BaselineInput<'_>>,
) -> Evaluation {
    let sha = report.sha.as_str().to_owned();
    if let ScanState::Failed(why) = report.scan_state() {
        let mut e = Evaluation::error(
            Some(sha),
            ImageError {
                kind: ErrorKind::ScanFailed,
                message: format!("Qualys reports the scan of this image as failed ({why})"),
            },
        );
        describe_image(&mut e, report);
        return e;
    }
    let vulns = match &report.vulnerabilities {
        Vulnerabilities::List(v) => v,
        Vulnerabilities::NotProcessed | Vulnerabilities::Counts => {
            let mut e = Evaluation::error(
                Some(sha),
                ImageError {
                    kind: ErrorKind::NotProcessed,
                    message: "scan not processed yet: the report has `vulnerabilities: null`"
                        .to_owned(),
                },
            );
            describe_image(&mut e, report);
            return e;
        }
    };

    if let Some(message) = out_of_range(vulns) {
        let mut e = Evaluation::error(
            Some(sha),
            ImageError {
                kind: ErrorKind::InvalidFinding,
                message,
            },
        );
        describe_image(&mut e, report);
        return e;
    }

    let exclusions = Exclusions::new(policy, report, now);
    let entry = baseline.and_then(|b| b.baseline.entry_for(report));
    let mut j = Judge::new(policy);
    j.baseline = baseline.map(|b| (entry.as_ref(), b.mode));
    let mut findings = Vec::with_capacity(vulns.len());
    for v in vulns {
        findings.push(j.vulnerability(v, &exclusions));
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.qid.cmp(&b.qid)));

    let software = judge_software(policy, report);
    let conditions = j.conditions(policy, software);
    let outcome = if conditions.failed().is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed
    };

    let mut e = Evaluation {
        image_id: Some(
            report
                .image_id
                .clone()
                .unwrap_or_else(|| report.sha.short().to_owned()),
        ),
        sha: Some(sha),
        outcome,
        error: None,
        scanned_at: None,
        counts: Some(j.counts),
        conditions: Some(conditions),
        findings,
        exclusions: exclusions.report(),
        tags: Vec::new(),
        operating_system: None,
        image: ImageDetails::default(),
        warnings: Vec::new(),
        finding_keys: Some(crate::baseline::finding_keys(vulns)),
        baseline: baseline
            .map(|b| crate::baseline::image_result(b.baseline, b.mode, entry.as_ref(), vulns)),
    };
    describe_image(&mut e, report);
    e
}

/// Findings whose verdict-relevant fields are out of range: a severity that is not a whole
/// number 1-5 (null, missing, 0, -1, 9, …), or a CVSS base score outside 0.0-10.0. No verdict
/// may rest on such a report (it would not count the finding anywhere, and a gate would pass),
/// so the image is an error; the message names the first few.
fn out_of_range(vulns: &[Vulnerability]) -> Option<String> {
    const SHOWN: usize = 5;
    let mut bad = Vec::new();
    let mut n = 0usize;
    for v in vulns {
        let mut problems = Vec::new();
        match v.severity {
            None => problems.push("no severity (null or missing)".to_owned()),
            Some(s) if Severity::new(s).is_none() => {
                problems.push(format!("severity {s} (not 1-5)"));
            }
            Some(_) => {}
        }
        for (name, score) in [("CVSS v2", v.cvss2()), ("CVSS v3", v.cvss3())] {
            if let Some(s) = score.filter(|s| !(0.0..=10.0).contains(s)) {
                problems.push(format!("{name} base score {s} (not 0.0-10.0)"));
            }
        }
        if !problems.is_empty() {
            n += 1;
            if bad.len() < SHOWN {
                bad.push(format!("QID {} has {}", v.qid.0, problems.join(", ")));
            }
        }
    }
    if n == 0 {
        return None;
    }
    let more = if n > SHOWN {
        format!("; and {} more", n - SHOWN)
    } else {
        String::new()
    };
    Some(format!(
        "the report has {n} finding{} with a field out of range, so no verdict can rest on it: \
         {}{more}",
        if n == 1 { "" } else { "s" },
        bad.join("; ")
    ))
}

fn describe_image(e: &mut Evaluation, report: &ImageReport) {
    e.warnings.clone_from(&report.warnings);
    e.scanned_at = report
        .last_scanned
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(|t| t.to_string());
    e.operating_system.clone_from(&report.operating_system);
    e.tags = report
        .repo
        .iter()
        .filter_map(|r| {
            let repo = r.repository.as_deref()?;
            Some(match &r.tag {
                Some(t) => format!("{repo}:{t}"),
                None => repo.to_owned(),
            })
        })
        .collect();
    e.image = ImageDetails {
        size: report.size,
        architecture: report.architecture.clone(),
        layers: report
            .layers
            .iter()
            .map(|l| LayerInfo {
                created_by: l.created_by.clone(),
                size: l.size,
            })
            .collect(),
        software: report.softwares.iter().map(package).collect(),
    };
}

fn package(s: &crate::report::Software) -> Package {
    Package {
        name: s.name.clone(),
        version: s.version.clone(),
        fix_version: s.fix_version.clone(),
    }
}

/// The report's description of a vulnerability beyond what the policy judges.
fn finding_details(v: &Vulnerability) -> FindingDetails {
    let ti = v.threat_intel.as_ref();
    let flag = |f: Option<Option<bool>>| f.flatten().unwrap_or(false);
    let threat_intel = [
        ("easy_exploit", flag(ti.map(|t| t.easy_exploit))),
        ("malware", flag(ti.map(|t| t.malware))),
        ("active_attacks", flag(ti.map(|t| t.active_attacks))),
        ("public_exploit", flag(ti.map(|t| t.public_exploit))),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name.to_owned())
    .collect();
    FindingDetails {
        category: v.category.clone(),
        first_found: v
            .first_found
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .map(|t| t.to_string()),
        threat_intel,
        cvss2_temporal: v.cvss_info.as_ref().and_then(|c| c.temporal_score),
        cvss3_temporal: v.cvss3_info.as_ref().and_then(|c| c.temporal_score),
        access_vector: v.cvss_info.as_ref().and_then(|c| c.access_vector.clone()),
        result: v.result.clone(),
    }
}

/// The exclusion entries that concern this image, split by whether they are in force, with a
/// count of what each matched.
struct Exclusions<'p> {
    entries: Vec<(&'p Exclusion, bool)>,
    matched: Vec<std::cell::Cell<u32>>,
    /// In-force CVE entries by id, and every CVE entry by id (for match counting).
    cve_in_force: HashSet<&'p str>,
    cve_entries: HashMap<&'p str, Vec<usize>>,
}

impl<'p> Exclusions<'p> {
    fn new(policy: &'p Policy, report: &ImageReport, now: Timestamp) -> Self {
        let today = now.to_zoned(TimeZone::UTC).date();
        let entries: Vec<(&Exclusion, bool)> = policy
            .exclusions
            .iter()
            .filter(|e| e.image.as_ref().is_none_or(|s| *s == report.sha))
            .map(|e| (e, e.expires.is_none_or(|d| today <= d)))
            .collect();
        let mut cve_in_force = HashSet::new();
        let mut cve_entries: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (e, in_force)) in entries.iter().enumerate() {
            if let ExclusionTarget::Cve(c) = &e.target {
                cve_entries.entry(c.as_str()).or_default().push(i);
                if *in_force {
                    cve_in_force.insert(c.as_str());
                }
            }
        }
        let matched = entries.iter().map(|_| std::cell::Cell::new(0)).collect();
        Self {
            entries,
            matched,
            cve_in_force,
            cve_entries,
        }
    }

    fn cve_excluded(&self, cve: &str) -> bool {
        self.cve_in_force.contains(cve)
    }

    /// Records what the entries match on an in-scope vulnerability and returns the exclusion
    /// that removes it from judgement, if any.
    fn judge(&self, v: &Vulnerability) -> Option<String> {
        let mut by_qid = None;
        for (i, (e, in_force)) in self.entries.iter().enumerate() {
            if let ExclusionTarget::Qid(r) = &e.target
                && r.contains(v.qid)
            {
                self.matched[i].set(self.matched[i].get() + 1);
                if *in_force && by_qid.is_none() {
                    by_qid = Some(e.target.to_string());
                }
            }
        }
        for c in &v.cveids {
            for &i in self.cve_entries.get(c.as_str()).into_iter().flatten() {
                self.matched[i].set(self.matched[i].get() + 1);
            }
        }
        if by_qid.is_some() {
            return by_qid;
        }
        let all_cves = !v.cveids.is_empty() && v.cveids.iter().all(|c| self.cve_excluded(c));
        all_cves.then(|| format!("cve {}", v.cveids.join(", ")))
    }

    fn report(&self) -> ExclusionsReport {
        let mut out = ExclusionsReport::default();
        for (i, (e, in_force)) in self.entries.iter().enumerate() {
            let matched = self.matched[i].get();
            let (qid, cve) = match &e.target {
                ExclusionTarget::Qid(r) => (Some(r.to_string()), None),
                ExclusionTarget::Cve(c) => (None, Some(c.to_string())),
            };
            let u = ExclusionUse {
                qid,
                cve,
                reason: e.reason.clone(),
                expires: e.expires.map(|d| d.to_string()),
                matched,
            };
            match (in_force, matched) {
                (false, _) => out.expired.push(u),
                (true, 0) => out.unused.push(u),
                (true, _) => out.applied.push(u),
            }
        }
        out
    }
}

/// Accumulates counts and condition results over the vulnerabilities.
struct Judge<'p> {
    policy: &'p Policy,
    cves: HashSet<&'p str>,
    counts: Counts,
    level_found: [u32; 5],
    qid_found: BTreeSet<u32>,
    qid_counted: BTreeSet<u32>,
    cve_found: BTreeSet<String>,
    cve_counted: BTreeSet<String>,
    cvss_found: u32,
    cvss_by_score: BTreeMap<String, u32>,
    /// The image's baseline entry (none: every finding is new) and the mode, with a baseline.
    baseline: Option<(Option<&'p Entry<'p>>, BaselineMode)>,
}

impl<'p> Judge<'p> {
    fn new(policy: &'p Policy) -> Self {
        Self {
            policy,
            cves: policy.cves.iter().map(crate::ids::CveId::as_str).collect(),
            counts: Counts::default(),
            level_found: [0; 5],
            qid_found: BTreeSet::new(),
            qid_counted: BTreeSet::new(),
            cve_found: BTreeSet::new(),
            cve_counted: BTreeSet::new(),
            cvss_found: 0,
            cvss_by_score: BTreeMap::new(),
            baseline: None,
        }
    }

    fn vulnerability(&mut self, v: &Vulnerability, exclusions: &Exclusions<'_>) -> Finding {
        let p = self.policy;
        let level = v.severity_level();
        self.count(v, level);

        let in_scope = (v.type_detected != Detection::Potential || p.potential)
            && (!p.fixable_only || v.patchable());
        let mut conditions = Vec::new();
        let excluded_by = if in_scope { exclusions.judge(v) } else { None };
        let baseline_state = self
            .baseline
            .map(|(entry, _)| entry.map_or(BaselineState::New, |e| e.state(v)));
        // in `new` mode an unchanged finding is reported but counts toward no condition
        let known = matches!(self.baseline, Some((_, BaselineMode::New)))
            && baseline_state == Some(BaselineState::Unchanged);
        if in_scope && !known {
            let excluded = excluded_by.is_some();
            if let (Some(l), false) = (level, excluded) {
                self.level_found[l.index()] += 1;
                if p.severity_limit(l).is_some() {
                    conditions.push(ConditionName::Severity);
                }
            }
            if p.qids.iter().any(|r| r.contains(v.qid)) {
                self.qid_found.insert(v.qid.0);
                if !excluded {
                    self.qid_counted.insert(v.qid.0);
                    conditions.push(ConditionName::Qids);
                }
            }
            let mut cve_hit = false;
            for c in v.cveids.iter().filter(|c| self.cves.contains(c.as_str())) {
                self.cve_found.insert(c.clone());
                if !excluded && !exclusions.cve_excluded(c) {
                    self.cve_counted.insert(c.clone());
                    cve_hit = true;
                }
            }
            if cve_hit {
                conditions.push(ConditionName::Cves);
            }
            if let (Some(t), false) = (p.cvss, excluded) {
                let score = match t.version {
                    CvssVersion::V2 => v.cvss2(),
                    CvssVersion::V3 => v.cvss3(),
                    CvssVersion::Max => match (v.cvss2(), v.cvss3()) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    },
                };
                if let Some(s) = score.filter(|s| *s >= t.score) {
                    self.cvss_found += 1;
                    *self.cvss_by_score.entry(score_key(s)).or_default() += 1;
                    conditions.push(ConditionName::Cvss);
                }
            }
        }

        Finding {
            qid: v.qid.0,
            title: v.title.clone().unwrap_or_default(),
            severity: level.map_or(0, Severity::get),
            kind: match v.type_detected {
                Detection::Confirmed => FindingType::Confirmed,
                Detection::Potential => FindingType::Potential,
                Detection::Other => FindingType::Other,
            },
            cves: v.cveids.clone(),
            cvss2: v.cvss2(),
            cvss3: v.cvss3(),
            patchable: v.patchable(),
            packages: v.software.iter().map(package).collect(),
            conditions,
            excluded_by,
            in_scope,
            details: finding_details(v),
            baseline_state,
        }
    }

    fn count(&mut self, v: &Vulnerability, level: Option<Severity>) {
        let c = &mut self.counts;
        c.total += 1;
        if v.patchable() {
            c.patchable += 1;
        } else {
            c.not_patchable += 1;
        }
        if let Some(l) = level {
            match v.type_detected {
                Detection::Confirmed => c.confirmed.0[l.index()] += 1,
                Detection::Potential => c.potential.0[l.index()] += 1,
                Detection::Other => {}
            }
        }
    }

    fn conditions(&mut self, policy: &Policy, software: SoftwareCondition) -> Conditions {
        let mut levels = BTreeMap::new();
        let mut sev_passed = true;
        for s in Severity::ALL {
            let limit = policy.severity_limit(s);
            let found = self.level_found[s.index()];
            let passed = limit.is_none_or(|l| found <= l);
            sev_passed &= passed;
            levels.insert(
                LEVEL_KEYS[s.index()].to_owned(),
                SeverityLevel {
                    limit,
                    found,
                    passed,
                },
            );
        }
        let cve_excluded: Vec<String> = self
            .cve_found
            .difference(&self.cve_counted)
            .cloned()
            .collect();
        Conditions {
            severity: SeverityCondition {
                configured: policy.severity.iter().any(Option::is_some),
                passed: sev_passed,
                levels,
            },
            qids: QidCondition {
                configured: !policy.qids.is_empty(),
                passed: self.qid_counted.is_empty(),
                list: policy.qids.iter().map(ToString::to_string).collect(),
                found: self.qid_found.iter().copied().collect(),
                excluded: self
                    .qid_found
                    .difference(&self.qid_counted)
                    .copied()
                    .collect(),
            },
            cves: CveCondition {
                configured: !policy.cves.is_empty(),
                passed: self.cve_counted.is_empty(),
                list: policy.cves.iter().map(ToString::to_string).collect(),
                found: std::mem::take(&mut self.cve_found).into_iter().collect(),
                excluded: cve_excluded,
            },
            cvss: CvssCondition {
                configured: policy.cvss.is_some(),
                passed: self.cvss_found == 0,
                version: policy.cvss.map(|c| c.version.as_str().to_owned()),
                score: policy.cvss.map(|c| c.score),
                found: self.cvss_found,
                by_score: std::mem::take(&mut self.cvss_by_score),
            },
            software,
        }
    }
}

/// Scores as map keys: one decimal as CVSS writes them ("9.8", "10.0"), exact otherwise.
fn score_key(s: f64) -> String {
    let one = format!("{s:.1}");
    if one.parse::<f64>().ok() == Some(s) {
        one
    } else {
        s.to_string()
    }
}

/// The software condition ignores scope and exclusions (as the original): it is about what is
/// installed, not about what was found vulnerable.
fn judge_software(policy: &Policy, report: &ImageReport) -> SoftwareCondition {
    let os = report.operating_system.as_deref();
    let mut found = BTreeSet::new();
    if !policy.software.is_empty() {
        for s in &report.softwares {
            let version = s.version.as_deref();
            if policy
                .software
                .iter()
                .any(|f| f.matches(os, &s.name, version))
            {
                found.insert(format!("{}={}", s.name, version.unwrap_or("")));
            }
        }
    }
    SoftwareCondition {
        configured: !policy.software.is_empty(),
        passed: found.is_empty(),
        list: policy.software.iter().map(|f| f.text.clone()).collect(),
        found: found.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_page_details_come_from_the_report() {
        let example = include_bytes!("../../../examples/reports/payments-api.json");
        let report = ImageReport::from_json(example).expect("the example parses");
        let e = evaluate(&Policy::default(), &report, Timestamp::UNIX_EPOCH);
        assert_eq!(e.image.size, Some(187_667_860));
        assert_eq!(e.image.architecture.as_deref(), Some("amd64"));
        assert_eq!(e.image.layers.len(), 2);
        assert_eq!(e.image.layers[0].size, Some(77_824_000));
        assert!(
            e.image.layers[1]
                .created_by
                .as_deref()
                .is_some_and(|c| c.contains("CMD"))
        );
        assert_eq!(e.image.software.len(), report.softwares.len());
        let log4j = e.findings.iter().find(|f| f.qid == 376_209).expect("log4j");
        let d = &log4j.details;
        assert_eq!(d.category.as_deref(), Some("Local"));
        assert_eq!(d.first_found.as_deref(), Some("2024-06-01T12:01:00Z"));
        assert!(d.threat_intel.iter().any(|t| t == "easy_exploit"));
        assert!(d.threat_intel.iter().any(|t| t == "malware"));
        let ssl = e
            .findings
            .iter()
            .find(|f| f.qid == 6_000_123)
            .expect("openssl");
        assert_eq!(ssl.details.cvss2_temporal, Some(3.7));
        assert_eq!(ssl.details.cvss3_temporal, Some(6.5));
        assert_eq!(ssl.details.access_vector.as_deref(), Some("Network"));
        assert!(
            ssl.details
                .result
                .as_deref()
                .is_some_and(|r| r.contains("libssl3"))
        );
        // absent details are left out of summary.json, present ones written flat
        let json = serde_json::to_value(&e.findings).expect("serialises");
        assert_eq!(json[0]["category"], "Local");
        let clean = Finding {
            details: FindingDetails::default(),
            ..log4j.clone()
        };
        let json = serde_json::to_value(&clean).expect("serialises");
        assert!(json.get("result").is_none() && json.get("threat_intel").is_none());
    }
}
