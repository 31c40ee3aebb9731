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
//!
//! The judgement of one vulnerability ([`Judge`]) reads only what [`Facts`] gives, so the full
//! report model ([`ImageReport`]) and the streaming reader ([`crate::report::stream`]) share
//! it and cannot disagree. `summary.json` lists only the findings that decide the verdict
//! ([`Evaluation::findings`]); every finding with its details is built only on request
//! ([`evaluate_with_details`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::baseline::{Baseline, BaselineMode, BaselineState, Entry};
use crate::ids::{ImageSha, Qid, Severity};
use crate::policy::{CvssVersion, Exclusion, ExclusionTarget, Policy};
use crate::report::{Detection, ImageReport, ScanState, Software, Vulnerabilities, Vulnerability};
use crate::summary::{
    ConditionName, ConditionSet, Conditions, Counts, CveCondition, CvssCondition, ErrorKind,
    ExclusionUse, ExclusionsReport, FINDINGS_LISTED_MAX, Finding, FindingDetails, FindingType,
    ImageDetails, ImageError, Judged, LEVEL_KEYS, LayerInfo, Package, QidCondition,
    SeverityCondition, SeverityLevel, SoftwareCondition,
};

pub use crate::summary::{Evaluation, Outcome};

/// Judges one image report against a policy at time `now` (which decides expired exclusions).
/// `findings` lists the findings that decide the verdict; see [`evaluate_with_details`] for
/// every finding.
pub fn evaluate(policy: &Policy, report: &ImageReport, now: Timestamp) -> Evaluation {
    evaluate_full(policy, report, now, None, false)
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
    evaluate_full(policy, report, now, baseline, false)
}

/// [`evaluate`], and also every finding of the report with its details
/// ([`Evaluation::all_findings`]) and the installed software ([`ImageDetails::software`]): what
/// the formats that show every finding read (HTML, SARIF, GitLab, Markdown, plugin).
pub fn evaluate_with_details(policy: &Policy, report: &ImageReport, now: Timestamp) -> Evaluation {
    evaluate_full(policy, report, now, None, true)
}

/// [`evaluate_with`] (a baseline, when given) and, with `details`, every finding of the report
/// as [`evaluate_with_details`] gives them, each with its `baseline_state`.
pub fn evaluate_full(
    policy: &Policy,
    report: &ImageReport,
    now: Timestamp,
    baseline: Option<BaselineInput<'_>>,
    details: bool,
) -> Evaluation {
    let vulns: &[Vulnerability] = match &report.vulnerabilities {
        Vulnerabilities::List(v) => v,
        Vulnerabilities::NotProcessed | Vulnerabilities::Counts => &[],
    };
    let entry = baseline.and_then(|b| b.baseline.entry_for(report));
    let mut judge = Judge::new(policy, Some(&report.sha), now);
    judge.baseline = baseline.map(|b| (entry.as_ref(), b.mode));
    for v in vulns {
        let state = judge.baseline_state(v);
        judge.add(v, state);
    }
    let judged = match judge.finish(report) {
        Finished::Error(mut e) => {
            // an image without a verdict still shows its installed software
            if details {
                e.image.software = report.softwares.iter().map(package).collect();
            }
            return *e;
        }
        Finished::Judged(j) => j,
    };
    let listed = judged
        .listed
        .iter()
        .filter_map(|&i| vulns.get(i))
        .map(|v| judged.finding(v, false))
        .collect();
    let all = details.then(|| {
        let mut all: Vec<Finding> = vulns.iter().map(|v| judged.finding(v, true)).collect();
        all.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.qid.cmp(&b.qid)));
        all
    });
    let mut e = judged.into_evaluation(report, listed);
    if let Some(all) = all {
        e.all_findings = Some(all);
        e.image.software = report.softwares.iter().map(package).collect();
    }
    // from every finding, not only those listed, so that the summary serves as a baseline
    e.finding_keys = Some(crate::baseline::finding_keys(vulns));
    e.baseline =
        baseline.map(|b| crate::baseline::image_result(b.baseline, b.mode, entry.as_ref(), vulns));
    e
}

