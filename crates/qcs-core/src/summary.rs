//! The `summary.json` contract (schema version 2, `product.md` §5, `docs/reports.md`).
//!
//! Field names are a contract: fields may be added, none renamed; a field that leaves bumps
//! [`SCHEMA_VERSION`]. The evaluator fills the per-image parts ([`Counts`], [`Conditions`],
//! [`Finding`], [`ExclusionsReport`]) and every output format reads them from here.
//!
//! `summary.json` is the verdict: it lists only the findings that decide it (at most
//! [`FINDINGS_LISTED_MAX`] per image), so it stays small whatever the size of the report. What
//! the other formats show beyond that (every finding with its details, the installed software)
//! is kept in memory only ([`Evaluation::all_findings`], [`ImageDetails::software`],
//! [`Evaluation::judged`]), read from the raw report when a format needs it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::exit::ExitCode;

/// The current schema version: 2 since `findings` lists only the findings that decide the
/// verdict, without their report details, and the installed software left the image entry
/// (`docs/reports.md`, "What moved in schema version 2").
pub const SCHEMA_VERSION: u32 = 2;

/// At most this many findings are listed per image in `summary.json` (the ones that decide the
/// verdict, most decisive first; the rest are counted in `findings_omitted`).
pub const FINDINGS_LISTED_MAX: usize = 500;

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The `qcs` version that wrote it.
    pub qcs_version: String,
    /// Overall outcome: `passed`, `failed` or `error`.
    pub outcome: Outcome,
    /// The process exit code.
    pub exit_code: u8,
    /// One entry per image.
    pub images: Vec<ImageResult>,
    /// The Qualys portal of the platform scanned on (`https://qualysguard.…`), for links to an
    /// image's page (`<portal>/cs/#/assets/images/<sha>`); absent when unknown (`qcs evaluate`,
    /// a private platform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<String>,
    /// The CI build that wrote it (system, number, link, time), for trends across builds;
    /// absent outside a known CI system and without a clock (`qcs-core` reads none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<crate::trend::BuildInfo>,
    /// `qcs scan --shard K/N`: which part of the image list this run scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,
    /// `qcs report merge`: images the merged runs judged differently (each such image is an
    /// `error` of kind `conflict`); absent when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<crate::merge::Conflict>,
    /// Confirmed findings by severity per earlier build, oldest first, this run last
    /// (`--history DIR`, `qcs report trend`); absent without a history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<crate::trend::TrendPoint>,
}

impl Summary {
    /// Builds the document from the per-image results, deriving the outcome and exit code.
    pub fn new(qcs_version: &str, images: Vec<ImageResult>) -> Self {
        let code = ExitCode::combine(images.iter().map(ImageResult::exit_code));
        let outcome = match code {
            ExitCode::Passed => Outcome::Passed,
            ExitCode::PolicyFailed => Outcome::Failed,
            _ => Outcome::Error,
        };
        Self {
            schema_version: SCHEMA_VERSION,
            qcs_version: qcs_version.to_owned(),
            outcome,
            exit_code: code.code(),
            images,
            portal_url: None,
            build: None,
            shard: None,
            conflicts: Vec::new(),
            trend: Vec::new(),
        }
    }

    /// How many images ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.images
            .iter()
            .filter(|i| i.evaluation.outcome == outcome)
            .count()
    }

    /// The process exit code as a typed value.
    pub fn exit(&self) -> ExitCode {
        ExitCode::combine(self.images.iter().map(ImageResult::exit_code))
    }
}

/// How an image (or the whole run) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every configured condition passed.
    Passed,
    /// The policy is violated.
    Failed,
    /// No verdict: timeout, API, engine, sensor or configuration problem.
    Error,
}

impl Outcome {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Error => "error",
        }
    }
}

