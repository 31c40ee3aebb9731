//! Images known to the emulated platform and their lifecycle (`qualys-api.md` §7).
//!
//! Each image has an upload time (the sensor's inventory arrives; `None`: never) and a
//! processing-done time (`None`: never finishes). At any instant an image is therefore
//! [`Phase::Unknown`] (details 404, list skips it), [`Phase::Processing`] (details 200 with
//! `vulnerabilities: null`), [`Phase::Processed`] (details 200 with the full report) or
//! [`Phase::Failed`] (the document says the scan failed: `scanStatus`/`scanErrorCode`, and
//! `vulnerabilities` stays null). What the processing state looks like (`lastScanned`, the
//! list's counts, `scanStatus`) depends on the [`ProcessingProfile`] (`qualys-api.md` §4.8).
//!
//! A re-scan: when the sha was already processed before the new upload, the platform keeps
//! serving that previous document (with its older `lastScanned`) until the new one is processed.
//!
//! Phases are computed from the clock on every read, so advancing the clock is all it takes to
//! move an image on. Response bodies are serialised once, when the image is stored.

use crate::qql::{Field, QqlTarget};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Where an image stands in the §7 lifecycle at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Not known to the platform: details 404, list skips it.
    Unknown,
    /// Inventory uploaded, vulnerabilities not processed yet.
    Processing,
    /// The report is available.
    Processed,
    /// The scan failed (`scanStatus` not `SUCCESS`, or `scanErrorCode` set): no report, ever.
    Failed,
}

/// How the emulated platform shows an image whose scan is still being processed: the three
/// readings of "not ready yet" that real clients depend on (`qualys-api.md` §4.1, §4.8, §7).
/// Processed and failed images look the same under every profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessingProfile {
    /// `lastScanned` is the upload time from the upload on, while `vulnerabilities` is still
    /// null (the reading the Jenkins plugin's list filter implies, §7); list filters on
    /// `lastScanned` match from the upload.
    LastScannedAtUpload,
    /// `lastScanned` is null until the report is processed (Qualys' own v1.3 script, §4.1), so
    /// a `lastScanned` filter matches only processed images. The default.
    #[default]
    LastScannedWhenProcessed,
    /// While the scan runs, list items and `/vuln/count` answer counts objects whose values are
    /// all null, and documents carry `scanStatus` (`PENDING`, then `IN_PROGRESS`, then
    /// `SUCCESS`) with `scanErrorCode: null`; `lastScanned` is the upload time (§4.8).
    CountsNullWithStatus,
}

impl ProcessingProfile {
    /// Every profile, in documentation order.
    pub const ALL: [ProcessingProfile; 3] = [
        ProcessingProfile::LastScannedAtUpload,
        ProcessingProfile::LastScannedWhenProcessed,
        ProcessingProfile::CountsNullWithStatus,
    ];

    /// The name used in the scenario file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ProcessingProfile::LastScannedAtUpload => "last-scanned-at-upload",
            ProcessingProfile::LastScannedWhenProcessed => "last-scanned-when-processed",
            ProcessingProfile::CountsNullWithStatus => "counts-null-with-status",
        }
    }
}

impl std::fmt::Display for ProcessingProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ProcessingProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProcessingProfile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown processing profile `{s}`; expected one of: last-scanned-at-upload, last-scanned-when-processed, counts-null-with-status"
                )
            })
    }
}

/// When an image's lifecycle steps happen, in epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// When the inventory is uploaded (`None`: never, the image stays unknown).
    pub uploaded_at: Option<u64>,
    /// When processing finishes (`None`: never, the image stays processing once uploaded).
    pub processed_at: Option<u64>,
}

impl Lifecycle {
    /// Uploaded and processed at `t`.
    pub fn processed_at(t: u64) -> Self {
        Lifecycle {
            uploaded_at: Some(t),
            processed_at: Some(t),
        }
    }

    /// The phase at `now_ms` (never [`Phase::Failed`]: that depends on the document).
    pub fn phase(&self, now_ms: u64) -> Phase {
        match self.uploaded_at {
            Some(u) if now_ms >= u => match self.processed_at {
                Some(p) if now_ms >= p.max(u) => Phase::Processed,
                _ => Phase::Processing,
            },
            _ => Phase::Unknown,
        }
    }
}

