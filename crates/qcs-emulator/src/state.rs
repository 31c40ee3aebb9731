//! Images known to the emulated platform and their lifecycle (`qualys-api.md` §7).
//!
//! Each image has an upload time (the sensor's inventory arrives; `None`: never) and a
//! processing-done time (`None`: never finishes). At any instant an image is therefore
//! [`Phase::Unknown`] (details 404, list skips it), [`Phase::Processing`] (details 200 with
//! `vulnerabilities: null`, list shows it with `lastScanned` set) or [`Phase::Processed`]
//! (details 200 with the full report). Phases are computed from the clock on every read, so
//! advancing the clock is all it takes to move an image on. Response bodies are serialised
//! once, when the image is stored.

use crate::qql::{Field, QqlTarget};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
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

    /// The phase at `now_ms`.
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

/// One stored image with its pre-rendered bodies.
#[derive(Debug)]
pub struct ImageEntry {
    /// 64-hex sha (lowercase).
    pub sha: String,
    /// 12-hex short id.
    pub image_id: String,
    /// Lifecycle times.
    pub lifecycle: Lifecycle,
    /// Details body once processed.
    pub processed_body: Bytes,
    /// Details body while processing (`vulnerabilities: null`).
    pub processing_body: Bytes,
    /// List item once processed (counts object in `vulnerabilities`).
    pub summary_processed: Value,
    /// List item while processing (`vulnerabilities: null`).
    pub summary_processing: Value,
    /// Number of vulnerabilities in the processed report.
    pub vulnerability_count: usize,
    /// While processing, `lastScanned` reads as null (and list filters on it do not match).
    hides_last_scanned: bool,
    created: Option<u64>,
    updated_processed: Option<u64>,
    updated_processing: Option<u64>,
    operating_system: String,
    repos: Vec<(String, String, String)>,
}

impl ImageEntry {
    /// Builds an entry from an image-details document, re-timing it to `lifecycle`:
    /// `lastScanned`, `firstFound`/`lastFound` become the upload time, `updated` the time
    /// of the last step.
    pub fn new(doc: Value, lifecycle: Lifecycle) -> Result<Self, StateError> {
        Self::with_options(doc, lifecycle, false)
    }

    /// Like [`ImageEntry::new`]; with `hide_last_scanned_while_processing`, the processing view
    /// has `lastScanned: null` (the behaviour `QC`'s v1.3 script expects, `qualys-api.md` §4.1)
    /// instead of the upload time (§7), so a `lastScanned` filter matches only once processed.
    pub fn with_options(
        mut doc: Value,
        lifecycle: Lifecycle,
        hide_last_scanned_while_processing: bool,
    ) -> Result<Self, StateError> {
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
        let vulnerability_count = obj
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
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

        // Processing view: the document without its vulnerabilities (cloned without them,
        // so a 20,000-finding report is not copied).
        let vulns = doc
            .as_object_mut()
            .and_then(|o| o.insert("vulnerabilities".into(), Value::Null));
        let mut processing = doc.clone();
        if let (Some(o), Some(u)) = (processing.as_object_mut(), up) {
            o.insert("updated".into(), json!(u.to_string()));
            o.insert("lastUsedDate".into(), json!(u.to_string()));
            if hide_last_scanned_while_processing {
                o.insert("lastScanned".into(), Value::Null);
            }
        }
        // Processed view.
        let mut processed = doc;
        if let Some(o) = processed.as_object_mut() {
            if let Some(d) = done {
                o.insert("updated".into(), json!(d.to_string()));
                o.insert("lastUsedDate".into(), json!(d.to_string()));
            }
            let vulns = vulns.filter(|v| !v.is_null()).unwrap_or_else(|| json!([]));
            o.insert("vulnerabilities".into(), vulns);
        }
        let summary_processed = summary(&processed, Some(counts));
        let summary_processing = summary(&processing, None);
        Ok(ImageEntry {
            image_id,
            lifecycle,
            processed_body: Bytes::from(serde_json::to_vec(&processed).unwrap_or_default()),
            processing_body: Bytes::from(serde_json::to_vec(&processing).unwrap_or_default()),
            summary_processed,
            summary_processing,
            vulnerability_count,
            hides_last_scanned: hide_last_scanned_while_processing,
            created,
            updated_processed: done,
            updated_processing: up,
            operating_system,
            repos,
            sha,
        })
    }

