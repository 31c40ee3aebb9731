//! The Qualys CS image-details document (`GET /csapi/v1.3/images/{sha}`) as `qcs` reads it.
//!
//! The types accept what the real API sends (`qualys-api.md` §4): unknown fields are ignored,
//! nulls are accepted wherever the API may send them, CVSS scores come as strings or numbers,
//! timestamps as epoch-millisecond strings (or numbers). `vulnerabilities: null` (not processed
//! yet) stays distinct from `[]` (a clean image).
//!
//! Reading is lenient where the real API is loose (`qualys-api.md` §4.8): a sub-object of the
//! wrong type (`cvssInfo` that is a string, a `softwares` item that is not an object, …) is read
//! as absent and noted in [`ImageReport::warnings`]; it never makes the whole report unusable. A
//! field the verdict needs (`qid`, `severity`, `typeDetected`, `cveids`, a CVSS score, a
//! package name) that cannot be read still makes the document unusable: no verdict rests on a
//! guess.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::ids::{ImageSha, Qid, Severity};

pub mod stream;

/// One image-details document.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReport {
    /// The image's full sha (64 hex, no `sha256:`).
    pub sha: ImageSha,
    /// The 12-hex short id, when the API sends it.
    #[serde(default)]
    pub image_id: Option<String>,
    /// The platform's UUID for the image.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Repositories and tags the image is known under.
    #[serde(default, deserialize_with = "lenient_repo")]
    pub repo: Vec<RepoTag>,
    /// e.g. `"Ubuntu Linux 22.04.4"`; chooses the version ordering of software filters.
    #[serde(default)]
    pub operating_system: Option<String>,
    /// e.g. `"amd64"`.
    #[serde(default)]
    pub architecture: Option<String>,
    /// Docker version that built the image.
    #[serde(default)]
    pub docker_version: Option<String>,
    /// Image size in bytes.
    #[serde(default, deserialize_with = "flexible_i64")]
    pub size: Option<i64>,
    /// Legacy layer count (not in v1.3 samples).
    #[serde(default, deserialize_with = "flexible_i64")]
    pub layers_count: Option<i64>,
    /// When the image was last scanned, epoch milliseconds; null until scanned.
    #[serde(default, deserialize_with = "flexible_i64")]
    pub last_scanned: Option<i64>,
    /// When the platform last changed the document, epoch milliseconds.
    #[serde(default, deserialize_with = "flexible_i64")]
    pub updated: Option<i64>,
    /// `SUCCESS` once a scan is done; other values while it runs or when it failed.
    #[serde(default, deserialize_with = "loose_string")]
    pub scan_status: Option<String>,
    /// Set (non-empty) when the scan failed.
    #[serde(default, deserialize_with = "loose_string")]
    pub scan_error_code: Option<String>,
    /// The vulnerability list, or its absence while the platform is still processing.
    #[serde(default)]
    pub vulnerabilities: Vulnerabilities,
    /// Installed software (`softwares`, plural, as the API spells it).
    #[serde(default, deserialize_with = "lenient_softwares")]
    pub softwares: Vec<Software>,
    /// Image layers.
    #[serde(default, deserialize_with = "lenient_layers")]
    pub layers: Vec<Layer>,
    /// What was read as absent because it had the wrong type (one line per kind of problem,
    /// with how often it occurred); filled by [`ImageReport::from_json`].
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// What a document's `scanStatus` and `scanErrorCode` say (`qualys-api.md` §4.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanState {
    /// Neither field is present.
    Absent,
    /// `scanStatus` says the scan succeeded (and no error code is set).
    Succeeded,
    /// `scanStatus` has another value: the scan is still running (the value).
    Running(String),
    /// The scan failed: `scanStatus` is a failure value or `scanErrorCode` is set (why).
    Failed(String),
}