/// A document that cannot be stored as an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The document is not a JSON object.
    #[error(
        "the image document is not a JSON object (hint: give the body of GET /csapi/v1.3/images/{{sha}})"
    )]
    NotAnObject,
    /// `sha` is missing or not 64 hex digits.
    #[error(
        "the image document's `sha` is {found}, not 64 hex digits (hint: strip any `sha256:` prefix)"
    )]
    BadSha {
        /// What was found, quoted, or `missing`.
        found: String,
    },
}

/// How images are rendered when stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageOptions {
    /// What the processing state looks like.
    pub profile: ProcessingProfile,
    /// List items keep `vulnerabilities: null` even once processed.
    pub list_without_counts: bool,
}

/// One rendering of an image: the details body, the list item, and what QQL sees.
#[derive(Debug, Clone)]
pub struct View {
    /// The details body (`GET /csapi/v1.3/images/{sha}`).
    pub body: Bytes,
    /// The list item (`GET /csapi/v1.3/images`).
    pub summary: Value,
    /// `lastScanned` as the list shows it (what `lastScanned` filters see).
    pub last_scanned: Option<u64>,
    /// `updated` as the list shows it.
    pub updated: u64,
}

/// One stored image with its pre-rendered views.
#[derive(Debug)]
pub struct ImageEntry {
    /// 64-hex sha (lowercase).
    pub sha: String,
    /// 12-hex short id.
    pub image_id: String,
    /// `uuid` of the document (the sha when the document has none).
    pub uuid: String,
    /// Lifecycle times.
    pub lifecycle: Lifecycle,
    /// The profile the views were rendered with.
    pub profile: ProcessingProfile,
    /// The scan failed: the final view has no vulnerabilities.
    pub failed: bool,
    /// Number of vulnerabilities in the processed report (0 when failed).
    pub vulnerability_count: usize,
    /// The final view (processed, or failed).
    pub done: View,
    /// The view while processing (profile `counts-null-with-status`: its `PENDING` part).
    pub processing: View,
    /// Profile `counts-null-with-status`: from this time on, the `IN_PROGRESS` view.
    pub processing_late: Option<(u64, View)>,
    /// A re-scan: the previous scan's processed view, served until this scan is processed.
    pub previous: Option<View>,
    created: Option<u64>,
    operating_system: String,
    repos: Vec<(String, String, String)>,
}

fn null_counts() -> Value {
    json!({
        "severity5Count": null,
        "severity3Count": null,
        "severity4Count": null,
        "severity1Count": null,
        "severity2Count": null,
    })
}

fn is_failed(doc: &Map<String, Value>) -> bool {
    let status_failed = doc
        .get("scanStatus")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.eq_ignore_ascii_case("SUCCESS"));
    let code = doc.get("scanErrorCode").is_some_and(|c| !c.is_null());
    status_failed || code
}

fn to_view(doc: &Value, summary: Value, last_scanned: Option<u64>, updated: u64) -> View {
    View {
        body: Bytes::from(serde_json::to_vec(doc).unwrap_or_default()),
        summary,
        last_scanned,
        updated,
    }
}

impl ImageEntry {
    /// Builds an entry from an image-details document, re-timing it to `lifecycle`:
    /// `lastScanned`, `firstFound`/`lastFound` become the upload time, `updated` the time
    /// of the last step. Rendered with the default options.
    pub fn new(doc: Value, lifecycle: Lifecycle) -> Result<Self, StateError> {
        Self::build(doc, lifecycle, ImageOptions::default(), None)
    }

    /// Like [`ImageEntry::new`] with `profile`.
    pub fn with_profile(
        doc: Value,
        lifecycle: Lifecycle,
        profile: ProcessingProfile,
    ) -> Result<Self, StateError> {
        Self::build(
            doc,
            lifecycle,
            ImageOptions {
                profile,
                ..ImageOptions::default()
            },
            None,
        )
    }

