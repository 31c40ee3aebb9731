//! `--format plugin`: the files the Jenkins plugin wrote per build (`plugin-behaviour.md` §4),
//! for dashboards and scripts built on them.
//!
//! - `qualys_<12-hex id>.json`: the image-details document exactly as the API returned it (the
//!   binary copies the bytes; nothing here touches files).
//! - `qualys_images_summary.json`: `{"scanResult": {<12-hex id>: <result object>},
//!   "trendingData": [{"imageId", "confirmedVulns": [sev1..sev5], "repos": [...]}]}`, written by
//!   [`write_summary`].
//!
//! The result object has the plugin's field names and value shapes (lists as comma-joined text,
//! `null` for a condition that is not configured, a level's `found` `null` when zero and not
//! configured, CVSS version `""` for version 2, the report's `vulnerabilities`, `softwares` and
//! `layers` copied as `vulnsTable`, `softwaresTable` and `layersTable`). Its values come from
//! `qcs`'s own evaluation, never from judging again, so where `qcs` deliberately differs
//! (`plugin-behaviour.md` §7) the file shows `qcs`'s verdict; `docs/reports.md` lists what
//! that means for each field.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};

use qcs_core::summary::{Conditions, Counts, ImageResult, LEVEL_KEYS, Outcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// The summary file's name.
pub const SUMMARY_FILE: &str = "qualys_images_summary.json";

/// The name of an image's raw-report file: `qualys_<12-hex id>.json`.
pub fn image_file_name(id: &str) -> String {
    format!("qualys_{id}.json")
}

/// Whether `name` is an image's raw-report file of this format (`qualys_<12 hex>.json`).
pub fn is_image_file_name(name: &str) -> bool {
    name.strip_prefix("qualys_")
        .and_then(|n| n.strip_suffix(".json"))
        .is_some_and(|id| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The 12-hex id the plugin keys an image by (the first 12 characters of its sha); `None` for an
/// image that was never resolved.
pub fn image_key(result: &ImageResult) -> Option<&str> {
    result.evaluation.sha.as_deref().and_then(|s| s.get(..12))
}

/// Whether the image belongs in the plugin's files: it has a verdict (passed or failed). The
/// plugin wrote nothing for an image without a result, and neither does this format.
pub fn is_judged(result: &ImageResult) -> bool {
    matches!(result.evaluation.outcome, Outcome::Passed | Outcome::Failed)
        && result.evaluation.conditions.is_some()
        && result.evaluation.counts.is_some()
        && image_key(result).is_some()
}

/// What the summary needs beyond the evaluation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The policy judged POTENTIAL vulnerabilities too (`potentialVulnsChecked`).
    pub potential_checked: bool,
}

/// One judged image: its result and the image-details document it was judged on, as read.
#[derive(Debug, Clone, Copy)]
pub struct PluginImage<'a> {
    /// The image's result.
    pub result: &'a ImageResult,
    /// The image-details JSON, byte for byte as the API returned it.
    pub report: &'a [u8],
}

/// Writes `qualys_images_summary.json` for the judged images in `images` (others are left out,
/// as are repeats of one image id). Fails only when `out` fails or a report is not JSON.
pub fn write_summary(
    images: &[PluginImage<'_>],
    options: &Options,
    out: impl Write,
) -> io::Result<()> {
    let mut w = SummaryWriter::new(out, *options)?;
    for img in images {
        w.add(img.result, img.report)?;
    }
    w.finish().map(drop)
}

/// Writes `qualys_images_summary.json` one image at a time, so that only one image-details
/// document is held at once: `scanResult` is streamed, `trendingData` (a few numbers per
/// image) follows at the end.
pub struct SummaryWriter<W: Write> {
    out: W,
    options: Options,
    seen: HashSet<String>,
    trending: Vec<Trend>,
}

impl<W: Write> SummaryWriter<W> {
    /// Starts the document.
    pub fn new(mut out: W, options: Options) -> io::Result<Self> {
        out.write_all(b"{\"scanResult\":{")?;
        Ok(Self {
            out,
            options,
            seen: HashSet::new(),
            trending: Vec::new(),
        })
    }

    /// Whether [`SummaryWriter::add`] would write this image: it is judged and its id is not in
    /// the document yet.
    pub fn wants(&self, result: &ImageResult) -> bool {
        is_judged(result) && image_key(result).is_some_and(|k| !self.seen.contains(k))
    }

    /// Adds an image judged on `report` (its image-details JSON as read); returns `false` when
    /// the image is left out (see [`SummaryWriter::wants`]).
    pub fn add(&mut self, result: &ImageResult, report: &[u8]) -> io::Result<bool> {
        if !self.wants(result) {
            return Ok(false);
        }
        let Some(key) = image_key(result) else {
            return Ok(false);
        };
        let doc: RawReport<'_> = serde_json::from_slice(report).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the image details of {key} are not usable JSON: {e}"),
            )
        })?;
        let repo = doc.repo_entries();
        let object = result_object(result, &doc, &repo, self.options);
        if !self.seen.is_empty() {
            self.out.write_all(b",")?;
        }
        serde_json::to_writer(&mut self.out, key)?;
        self.out.write_all(b":")?;
        serde_json::to_writer(&mut self.out, &object)?;
        self.trending.push(Trend {
            image_id: key.to_owned(),
            confirmed_vulns: object.confirmed_vulns_by_sev.0,
            repos: repo
                .iter()
                .filter_map(|r| r.get("repository").and_then(Value::as_str))
                .map(str::to_owned)
                .collect(),
        });
        self.seen.insert(key.to_owned());
        Ok(true)
    }

    /// Ends the document with `trendingData` and a newline; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"},\"trendingData\":")?;
        serde_json::to_writer(&mut self.out, &self.trending)?;
        self.out.write_all(b"}\n")?;
        Ok(self.out)
    }
}

