//! The policy: what fails an image, and what is excluded from judgement.
//!
//! Three input forms (the original's criteria JSON, command-line flags, and later the policy
//! file) are each turned into a [`RawPolicy`] whose every value remembers where it came from;
//! [`RawPolicy::validate`] checks all of it at once and yields one validated [`Policy`] or every
//! problem found, each with its location and a hint.
//!
//! Combining forms ([`RawPolicy::merge`]) follows one rule: **the later form wins per
//! condition**, in the order policy file (or the config's `[policy]`), criteria JSON, flags.
//! A condition is one severity level's limit, the CVSS threshold, `potential`, `fixable-only`,
//! or one entry of a list (QIDs, CVEs, software filters, exclusions). So a later severity limit
//! replaces the earlier one of that level only, a later CVSS threshold or scope switch replaces
//! the earlier one, a later form may switch a level or the CVSS threshold off, and list entries
//! add up (an entry has nothing to replace). Every replacement is recorded in
//! [`Policy::overrides`], so that it can be shown.

pub mod criteria;
pub mod file;
pub mod flags;

use std::fmt;

use jiff::civil::Date;
use regex::Regex;

use crate::baseline::BaselineMode;
use crate::ids::{CveId, ImageSha, QidRange, Severity};
use crate::version::{self, Ecosystem};

/// Where a policy value came from: a flag, a JSON path or a file position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// Human-readable place, e.g. `--fail-cves`, `failConditions.qids[2]`, `qcs.toml:12:5`.
    pub place: String,
    /// Byte range in the source text, when the value came from a file.
    pub span: Option<std::ops::Range<usize>>,
    /// The file the span refers to, when the value came from a file.
    pub file: Option<String>,
}

impl Origin {
    /// An origin with only a textual place.
    pub fn at(place: impl Into<String>) -> Self {
        Self {
            place: place.into(),
            span: None,
            file: None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.place)
    }
}

/// A value with its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value as given.
    pub value: T,
    /// Where it was given.
    pub origin: Origin,
}

impl<T> Spanned<T> {
    /// Wraps a value with its origin.
    pub fn new(value: T, origin: Origin) -> Self {
        Self { value, origin }
    }
}

/// How serious a policy problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IssueLevel {
    /// The policy is still usable.
    Warning,
    /// The policy cannot be used.
    Error,
}

/// One problem found while validating a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyIssue {
    /// Error or warning.
    pub level: IssueLevel,
    /// Where the offending value was given.
    pub origin: Origin,
    /// What is wrong, naming the value.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// The CVSS version a threshold reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvssVersion {
    /// `cvssInfo.baseScore`.
    V2,
    /// `cvss3Info.baseScore`.
    V3,
    /// The larger of the two (the original's `maxOfv2andv3`).
    Max,
}

impl CvssVersion {
    /// Name as written in `summary.json` and policies: `2`, `3`, `max`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2 => "2",
            Self::V3 => "3",
            Self::Max => "max",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "2" | "v2" | "2.0" => Some(Self::V2),
            "3" | "v3" | "3.0" | "3.1" => Some(Self::V3),
            "max" | "maxofv2andv3" => Some(Self::Max),
            _ => None,
        }
    }
}

/// Fail when a vulnerability's base score reaches `score`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CvssThreshold {
    /// Which score to read.
    pub version: CvssVersion,
    /// Threshold in 0.0..=10.0; a score equal to it fails.
    pub score: f64,
}

/// A version comparison operator of a software filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl VersionOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// How a software filter judges the installed version.
#[derive(Debug, Clone)]
pub enum VersionMatch {
    /// No version part: any version matches.
    Any,
    /// `=`: whole-string regular expression.
    Regex(Regex),
    /// `<`, `<=`, `>`, `>=`: version order of the package's ecosystem.
    Compare(VersionOp, String),
}