    /// Builds an entry; `previous` is the view served until this scan is processed (a re-scan).
    #[allow(
        clippy::too_many_lines,
        reason = "one rendering pass over the document"
    )]
    pub fn build(
        mut doc: Value,
        lifecycle: Lifecycle,
        opts: ImageOptions,
        previous: Option<View>,
    ) -> Result<Self, StateError> {
        let profile = opts.profile;
        let obj = doc.as_object_mut().ok_or(StateError::NotAnObject)?;
        let sha = match obj.get("sha") {
            Some(Value::String(s)) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                s.to_ascii_lowercase()
            }
            Some(other) => {
                return Err(StateError::BadSha {
                    found: other.to_string(),
                });
            }
            None => {
                return Err(StateError::BadSha {
                    found: "missing".into(),
                });
            }
        };
        let image_id = sha[..12].to_owned();
        obj.insert("sha".into(), json!(sha));
        if obj.get("imageId").is_none_or(Value::is_null) {
            obj.insert("imageId".into(), json!(image_id));
        }
        let failed = is_failed(obj);
        let up = lifecycle.uploaded_at;
        let done = lifecycle.processed_at.map(|p| p.max(up.unwrap_or(0)));
        if let Some(u) = up {
            let u_s = json!(u.to_string());
            obj.insert("lastScanned".into(), u_s.clone());
            if let Some(Value::Array(vulns)) = obj.get_mut("vulnerabilities") {
                for v in vulns {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("firstFound".into(), u_s.clone());
                        o.insert("lastFound".into(), u_s.clone());
                    }
                }
            }
            let created = obj.get("created").and_then(ms_of);
            if created.is_none_or(|c| c > u) {
                obj.insert("created".into(), u_s.clone());
            }
        }
        let created = obj.get("created").and_then(ms_of);
        let uuid = obj
            .get("uuid")
            .and_then(Value::as_str)
            .map_or_else(|| sha.clone(), str::to_owned);
        let operating_system = obj
            .get("operatingSystem")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let repos = obj
            .get("repo")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|r| {
                        let f = |k: &str| {
                            r.get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        (f("registry"), f("repository"), f("tag"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut counts = [0u64; 6];
        if let Some(Value::Array(vulns)) = obj.get("vulnerabilities") {
            for v in vulns {
                if let Some(s) = v
                    .get("severity")
                    .and_then(Value::as_u64)
                    .filter(|s| (1..=5).contains(s))
                {
                    counts[usize::try_from(s).unwrap_or(0)] += 1;
                }
            }
        }

        // The document without its vulnerabilities (cloned without them, so a
        // 20,000-finding report is not copied).
        let vulns = obj.insert("vulnerabilities".into(), Value::Null);
        let base = doc;

        // While processing.
        let processing_doc = |status: Option<&str>| {
            let mut p = base.clone();
            if let Some(o) = p.as_object_mut() {
                if let Some(u) = up {
                    o.insert("updated".into(), json!(u.to_string()));
                    o.insert("lastUsedDate".into(), json!(u.to_string()));
                }
                if profile == ProcessingProfile::LastScannedWhenProcessed {
                    o.insert("lastScanned".into(), Value::Null);
                }
                o.insert(
                    "scanStatus".into(),
                    status.map_or(Value::Null, |s| json!(s)),
                );
                o.insert("scanErrorCode".into(), Value::Null);
            }
            p
        };
        let processing_last_scanned = match profile {
            ProcessingProfile::LastScannedWhenProcessed => None,
            _ => up,
        };
        let processing_counts = match profile {
            ProcessingProfile::CountsNullWithStatus => Some(null_counts()),
            _ => None,
        };
        let render_processing = |status: Option<&str>| {
            let p = processing_doc(status);
            let s = summary(&p, processing_counts.clone());
            to_view(&p, s, processing_last_scanned, up.unwrap_or(0))
        };
        let (processing, processing_late) = match profile {
            ProcessingProfile::CountsNullWithStatus => {
                let u = up.unwrap_or(0);
                let mid = done.map_or(u.saturating_add(10_000), |d| u + (d - u) / 2);
                (
                    render_processing(Some("PENDING")),
                    Some((mid, render_processing(Some("IN_PROGRESS")))),
                )
            }
            _ => (render_processing(None), None),
        };

        // The final view.
        let mut fin = base;
        let updated_done = done.or(up).unwrap_or(0);
        if let Some(o) = fin.as_object_mut() {
            if let Some(d) = done {
                o.insert("updated".into(), json!(d.to_string()));
                o.insert("lastUsedDate".into(), json!(d.to_string()));
            }
            if failed {
                if o.get("scanStatus")
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.eq_ignore_ascii_case("SUCCESS"))
                {
                    o.insert("scanStatus".into(), json!("FAILED"));
                }
            } else {
                let vulns = vulns.filter(|v| !v.is_null()).unwrap_or_else(|| json!([]));
                o.insert("vulnerabilities".into(), vulns);
                if profile == ProcessingProfile::CountsNullWithStatus
                    && o.get("scanStatus").is_none_or(Value::is_null)
                {
                    o.insert("scanStatus".into(), json!("SUCCESS"));
                    o.insert("scanErrorCode".into(), Value::Null);
                }
            }
        }
        let vulnerability_count = fin
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let done_counts = if failed {
            processing_counts.clone()
        } else if opts.list_without_counts {
            None
        } else {
            Some(json!({
                "severity5Count": counts[5],
                "severity3Count": counts[3],
                "severity4Count": counts[4],
                "severity1Count": counts[1],
                "severity2Count": counts[2],
            }))
        };
        let done_summary = summary(&fin, done_counts);
        let done_view = to_view(&fin, done_summary, up, updated_done);
        Ok(ImageEntry {
            image_id,
            uuid,
            lifecycle,
            profile,
            failed,
            vulnerability_count,
            done: done_view,
            processing,
            processing_late,
            previous,
            created,
            operating_system,
            repos,
            sha,
        })
    }

    /// The phase at `now_ms`. A re-scan whose new upload has not arrived yet is
    /// [`Phase::Processed`] (the previous report is served).
    pub fn phase(&self, now_ms: u64) -> Phase {
        match self.lifecycle.phase(now_ms) {
            Phase::Unknown if self.previous.is_some() => Phase::Processed,
            Phase::Processed if self.failed => Phase::Failed,
            p => p,
        }
    }

    fn processing_view(&self, now_ms: u64) -> &View {
        match &self.processing_late {
            Some((from, v)) if now_ms >= *from => v,
            _ => &self.processing,
        }
    }

    /// The view the list shows at `now_ms` (`None` while unknown).
    pub fn list_view(&self, now_ms: u64) -> Option<&View> {
        match self.lifecycle.phase(now_ms) {
            Phase::Unknown => self.previous.as_ref(),
            Phase::Processing => match (&self.previous, self.profile) {
                (Some(prev), ProcessingProfile::LastScannedWhenProcessed) => Some(prev),
                _ => Some(self.processing_view(now_ms)),
            },
            Phase::Processed | Phase::Failed => Some(&self.done),
        }
    }

    /// The view the details (and `/vuln`, `/software`) show at `now_ms` (`None` while unknown).
    pub fn details_view(&self, now_ms: u64) -> Option<&View> {
        match self.lifecycle.phase(now_ms) {
            Phase::Unknown => self.previous.as_ref(),
            Phase::Processing => self
                .previous
                .as_ref()
                .or_else(|| Some(self.processing_view(now_ms))),
            Phase::Processed | Phase::Failed => Some(&self.done),
        }
    }

    /// The list item at `now_ms` (`None` while unknown).
    pub fn summary_at(&self, now_ms: u64) -> Option<&Value> {
        self.list_view(now_ms).map(|v| &v.summary)
    }

    /// The details body at `now_ms` (`None` while unknown).
    pub fn details_at(&self, now_ms: u64) -> Option<Bytes> {
        self.details_view(now_ms).map(|v| v.body.clone())
    }

    /// A view for QQL evaluation at `now_ms`.
    pub fn target(&self, now_ms: u64) -> EntryAt<'_> {
        EntryAt {
            entry: self,
            now_ms,
        }
    }

    /// `updated` at `now_ms` as the list shows it, used for sorting.
    pub fn updated_at(&self, now_ms: u64) -> u64 {
        self.list_view(now_ms).map_or(0, |v| v.updated)
    }

    /// `lastScanned` at `now_ms` as the list shows it.
    pub fn last_scanned_at(&self, now_ms: u64) -> Option<u64> {
        self.list_view(now_ms).and_then(|v| v.last_scanned)
    }

    /// The view a later scan of the same sha, uploaded at `upload_ms`, keeps serving until it
    /// is processed: this scan's report when it was processed by then, else what this entry
    /// itself was still serving from an earlier scan.
    pub fn previous_for(&self, upload_ms: u64) -> Option<View> {
        match self.phase(upload_ms) {
            Phase::Processed if self.lifecycle.phase(upload_ms) == Phase::Processed => {
                Some(self.done.clone())
            }
            _ => self.previous.clone(),
        }
    }
}