/// What the evaluator reads of one vulnerability: the same for the full report model and the
/// streaming reader's lean one.
pub(crate) trait Facts {
    /// The QID.
    fn qid(&self) -> Qid;
    /// The severity as sent.
    fn raw_severity(&self) -> Option<i64>;
    /// CONFIRMED, POTENTIAL or other.
    fn detection(&self) -> Detection;
    /// The CVE ids, in report order.
    fn cve_ids(&self) -> impl Iterator<Item = &str>;
    /// CVSS v2 base score.
    fn cvss2(&self) -> Option<f64>;
    /// CVSS v3 base score.
    fn cvss3(&self) -> Option<f64>;
    /// Whether a patch is available.
    fn patchable(&self) -> bool;
}

impl Facts for Vulnerability {
    fn qid(&self) -> Qid {
        self.qid
    }
    fn raw_severity(&self) -> Option<i64> {
        self.severity
    }
    fn detection(&self) -> Detection {
        self.type_detected
    }
    fn cve_ids(&self) -> impl Iterator<Item = &str> {
        self.cveids.iter().map(String::as_str)
    }
    fn cvss2(&self) -> Option<f64> {
        Vulnerability::cvss2(self)
    }
    fn cvss3(&self) -> Option<f64> {
        Vulnerability::cvss3(self)
    }
    fn patchable(&self) -> bool {
        Vulnerability::patchable(self)
    }
}

/// At most this many findings with a field out of range are named in the error message.
const OUT_OF_RANGE_SHOWN: usize = 5;

/// Findings whose verdict-relevant fields are out of range: a severity that is not a whole
/// number 1-5 (null, missing, 0, -1, 9, …), or a CVSS base score outside 0.0-10.0. No verdict
/// may rest on such a report (it would not count the finding anywhere, and a gate would pass),
/// so the image is an error; the message names the first few.
#[derive(Debug, Default)]
struct OutOfRange {
    n: usize,
    shown: Vec<String>,
}

impl OutOfRange {
    fn check<V: Facts>(&mut self, v: &V) {
        let sev_ok = v.raw_severity().is_some_and(|s| Severity::new(s).is_some());
        let bad_score = |s: Option<f64>| s.is_some_and(|s| !(0.0..=10.0).contains(&s));
        if sev_ok && !bad_score(v.cvss2()) && !bad_score(v.cvss3()) {
            return;
        }
        self.n += 1;
        if self.shown.len() >= OUT_OF_RANGE_SHOWN {
            return;
        }
        let mut problems = Vec::new();
        match v.raw_severity() {
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
        self.shown
            .push(format!("QID {} has {}", v.qid().0, problems.join(", ")));
    }

    fn message(&self) -> Option<String> {
        if self.n == 0 {
            return None;
        }
        let more = if self.n > OUT_OF_RANGE_SHOWN {
            format!("; and {} more", self.n - OUT_OF_RANGE_SHOWN)
        } else {
            String::new()
        };
        Some(format!(
            "the report has {} finding{} with a field out of range, so no verdict can rest on it: \
             {}{more}",
            self.n,
            if self.n == 1 { "" } else { "s" },
            self.shown.join("; ")
        ))
    }
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
        software: Vec::new(),
    };
}

/// An image that ended in an error although its document was read (scan failed, not processed,
/// a finding out of range).
fn error_evaluation(report: &ImageReport, kind: ErrorKind, message: String) -> Evaluation {
    let mut e = Evaluation::error(
        Some(report.sha.as_str().to_owned()),
        ImageError { kind, message },
    );
    describe_image(&mut e, report);
    e
}

fn package(s: &Software) -> Package {
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

/// Why a vulnerability is removed from judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Excluded {
    /// Not removed.
    No,
    /// By the QID entry with this index.
    Qid(usize),
    /// Every one of its CVEs is excluded.
    Cves,
}

/// A few strings (a policy's CVEs), sorted: looked up without hashing, faster than a hash set
/// at these sizes.
#[derive(Default)]
struct StrSet<'p>(Vec<&'p str>);

impl<'p> StrSet<'p> {
    fn new(items: impl IntoIterator<Item = &'p str>) -> Self {
        let mut v: Vec<&str> = items.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Self(v)
    }