/// What kind of problem kept an image from a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Timed out waiting for the scan result (exit 5).
    Timeout,
    /// The report exists but is not processed yet (`vulnerabilities: null`; exit 5).
    NotProcessed,
    /// Qualys reports the scan itself as failed (`scanStatus` a failure value, or
    /// `scanErrorCode` set; exit 5).
    ScanFailed,
    /// A finding of the report has a verdict-relevant field out of range: a severity that is
    /// not 1-5 (null, missing, 0, 9, …) or a CVSS base score outside 0.0-10.0 (exit 5: the
    /// report is no complete scan result, and never a pass).
    InvalidFinding,
    /// Qualys API failure (exit 4).
    Api,
    /// Container engine failure (exit 3).
    Engine,
    /// Sensor missing, paused or not in CI/CD mode (exit 3).
    Sensor,
    /// Configuration or input problem (exit 2).
    Config,
    /// `qcs scan` was interrupted (SIGINT, SIGTERM) before this image had a result: no
    /// verdict (exit 5 for the image; the process exits 130 or 143).
    Cancelled,
    /// `qcs report merge`: the merged runs judged this image differently (outcome, counts or
    /// failing conditions), so no verdict can be trusted (exit 5).
    Conflict,
}

impl ErrorKind {
    /// The exit code this kind of error leads to.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Config => ExitCode::Config,
            Self::Engine | Self::Sensor => ExitCode::Engine,
            Self::Api => ExitCode::Api,
            Self::Timeout
            | Self::NotProcessed
            | Self::ScanFailed
            | Self::InvalidFinding
            | Self::Cancelled
            | Self::Conflict => ExitCode::NoResult,
        }
    }
}

/// Why an image has no verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageError {
    /// The kind, which decides the exit code.
    pub kind: ErrorKind,
    /// What happened, for people.
    pub message: String,
}

/// One image's result: the input as given plus its [`Evaluation`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResult {
    /// The input as the user gave it (image name, id, or report file).
    pub input: String,
    /// Everything else about the image.
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

impl ImageResult {
    /// This image's contribution to the exit code.
    pub fn exit_code(&self) -> ExitCode {
        self.evaluation.exit_code()
    }
}

/// The verdict on one image and everything it rests on; computed once by
/// [`crate::evaluate()`] (or, for an image that never got a report, by [`Evaluation::error`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Full sha, when known.
    pub sha: Option<String>,
    /// 12-hex image id, when known.
    pub image_id: Option<String>,
    /// `passed`, `failed` or `error`.
    pub outcome: Outcome,
    /// Set when `outcome` is `error`.
    pub error: Option<ImageError>,
    /// When Qualys scanned the image (RFC 3339), when known.
    pub scanned_at: Option<String>,
    /// Counts of all vulnerabilities, whatever the policy (null without a processed report).
    pub counts: Option<Counts>,
    /// Per-condition results (null without a processed report).
    pub conditions: Option<Conditions>,
    /// The findings that decide the verdict, most decisive first: those that made a condition
    /// fail, then those an exclusion removed, then those an exclusion entry matched without
    /// removing them (an expired entry, or a CVE entry covering only some of their CVEs); each
    /// group by severity (highest first), then QID. At most [`FINDINGS_LISTED_MAX`].
    pub findings: Vec<Finding>,
    /// How many findings decide the verdict (more than `findings` lists when over
    /// [`FINDINGS_LISTED_MAX`]).
    #[serde(default)]
    pub findings_deciding: u32,
    /// The image's findings that `findings` does not list (all of them are in the raw report,
    /// `images/<id>.json`).
    #[serde(default)]
    pub findings_omitted: u32,
    /// What the exclusions did.
    pub exclusions: ExclusionsReport,
    /// Repositories and tags of the image (`repository:tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The report's `operatingSystem`.
    #[serde(default)]
    pub operating_system: Option<String>,
    /// More of the image as the report describes it (size, layers, installed software).
    #[serde(flatten, default)]
    pub image: ImageDetails,
    /// Parts of the report read as absent because they had the wrong type (e.g. a `cvssInfo`
    /// that is not an object); left out when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The identity of every finding, for the next run's baseline: package name → sorted
    /// QIDs (`""` for a finding without a package); absent without a processed report. See
    /// [`crate::baseline`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_keys: Option<crate::baseline::FindingKeys>,
    /// What a baseline made of this image's findings (`--baseline`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::ImageBaseline>,
    /// In memory only (never in `summary.json`): the policy's view of every finding of the
    /// report, in report order, so that the formats name every finding that made a condition
    /// fail even when `findings` lists fewer. `None` when unknown (a summary read back from
    /// JSON): then `findings` is all there is.
    #[serde(skip)]
    pub judged: Option<Vec<Judged>>,
    /// In memory only (never in `summary.json`): every finding of the report with its details,
    /// most severe first, read from the raw report when a format shows every finding (HTML,
    /// SARIF, GitLab, Markdown). `None` when not read: then `findings` is all there is.
    #[serde(skip)]
    pub all_findings: Option<Vec<Finding>>,
}