/// An [`ImageEntry`] seen at one instant, for QQL.
pub struct EntryAt<'a> {
    entry: &'a ImageEntry,
    now_ms: u64,
}

impl QqlTarget for EntryAt<'_> {
    fn text(&self, field: Field) -> Vec<&str> {
        let e = self.entry;
        match field {
            Field::Sha => vec![&e.sha],
            Field::ImageId => vec![&e.image_id],
            Field::OperatingSystem => vec![&e.operating_system],
            Field::RepoRegistry => e.repos.iter().map(|r| r.0.as_str()).collect(),
            Field::RepoRepository => e.repos.iter().map(|r| r.1.as_str()).collect(),
            Field::RepoTag => e.repos.iter().map(|r| r.2.as_str()).collect(),
            Field::LastScanned | Field::Updated | Field::Created => vec![],
        }
    }

    fn time(&self, field: Field) -> Option<u64> {
        match field {
            Field::LastScanned => self.entry.last_scanned_at(self.now_ms),
            Field::Updated => Some(self.entry.updated_at(self.now_ms)),
            Field::Created => self.entry.created,
            _ => None,
        }
    }
}

fn ms_of(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The list-item (summary) shape of §3.3 built from a details document; `vulnerabilities`
/// is `counts` (a counts object) or null.
fn summary(doc: &Value, counts: Option<Value>) -> Value {
    let g = |k: &str| doc.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "created": g("created"),
        "updated": g("updated"),
        "lastUsedDate": g("lastUsedDate"),
        "lastScanned": g("lastScanned"),
        "sha": g("sha"),
        "repo": g("repo"),
        "repoDigests": g("repoDigests"),
        "uuid": g("uuid"),
        "size": g("size"),
        "vulnerabilities": counts.unwrap_or(Value::Null),
        "imageId": g("imageId"),
        "operatingSystem": g("operatingSystem"),
        "associatedContainersCount": g("associatedContainersCount"),
        "associatedHostsCount": g("associatedHostsCount"),
        "lastVmScanDate": g("lastVmScanDate"),
        "registryUuid": g("registryUuid"),
        "source": g("source"),
        "isDockerHubOfficial": g("isDockerHubOfficial"),
        "scanType": g("scanType"),
        "scanTypes": g("scanTypes"),
        "scanErrorCode": g("scanErrorCode"),
        "scanStatus": g("scanStatus"),
        "riskScore": g("riskScore"),
        "maxQdsScore": g("maxQdsScore"),
        "qdsSeverity": g("qdsSeverity"),
        "criticality": g("criticality"),
    })
}