/// One `trendingData` entry.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Trend {
    image_id: String,
    confirmed_vulns: [u32; 5],
    repos: Vec<String>,
}

/// The parts of the image-details document the result object copies, as their original text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawReport<'a> {
    #[serde(default, borrow)]
    image_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    size: Option<&'a RawValue>,
    #[serde(default, borrow)]
    uuid: Option<&'a RawValue>,
    #[serde(default, borrow)]
    sha: Option<&'a RawValue>,
    #[serde(default, borrow)]
    repo: Option<&'a RawValue>,
    #[serde(default, borrow)]
    operating_system: Option<&'a RawValue>,
    #[serde(default, borrow)]
    layers_count: Option<&'a RawValue>,
    #[serde(default, borrow)]
    docker_version: Option<&'a RawValue>,
    #[serde(default, borrow)]
    architecture: Option<&'a RawValue>,
    #[serde(default, borrow)]
    vulnerabilities: Option<&'a RawValue>,
    #[serde(default, borrow)]
    softwares: Option<&'a RawValue>,
    #[serde(default, borrow)]
    layers: Option<&'a RawValue>,
}

impl RawReport<'_> {
    /// The `repo` entries that are objects (none when `repo` is missing or not a list).
    fn repo_entries(&self) -> Vec<serde_json::Map<String, Value>> {
        let Some(raw) = self.repo else {
            return Vec::new();
        };
        match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Array(items)) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A value of the report copied as its text, without the whitespace between tokens (the report
/// may be pretty-printed; the summary is one line, as the plugin's): key order and number
/// spelling stay as the API sent them.
struct Compact<'a>(&'a RawValue);

impl Serialize for Compact<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.0.get();
        if !text.bytes().any(|b| b.is_ascii_whitespace()) {
            return self.0.serialize(s);
        }
        let compact = RawValue::from_string(minify(text)).map_err(serde::ser::Error::custom)?;
        compact.serialize(s)
    }
}

/// `json` without whitespace outside strings (`json` is valid JSON).
fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// The plugin's evaluation result object for one image.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultObject<'a> {
    image_id: Option<Compact<'a>>,
    image_summary: ImageSummary<'a>,
    qids: ListCondition,
    cve_ids: ListCondition,
    severities: BTreeMap<&'static str, LevelResult>,
    potential_vulns_by_sev: LevelMap,
    patchability: Patchability,
    vulns_table: Option<Compact<'a>>,
    softwares_table: Option<Compact<'a>>,
    layers_table: Option<Compact<'a>>,
    qid_exclude_found: Option<()>,
    cve_exclude_found: Option<()>,
    confirmed_vulns_by_sev: LevelMap,
    total_vulnerabilities: u32,
    potential_vulns_checked: bool,
    type_detected: TypeDetected,
    cvss: CvssResult,
    software: SoftwareResult,
}

