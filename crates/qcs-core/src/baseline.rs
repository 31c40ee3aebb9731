//! Baselines: fail only on what is new. A baseline is an earlier run's `summary.json` or a
//! saved raw image report; each finding of the current run is `new` or `unchanged` against it,
//! and what the baseline had and the image no longer has is `fixed`.
//!
//! **Identity of a finding.** A key is `(QID, package name)`: a vulnerability that names several
//! packages (its `software` list) has one key per package, and one without a package is keyed by
//! its QID alone (package `""`). A finding is `unchanged` when every one of its keys is in the
//! baseline, and `new` otherwise (the same QID in another package is new). Versions and tags do
//! not take part: an upgrade that leaves the vulnerability in place keeps it `unchanged`.
//!
//! **Which baseline entry.** Keys are compared for the same image repository: the baseline's
//! images whose repository (a `repo:tag` without its tag or digest, e.g. `registry/app` from
//! `registry/app:1.2`) equals one of the current image's repositories. An image whose
//! repositories have no entry in the baseline has every finding `new`, and its result says so
//! (`baseline.repository` null: "none for this repository").
//!
//! **Compact keys in `summary.json`.** So that a summary serves as the next run's baseline even
//! when it lists only the findings that decided the verdict, each judged image carries
//! `finding_keys`: package name → sorted QIDs ([`FindingKeys`]).
//!
//! Pure: the caller reads the file and passes its bytes to [`Baseline::from_json`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::report::{ImageReport, Vulnerabilities, Vulnerability};
use crate::summary::{Outcome, SCHEMA_VERSION};

/// Finding identities of one image: package name (`""` for none) → sorted, unique QIDs.
pub type FindingKeys = BTreeMap<String, Vec<u32>>;

/// One finding identity: QID and package name (`""` for none).
type Key = (u32, String);

/// Whether a finding was in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline (or the image has no baseline entry).
    New,
    /// In the baseline, every package of it.
    Unchanged,
}

impl BaselineState {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Unchanged => "unchanged",
        }
    }
}

/// What fails an image when a baseline is given (`[baseline] mode`, `--baseline-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineMode {
    /// Every finding counts toward the conditions, as without a baseline (the states are only
    /// reported).
    #[default]
    All,
    /// Only `new` findings count; `unchanged` ones are reported but fail nothing.
    New,
}

impl BaselineMode {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::New => "new",
        }
    }

    /// Parses `all` or `new`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::All),
            "new" => Some(Self::New),
            _ => None,
        }
    }
}

/// A finding of the baseline that the image no longer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedFinding {
    /// Its QID.
    pub qid: u32,
    /// Its package, when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

/// What a baseline made of one image's findings (`baseline` in `summary.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageBaseline {
    /// The baseline file, as given.
    pub source: String,
    /// `all` or `new`.
    pub mode: BaselineMode,
    /// The repository whose baseline entry was used; null when the baseline has none for this
    /// image (then every finding is new).
    pub repository: Option<String>,
    /// Findings not in the baseline.
    pub new: u32,
    /// Findings in the baseline.
    pub unchanged: u32,
    /// Baseline keys (QID and package) the image no longer has.
    pub fixed: u32,
    /// Those keys, sorted by QID then package.
    #[serde(default)]
    pub fixed_findings: Vec<FixedFinding>,
}

/// Why a file cannot serve as a baseline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaselineError {
    /// Not JSON, or JSON of another shape.
    #[error("it is neither a qcs summary.json nor a Qualys image report: {0}")]
    Unknown(String),
    /// A summary of a schema this qcs does not read.
    #[error("it is a summary.json of schema_version {0}, which this qcs does not read")]
    Schema(u32),
    /// A raw report without a vulnerability list.
    #[error(
        "it is an image report that Qualys had not processed yet (`vulnerabilities` is not a list)"
    )]
    NotProcessed,
}

/// The finding identities of a baseline, by image repository.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// The file, as given.
    pub source: String,
    repos: HashMap<String, HashSet<Key>>,
}

/// The repository of a `repo:tag` or `repo@digest` (`localhost:5000/app:1` → `localhost:5000/app`).
pub fn repository_of(image: &str) -> &str {
    let image = image.split_once('@').map_or(image, |(r, _)| r);
    let last = image.rfind('/').map_or(0, |i| i + 1);
    match image[last..].find(':') {
        Some(i) => &image[..last + i],
        None => image,
    }
}