/// What the image report says about the image beyond its vulnerabilities (for the HTML report);
/// written flat into the image's entry of `summary.json`, each field left out when
/// unknown or empty (readers take absent as null or `[]`), except the installed software, which
/// is kept in memory only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageDetails {
    /// Image size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// e.g. `amd64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The layers, oldest first, with the command that made each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerInfo>,
    /// Installed software with the first fixed version, when one exists. In memory only (not
    /// in `summary.json` since schema version 2): filled when a format shows it (HTML).
    #[serde(skip)]
    pub software: Vec<Package>,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LayerInfo {
    /// The Dockerfile command that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl Evaluation {
    /// An image that ended in an error without a usable report.
    pub fn error(sha: Option<String>, error: ImageError) -> Self {
        Self {
            image_id: sha.as_deref().and_then(|s| s.get(..12)).map(str::to_owned),
            sha,
            outcome: Outcome::Error,
            error: Some(error),
            scanned_at: None,
            counts: None,
            conditions: None,
            findings: Vec::new(),
            findings_deciding: 0,
            findings_omitted: 0,
            exclusions: ExclusionsReport::default(),
            tags: Vec::new(),
            operating_system: None,
            image: ImageDetails::default(),
            warnings: Vec::new(),
            finding_keys: None,
            baseline: None,
            judged: None,
            all_findings: None,
        }
    }

    /// Every finding of the image when the raw report was read for it
    /// ([`Evaluation::all_findings`]), else the findings `summary.json` lists.
    pub fn every_finding(&self) -> &[Finding] {
        self.all_findings.as_deref().unwrap_or(&self.findings)
    }

    /// The QIDs of the findings that made condition `name` fail, sorted and each once: from
    /// every finding when known ([`Evaluation::judged`]), else from those listed.
    pub fn failing_qids(&self, name: ConditionName) -> Vec<u32> {
        let Some(c) = &self.conditions else {
            return Vec::new();
        };
        let mut q: Vec<u32> = match &self.judged {
            Some(judged) => judged
                .iter()
                .filter(|j| !j.excluded && j.conditions.contains(name))
                .filter(|j| c.fails(name, j.severity))
                .map(|j| j.qid)
                .collect(),
            None => self
                .findings
                .iter()
                .filter(|f| f.excluded_by.is_none() && f.conditions.contains(&name))
                .filter(|f| c.fails(name, f.severity))
                .map(|f| f.qid)
                .collect(),
        };
        q.sort_unstable();
        q.dedup();
        q
    }

    /// This image's contribution to the exit code.
    pub fn exit_code(&self) -> ExitCode {
        match (self.outcome, &self.error) {
            (Outcome::Passed, _) => ExitCode::Passed,
            (Outcome::Failed, _) => ExitCode::PolicyFailed,
            (Outcome::Error, Some(e)) => e.kind.exit_code(),
            (Outcome::Error, None) => ExitCode::NoResult,
        }
    }
}

/// Counts per severity level 1..=5 (index 0 is level 1), written as `{"1": n, …, "5": n}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelCounts(pub [u32; 5]);

impl Serialize for LevelCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(5))?;
        for (i, n) in self.0.iter().enumerate() {
            m.serialize_entry(LEVEL_KEYS[i], n)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for LevelCounts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m: BTreeMap<String, u32> = BTreeMap::deserialize(d)?;
        let mut out = [0; 5];
        for (i, k) in LEVEL_KEYS.iter().enumerate() {
            out[i] = m.get(*k).copied().unwrap_or(0);
        }
        Ok(Self(out))
    }
}

/// The keys of per-level maps.
pub const LEVEL_KEYS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// Counts of all vulnerabilities, whatever the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// CONFIRMED by severity.
    pub confirmed: LevelCounts,
    /// POTENTIAL by severity.
    pub potential: LevelCounts,
    /// All vulnerabilities.
    pub total: u32,
    /// With a patch available.
    pub patchable: u32,
    /// Without one (false or missing).
    pub not_patchable: u32,
}

/// The result of each condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Conditions {
    /// Severity limits.
    pub severity: SeverityCondition,
    /// QIDs.
    pub qids: QidCondition,
    /// CVEs.
    pub cves: CveCondition,
    /// CVSS threshold.
    pub cvss: CvssCondition,
    /// Software filters.
    pub software: SoftwareCondition,
}