impl ScanState {
    /// Reads `scanStatus` and `scanErrorCode`. Success: `SUCCESS` (also `SUCCEEDED`,
    /// `SUCCESSFUL`, `COMPLETED`), any case. Failure: an error code other than empty, `0`,
    /// `null` or `none`, or a status containing `FAIL`, `ERROR`, `ABORT`, `CANCEL` or
    /// `REJECT`. Any other status: still running.
    pub fn read(status: Option<&str>, error_code: Option<&str>) -> Self {
        let code = error_code.map(str::trim).filter(|c| {
            !c.is_empty()
                && *c != "0"
                && !c.eq_ignore_ascii_case("null")
                && !c.eq_ignore_ascii_case("none")
        });
        let status = status.map(str::trim).filter(|s| !s.is_empty());
        let upper = status.map(str::to_ascii_uppercase);
        let failed_status = upper.as_deref().is_some_and(|u| {
            ["FAIL", "ERROR", "ABORT", "CANCEL", "REJECT"]
                .iter()
                .any(|w| u.contains(w))
        });
        match (status, code) {
            (_, Some(c)) => Self::Failed(match status {
                Some(s) => format!("scanStatus `{s}`, scanErrorCode `{c}`"),
                None => format!("scanErrorCode `{c}`"),
            }),
            (Some(s), None) if failed_status => Self::Failed(format!("scanStatus `{s}`")),
            (Some(_), None)
                if matches!(
                    upper.as_deref(),
                    Some("SUCCESS" | "SUCCEEDED" | "SUCCESSFUL" | "COMPLETED")
                ) =>
            {
                Self::Succeeded
            }
            (Some(s), None) => Self::Running(s.to_owned()),
            (None, None) => Self::Absent,
        }
    }
}

impl ImageReport {
    /// A document with nothing read yet (the streaming reader fills it member by member).
    fn empty() -> Self {
        Self {
            sha: ImageSha::unread(),
            image_id: None,
            uuid: None,
            repo: Vec::new(),
            operating_system: None,
            architecture: None,
            docker_version: None,
            size: None,
            layers_count: None,
            last_scanned: None,
            updated: None,
            scan_status: None,
            scan_error_code: None,
            vulnerabilities: Vulnerabilities::NotProcessed,
            softwares: Vec::new(),
            layers: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// What the document's `scanStatus` and `scanErrorCode` say.
    pub fn scan_state(&self) -> ScanState {
        ScanState::read(self.scan_status.as_deref(), self.scan_error_code.as_deref())
    }
}

/// The state of an image's vulnerability list.
#[derive(Debug, Clone, Default)]
pub enum Vulnerabilities {
    /// `null` or missing: the inventory is uploaded but not processed yet.
    #[default]
    NotProcessed,
    /// An object of counts (`{"severity5Count": …}`): this is an image *list* entry, not details.
    Counts,
    /// The processed list (possibly empty: a clean image).
    List(Vec<Vulnerability>),
}

impl<'de> Deserialize<'de> for Vulnerabilities {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vulnerabilities;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of vulnerabilities or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vulnerabilities::NotProcessed)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vulnerabilities::NotProcessed)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Vulnerabilities::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Vulnerabilities::Counts)
            }
        }
        d.deserialize_option(V)
    }
}

/// A repository and tag the image is known under.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RepoTag {
    /// Registry host, when known.
    #[serde(default)]
    pub registry: Option<String>,
    /// Repository name, e.g. `acme/payments-api`.
    #[serde(default)]
    pub repository: Option<String>,
    /// Tag, e.g. `1.4.2` (may be null).
    #[serde(default)]
    pub tag: Option<String>,
}

/// How a vulnerability was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detection {
    /// `CONFIRMED`.
    Confirmed,
    /// `POTENTIAL`: in scope only when the policy says so.
    Potential,
    /// Anything else (counts toward the total only).
    Other,
}

impl Detection {
    /// Lower-case name for outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Potential => "potential",
            Self::Other => "other",
        }
    }
}

impl Detection {
    fn read(t: &str) -> Self {
        if t.eq_ignore_ascii_case("CONFIRMED") {
            Self::Confirmed
        } else if t.eq_ignore_ascii_case("POTENTIAL") {
            Self::Potential
        } else {
            Self::Other
        }
    }
}