/// The keys of one vulnerability.
fn keys_of(v: &Vulnerability) -> impl Iterator<Item = Key> + '_ {
    let none = v.software.is_empty().then(|| (v.qid.0, String::new()));
    v.software
        .iter()
        .map(|s| (v.qid.0, s.name.clone()))
        .chain(none)
}

/// Every key of a processed report.
fn report_keys(vulns: &[Vulnerability]) -> HashSet<Key> {
    vulns.iter().flat_map(keys_of).collect()
}

/// The compact form written in `summary.json`.
pub fn finding_keys(vulns: &[Vulnerability]) -> FindingKeys {
    let mut keys = KeysBuilder::default();
    for v in vulns {
        keys.add(v.qid.0, v.software.iter().map(|s| s.name.as_str()));
    }
    keys.finish()
}

/// Builds [`FindingKeys`] one vulnerability at a time (for [`finding_keys`] and the streaming
/// reader, which never holds the vulnerabilities): one allocation per package, not per finding.
#[derive(Debug, Default)]
pub(crate) struct KeysBuilder(FxHashMap<String, Vec<u32>>);

impl KeysBuilder {
    /// Adds the keys of a vulnerability: one per package it names, or its QID alone (package
    /// `""`) when it names none.
    pub(crate) fn add<'a>(&mut self, qid: u32, packages: impl IntoIterator<Item = &'a str>) {
        let mut any = false;
        for package in packages {
            any = true;
            self.push(package, qid);
        }
        if !any {
            self.push("", qid);
        }
    }

    fn push(&mut self, package: &str, qid: u32) {
        match self.0.get_mut(package) {
            Some(qids) => qids.push(qid),
            None => {
                self.0.insert(package.to_owned(), vec![qid]);
            }
        }
    }

    /// The keys, each package's QIDs sorted and unique.
    pub(crate) fn finish(self) -> FindingKeys {
        self.0
            .into_iter()
            .map(|(package, mut qids)| {
                qids.sort_unstable();
                qids.dedup();
                (package, qids)
            })
            .collect()
    }
}

fn expand(keys: &FindingKeys) -> impl Iterator<Item = Key> + '_ {
    keys.iter()
        .flat_map(|(p, qids)| qids.iter().map(move |q| (*q, p.clone())))
}

/// The parts of a `summary.json` a baseline reads (any schema up to ours; other fields are
/// ignored, so a summary listing only deciding findings still works through `finding_keys`).
#[derive(Deserialize)]
struct SummaryDoc {
    schema_version: u32,
    images: Vec<SummaryImage>,
}

#[derive(Deserialize)]
struct SummaryImage {
    outcome: Outcome,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    finding_keys: Option<FindingKeys>,
    #[serde(default)]
    findings: Vec<SummaryFinding>,
}

#[derive(Deserialize)]
struct SummaryFinding {
    qid: u32,
    #[serde(default)]
    packages: Vec<SummaryPackage>,
}

#[derive(Deserialize)]
struct SummaryPackage {
    name: String,
}