/// All images, by sha, with a 12-hex index.
#[derive(Debug, Default)]
pub struct Images {
    inner: RwLock<ImagesInner>,
    options: RwLock<ImageOptions>,
}

#[derive(Debug, Default)]
struct ImagesInner {
    by_sha: HashMap<String, Arc<ImageEntry>>,
    by_id: HashMap<String, String>,
}

impl Images {
    fn options(&self) -> ImageOptions {
        *self
            .options
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn options_mut(&self) -> std::sync::RwLockWriteGuard<'_, ImageOptions> {
        self.options
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The processing profile of images stored from now on.
    pub fn set_profile(&self, profile: ProcessingProfile) {
        self.options_mut().profile = profile;
    }

    /// The processing profile images are stored with.
    pub fn profile(&self) -> ProcessingProfile {
        self.options().profile
    }

    /// Whether images stored from now on are listed with `vulnerabilities: null` even once
    /// processed (a platform whose list does not fill in the counts).
    pub fn set_list_without_counts(&self, on: bool) {
        self.options_mut().list_without_counts = on;
    }

    /// Stores an image as the sensor uploads it. When the sha is already known with a report
    /// processed before this upload, that report keeps being served until the new one is
    /// processed (a re-scan); otherwise the image is stored afresh. Returns its sha.
    pub fn insert(&self, doc: Value, lifecycle: Lifecycle) -> Result<String, StateError> {
        let sha = doc
            .get("sha")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let previous = match (sha.and_then(|s| self.get(&s)), lifecycle.uploaded_at) {
            (Some(old), Some(u)) => old.previous_for(u),
            _ => None,
        };
        Ok(self.store(ImageEntry::build(doc, lifecycle, self.options(), previous)?))
    }

    /// Stores (or replaces) an image, forgetting any earlier scan of its sha.
    pub fn insert_fresh(&self, doc: Value, lifecycle: Lifecycle) -> Result<String, StateError> {
        Ok(self.store(ImageEntry::build(doc, lifecycle, self.options(), None)?))
    }

    /// Stores a re-scan: `previous` (a document processed at `previous_at_ms`) is served until
    /// `doc` is processed.
    pub fn insert_rescan(
        &self,
        doc: Value,
        lifecycle: Lifecycle,
        mut previous: Value,
        previous_at_ms: u64,
    ) -> Result<String, StateError> {
        if let (Some(o), Some(sha)) = (previous.as_object_mut(), doc.get("sha")) {
            o.insert("sha".into(), sha.clone());
            o.remove("imageId");
            o.insert("scanStatus".into(), json!("SUCCESS"));
            o.insert("scanErrorCode".into(), Value::Null);
        }
        let prev = ImageEntry::build(
            previous,
            Lifecycle::processed_at(previous_at_ms),
            self.options(),
            None,
        )?;
        Ok(self.store(ImageEntry::build(
            doc,
            lifecycle,
            self.options(),
            Some(prev.done),
        )?))
    }

    fn store(&self, entry: ImageEntry) -> String {
        let sha = entry.sha.clone();
        let mut g = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.by_id.insert(entry.image_id.clone(), sha.clone());
        g.by_sha.insert(sha.clone(), Arc::new(entry));
        sha
    }

    /// Looks an image up by 64-hex sha or 12-hex id (case-insensitive).
    pub fn get(&self, id: &str) -> Option<Arc<ImageEntry>> {
        let id = id.to_ascii_lowercase();
        let g = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match id.len() {
            64 => g.by_sha.get(&id).cloned(),
            12 => g.by_id.get(&id).and_then(|s| g.by_sha.get(s)).cloned(),
            _ => None,
        }
    }

    /// Changes an image's lifecycle (re-rendering its views, keeping a re-scan's previous
    /// report); `false` when unknown.
    pub fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> bool {
        let Some(e) = self.get(id) else { return false };
        let opts = ImageOptions {
            profile: e.profile,
            list_without_counts: self.options().list_without_counts,
        };
        let Ok(doc) = serde_json::from_slice::<Value>(&e.done.body) else {
            return false;
        };
        match ImageEntry::build(doc, lifecycle, opts, e.previous.clone()) {
            Ok(entry) => {
                self.store(entry);
                true
            }
            Err(_) => false,
        }
    }

    /// Every image, in no particular order.
    pub fn all(&self) -> Vec<Arc<ImageEntry>> {
        let g = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.by_sha.values().cloned().collect()
    }

    /// Number of stored images (whatever their phase).
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_sha
            .len()
    }