/// `imageSummary`: the verdict and the image's facts as the report gives them.
#[derive(Serialize)]
struct ImageSummary<'a> {
    pass: bool,
    #[serde(rename = "Tags")]
    tags: Option<Vec<Value>>,
    size: Option<Compact<'a>>,
    uuid: Option<Compact<'a>>,
    sha: Option<Compact<'a>>,
    repo: Option<Compact<'a>>,
    #[serde(rename = "operatingSystem")]
    operating_system: Option<Compact<'a>>,
    #[serde(rename = "layersCount")]
    layers_count: Option<Compact<'a>>,
    #[serde(rename = "dockerVersion")]
    docker_version: Option<Compact<'a>>,
    architecture: Option<Compact<'a>>,
}

/// `qids` and `cveIds`: comma-joined text, `null` when empty.
#[derive(Serialize)]
struct ListCondition {
    configured: Option<String>,
    found: Option<String>,
    result: bool,
    excluded: Option<String>,
}

/// One level of `severities`.
#[derive(Serialize)]
struct LevelResult {
    configured: Option<u32>,
    found: Option<u32>,
    result: bool,
}

/// `{"1": n, …, "5": n}`.
struct LevelMap([u32; 5]);

impl Serialize for LevelMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(5))?;
        for (k, n) in LEVEL_KEYS.iter().zip(self.0) {
            m.serialize_entry(k, &n)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct Patchability {
    yes: u32,
    no: u32,
}

#[derive(Serialize)]
struct TypeDetected {
    #[serde(rename = "Confirmed")]
    confirmed: u32,
    #[serde(rename = "Potential")]
    potential: u32,
}

/// `cvss`: `{configured, found, version, result, foundMap?}`, or `{configured: null, found:
/// null, result: true}` when no threshold is configured.
#[derive(Serialize)]
struct CvssResult {
    configured: Option<f64>,
    found: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    result: bool,
    #[serde(rename = "foundMap", skip_serializing_if = "Option::is_none")]
    found_map: Option<BTreeMap<String, u32>>,
}

/// `software`: the filters and matches as `", "`-joined text, or nulls when not configured.
#[derive(Serialize)]
struct SoftwareResult {
    configured: Option<String>,
    found: Option<String>,
    result: bool,
}

/// Comma-joined, or `None` for an empty list (the plugin's `null`).
fn joined<T: ToString>(items: impl IntoIterator<Item = T>, sep: &str) -> Option<String> {
    let parts: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    (!parts.is_empty()).then(|| parts.join(sep))
}

fn result_object<'a>(
    result: &ImageResult,
    doc: &RawReport<'a>,
    repo: &[serde_json::Map<String, Value>],
    options: Options,
) -> ResultObject<'a> {
    let e = &result.evaluation;
    let c = e.conditions.clone().unwrap_or_default();
    let counts = e.counts.clone().unwrap_or_default();
    // The plugin collects tags only when the report has a `repo` list: the `tag` of each entry
    // that has one (null included).
    let tags = doc
        .repo
        .map(|_| repo.iter().filter_map(|r| r.get("tag").cloned()).collect());
    let copy = |v: Option<&'a RawValue>| v.map(Compact);
    ResultObject {
        image_id: copy(doc.image_id),
        image_summary: ImageSummary {
            pass: e.outcome == Outcome::Passed,
            tags,
            size: copy(doc.size),
            uuid: copy(doc.uuid),
            sha: copy(doc.sha),
            repo: copy(doc.repo),
            operating_system: copy(doc.operating_system),
            layers_count: copy(doc.layers_count),
            docker_version: copy(doc.docker_version),
            architecture: copy(doc.architecture),
        },
        qids: qids(result, &c),
        cve_ids: cves(result, &c),
        severities: severities(&c),
        potential_vulns_by_sev: LevelMap(counts.potential.0),
        patchability: Patchability {
            yes: counts.patchable,
            no: counts.not_patchable,
        },
        vulns_table: copy(doc.vulnerabilities),
        softwares_table: copy(doc.softwares),
        layers_table: copy(doc.layers),
        qid_exclude_found: None,
        cve_exclude_found: None,
        confirmed_vulns_by_sev: LevelMap(counts.confirmed.0),
        total_vulnerabilities: counts.total,
        potential_vulns_checked: options.potential_checked,
        type_detected: type_detected(&counts),
        cvss: cvss(&c),
        software: software(&c),
    }
}