    fn contains(&self, s: &str) -> bool {
        self.0.binary_search(&s).is_ok()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The exclusion entries that concern this image, each with whether it is in force.
struct Exclusions<'p> {
    entries: Vec<(&'p Exclusion, bool)>,
    /// In-force CVE entries by id, and every CVE entry by id with its index, sorted (for match
    /// counting).
    cve_in_force: StrSet<'p>,
    cve_entries: Vec<(&'p str, usize)>,
}

impl<'p> Exclusions<'p> {
    /// The entries for the image `sha` (`None`: only entries that name no image).
    fn new(policy: &'p Policy, sha: Option<&ImageSha>, now: Timestamp) -> Self {
        let today = now.to_zoned(TimeZone::UTC).date();
        let entries: Vec<(&Exclusion, bool)> = policy
            .exclusions
            .iter()
            .filter(|e| e.image.as_ref().is_none_or(|s| Some(s) == sha))
            .map(|e| (e, e.expires.is_none_or(|d| today <= d)))
            .collect();
        let mut in_force = Vec::new();
        let mut cve_entries = Vec::new();
        for (i, (e, force)) in entries.iter().enumerate() {
            if let ExclusionTarget::Cve(c) = &e.target {
                cve_entries.push((c.as_str(), i));
                if *force {
                    in_force.push(c.as_str());
                }
            }
        }
        cve_entries.sort_unstable();
        Self {
            entries,
            cve_in_force: StrSet::new(in_force),
            cve_entries,
        }
    }

    fn cve_excluded(&self, cve: &str) -> bool {
        self.cve_in_force.contains(cve)
    }

    /// Calls `matched` with every entry that matches an in-scope vulnerability (in force or
    /// not, once per matching CVE for CVE entries) and returns what removes it from judgement.
    fn judge<V: Facts>(&self, v: &V, mut matched: impl FnMut(usize)) -> Excluded {
        let mut by_qid = None;
        for (i, (e, in_force)) in self.entries.iter().enumerate() {
            if let ExclusionTarget::Qid(r) = &e.target
                && r.contains(v.qid())
            {
                matched(i);
                if *in_force && by_qid.is_none() {
                    by_qid = Some(i);
                }
            }
        }
        if !self.cve_entries.is_empty() {
            for c in v.cve_ids() {
                let from = self.cve_entries.partition_point(|(e, _)| *e < c);
                for &(_, i) in self.cve_entries[from..].iter().take_while(|(e, _)| *e == c) {
                    matched(i);
                }
            }
        }
        if let Some(i) = by_qid {
            return Excluded::Qid(i);
        }
        if self.cve_in_force.is_empty() {
            return Excluded::No;
        }
        let mut cves = v.cve_ids().peekable();
        let all = cves.peek().is_some() && cves.all(|c| self.cve_excluded(c));
        if all { Excluded::Cves } else { Excluded::No }
    }

    fn report(&self, matched: &[u32]) -> ExclusionsReport {
        let mut out = ExclusionsReport::default();
        for (i, (e, in_force)) in self.entries.iter().enumerate() {
            let matched = matched.get(i).copied().unwrap_or(0);
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

/// What the policy makes of one vulnerability, computed without counting anything.
struct View {
    level: Option<Severity>,
    in_scope: bool,
    excluded: Excluded,
    touched: bool,
    conditions: ConditionSet,
    /// The configured QIDs cover it (in scope).
    qid_hit: bool,
    /// The score that reached the CVSS threshold, when it counted.
    cvss: Option<f64>,
}

/// Accumulates counts and condition results over the vulnerabilities of one report, one at a
/// time, keeping only a few bytes per finding ([`Judged`]).
pub(crate) struct Judge<'p> {
    policy: &'p Policy,
    cves: StrSet<'p>,
    exclusions: Exclusions<'p>,
    matched: Vec<u32>,
    counts: Counts,
    level_found: [u32; 5],
    qid_found: BTreeSet<u32>,
    qid_counted: BTreeSet<u32>,
    cve_found: BTreeSet<String>,
    cve_counted: BTreeSet<String>,
    cvss_found: u32,
    cvss_by_score: BTreeMap<String, u32>,
    judged: Vec<Judged>,
    bad: OutOfRange,
    /// The image's baseline entry (none: every finding is new) and the mode, with a baseline.
    baseline: Option<(Option<&'p Entry<'p>>, BaselineMode)>,
}

/// What [`Judge::finish`] gives.
pub(crate) enum Finished<'p> {
    /// The report has a verdict.
    Judged(Box<JudgedReport<'p>>),
    /// The image ends in an error (scan failed, not processed, a finding out of range).
    Error(Box<Evaluation>),
}

/// A judged report: the conditions, and which findings `summary.json` lists.
pub(crate) struct JudgedReport<'p> {
    policy: &'p Policy,
    cves: StrSet<'p>,
    exclusions: Exclusions<'p>,
    counts: Counts,
    conditions: Conditions,
    exclusions_report: ExclusionsReport,
    judged: Vec<Judged>,
    /// Indexes (report order) of the findings `summary.json` lists, in the order listed.
    pub(crate) listed: Vec<usize>,
    deciding: u32,
    baseline: Option<(Option<&'p Entry<'p>>, BaselineMode)>,
}

impl<'p> Judge<'p> {
    /// A judge for the vulnerabilities of image `sha` (which decides the exclusions that name
    /// an image; `None` leaves those out).
    pub(crate) fn new(policy: &'p Policy, sha: Option<&ImageSha>, now: Timestamp) -> Self {
        let exclusions = Exclusions::new(policy, sha, now);
        Self {
            policy,
            cves: StrSet::new(policy.cves.iter().map(crate::ids::CveId::as_str)),
            matched: vec![0; exclusions.entries.len()],
            exclusions,
            counts: Counts::default(),
            level_found: [0; 5],
            qid_found: BTreeSet::new(),
            qid_counted: BTreeSet::new(),
            cve_found: BTreeSet::new(),
            cve_counted: BTreeSet::new(),
            cvss_found: 0,
            cvss_by_score: BTreeMap::new(),
            judged: Vec::new(),
            bad: OutOfRange::default(),
            baseline: None,
        }
    }

    /// The baseline state of `v` when judging against a baseline (`new` when the image has no
    /// baseline entry).
    fn baseline_state(&self, v: &Vulnerability) -> Option<BaselineState> {
        state_of(self.baseline, v)
    }

    /// Counts one vulnerability (the next in report order); `state` is its baseline state when
    /// judging against a baseline (in `new` mode an unchanged finding counts toward no
    /// condition).
    pub(crate) fn add<V: Facts>(&mut self, v: &V, state: Option<BaselineState>) {
        self.bad.check(v);
        let known = is_known(self.baseline, state);
        let matched = &mut self.matched;
        let view = view(self.policy, &self.cves, &self.exclusions, v, known, |i| {
            if let Some(m) = matched.get_mut(i) {
                *m += 1;
            }
        });
        let c = &mut self.counts;
        c.total += 1;
        if v.patchable() {
            c.patchable += 1;
        } else {
            c.not_patchable += 1;
        }
        if let Some(l) = view.level {
            match v.detection() {
                Detection::Confirmed => c.confirmed.0[l.index()] += 1,
                Detection::Potential => c.potential.0[l.index()] += 1,
                Detection::Other => {}
            }
        }
        if view.in_scope && !known {
            let excluded = view.excluded != Excluded::No;
            if let (Some(l), false) = (view.level, excluded) {
                self.level_found[l.index()] += 1;
            }
            if view.qid_hit {
                self.qid_found.insert(v.qid().0);
                if !excluded {
                    self.qid_counted.insert(v.qid().0);
                }
            }
            if !self.cves.is_empty() {
                for c in v.cve_ids().filter(|c| self.cves.contains(c)) {
                    if !self.cve_found.contains(c) {
                        self.cve_found.insert(c.to_owned());
                    }
                    if !excluded
                        && !self.exclusions.cve_excluded(c)
                        && !self.cve_counted.contains(c)
                    {
                        self.cve_counted.insert(c.to_owned());
                    }
                }
            }
            if let Some(s) = view.cvss {
                self.cvss_found += 1;
                *self.cvss_by_score.entry(score_key(s)).or_default() += 1;
            }
        }
        self.judged.push(Judged {
            qid: v.qid().0,
            severity: view.level.map_or(0, Severity::get),
            conditions: view.conditions,
            excluded: view.excluded != Excluded::No,
            touched: view.touched,
        });
    }

    /// The verdict: an error for a report without one (checked in this order: the scan failed,
    /// the report is not processed, a finding is out of range), else the conditions and the
    /// findings to list.
    pub(crate) fn finish(self, report: &ImageReport) -> Finished<'p> {
        if let ScanState::Failed(why) = report.scan_state() {
            return Finished::Error(Box::new(error_evaluation(
                report,
                ErrorKind::ScanFailed,
                format!("Qualys reports the scan of this image as failed ({why})"),
            )));
        }
        if !matches!(report.vulnerabilities, Vulnerabilities::List(_)) {
            return Finished::Error(Box::new(error_evaluation(
                report,
                ErrorKind::NotProcessed,
                "scan not processed yet: the report has `vulnerabilities: null`".to_owned(),
            )));
        }
        if let Some(message) = self.bad.message() {
            return Finished::Error(Box::new(error_evaluation(
                report,
                ErrorKind::InvalidFinding,
                message,
            )));
        }
        let software = judge_software(self.policy, report);
        let exclusions_report = self.exclusions.report(&self.matched);
        let mut levels = BTreeMap::new();
        let mut sev_passed = true;
        for s in Severity::ALL {
            let limit = self.policy.severity_limit(s);
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
        let policy = self.policy;
        let conditions = Conditions {
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
                found: self.cve_found.into_iter().collect(),
                excluded: cve_excluded,
            },
            cvss: CvssCondition {
                configured: policy.cvss.is_some(),
                passed: self.cvss_found == 0,
                version: policy.cvss.map(|c| c.version.as_str().to_owned()),
                score: policy.cvss.map(|c| c.score),
                found: self.cvss_found,
                by_score: self.cvss_by_score,
            },
            software,
        };
        let (listed, deciding) = listing(&self.judged, &conditions);
        Finished::Judged(Box::new(JudgedReport {
            policy,
            cves: self.cves,
            exclusions: self.exclusions,
            counts: self.counts,
            conditions,
            exclusions_report,
            judged: self.judged,
            listed,
            deciding,
            baseline: self.baseline,
        }))
    }
}

/// The baseline state of `v`, when judging against a baseline: `new` when the image has no
/// baseline entry.
fn state_of(
    baseline: Option<(Option<&Entry<'_>>, BaselineMode)>,
    v: &Vulnerability,
) -> Option<BaselineState> {
    baseline.map(|(entry, _)| entry.map_or(BaselineState::New, |e| e.state(v)))
}

/// Whether a finding in `state` is left out of the conditions: an unchanged finding in `new`
/// baseline mode.
fn is_known(
    baseline: Option<(Option<&Entry<'_>>, BaselineMode)>,
    state: Option<BaselineState>,
) -> bool {
    matches!(baseline, Some((_, BaselineMode::New))) && state == Some(BaselineState::Unchanged)
}

/// The policy's view of `v` (`known`: an unchanged finding in `new` baseline mode, which
/// counts toward no condition); `matched` is called with every exclusion entry that matches it.
fn view<V: Facts>(
    p: &Policy,
    cves: &StrSet<'_>,
    exclusions: &Exclusions<'_>,
    v: &V,
    known: bool,
    mut matched: impl FnMut(usize),
) -> View {
    let level = v.raw_severity().and_then(Severity::new);
    let in_scope = (v.detection() != Detection::Potential || p.potential)
        && (!p.fixable_only || v.patchable());
    let mut out = View {
        level,
        in_scope,
        excluded: Excluded::No,
        touched: false,
        conditions: ConditionSet::default(),
        qid_hit: false,
        cvss: None,
    };
    if !in_scope {
        return out;
    }
    out.excluded = exclusions.judge(v, |i| {
        out.touched = true;
        matched(i);
    });
    if known {
        // in `new` baseline mode an unchanged finding is reported but counts toward no
        // condition (the exclusions still match it)
        return out;
    }
    let excluded = out.excluded != Excluded::No;
    if let (Some(l), false) = (level, excluded)
        && p.severity_limit(l).is_some()
    {
        out.conditions.insert(ConditionName::Severity);
    }
    if p.qids.iter().any(|r| r.contains(v.qid())) {
        out.qid_hit = true;
        if !excluded {
            out.conditions.insert(ConditionName::Qids);
        }
    }
    if !excluded
        && !cves.is_empty()
        && v.cve_ids()
            .any(|c| cves.contains(c) && !exclusions.cve_excluded(c))
    {
        out.conditions.insert(ConditionName::Cves);
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
            out.cvss = Some(s);
            out.conditions.insert(ConditionName::Cvss);
        }
    }
    out
}

/// Which findings `summary.json` lists, in the order listed, and how many decide the verdict:
/// those that made a condition fail, then those an exclusion removed, then those an exclusion
/// entry only matched; each group by severity (highest first), QID, report order; at most
/// [`FINDINGS_LISTED_MAX`].
fn listing(judged: &[Judged], c: &Conditions) -> (Vec<usize>, u32) {
    let group = |j: &Judged| -> Option<u8> {
        if j.excluded {
            Some(1)
        } else if j.conditions.iter().any(|n| c.fails(n, j.severity)) {
            Some(0)
        } else if j.touched {
            Some(2)
        } else {
            None
        }
    };
    let mut deciding: Vec<(u8, Reverse<u8>, u32, usize)> = judged
        .iter()
        .enumerate()
        .filter_map(|(i, j)| group(j).map(|g| (g, Reverse(j.severity), j.qid, i)))
        .collect();
    let n = u32::try_from(deciding.len()).unwrap_or(u32::MAX);
    if deciding.len() > FINDINGS_LISTED_MAX {
        deciding.select_nth_unstable(FINDINGS_LISTED_MAX);
        deciding.truncate(FINDINGS_LISTED_MAX);
    }
    deciding.sort_unstable();
    (deciding.into_iter().map(|(.., i)| i).collect(), n)
}

impl JudgedReport<'_> {
    /// The finding `v` (one of the judged report's vulnerabilities) as the formats show it;
    /// `details`: with what the report says beyond the policy's view.
    pub(crate) fn finding(&self, v: &Vulnerability, details: bool) -> Finding {
        let baseline_state = state_of(self.baseline, v);
        let known = is_known(self.baseline, baseline_state);
        let view = view(self.policy, &self.cves, &self.exclusions, v, known, |_| {});
        let excluded_by = match view.excluded {
            Excluded::No => None,
            Excluded::Qid(i) => self
                .exclusions
                .entries
                .get(i)
                .map(|(e, _)| e.target.to_string()),
            Excluded::Cves => Some(format!("cve {}", v.cveids.join(", "))),
        };
        Finding {
            severity: view.level.map_or(0, Severity::get),
            conditions: view.conditions.iter().collect(),
            excluded_by,
            in_scope: view.in_scope,
            baseline_state,
            ..report_finding(v, details)
        }
    }

    /// The QID of the `i`-th finding in report order.
    pub(crate) fn qid_at(&self, i: usize) -> Option<u32> {
        self.judged.get(i).map(|j| j.qid)
    }

    /// The evaluation of the image described by `report` (its header: the vulnerabilities are
    /// not read here), listing `listed` (the findings of [`JudgedReport::listed`], in that order).
    pub(crate) fn into_evaluation(self, report: &ImageReport, listed: Vec<Finding>) -> Evaluation {
        let outcome = if self.conditions.failed().is_empty() {
            Outcome::Passed
        } else {
            Outcome::Failed
        };
        let n_listed = u32::try_from(listed.len()).unwrap_or(u32::MAX);
        let mut e = Evaluation {
            image_id: Some(
                report
                    .image_id
                    .clone()
                    .unwrap_or_else(|| report.sha.short().to_owned()),
            ),
            sha: Some(report.sha.as_str().to_owned()),
            outcome,
            error: None,
            scanned_at: None,
            counts: Some(self.counts.clone()),
            conditions: Some(self.conditions),
            findings: listed,
            findings_deciding: self.deciding,
            findings_omitted: self.counts.total.saturating_sub(n_listed),
            exclusions: self.exclusions_report,
            tags: Vec::new(),
            operating_system: None,
            image: ImageDetails::default(),
            warnings: Vec::new(),
            judged: Some(self.judged),
            all_findings: None,
            finding_keys: None,
            baseline: None,
        };
        describe_image(&mut e, report);
        e
    }
}

/// Fills [`Evaluation::all_findings`] and [`ImageDetails::software`] of an evaluation read
/// back from a `summary.json` (which lists only the deciding findings) from the raw report it
/// was judged on (`images/<id>.json`), for `qcs report merge`, which has no policy: every
/// vulnerability of the report with its details; the policy's view (conditions, exclusion,
/// scope, baseline state) is the listed finding's when the summary lists it. The others did not
/// decide the verdict: they are shown failing no condition and excluded by nothing, in scope
/// unless POTENTIAL, with a baseline state only when the image's baseline result leaves no
/// doubt (every finding new, or every finding unchanged). Does nothing for an image without a
/// verdict or a report without a vulnerability list.
pub fn attach_report_findings(e: &mut Evaluation, report: &ImageReport) {
    let Vulnerabilities::List(vulns) = &report.vulnerabilities else {
        return;
    };
    if e.counts.is_none() {
        return;
    }
    let shared_state = e
        .baseline
        .as_ref()
        .and_then(|b| match (b.new, b.unchanged) {
            (_, 0) => Some(BaselineState::New),
            (0, _) => Some(BaselineState::Unchanged),
            _ => None,
        });
    let mut all: Vec<Finding> = vulns
        .iter()
        .map(|v| {
            let mut f = report_finding(v, true);
            let listed = e.findings.iter().find(|l| {
                l.qid == f.qid
                    && l.cves == f.cves
                    && l.packages.len() == f.packages.len()
                    && l.packages
                        .iter()
                        .zip(&f.packages)
                        .all(|(a, b)| a.name == b.name)
            });
            match listed {
                Some(l) => {
                    f.conditions.clone_from(&l.conditions);
                    f.excluded_by.clone_from(&l.excluded_by);
                    f.in_scope = l.in_scope;
                    f.baseline_state = l.baseline_state;
                }
                None => {
                    f.in_scope = f.kind != FindingType::Potential;
                    f.baseline_state = shared_state;
                }
            }
            f
        })
        .collect();
    all.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.qid.cmp(&b.qid)));
    e.all_findings = Some(all);
    e.image.software = report.softwares.iter().map(package).collect();
}

/// The finding `v` as the report gives it, without the policy's view (no condition, no
/// exclusion, out of scope, no baseline state); `details`: with what the report says beyond it.
fn report_finding(v: &Vulnerability, details: bool) -> Finding {
    Finding {
        qid: v.qid.0,
        title: v.title.clone().unwrap_or_default(),
        severity: v.severity.and_then(Severity::new).map_or(0, Severity::get),
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
        conditions: Vec::new(),
        excluded_by: None,
        in_scope: false,
        details: if details {
            finding_details(v)
        } else {
            FindingDetails::default()
        },
        baseline_state: None,
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
    fn an_image_without_a_verdict_still_shows_its_installed_software() {
        let example = include_bytes!("../../../examples/reports/payments-api.json");
        let mut doc: serde_json::Value = serde_json::from_slice(example).expect("the example");
        doc["vulnerabilities"] = serde_json::Value::Null;
        let bytes = serde_json::to_vec(&doc).expect("serialises");
        let report = ImageReport::from_json(&bytes).expect("parses");
        let e = evaluate_with_details(&Policy::default(), &report, Timestamp::UNIX_EPOCH);
        assert_eq!(e.outcome, Outcome::Error);
        assert!(!e.image.software.is_empty());
        assert_eq!(e.image.software.len(), report.softwares.len());
        assert!(e.every_finding().is_empty());
    }

    #[test]
    fn the_report_page_details_come_from_the_report() {
        let example = include_bytes!("../../../examples/reports/payments-api.json");
        let report = ImageReport::from_json(example).expect("the example parses");
        let e = evaluate_with_details(&Policy::default(), &report, Timestamp::UNIX_EPOCH);
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
        let all = e.every_finding();
        let log4j = all.iter().find(|f| f.qid == 376_209).expect("log4j");
        let d = &log4j.details;
        assert_eq!(d.category.as_deref(), Some("Local"));
        assert_eq!(d.first_found.as_deref(), Some("2024-06-01T12:01:00Z"));
        assert!(d.threat_intel.iter().any(|t| t == "easy_exploit"));
        assert!(d.threat_intel.iter().any(|t| t == "malware"));
        let ssl = all.iter().find(|f| f.qid == 6_000_123).expect("openssl");
        assert_eq!(ssl.details.cvss2_temporal, Some(3.7));
        assert_eq!(ssl.details.cvss3_temporal, Some(6.5));
        assert_eq!(ssl.details.access_vector.as_deref(), Some("Network"));
        assert!(
            ssl.details
                .result
                .as_deref()
                .is_some_and(|r| r.contains("libssl3"))
        );
        // the details and the installed software stay out of summary.json
        let json = serde_json::to_value(all).expect("serialises");
        assert!(json[0].get("category").is_none() && json[0].get("result").is_none());
        let json = serde_json::to_value(&e).expect("serialises");
        assert!(json.get("software").is_none() && json.get("all_findings").is_none());
        assert_eq!(json["size"], 187_667_860);
        // without details: no finding beyond those listed, no software
        let lean = evaluate(&Policy::default(), &report, Timestamp::UNIX_EPOCH);
        assert!(lean.all_findings.is_none() && lean.image.software.is_empty());
        assert_eq!(lean.judged.as_ref().map(Vec::len), Some(all.len()));
    }
}