    /// The phase at `now_ms`.
    pub fn phase(&self, now_ms: u64) -> Phase {
        self.lifecycle.phase(now_ms)
    }

    /// The list item at `now_ms` (`None` while unknown).
    pub fn summary_at(&self, now_ms: u64) -> Option<&Value> {
        match self.phase(now_ms) {
            Phase::Unknown => None,
            Phase::Processing => Some(&self.summary_processing),
            Phase::Processed => Some(&self.summary_processed),
        }
    }

    /// The details body at `now_ms` (`None` while unknown).
    pub fn details_at(&self, now_ms: u64) -> Option<Bytes> {
        match self.phase(now_ms) {
            Phase::Unknown => None,
            Phase::Processing => Some(self.processing_body.clone()),
            Phase::Processed => Some(self.processed_body.clone()),
        }
    }

    /// A view for QQL evaluation at `now_ms`.
    pub fn target(&self, now_ms: u64) -> EntryAt<'_> {
        EntryAt {
            entry: self,
            now_ms,
        }
    }

    /// `updated` at `now_ms`, used for sorting.
    pub fn updated_at(&self, now_ms: u64) -> u64 {
        match self.phase(now_ms) {
            Phase::Processed => self.updated_processed.unwrap_or(0),
            _ => self.updated_processing.unwrap_or(0),
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
            Field::LastScanned => {
                if self.entry.hides_last_scanned
                    && self.entry.phase(self.now_ms) == Phase::Processing
                {
                    None
                } else {
                    self.entry.lifecycle.uploaded_at
                }
            }
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

/// The list-item (summary) shape of §3.3 built from a details document.
fn summary(doc: &Value, counts: Option<[u64; 6]>) -> Value {
    let g = |k: &str| doc.get(k).cloned().unwrap_or(Value::Null);
    let vulns = counts.map_or(Value::Null, |c| {
        json!({
            "severity5Count": c[5],
            "severity3Count": c[3],
            "severity4Count": c[4],
            "severity1Count": c[1],
            "severity2Count": c[2],
        })
    });
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
        "vulnerabilities": vulns,
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
    hide_last_scanned: std::sync::atomic::AtomicBool,
    list_without_counts: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct ImagesInner {
    by_sha: HashMap<String, Arc<ImageEntry>>,
    by_id: HashMap<String, String>,
}

impl Images {
    /// Whether images stored from now on read `lastScanned: null` while processing.
    pub fn set_hide_last_scanned_while_processing(&self, hide: bool) {
        self.hide_last_scanned
            .store(hide, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether images stored from now on are listed with `vulnerabilities: null` even once
    /// processed (a platform whose list does not fill in the counts).
    pub fn set_list_without_counts(&self, on: bool) {
        self.list_without_counts
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stores (or replaces) an image; returns its sha.
    pub fn insert(&self, doc: Value, lifecycle: Lifecycle) -> Result<String, StateError> {
        let hide = self
            .hide_last_scanned
            .load(std::sync::atomic::Ordering::SeqCst);
        let mut entry = ImageEntry::with_options(doc, lifecycle, hide)?;
        if self
            .list_without_counts
            .load(std::sync::atomic::Ordering::SeqCst)
            && let Some(o) = entry.summary_processed.as_object_mut()
        {
            o.insert("vulnerabilities".into(), Value::Null);
        }
        let sha = entry.sha.clone();
        let mut g = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.by_id.insert(entry.image_id.clone(), sha.clone());
        g.by_sha.insert(sha.clone(), Arc::new(entry));
        Ok(sha)
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

    /// Changes an image's lifecycle (re-rendering its bodies); `false` when unknown.
    pub fn set_lifecycle(&self, id: &str, lifecycle: Lifecycle) -> bool {
        let Some(e) = self.get(id) else { return false };
        let Ok(doc) = serde_json::from_slice::<Value>(&e.processed_body) else {
            return false;
        };
        self.insert(doc, lifecycle).is_ok()
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
        let e = ImageEntry::with_options(doc, life, true).expect("stored");
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