impl Conditions {
    /// Whether condition `name` failed for a finding of `severity` that counted toward it: for
    /// severity limits, whether the finding's level is over its limit.
    pub fn fails(&self, name: ConditionName, severity: u8) -> bool {
        match name {
            ConditionName::Severity => usize::from(severity)
                .checked_sub(1)
                .and_then(|i| LEVEL_KEYS.get(i))
                .and_then(|k| self.severity.levels.get(*k))
                .is_some_and(|l| !l.passed),
            ConditionName::Qids => !self.qids.passed,
            ConditionName::Cves => !self.cves.passed,
            ConditionName::Cvss => !self.cvss.passed,
            ConditionName::Software => !self.software.passed,
        }
    }

    /// Names of the conditions that failed, in display order.
    pub fn failed(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.severity.passed {
            out.push("severity");
        }
        if !self.qids.passed {
            out.push("qids");
        }
        if !self.cves.passed {
            out.push("cves");
        }
        if !self.cvss.passed {
            out.push("cvss");
        }
        if !self.software.passed {
            out.push("software");
        }
        out
    }
}

/// Severity limits: all five levels, limit null when not configured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeverityCondition {
    /// Any level configured.
    pub configured: bool,
    /// No configured level exceeded.
    pub passed: bool,
    /// `"1"`..`"5"`.
    pub levels: BTreeMap<String, SeverityLevel>,
}

/// One severity level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityLevel {
    /// Tolerated count, null when not configured.
    pub limit: Option<u32>,
    /// In-scope, not-excluded vulnerabilities of the level.
    pub found: u32,
    /// `found <= limit`, or true when not configured.
    pub passed: bool,
}

/// The QID condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct QidCondition {
    /// Any QID configured.
    pub configured: bool,
    /// No configured QID found.
    pub passed: bool,
    /// The QIDs and ranges as configured.
    #[serde(default)]
    pub list: Vec<String>,
    /// Configured QIDs present on in-scope vulnerabilities, excluded or not (as the original).
    pub found: Vec<u32>,
    /// Configured QIDs that were present only on excluded vulnerabilities.
    pub excluded: Vec<u32>,
}

/// The CVE condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CveCondition {
    /// Any CVE configured.
    pub configured: bool,
    /// No configured, not-excluded CVE found.
    pub passed: bool,
    /// The CVEs as configured.
    #[serde(default)]
    pub list: Vec<String>,
    /// Configured CVEs present on in-scope vulnerabilities, excluded or not (as the original).
    pub found: Vec<String>,
    /// Configured CVEs that were present but never counted (excluded).
    pub excluded: Vec<String>,
}

/// The CVSS condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CvssCondition {
    /// A threshold is configured.
    pub configured: bool,
    /// No vulnerability reached it.
    pub passed: bool,
    /// `2`, `3` or `max`.
    pub version: Option<String>,
    /// The threshold.
    pub score: Option<f64>,
    /// How many in-scope, not-excluded vulnerabilities reach it.
    pub found: u32,
    /// Score (one decimal) → count, for those that reach it.
    pub by_score: BTreeMap<String, u32>,
}

/// The software condition.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SoftwareCondition {
    /// Any filter configured.
    pub configured: bool,
    /// No installed package matched.
    pub passed: bool,
    /// The filters as configured.
    #[serde(default)]
    pub list: Vec<String>,
    /// `name=version` of every matching package (sorted, unique).
    pub found: Vec<String>,
}

/// One vulnerability as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// QID.
    pub qid: u32,
    /// Title.
    pub title: String,
    /// Severity 1..=5 (0 when the report had none in range).
    pub severity: u8,
    /// `confirmed`, `potential` or `other`.
    #[serde(rename = "type")]
    pub kind: FindingType,
    /// CVE ids.
    pub cves: Vec<String>,
    /// CVSS v2 base score.
    pub cvss2: Option<f64>,
    /// CVSS v3 base score.
    pub cvss3: Option<f64>,
    /// Patch available.
    pub patchable: bool,
    /// Affected packages.
    pub packages: Vec<Package>,
    /// Conditions this vulnerability counted toward (`severity`, `qids`, `cves`, `cvss`).
    pub conditions: Vec<ConditionName>,
    /// The exclusion that removed it from judgement (`qid 179203`, `cve CVE-…`), if any.
    pub excluded_by: Option<String>,
    /// Whether the policy judges it at all (potential and fixable-only scope).
    #[serde(default)]
    pub in_scope: bool,
    /// More of the vulnerability as reported (category, age, threat flags, CVSS details, the
    /// scanner's result text). In memory only (not in `summary.json` since schema version 2):
    /// filled for [`Evaluation::all_findings`].
    #[serde(skip)]
    pub details: FindingDetails,
    /// `new` or `unchanged` against the baseline (`--baseline`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<crate::baseline::BaselineState>,
}