impl<'de> Deserialize<'de> for Detection {
    /// A string (compared without allocating) or null, as `Option<String>` would accept.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Detection;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Detection, E> {
                Ok(Detection::read(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Detection, E> {
                Ok(Detection::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Detection, E> {
                Ok(Detection::Other)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Detection, D::Error> {
                d.deserialize_str(self)
            }
        }
        d.deserialize_option(V)
    }
}

/// One vulnerability of an image.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vulnerability {
    /// The QID.
    #[serde(deserialize_with = "qid")]
    pub qid: Qid,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Raw severity as sent; see [`Vulnerability::severity_level`].
    #[serde(default, deserialize_with = "flexible_i64")]
    pub severity: Option<i64>,
    /// `CONFIRMED`, `POTENTIAL` or other.
    #[serde(default = "other_detection")]
    pub type_detected: Detection,
    /// CVE ids (never null in outputs; null in input reads as none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub cveids: Vec<String>,
    /// CVSS v2 information (read as absent, with a warning, when it is not an object).
    #[serde(default, deserialize_with = "lenient_cvss")]
    pub cvss_info: Option<CvssInfo>,
    /// CVSS v3 information (read as absent, with a warning, when it is not an object).
    #[serde(default, deserialize_with = "lenient_cvss3")]
    pub cvss3_info: Option<CvssInfo>,
    /// Whether a patch is available (null reads as false).
    #[serde(default)]
    pub patch_available: Option<bool>,
    /// Category, e.g. `"Ubuntu"`.
    #[serde(default)]
    pub category: Option<String>,
    /// First seen, epoch milliseconds.
    #[serde(default, deserialize_with = "flexible_i64")]
    pub first_found: Option<i64>,
    /// Threat-intelligence flags.
    #[serde(default, deserialize_with = "lenient_threat_intel")]
    pub threat_intel: Option<ThreatIntel>,
    /// Affected packages with fix versions.
    #[serde(default, deserialize_with = "lenient_vuln_software")]
    pub software: Vec<Software>,
    /// The scanner's evidence text.
    #[serde(default)]
    pub result: Option<String>,
}

fn other_detection() -> Detection {
    Detection::Other
}

impl Vulnerability {
    /// The severity level, when it is in 1..=5.
    pub fn severity_level(&self) -> Option<Severity> {
        self.severity.and_then(Severity::new)
    }

    /// Whether a patch is available (`patchAvailable: null` or missing means no).
    pub fn patchable(&self) -> bool {
        self.patch_available.unwrap_or(false)
    }

    /// CVSS v2 base score.
    pub fn cvss2(&self) -> Option<f64> {
        self.cvss_info.as_ref().and_then(|c| c.base_score)
    }

    /// CVSS v3 base score.
    pub fn cvss3(&self) -> Option<f64> {
        self.cvss3_info.as_ref().and_then(|c| c.base_score)
    }
}

/// The CVSS block of a vulnerability (`cvssInfo` or `cvss3Info`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CvssInfo {
    /// Base score, from a string such as `"7.5"` or a number; empty or null reads as none.
    #[serde(default, deserialize_with = "score")]
    pub base_score: Option<f64>,
    /// Temporal score.
    #[serde(default, deserialize_with = "score")]
    pub temporal_score: Option<f64>,
    /// Access vector (v2), e.g. `"Network"`.
    #[serde(default)]
    pub access_vector: Option<String>,
}

/// Threat-intelligence flags (each true or null in the API).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreatIntel {
    /// Easy to exploit.
    #[serde(default)]
    pub easy_exploit: Option<bool>,
    /// Malware uses it.
    #[serde(default)]
    pub malware: Option<bool>,
    /// Exploited in the wild.
    #[serde(default)]
    pub active_attacks: Option<bool>,
    /// Public exploit available.
    #[serde(default)]
    pub public_exploit: Option<bool>,
}