impl Baseline {
    /// Reads a baseline from the bytes of a `summary.json` or of a raw image report; `source`
    /// names it in results.
    ///
    /// # Errors
    /// When the document is neither, is a summary of an unknown schema, or a report that is not
    /// processed.
    pub fn from_json(source: &str, bytes: &[u8]) -> Result<Self, BaselineError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| BaselineError::Unknown(e.to_string()))?;
        let mut out = Baseline {
            source: source.to_owned(),
            repos: HashMap::new(),
        };
        if value.get("schema_version").is_some() {
            let doc: SummaryDoc = serde_json::from_value(value)
                .map_err(|e| BaselineError::Unknown(format!("a summary.json that {e}")))?;
            if doc.schema_version == 0 || doc.schema_version > SCHEMA_VERSION {
                return Err(BaselineError::Schema(doc.schema_version));
            }
            for img in doc.images {
                if img.outcome == Outcome::Error {
                    continue;
                }
                let keys: HashSet<Key> = match &img.finding_keys {
                    Some(k) => expand(k).collect(),
                    None => img
                        .findings
                        .iter()
                        .flat_map(|f| {
                            let none = f.packages.is_empty().then(|| (f.qid, String::new()));
                            f.packages
                                .iter()
                                .map(|p| (f.qid, p.name.clone()))
                                .chain(none)
                        })
                        .collect(),
                };
                out.add(img.tags.iter().map(|t| repository_of(t)), &keys);
            }
            return Ok(out);
        }
        if value.get("sha").is_some() {
            let report = ImageReport::from_json(bytes).map_err(|e| {
                BaselineError::Unknown(format!("an image report that is unusable: {e}"))
            })?;
            let Vulnerabilities::List(vulns) = &report.vulnerabilities else {
                return Err(BaselineError::NotProcessed);
            };
            let keys = report_keys(vulns);
            out.add(
                report.repo.iter().filter_map(|r| r.repository.as_deref()),
                &keys,
            );
            return Ok(out);
        }
        Err(BaselineError::Unknown(
            "a JSON object with neither `schema_version` (summary.json) nor `sha` (image report)"
                .to_owned(),
        ))
    }

    fn add<'a>(&mut self, repos: impl Iterator<Item = &'a str>, keys: &HashSet<Key>) {
        for r in repos {
            self.repos
                .entry(r.to_owned())
                .or_default()
                .extend(keys.iter().cloned());
        }
    }

    /// How many repositories the baseline has entries for.
    pub fn repositories(&self) -> usize {
        self.repos.len()
    }

    /// The entry for a report: the first of its repositories the baseline knows, with the
    /// union of the keys of every known one.
    pub fn entry_for(&self, report: &ImageReport) -> Option<Entry<'_>> {
        let mut names = report
            .repo
            .iter()
            .filter_map(|r| r.repository.as_deref())
            .filter(|r| self.repos.contains_key(*r))
            .collect::<Vec<_>>();
        names.dedup();
        let first = (*names.first()?).to_owned();
        let sets = names.iter().filter_map(|n| self.repos.get(*n)).collect();
        Some(Entry {
            repository: first,
            sets,
        })
    }
}

/// A baseline's entry for one image.
#[derive(Debug)]
pub struct Entry<'a> {
    /// The repository it was found under.
    pub repository: String,
    sets: Vec<&'a HashSet<Key>>,
}

impl Entry<'_> {
    fn contains(&self, k: &Key) -> bool {
        self.sets.iter().any(|s| s.contains(k))
    }

    /// The state of a vulnerability: unchanged when every key of it is in the entry.
    pub fn state(&self, v: &Vulnerability) -> BaselineState {
        if keys_of(v).all(|k| self.contains(&k)) {
            BaselineState::Unchanged
        } else {
            BaselineState::New
        }
    }
}

/// The per-image result: counts of new and unchanged findings and the fixed keys.
pub fn image_result(
    baseline: &Baseline,
    mode: BaselineMode,
    entry: Option<&Entry<'_>>,
    vulns: &[Vulnerability],
) -> ImageBaseline {
    let mut new = 0u32;
    let mut unchanged = 0u32;
    for v in vulns {
        match entry.map_or(BaselineState::New, |e| e.state(v)) {
            BaselineState::New => new += 1,
            BaselineState::Unchanged => unchanged += 1,
        }
    }
    let mut fixed_findings = Vec::new();
    if let Some(e) = entry {
        let now = report_keys(vulns);
        let mut gone: BTreeSet<&Key> = BTreeSet::new();
        for set in &e.sets {
            gone.extend(set.iter().filter(|k| !now.contains(*k)));
        }
        fixed_findings = gone
            .into_iter()
            .map(|(qid, p)| FixedFinding {
                qid: *qid,
                package: (!p.is_empty()).then(|| p.clone()),
            })
            .collect();
    }
    ImageBaseline {
        source: baseline.source.clone(),
        mode,
        repository: entry.map(|e| e.repository.clone()),
        new,
        unchanged,
        fixed: u32::try_from(fixed_findings.len()).unwrap_or(u32::MAX),
        fixed_findings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_drop_tag_and_digest_but_not_a_registry_port() {
        assert_eq!(repository_of("registry/app:1.2"), "registry/app");
        assert_eq!(repository_of("localhost:5000/app:1"), "localhost:5000/app");
        assert_eq!(repository_of("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository_of("app@sha256:abcd"), "app");
        assert_eq!(repository_of("app:1@sha256:abcd"), "app");
        assert_eq!(repository_of("app"), "app");
    }
}