    /// Whether no image is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{ReportSpec, generate};

    #[test]
    fn lifecycle_phases() {
        let l = Lifecycle {
            uploaded_at: Some(100),
            processed_at: Some(200),
        };
        assert_eq!(l.phase(99), Phase::Unknown);
        assert_eq!(l.phase(100), Phase::Processing);
        assert_eq!(l.phase(199), Phase::Processing);
        assert_eq!(l.phase(200), Phase::Processed);
        let never = Lifecycle {
            uploaded_at: Some(100),
            processed_at: None,
        };
        assert_eq!(never.phase(u64::MAX), Phase::Processing);
        let unscanned = Lifecycle {
            uploaded_at: None,
            processed_at: Some(0),
        };
        assert_eq!(unscanned.phase(u64::MAX), Phase::Unknown);
    }

    #[test]
    fn entries_are_retimed_and_render_both_views() {
        let doc = generate(&ReportSpec {
            vulnerabilities: 12,
            ..ReportSpec::default()
        });
        let sha = doc["sha"].as_str().expect("sha").to_owned();
        let images = Images::default();
        images.set_profile(ProcessingProfile::LastScannedAtUpload);
        let life = Lifecycle {
            uploaded_at: Some(5_000_000),
            processed_at: Some(5_060_000),
        };
        assert_eq!(images.insert(doc, life).expect("stored"), sha);
        let e = images.get(&sha[..12]).expect("by short id");
        assert!(e.details_at(4_999_999).is_none());
        let processing: Value =
            serde_json::from_slice(&e.details_at(5_000_000).expect("body")).expect("json");
        assert!(processing["vulnerabilities"].is_null());
        assert_eq!(processing["lastScanned"], "5000000");
        let done: Value =
            serde_json::from_slice(&e.details_at(5_060_000).expect("body")).expect("json");
        assert_eq!(done["vulnerabilities"].as_array().map(Vec::len), Some(12));
        assert_eq!(done["updated"], "5060000");
        assert_eq!(done["vulnerabilities"][0]["firstFound"], "5000000");
        let s = e.summary_at(5_060_000).expect("summary");
        let total: u64 = (1..=5)
            .map(|i| {
                s["vulnerabilities"][format!("severity{i}Count")]
                    .as_u64()
                    .expect("count")
            })
            .sum();
        assert_eq!(total, 12);
        assert!(e.summary_at(5_000_000).expect("summary")["vulnerabilities"].is_null());
    }