/// A software filter: `name`, `name=version-regex` or `name<op>version`.
#[derive(Debug, Clone)]
pub struct SoftwareFilter {
    /// The filter as written.
    pub text: String,
    name: Regex,
    version: VersionMatch,
}

impl SoftwareFilter {
    /// Whether a package matches; `os` is the report's `operatingSystem`.
    pub fn matches(&self, os: Option<&str>, name: &str, version: Option<&str>) -> bool {
        if !self.name.is_match(name) {
            return false;
        }
        match (&self.version, version) {
            (VersionMatch::Any, _) => true,
            (_, None) => false,
            (VersionMatch::Regex(re), Some(v)) => re.is_match(v),
            (VersionMatch::Compare(op, want), Some(have)) => {
                let ord = version::compare_to_bound(Ecosystem::detect(os, name), have, want);
                match op {
                    VersionOp::Lt => ord.is_lt(),
                    VersionOp::Le => ord.is_le(),
                    VersionOp::Gt => ord.is_gt(),
                    VersionOp::Ge => ord.is_ge(),
                }
            }
        }
    }

    /// The version part of the filter.
    pub fn version_match(&self) -> &VersionMatch {
        &self.version
    }
}

/// What an exclusion entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExclusionTarget {
    /// A QID or an inclusive QID range.
    Qid(QidRange),
    /// A CVE id.
    Cve(CveId),
}

impl fmt::Display for ExclusionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Qid(q) => write!(f, "qid {q}"),
            Self::Cve(c) => write!(f, "cve {c}"),
        }
    }
}

/// An exclusion (waiver) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// What it matches.
    pub target: ExclusionTarget,
    /// Why it exists.
    pub reason: Option<String>,
    /// Last day it applies (inclusive, UTC); after it the entry is reported as expired.
    pub expires: Option<Date>,
    /// Only for this image (a sha), when set.
    pub image: Option<ImageSha>,
}

/// A validated policy: the one type every input form becomes.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Per-level limits, index 0 = severity 1: fail when more than the limit are found.
    pub severity: [Option<u32>; 5],
    /// QIDs and ranges that fail the image when found.
    pub qids: Vec<QidRange>,
    /// CVEs that fail the image when found.
    pub cves: Vec<CveId>,
    /// Software filters that fail the image when an installed package matches.
    pub software: Vec<SoftwareFilter>,
    /// CVSS base-score threshold.
    pub cvss: Option<CvssThreshold>,
    /// Also judge POTENTIAL vulnerabilities.
    pub potential: bool,
    /// Count only vulnerabilities with a patch available.
    pub fixable_only: bool,
    /// Exclusions by QID and by CVE.
    pub exclusions: Vec<Exclusion>,
    /// `[baseline] mode` (or `--baseline-mode`); `None` when not given (`all`).
    pub baseline_mode: Option<BaselineMode>,
    /// `[baseline] path` (or `--baseline`), as written, with where it was given.
    pub baseline_path: Option<Spanned<String>>,
    /// What a later form replaced or switched off in an earlier one (flags over the policy
    /// file, say), one line each, e.g. "--fail-cvss 3:7.0 replaces the CVSS threshold 3:9.0
    /// of qcs-policy.toml:4:8".
    pub overrides: Vec<String>,
}

impl Policy {
    /// Whether any fail condition is configured.
    pub fn has_conditions(&self) -> bool {
        self.severity.iter().any(Option::is_some)
            || !self.qids.is_empty()
            || !self.cves.is_empty()
            || !self.software.is_empty()
            || self.cvss.is_some()
    }

    /// The limit for a severity level, when configured.
    pub fn severity_limit(&self, s: Severity) -> Option<u32> {
        self.severity[s.index()]
    }
}