/// An installed package (image `softwares[]` or a vulnerability's `software[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Software {
    /// Package name, e.g. `libssl3` or `org.apache.logging.log4j:log4j-core`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Installed version.
    #[serde(default)]
    pub version: Option<String>,
    /// First fixed version, when one exists.
    #[serde(default)]
    pub fix_version: Option<String>,
}

/// An image layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    /// The Dockerfile command that made it.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Layer size in bytes (a string in the API).
    #[serde(default, deserialize_with = "flexible_i64")]
    pub size: Option<i64>,
}

/// Why a document is not a usable image report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// Not JSON at all.
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// JSON, but not an object.
    #[error("the document is a JSON {found}, not an object")]
    NotObject {
        /// What was found instead (array, string, …).
        found: &'static str,
    },
    /// An object, but not an image-details document.
    #[error("not a Qualys image-details document at line {line}, column {column}: {message}")]
    NotImage {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// An image list entry (counts instead of a vulnerability list).
    #[error("this is an image list entry (`vulnerabilities` holds counts), not image details")]
    ListEntry,
}

impl ImageReport {
    /// Parses an image-details document, telling apart bad JSON, non-objects and other documents.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ReportError> {
        let (result, warnings) = collecting_warnings(|| Self::parse(bytes));
        result.map(|mut r| {
            r.warnings = warnings;
            r
        })
    }

    fn parse(bytes: &[u8]) -> Result<Self, ReportError> {
        let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
        let found = match first {
            Some(b'[') => Some("array"),
            Some(b'"') => Some("string"),
            Some(b't' | b'f') => Some("boolean"),
            Some(b'n') => Some("null"),
            Some(b'-' | b'0'..=b'9') => Some("number"),
            _ => None,
        };
        let result: Result<Self, serde_json::Error> = serde_json::from_slice(bytes);
        match result {
            Ok(r) if matches!(r.vulnerabilities, Vulnerabilities::Counts) => {
                Err(ReportError::ListEntry)
            }
            Ok(r) => Ok(r),
            Err(e) => {
                let (line, column, message) = (e.line(), e.column(), strip_position(&e));
                match e.classify() {
                    serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                        Err(ReportError::Syntax {
                            line,
                            column,
                            message,
                        })
                    }
                    _ => {
                        // A shape error may come before a syntax error further on; bad JSON is
                        // the more useful thing to report. Only paid on this error path.
                        if let Err(syn) = serde_json::from_slice::<IgnoredAny>(bytes) {
                            return Err(ReportError::Syntax {
                                line: syn.line(),
                                column: syn.column(),
                                message: strip_position(&syn),
                            });
                        }
                        match found {
                            Some(found) => Err(ReportError::NotObject { found }),
                            None => Err(ReportError::NotImage {
                                line,
                                column,
                                message,
                            }),
                        }
                    }
                }
            }
        }
    }
}

/// `serde_json` appends " at line L column C"; we report the position separately.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

thread_local! {
    /// The warnings of the document being read (`None` outside [`ImageReport::from_json`]):
    /// each kind of problem with how often it occurred.
    static WARNINGS: RefCell<Option<BTreeMap<String, u32>>> = const { RefCell::new(None) };
}

/// Runs `f` with a fresh warning collector; returns its result and the warnings.
fn collecting_warnings<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let mut found = BTreeMap::new();
    let out = with_warnings(&mut found, f);
    (out, warning_lines(found))
}

/// Adds `found` to the active warning collector (if any).
fn add_warnings(found: BTreeMap<String, u32>) {
    WARNINGS.with(|w| {
        if let Some(m) = w.borrow_mut().as_mut() {
            for (what, n) in found {
                *m.entry(what).or_default() += n;
            }
        }
    });
}

/// Runs `f` with `into` as the warning collector (what `f` finds is added to it); collectors
/// nest.
fn with_warnings<T>(into: &mut BTreeMap<String, u32>, f: impl FnOnce() -> T) -> T {
    let outer = WARNINGS.with(|w| w.borrow_mut().replace(std::mem::take(into)));
    let out = f();
    let found = WARNINGS.with(|w| std::mem::replace(&mut *w.borrow_mut(), outer));
    *into = found.unwrap_or_default();
    out
}