/// What the report says about a vulnerability beyond what the policy judges (for the HTML
/// report); in memory only, read from the raw report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FindingDetails {
    /// Category, e.g. `Ubuntu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// When Qualys first found it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_found: Option<String>,
    /// Threat-intelligence flags that are set: `easy_exploit`, `malware`, `active_attacks`,
    /// `public_exploit`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threat_intel: Vec<String>,
    /// CVSS v2 temporal score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss2_temporal: Option<f64>,
    /// CVSS v3 temporal score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss3_temporal: Option<f64>,
    /// CVSS v2 access vector, e.g. `Network`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_vector: Option<String>,
    /// The scanner's evidence text (`result`), as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// How a vulnerability was detected, as written in `summary.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingType {
    /// `CONFIRMED` in the report.
    Confirmed,
    /// `POTENTIAL` in the report.
    Potential,
    /// Any other detection type.
    Other,
}

/// The policy's view of one finding, kept in memory for every finding of a report (never
/// written to `summary.json`): enough to name the findings that made each condition fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    /// QID.
    pub qid: u32,
    /// Severity 1..=5.
    pub severity: u8,
    /// The conditions it counted toward.
    pub conditions: ConditionSet,
    /// Removed from judgement by an exclusion.
    pub excluded: bool,
    /// Matched by an exclusion entry (in force or expired), removed or not.
    pub touched: bool,
}

/// A set of [`ConditionName`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConditionSet(u8);

impl ConditionSet {
    const ALL: [ConditionName; 5] = [
        ConditionName::Severity,
        ConditionName::Qids,
        ConditionName::Cves,
        ConditionName::Cvss,
        ConditionName::Software,
    ];

    fn bit(c: ConditionName) -> u8 {
        1 << (c as u8)
    }

    /// Adds `c`.
    pub fn insert(&mut self, c: ConditionName) {
        self.0 |= Self::bit(c);
    }

    /// Whether `c` is in the set.
    pub fn contains(self, c: ConditionName) -> bool {
        self.0 & Self::bit(c) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members in display order (severity, qids, cves, cvss, software).
    pub fn iter(self) -> impl Iterator<Item = ConditionName> {
        Self::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

/// A fail condition's name, as written in `summary.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConditionName {
    /// Severity limits.
    Severity,
    /// QIDs.
    Qids,
    /// CVEs.
    Cves,
    /// CVSS threshold.
    Cvss,
    /// Software filters.
    Software,
}

impl ConditionName {
    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Severity => "severity",
            Self::Qids => "qids",
            Self::Cves => "cves",
            Self::Cvss => "cvss",
            Self::Software => "software",
        }
    }
}

impl PartialEq<&str> for ConditionName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A package affected by a finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Name.
    pub name: String,
    /// Installed version.
    pub version: Option<String>,
    /// First fixed version.
    pub fix_version: Option<String>,
}

/// What the exclusions did for an image.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExclusionsReport {
    /// Entries in force that matched at least one vulnerability.
    pub applied: Vec<ExclusionUse>,
    /// Entries past their expiry date (not applied).
    pub expired: Vec<ExclusionUse>,
    /// Entries in force that matched nothing (candidates for removal).
    pub unused: Vec<ExclusionUse>,
}

/// One exclusion entry and what it matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExclusionUse {
    /// QID or range, for a QID entry.
    pub qid: Option<String>,
    /// CVE id, for a CVE entry.
    pub cve: Option<String>,
    /// Why it exists.
    pub reason: Option<String>,
    /// Last day it applies (YYYY-MM-DD).
    pub expires: Option<String>,
    /// In-scope vulnerabilities it matched (for expired entries: would have matched).
    pub matched: u32,
}