/// A raw exclusion entry, before validation.
#[derive(Debug, Clone, Default)]
pub struct RawExclusion {
    /// Where the entry as a whole was given.
    pub origin: Origin,
    /// `qid = "…"` (a QID or range).
    pub qid: Option<Spanned<String>>,
    /// `cve = "…"`.
    pub cve: Option<Spanned<String>>,
    /// `reason = "…"`.
    pub reason: Option<Spanned<String>>,
    /// `expires = 2027-03-01`.
    pub expires: Option<Spanned<String>>,
    /// `image = "<sha>"`.
    pub image: Option<Spanned<String>>,
    /// Whether a missing reason is worth a warning (the criteria JSON and flags have no reasons).
    pub reason_expected: bool,
}

/// A policy as given, every value with its origin; see [`RawPolicy::validate`].
#[derive(Debug, Clone, Default)]
pub struct RawPolicy {
    /// `(level, limit)` pairs.
    pub severity: Vec<(Spanned<String>, Spanned<i64>)>,
    /// QIDs and ranges as written.
    pub qids: Vec<Spanned<String>>,
    /// CVE ids as written.
    pub cves: Vec<Spanned<String>>,
    /// Software filters as written.
    pub software: Vec<Spanned<String>>,
    /// Severity levels switched off (`--fail-severity 5=off`): an earlier form's limit for
    /// the level is dropped.
    pub severity_off: Vec<Spanned<String>>,
    /// `(version, score)`.
    pub cvss: Option<(Spanned<String>, Spanned<f64>)>,
    /// The CVSS threshold switched off (`--fail-cvss off`), where.
    pub cvss_off: Option<Origin>,
    /// Also judge POTENTIAL vulnerabilities, when this form says (unset: false, or what an
    /// earlier form says).
    pub potential: Option<Spanned<bool>>,
    /// Count only patchable vulnerabilities, when this form says.
    pub fixable_only: Option<Spanned<bool>>,
    /// Exclusion entries.
    pub exclude: Vec<RawExclusion>,
    /// `[baseline] mode` or `--baseline-mode`: `all` or `new`.
    pub baseline_mode: Option<Spanned<String>>,
    /// `[baseline] path` or `--baseline`.
    pub baseline_path: Option<Spanned<String>>,
    /// Problems found while reading the input form (unknown keys, wrong types).
    pub issues: Vec<PolicyIssue>,
    /// What [`RawPolicy::merge`] replaced, for [`Policy::overrides`].
    pub overrides: Vec<String>,
}