/// The warnings as written in `summary.json`: one line per kind, with how often it occurred.
fn warning_lines(found: BTreeMap<String, u32>) -> Vec<String> {
    found
        .into_iter()
        .map(|(what, n)| {
            if n > 1 {
                format!("{what} ({n} times)")
            } else {
                what
            }
        })
        .collect()
}

fn warn(what: String) {
    WARNINGS.with(|w| {
        if let Some(m) = w.borrow_mut().as_mut() {
            *m.entry(what).or_default() += 1;
        }
    });
}

/// A sub-object that is read as absent (with a warning) when it has the wrong type.
struct LenientObject<T> {
    what: &'static str,
    _t: PhantomData<T>,
}

impl<T> LenientObject<T> {
    fn new(what: &'static str) -> Self {
        Self {
            what,
            _t: PhantomData,
        }
    }

    fn wrong(&self, found: &str) -> Option<T> {
        warn(format!(
            "`{}` is {found}, not an object: read as absent",
            self.what
        ));
        None
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for LenientObject<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` as an object or null", self.what)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(self.wrong("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(self.wrong("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(self.wrong("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(self.wrong("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(self.wrong("a string"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.wrong("an array"))
    }
}

impl<'de, T: Deserialize<'de>> de::DeserializeSeed<'de> for LenientObject<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

/// A list whose items that are not objects are left out (with a warning); a list that is not a
/// list at all is read as empty (with a warning).
/// Reads a list leniently into any collection `C` of `T` (a `Vec`, or a `SmallVec` for the
/// streaming reader's few items per vulnerability).
struct LenientList<T, C> {
    what: &'static str,
    item: &'static str,
    _t: PhantomData<(T, C)>,
}

impl<'de, T: Deserialize<'de>, C: Default + Extend<T>> Visitor<'de> for LenientList<T, C> {
    type Value = C;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` as an array or null", self.what)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = C::default();
        while let Some(item) = seq.next_element_seed(LenientObject::<T>::new(self.item))? {
            out.extend(item);
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(self.wrong("an object"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(self.wrong("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(self.wrong("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(self.wrong("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(self.wrong("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(self.wrong("a string"))
    }
}

impl<T, C: Default> LenientList<T, C> {
    fn wrong(&self, found: &str) -> C {
        warn(format!(
            "`{}` is {found}, not an array: read as empty",
            self.what
        ));
        C::default()
    }
}

fn lenient_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    what: &'static str,
) -> Result<Option<T>, D::Error> {
    d.deserialize_option(LenientObject::new(what))
}

fn lenient_list<'de, D: Deserializer<'de>, T: Deserialize<'de>, C: Default + Extend<T>>(
    d: D,
    what: &'static str,
    item: &'static str,
) -> Result<C, D::Error> {
    d.deserialize_option(LenientList {
        what,
        item,
        _t: PhantomData,
    })
}

fn lenient_cvss<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CvssInfo>, D::Error> {
    lenient_object(d, "vulnerabilities[].cvssInfo")
}

fn lenient_cvss3<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CvssInfo>, D::Error> {
    lenient_object(d, "vulnerabilities[].cvss3Info")
}

fn lenient_threat_intel<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ThreatIntel>, D::Error> {
    lenient_object(d, "vulnerabilities[].threatIntel")
}

fn lenient_vuln_software<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Software>, D::Error> {
    lenient_list(
        d,
        "vulnerabilities[].software",
        "vulnerabilities[].software[]",
    )
}

fn lenient_softwares<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Software>, D::Error> {
    lenient_list(d, "softwares", "softwares[]")
}

fn lenient_layers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Layer>, D::Error> {
    lenient_list(d, "layers", "layers[]")
}

fn lenient_repo<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RepoTag>, D::Error> {
    lenient_list(d, "repo", "repo[]")
}

/// A string, a number (as its text) or null; anything else reads as absent.
fn loose_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A number that may arrive as a JSON number, a numeric string, an empty string or null.
enum Flexible {
    Int(i64),
    Float(f64),
    Absent,
}

struct FlexibleVisitor;

impl<'de> Visitor<'de> for FlexibleVisitor {
    type Value = Flexible;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string or null")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Flexible, E> {
        Ok(Flexible::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Flexible, E> {
        i64::try_from(v)
            .map(Flexible::Int)
            .map_err(|_| E::custom("number out of range"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Flexible, E> {
        Ok(Flexible::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Flexible, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(Flexible::Absent);
        }
        if let Ok(i) = t.parse::<i64>() {
            return Ok(Flexible::Int(i));
        }
        t.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Flexible::Float)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Flexible, E> {
        Ok(Flexible::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<Flexible, E> {
        Ok(Flexible::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Flexible, D::Error> {
        d.deserialize_any(self)
    }
}

fn flexible_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match d.deserialize_option(FlexibleVisitor)? {
        Flexible::Int(i) => Ok(Some(i)),
        #[allow(clippy::cast_possible_truncation)] // an integral float within i64 range
        Flexible::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Flexible::Float(f) => Err(de::Error::custom(format!(
            "expected a whole number, got {f}"
        ))),
        Flexible::Absent => Ok(None),
    }
}

fn score<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match d.deserialize_option(FlexibleVisitor)? {
        #[allow(clippy::cast_precision_loss)] // CVSS scores are 0..=10
        Flexible::Int(i) => Ok(Some(i as f64)),
        Flexible::Float(f) => Ok(Some(f)),
        Flexible::Absent => Ok(None),
    }
}

fn qid<'de, D: Deserializer<'de>>(d: D) -> Result<Qid, D::Error> {
    match flexible_i64(d)? {
        Some(i) => u32::try_from(i)
            .map(Qid)
            .map_err(|_| de::Error::custom(format!("qid {i} is out of range"))),
        None => Err(de::Error::custom("qid is null")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "4f67c83422ec747235357c04556616234e66fc3fa39cb4f40b2d4441ddd8f100";

    fn doc(vulns: &str) -> String {
        format!(r#"{{"sha":"{SHA}","vulnerabilities":{vulns},"unknownField":{{"x":1}}}}"#)
    }

    #[test]
    fn null_missing_empty_and_full_are_distinct() {
        let r = ImageReport::from_json(doc("null").as_bytes()).unwrap();
        assert!(matches!(r.vulnerabilities, Vulnerabilities::NotProcessed));
        let r = ImageReport::from_json(format!(r#"{{"sha":"{SHA}"}}"#).as_bytes()).unwrap();
        assert!(matches!(r.vulnerabilities, Vulnerabilities::NotProcessed));
        let r = ImageReport::from_json(doc("[]").as_bytes()).unwrap();
        assert!(matches!(&r.vulnerabilities, Vulnerabilities::List(v) if v.is_empty()));
        let v = r#"[{"qid":"376209","severity":5,"typeDetected":"CONFIRMED","cveids":null,
            "cvssInfo":{"baseScore":9.3},"cvss3Info":{"baseScore":"10.0","temporalScore":""},
            "patchAvailable":null,"firstFound":"1717243260000","software":null}]"#;
        let r = ImageReport::from_json(doc(v).as_bytes()).unwrap();
        let Vulnerabilities::List(list) = r.vulnerabilities else {
            panic!("list")
        };
        let v = &list[0];
        assert_eq!(v.qid, Qid(376_209));
        assert_eq!(v.cvss2(), Some(9.3));
        assert_eq!(v.cvss3(), Some(10.0));
        assert_eq!(v.cvss3_info.as_ref().unwrap().temporal_score, None);
        assert!(!v.patchable());
        assert!(v.cveids.is_empty());
        assert_eq!(v.first_found, Some(1_717_243_260_000));
        assert_eq!(v.type_detected, Detection::Confirmed);
    }

    #[test]
    fn bad_documents_are_told_apart() {
        assert!(matches!(
            ImageReport::from_json(b"{\"sha\": "),
            Err(ReportError::Syntax { line: 1, .. })
        ));
        assert_eq!(
            ImageReport::from_json(b" [1,2]").unwrap_err(),
            ReportError::NotObject { found: "array" }
        );
        assert!(matches!(
            ImageReport::from_json(br#"{"name":"x"}"#),
            Err(ReportError::NotImage { message, .. }) if message.contains("sha")
        ));
        assert!(matches!(
            ImageReport::from_json(doc(r#"{"severity5Count":1}"#).as_bytes()),
            Err(ReportError::ListEntry)
        ));
        assert!(matches!(
            ImageReport::from_json(doc(r#"[{"qid":1,"severity":"high"}]"#).as_bytes()),
            Err(ReportError::NotImage { .. })
        ));
    }

    #[test]
    fn wrongly_typed_sub_objects_are_absent_with_a_warning() {
        let v = r#"[{"qid":1,"severity":5,"typeDetected":"CONFIRMED","cvssInfo":"7.5",
            "cvss3Info":{"baseScore":"9.8"},"threatIntel":[true],"software":["x",{"name":"a"}]},
            {"qid":2,"severity":3,"typeDetected":"CONFIRMED","cvssInfo":7}]"#;
        let body = format!(
            r#"{{"sha":"{SHA}","vulnerabilities":{v},"softwares":[1,{{"name":"b"}}],"layers":"x","repo":[null]}}"#
        );
        let r = ImageReport::from_json(body.as_bytes()).unwrap();
        let Vulnerabilities::List(list) = &r.vulnerabilities else {
            panic!("list")
        };
        assert_eq!(list[0].cvss2(), None);
        assert_eq!(list[0].cvss3(), Some(9.8));
        assert_eq!(list[0].software.len(), 1);
        assert_eq!(r.softwares.len(), 1);
        assert!(r.layers.is_empty());
        assert_eq!(
            r.warnings,
            [
                "`layers` is a string, not an array: read as empty",
                "`softwares[]` is a number, not an object: read as absent",
                "`vulnerabilities[].cvssInfo` is a number, not an object: read as absent",
                "`vulnerabilities[].cvssInfo` is a string, not an object: read as absent",
                "`vulnerabilities[].software[]` is a string, not an object: read as absent",
                "`vulnerabilities[].threatIntel` is an array, not an object: read as absent",
            ]
        );
        // A clean document has none; a needed field that cannot be read is still an error.
        assert!(
            ImageReport::from_json(doc("[]").as_bytes())
                .unwrap()
                .warnings
                .is_empty()
        );
        let bad = r#"[{"qid":1,"severity":5,"cvssInfo":{"baseScore":"high"}}]"#;
        assert!(ImageReport::from_json(doc(bad).as_bytes()).is_err());
    }

    #[test]
    fn scan_states() {
        assert_eq!(ScanState::read(None, None), ScanState::Absent);
        assert_eq!(ScanState::read(Some("SUCCESS"), None), ScanState::Succeeded);
        assert_eq!(
            ScanState::read(Some("success"), Some("")),
            ScanState::Succeeded
        );
        assert_eq!(
            ScanState::read(Some("IN_PROGRESS"), None),
            ScanState::Running("IN_PROGRESS".into())
        );
        assert!(matches!(
            ScanState::read(Some("FAILED"), None),
            ScanState::Failed(_)
        ));
        assert!(matches!(
            ScanState::read(Some("SUCCESS"), Some("SCAN_TIMEOUT")),
            ScanState::Failed(m) if m.contains("SCAN_TIMEOUT")
        ));
        let r = ImageReport::from_json(
            format!(r#"{{"sha":"{SHA}","scanStatus":"ERROR","scanErrorCode":42}}"#).as_bytes(),
        )
        .unwrap();
        assert!(matches!(r.scan_state(), ScanState::Failed(m) if m.contains("42")));
    }
}