    #[test]
    fn processing_can_hide_last_scanned() {
        let doc = generate(&ReportSpec {
            vulnerabilities: 2,
            ..ReportSpec::default()
        });
        let life = Lifecycle {
            uploaded_at: Some(1_000),
            processed_at: Some(2_000),
        };
        let e = ImageEntry::with_profile(doc, life, ProcessingProfile::LastScannedWhenProcessed)
            .expect("stored");
        let v: Value = serde_json::from_slice(&e.details_at(1_500).expect("body")).expect("json");
        assert!(v["lastScanned"].is_null() && v["vulnerabilities"].is_null());
        assert!(e.summary_at(1_500).expect("summary")["lastScanned"].is_null());
        let filter = crate::qql::parse("lastScanned:[now-10s ... now]").expect("filter");
        assert!(!filter.matches(&e.target(1_500), 1_500));
        assert!(filter.matches(&e.target(2_000), 2_000));
        let v: Value = serde_json::from_slice(&e.details_at(2_000).expect("body")).expect("json");
        assert_eq!(v["lastScanned"], "1000");
    }

    #[test]
    fn the_sensor_uploading_a_known_sha_again_is_a_rescan() {
        let images = Images::default();
        let doc = |n| {
            generate(&ReportSpec {
                vulnerabilities: n,
                ..ReportSpec::default()
            })
        };
        let sha = images
            .insert(doc(3), Lifecycle::processed_at(1_000))
            .expect("stored");
        let again = Lifecycle {
            uploaded_at: Some(5_000),
            processed_at: Some(9_000),
        };
        images.insert(doc(5), again).expect("stored");
        let e = images.get(&sha).expect("known");
        assert!(e.previous.is_some());
        let at =
            |t| -> Value { serde_json::from_slice(&e.details_at(t).expect("body")).expect("json") };
        assert_eq!(at(4_000)["lastScanned"], "1000");
        assert_eq!(at(6_000)["lastScanned"], "1000");
        assert_eq!(
            at(6_000)["vulnerabilities"].as_array().map(Vec::len),
            Some(3)
        );
        assert_eq!(at(9_000)["lastScanned"], "5000");
        assert_eq!(
            at(9_000)["vulnerabilities"].as_array().map(Vec::len),
            Some(5)
        );
        assert_eq!(e.phase(4_000), Phase::Processed);
        assert_eq!(e.phase(6_000), Phase::Processing);
        // Re-timing keeps the earlier report; storing afresh forgets it.
        assert!(images.set_lifecycle(&sha, again));
        assert!(images.get(&sha).expect("known").previous.is_some());
        images.insert_fresh(doc(5), again).expect("stored");
        assert!(images.get(&sha).expect("known").previous.is_none());
        // A scan still processing at the new upload leaves nothing to serve meanwhile.
        let other = Images::default();
        let first = Lifecycle {
            uploaded_at: Some(1_000),
            processed_at: Some(20_000),
        };
        other.insert(doc(3), first).expect("stored");
        other.insert(doc(5), again).expect("stored");
        assert!(other.get(&sha).expect("known").previous.is_none());
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        let images = Images::default();
        assert_eq!(
            images.insert(json!([1]), Lifecycle::processed_at(0)),
            Err(StateError::NotAnObject)
        );
        let e = images
            .insert(json!({"sha": "sha256:abc"}), Lifecycle::processed_at(0))
            .expect_err("bad");
        assert!(e.to_string().contains("\"sha256:abc\""));
        assert!(
            images
                .insert(json!({}), Lifecycle::processed_at(0))
                .is_err()
        );
        assert!(images.is_empty());
    }
}