/// `qids`: `excluded` lists the QIDs of the judged vulnerabilities that a QID exclusion took out
/// (whether configured or not, as the plugin), from every finding of the report when it was
/// read for them ([`qcs_core::summary::Evaluation::every_finding`]), not only those
/// `summary.json` lists.
fn qids(result: &ImageResult, c: &Conditions) -> ListCondition {
    let excluded: BTreeSet<u32> = result
        .evaluation
        .every_finding()
        .iter()
        .filter(|f| f.in_scope)
        .filter(|f| {
            f.excluded_by
                .as_deref()
                .is_some_and(|x| x.starts_with("qid "))
        })
        .map(|f| f.qid)
        .collect();
    ListCondition {
        configured: joined(&c.qids.list, ","),
        found: joined(&c.qids.found, ","),
        result: c.qids.passed,
        excluded: joined(excluded, ", "),
    }
}

/// `cveIds`: `excluded` lists the excluded CVEs present on judged vulnerabilities (whether
/// configured or not, as the plugin): the CVE exclusions in force that matched something.
fn cves(result: &ImageResult, c: &Conditions) -> ListCondition {
    let excluded: BTreeSet<&str> = result
        .evaluation
        .exclusions
        .applied
        .iter()
        .filter_map(|x| x.cve.as_deref())
        .collect();
    ListCondition {
        configured: joined(&c.cves.list, ","),
        found: joined(&c.cves.found, ","),
        result: c.cves.passed,
        excluded: joined(excluded, ", "),
    }
}

/// `severities`: per level the limit, the count (`null` when zero and not configured) and the
/// result.
fn severities(c: &Conditions) -> BTreeMap<&'static str, LevelResult> {
    LEVEL_KEYS
        .iter()
        .map(|k| {
            let level = c.severity.levels.get(*k).copied().unwrap_or_default();
            let found = match (level.found, level.limit) {
                (0, None) => None,
                (n, _) => Some(n),
            };
            (
                *k,
                LevelResult {
                    configured: level.limit,
                    found,
                    result: level.passed,
                },
            )
        })
        .collect()
}

fn type_detected(counts: &Counts) -> TypeDetected {
    TypeDetected {
        confirmed: counts.confirmed.0.iter().sum(),
        potential: counts.potential.0.iter().sum(),
    }
}

/// `cvss`: the plugin writes version 2 as `""` and `maxOfv2andv3` for the larger of the two.
fn cvss(c: &Conditions) -> CvssResult {
    let Some(score) = c.cvss.score.filter(|_| c.cvss.configured) else {
        return CvssResult {
            configured: None,
            found: None,
            version: None,
            result: true,
            found_map: None,
        };
    };
    let version = match c.cvss.version.as_deref() {
        Some("3") => "3",
        Some("max") => "maxOfv2andv3",
        _ => "",
    };
    CvssResult {
        configured: Some(score),
        found: Some(c.cvss.found),
        version: Some(version),
        result: c.cvss.passed,
        found_map: (c.cvss.found > 0).then(|| c.cvss.by_score.clone()),
    }
}

/// `software`: the filters and the matching `name=version`s, each `", "`-joined (`""` when
/// nothing matched), or nulls when no filter is configured.
fn software(c: &Conditions) -> SoftwareResult {
    if !c.software.configured {
        return SoftwareResult {
            configured: None,
            found: None,
            result: true,
        };
    }
    SoftwareResult {
        configured: Some(c.software.list.join(", ")),
        found: Some(c.software.found.join(", ")),
        result: c.software.passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(image_file_name("0123456789ab"), "qualys_0123456789ab.json");
        assert!(is_image_file_name("qualys_0123456789ab.json"));
        assert!(!is_image_file_name("qualys_images_summary.json"));
        assert!(!is_image_file_name("qualys_0123456789ab.json.bak"));
        assert!(!is_image_file_name("0123456789ab.json"));
    }

    #[test]
    fn minify_keeps_strings_and_order() {
        assert_eq!(
            minify("{ \"b\" : [1, 2],\n \"a\": \"x y \\\" }\" }"),
            "{\"b\":[1,2],\"a\":\"x y \\\" }\"}"
        );
    }

    #[test]
    fn lists_join_and_empty_is_null() {
        assert_eq!(joined(["a", "b"], ","), Some("a,b".to_owned()));
        assert_eq!(joined(Vec::<String>::new(), ","), None);
    }
}