/// Whether two severity levels as written name the same level (`"5"` and `" 5"`).
fn same_level(a: &str, b: &str) -> bool {
    match (a.trim().parse::<Severity>(), b.trim().parse::<Severity>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl RawPolicy {
    /// Puts `other` (a later form: flags on top of a policy file, say) over `self`: the later
    /// form wins per condition (see the module documentation); list entries add up.
    pub fn merge(&mut self, other: RawPolicy) {
        let notes = &mut self.overrides;
        for (level, limit) in &other.severity {
            self.severity.retain(|(l, old)| {
                let same = same_level(&l.value, &level.value);
                if same {
                    notes.push(format!(
                        "{} replaces the severity {} limit {} of {}",
                        limit.origin, level.value, old.value, old.origin
                    ));
                }
                !same
            });
        }
        for level in &other.severity_off {
            self.severity.retain(|(l, old)| {
                let same = same_level(&l.value, &level.value);
                if same {
                    notes.push(format!(
                        "{} switches off the severity {} limit {} of {}",
                        level.origin, level.value, old.value, old.origin
                    ));
                }
                !same
            });
        }
        if let (Some((_, score)), Some((old_v, old_s))) = (&other.cvss, &self.cvss) {
            notes.push(format!(
                "{} replaces the CVSS threshold {}:{:.1} of {}",
                score.origin, old_v.value, old_s.value, old_s.origin
            ));
        }
        if let (Some(off), Some((old_v, old_s))) = (&other.cvss_off, &self.cvss) {
            notes.push(format!(
                "{off} switches off the CVSS threshold {}:{:.1} of {}",
                old_v.value, old_s.value, old_s.origin
            ));
            self.cvss = None;
        }
        for (new, old, what) in [
            (&other.potential, &self.potential, "potential"),
            (&other.fixable_only, &self.fixable_only, "fixable-only"),
        ] {
            if let (Some(n), Some(o)) = (new, old) {
                notes.push(format!(
                    "{} replaces {what} = {} of {}",
                    n.origin,
                    on_off(o.value),
                    o.origin
                ));
            }
        }
        self.severity.extend(other.severity);
        self.severity_off.extend(other.severity_off);
        self.qids.extend(other.qids);
        self.cves.extend(other.cves);
        self.software.extend(other.software);
        if other.cvss.is_some() {
            self.cvss = other.cvss;
        }
        if other.cvss_off.is_some() {
            self.cvss_off = other.cvss_off;
        }
        if other.potential.is_some() {
            self.potential = other.potential;
        }
        if other.fixable_only.is_some() {
            self.fixable_only = other.fixable_only;
        }
        for (new, old, what) in [
            (
                &other.baseline_mode,
                &mut self.baseline_mode,
                "the baseline mode",
            ),
            (
                &other.baseline_path,
                &mut self.baseline_path,
                "the baseline",
            ),
        ] {
            if let Some(n) = new {
                if let Some(o) = old.as_ref() {
                    notes.push(format!(
                        "{} replaces {what} {} of {}",
                        n.origin, o.value, o.origin
                    ));
                }
                *old = Some(n.clone());
            }
        }
        self.exclude.extend(other.exclude);
        self.issues.extend(other.issues);
        self.overrides.extend(other.overrides);
    }

    /// Validates everything at once. Returns the policy when there is no error, and every issue
    /// (errors and warnings) found along the way.
    pub fn validate(self) -> (Option<Policy>, Vec<PolicyIssue>) {
        let mut v = Validator {
            issues: self.issues,
        };
        let mut policy = Policy {
            potential: self.potential.is_some_and(|p| p.value),
            fixable_only: self.fixable_only.is_some_and(|f| f.value),
            overrides: self.overrides,
            baseline_path: self.baseline_path.filter(|p| {
                let empty = p.value.trim().is_empty();
                if empty {
                    v.error(
                        &p.origin,
                        "the baseline path is empty".to_owned(),
                        "give the path of an earlier run's summary.json or a saved image report, \
                         or leave it out",
                    );
                }
                !empty
            }),
            ..Policy::default()
        };
        if let Some(m) = &self.baseline_mode {
            match BaselineMode::parse(m.value.trim()) {
                Some(mode) => policy.baseline_mode = Some(mode),
                None => v.error(
                    &m.origin,
                    format!("unknown baseline mode `{}`", m.value),
                    "write mode = \"all\" (every finding fails, as without a baseline) or \
                     mode = \"new\" (only findings not in the baseline fail)",
                ),
            }
        }

        let mut seen_levels: Vec<(Severity, Origin)> = Vec::new();
        for (level, limit) in self.severity {
            let Ok(sev) = level.value.parse::<Severity>() else {
                v.error(
                    &level.origin,
                    format!("unknown severity level `{}`", level.value),
                    "severity levels are 1 (minimal) to 5 (urgent)",
                );
                continue;
            };
            let Ok(lim) = u32::try_from(limit.value) else {
                v.error(
                    &limit.origin,
                    format!("severity {sev} limit `{}` is negative", limit.value),
                    "the limit is how many vulnerabilities are tolerated; 0 fails on the first",
                );
                continue;
            };
            if let Some((_, first)) = seen_levels.iter().find(|(s, _)| *s == sev) {
                v.error(
                    &level.origin,
                    format!("severity {sev} is given twice (first at {first})"),
                    "keep one limit per level",
                );
                continue;
            }
            seen_levels.push((sev, level.origin.clone()));
            policy.severity[sev.index()] = Some(lim);
        }
        for level in self.severity_off {
            let Ok(sev) = level.value.trim().parse::<Severity>() else {
                v.error(
                    &level.origin,
                    format!("unknown severity level `{}`", level.value),
                    "severity levels are 1 (minimal) to 5 (urgent)",
                );
                continue;
            };
            if let Some((_, first)) = seen_levels.iter().find(|(s, _)| *s == sev) {
                v.error(
                    &level.origin,
                    format!("severity {sev} is given twice (first at {first})"),
                    "keep one limit per level, or `off`",
                );
                continue;
            }
            seen_levels.push((sev, level.origin.clone()));
        }

        let mut seen = Dedup::default();
        for q in self.qids {
            match q.value.parse::<QidRange>() {
                Ok(r) if seen.first(&v_key("qid", &r.to_string()), &q.origin, &mut v) => {
                    policy.qids.push(r);
                }
                Ok(_) => {}
                Err(e) => v.error(&q.origin, e.to_string(), QID_HINT),
            }
        }
        for c in self.cves {
            match c.value.parse::<CveId>() {
                Ok(id) if seen.first(&v_key("cve", id.as_str()), &c.origin, &mut v) => {
                    policy.cves.push(id);
                }
                Ok(_) => {}
                Err(e) => v.error(&c.origin, e.to_string(), CVE_HINT),
            }
        }
        for s in self.software {
            if !seen.first(&v_key("software", &s.value), &s.origin, &mut v) {
                continue;
            }
            match parse_software(&s.value) {
                Ok(f) => policy.software.push(f),
                Err((msg, hint)) => v.error(&s.origin, msg, hint),
            }
        }
        if let Some((ver, score)) = self.cvss {
            let version = CvssVersion::parse(&ver.value);
            if version.is_none() {
                v.error(
                    &ver.origin,
                    format!("unknown CVSS version `{}`", ver.value),
                    "use \"2\", \"3\" or \"max\" (the larger of the two)",
                );
            }
            let ok_score = score.value.is_finite() && (0.0..=10.0).contains(&score.value);
            if !ok_score {
                v.error(
                    &score.origin,
                    format!("CVSS score {:?} is outside 0.0-10.0", score.value),
                    "CVSS base scores range from 0.0 to 10.0; 7.0 is high, 9.0 critical",
                );
            }
            if let (Some(version), true) = (version, ok_score) {
                policy.cvss = Some(CvssThreshold {
                    version,
                    score: score.value,
                });
            }
        }
        for e in self.exclude {
            if let Some(x) = validate_exclusion(e, &mut v, &mut seen) {
                policy.exclusions.push(x);
            }
        }

        let ok = !v.issues.iter().any(|i| i.level == IssueLevel::Error);
        (ok.then_some(policy), v.issues)
    }
}

const QID_HINT: &str = "write a QID such as 376209 or an inclusive range such as 170560-170590";
const CVE_HINT: &str = "CVE ids look like CVE-2021-44228 (upper case, 4-digit year, 4 to 7 digits)";

fn v_key(kind: &str, value: &str) -> String {
    format!("{kind}\u{0}{value}")
}

/// Tracks what has been seen, to report duplicates with the place of the first.
#[derive(Default)]
struct Dedup(Vec<(String, Origin)>);

impl Dedup {
    /// True the first time `key` is seen; a duplicate gets a warning naming the first place.
    fn first(&mut self, key: &str, origin: &Origin, v: &mut Validator) -> bool {
        if let Some((_, first)) = self.0.iter().find(|(k, _)| k == key) {
            let shown = key.split('\u{0}').nth(1).unwrap_or(key);
            v.warn(
                origin,
                format!("`{shown}` is listed twice (first at {first})"),
                "remove the duplicate entry",
            );
            return false;
        }
        self.0.push((key.to_owned(), origin.clone()));
        true
    }
}

struct Validator {
    issues: Vec<PolicyIssue>,
}

impl Validator {
    fn push(&mut self, level: IssueLevel, origin: &Origin, message: String, hint: &str) {
        self.issues.push(PolicyIssue {
            level,
            origin: origin.clone(),
            message,
            hint: (!hint.is_empty()).then(|| hint.to_owned()),
        });
    }
    fn error(&mut self, origin: &Origin, message: String, hint: &str) {
        self.push(IssueLevel::Error, origin, message, hint);
    }
    fn warn(&mut self, origin: &Origin, message: String, hint: &str) {
        self.push(IssueLevel::Warning, origin, message, hint);
    }
}

fn validate_exclusion(e: RawExclusion, v: &mut Validator, seen: &mut Dedup) -> Option<Exclusion> {
    let target = match (&e.qid, &e.cve) {
        (Some(q), None) => match q.value.parse::<QidRange>() {
            Ok(r) => Some(ExclusionTarget::Qid(r)),
            Err(err) => {
                v.error(&q.origin, err.to_string(), QID_HINT);
                None
            }
        },
        (None, Some(c)) => match c.value.parse::<CveId>() {
            Ok(id) => Some(ExclusionTarget::Cve(id)),
            Err(err) => {
                v.error(&c.origin, err.to_string(), CVE_HINT);
                None
            }
        },
        (None, None) => {
            v.error(
                &e.origin,
                "exclusion has neither `qid` nor `cve`".to_owned(),
                "add `qid = \"179203\"` (or a range) or `cve = \"CVE-2023-1234\"`",
            );
            None
        }
        (Some(_), Some(c)) => {
            v.error(
                &c.origin,
                "exclusion has both `qid` and `cve`".to_owned(),
                "split it into two [[exclude]] entries, one per id",
            );
            None
        }
    };
    let expires = e.expires.as_ref().and_then(|x| {
        let d = x.value.trim().parse::<Date>().ok();
        if d.is_none() {
            v.error(
                &x.origin,
                format!("expires `{}` is not a date", x.value),
                "write the last day the entry applies as YYYY-MM-DD, e.g. 2027-03-01",
            );
        }
        d
    });
    let image = e
        .image
        .as_ref()
        .and_then(|x| match x.value.parse::<ImageSha>() {
            Ok(s) => Some(s),
            Err(err) => {
                v.error(&x.origin, err.to_string(), "use the image's 64-hex sha");
                None
            }
        });
    let reason = e.reason.map(|r| r.value).filter(|r| !r.trim().is_empty());
    if reason.is_none() && e.reason_expected {
        v.warn(
            &e.origin,
            "exclusion has no `reason`".to_owned(),
            "say why it is safe (ticket, analysis) so reviewers and auditors can judge it",
        );
    }
    let target = target?;
    let key = v_key("exclude", &format!("{target}"));
    if !seen.first(&key, &e.origin, v) {
        return None;
    }
    if e.expires.is_some() && expires.is_none() || e.image.is_some() && image.is_none() {
        return None;
    }
    Some(Exclusion {
        target,
        reason,
        expires,
        image,
    })
}

/// Splits `name[op version]` at the first operator that is not part of regex syntax.
fn split_operator(text: &str) -> (&str, Option<(&'static str, &str)>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        // `(?<name>` and `(?P<name>` open named groups: skip past the name's `>`.
        if c == b'<' && (text[..i].ends_with("(?") || text[..i].ends_with("(?P")) {
            i += text[i..].find('>').map_or(bytes.len(), |j| j + 1);
            continue;
        }
        if c == b'<' || c == b'>' || c == b'=' {
            let two = bytes.get(i + 1) == Some(&b'=') && c != b'=';
            let op: &'static str = match (c, two) {
                (b'<', true) => "<=",
                (b'>', true) => ">=",
                (b'<', false) => "<",
                (b'>', false) => ">",
                _ => "=",
            };
            return (&text[..i], Some((op, &text[i + op.len()..])));
        }
        i += 1;
    }
    (text, None)
}

/// Compiles a regex that must match the whole string.
fn whole(pattern: &str, case_insensitive: bool) -> Result<Regex, regex::Error> {
    let flags = if case_insensitive { "(?i)" } else { "" };
    Regex::new(&format!("^{flags}(?:{pattern})$"))
}

fn parse_software(text: &str) -> Result<SoftwareFilter, (String, &'static str)> {
    let (name, rest) = split_operator(text.trim());
    if name.trim().is_empty() {
        return Err((
            format!("software filter `{text}` has no package name"),
            "write `name`, `name=version-regex` or `name<2.17.1` (name is a regex)",
        ));
    }
    // The original lower-cases name and filter; a case-insensitive match is the same for
    // literal text and does not turn escapes such as `\D` into `\d`.
    let name_re = whole(name.trim(), true).map_err(|e| {
        (
            format!(
                "software filter `{text}`: bad name regex `{name}`: {}",
                first_line(&e)
            ),
            "the name is a regular expression matched against the whole package name; escape \
             literal dots as `\\.`",
        )
    })?;
    let version = match rest {
        None => VersionMatch::Any,
        Some(("=", v)) => VersionMatch::Regex(whole(v.trim(), false).map_err(|e| {
            (
                format!(
                    "software filter `{text}`: bad version regex `{v}`: {}",
                    first_line(&e)
                ),
                "after `=` comes a regular expression matched against the whole version",
            )
        })?),
        Some((op, v)) => {
            let v = v.trim();
            if v.is_empty() {
                return Err((
                    format!("software filter `{text}` has `{op}` but no version"),
                    "write a version after the operator, e.g. `openssl<3.0.7`",
                ));
            }
            let op = match op {
                "<" => VersionOp::Lt,
                "<=" => VersionOp::Le,
                ">" => VersionOp::Gt,
                _ => VersionOp::Ge,
            };
            VersionMatch::Compare(op, v.to_owned())
        }
    };
    Ok(SoftwareFilter {
        text: text.to_owned(),
        name: name_re,
        version,
    })
}

fn first_line(e: &regex::Error) -> String {
    let s = e.to_string();
    s.lines().last().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp<T>(v: T, at: &str) -> Spanned<T> {
        Spanned::new(v, Origin::at(at))
    }

    #[test]
    fn operators_split_outside_regex_syntax() {
        assert_eq!(split_operator("busybox"), ("busybox", None));
        assert_eq!(
            split_operator("openssl=1\\.1\\..*"),
            ("openssl", Some(("=", "1\\.1\\..*")))
        );
        assert_eq!(
            split_operator(".*:log4j-core<2.17.1"),
            (".*:log4j-core", Some(("<", "2.17.1")))
        );
        assert_eq!(split_operator("a>=1"), ("a", Some((">=", "1"))));
        assert_eq!(split_operator("a<=1"), ("a", Some(("<=", "1"))));
        assert_eq!(split_operator("(?<n>x)>2"), ("(?<n>x)", Some((">", "2"))));
        assert_eq!(split_operator("a\\=b=1"), ("a\\=b", Some(("=", "1"))));
    }

    #[test]
    fn software_filters_match_whole_strings_case_insensitively() {
        let f = parse_software("LIB.*=0\\..*").unwrap();
        assert!(f.matches(None, "libssl3", Some("0.9")));
        assert!(!f.matches(None, "libssl3", Some("10.9")));
        assert!(!f.matches(None, "xlibssl3", Some("0.9")));
        assert!(!f.matches(None, "libssl3", None));
        let any = parse_software("busybox").unwrap();
        assert!(any.matches(None, "BusyBox", None));
        assert!(!any.matches(None, "busybox-extras", Some("1")));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let raw = RawPolicy {
            severity: vec![
                (sp("6".into(), "s1"), sp(1, "s1")),
                (sp("4".into(), "s2"), sp(-1, "s2")),
            ],
            qids: vec![
                sp("200-100".into(), "q1"),
                sp("x".into(), "q2"),
                sp("5".into(), "q3"),
            ],
            cves: vec![sp("CVE-21-1".into(), "c1")],
            software: vec![sp("lib(=1".into(), "w1"), sp("a<".into(), "w2")],
            cvss: Some((sp("4".into(), "v"), sp(11.0, "score"))),
            exclude: vec![RawExclusion {
                origin: Origin::at("e1"),
                ..RawExclusion::default()
            }],
            ..RawPolicy::default()
        };
        let (policy, issues) = raw.validate();
        assert!(policy.is_none());
        let places: Vec<&str> = issues.iter().map(|i| i.origin.place.as_str()).collect();
        assert_eq!(
            places,
            ["s1", "s2", "q1", "q2", "c1", "w1", "w2", "v", "score", "e1"]
        );
        assert!(
            issues
                .iter()
                .all(|i| i.level == IssueLevel::Error && i.hint.is_some())
        );
    }

    /// Issue 12, item 7: flags over a policy file follow one rule, the later form wins per
    /// condition (before: `5=1` over `5=0` was "given twice", `potential` could not be switched
    /// off, and a replaced CVSS threshold went unmentioned).
    #[test]
    fn the_later_form_wins_per_condition() {
        let file = file::from_toml(
            "p.toml",
            "[fail]\nseverity = { 5 = 0, 4 = 2, 3 = 9 }\ncvss = { version = \"3\", score = 9.0 }\n\
             potential = true\nfixable-only = true\ncves = [\"CVE-2021-44228\"]\n",
            None,
        );
        let flags = flags::PolicyFlags {
            fail_severity: vec!["5=1,4=off".into()],
            fail_cvss: Some("2:7.0".into()),
            potential: Some(false),
            fail_cves: vec!["CVE-2022-22965".into()],
            ..flags::PolicyFlags::default()
        };
        let mut raw = file.clone();
        raw.merge(flags.to_raw());
        let (p, issues) = raw.validate();
        assert!(issues.is_empty(), "{issues:#?}");
        let p = p.unwrap();
        assert_eq!(p.severity, [None, None, Some(9), None, Some(1)]);
        assert_eq!(p.cvss.unwrap().version, CvssVersion::V2);
        assert!(!p.potential && p.fixable_only);
        assert_eq!(p.cves.len(), 2, "list entries add up");
        let notes = p.overrides.join("\n");
        for want in [
            "--fail-severity 5=1 replaces the severity 5 limit 0 of p.toml:2:",
            "--fail-severity 4=off switches off the severity 4 limit 2 of p.toml:2:",
            "--fail-cvss 2:7.0 replaces the CVSS threshold 3:9.0 of p.toml:3:",
            "--potential=false replaces potential = true of p.toml:4:",
        ] {
            assert!(notes.contains(want), "{want} missing in:\n{notes}");
        }
        // The threshold can be switched off too; a level given twice in one form is an error.
        let mut raw = file.clone();
        raw.merge(
            flags::PolicyFlags {
                fail_cvss: Some("off".into()),
                ..flags::PolicyFlags::default()
            }
            .to_raw(),
        );
        assert!(raw.validate().0.unwrap().cvss.is_none());
        let mut raw = file;
        raw.merge(
            flags::PolicyFlags {
                fail_severity: vec!["5=1".into(), "5=off".into()],
                ..flags::PolicyFlags::default()
            }
            .to_raw(),
        );
        let (p, issues) = raw.validate();
        assert!(p.is_none());
        assert!(issues[0].message.contains("given twice"), "{issues:#?}");
    }

    #[test]
    fn duplicates_warn_and_keep_one() {
        let raw = RawPolicy {
            qids: vec![sp("5".into(), "a"), sp("5".into(), "b")],
            ..RawPolicy::default()
        };
        let (policy, issues) = raw.validate();
        assert_eq!(policy.unwrap().qids.len(), 1);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].level, IssueLevel::Warning);
        assert!(
            issues[0].message.contains("first at a"),
            "{}",
            issues[0].message
        );
    }
}
