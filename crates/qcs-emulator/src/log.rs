//! The request log the control API exposes: every API call with its endpoint key, status and
//! fault, plus counts per endpoint.

use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// Entries kept (older ones are dropped; counts are kept for all).
const KEEP: usize = 10_000;

/// One logged request. Headers and bodies are not logged (they carry secrets).
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Sequence number from 1.
    pub seq: u64,
    /// Emulator time when it arrived, epoch ms.
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Endpoint key (as used by fault rules).
    pub endpoint: String,
    /// Response status (0 when the connection was dropped or never answered).
    pub status: u16,
    /// The fault applied, if any (its `kind`).
    pub fault: Option<String>,
}

/// Request log with per-endpoint counts.
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    entries: VecDeque<LogEntry>,
    counts: BTreeMap<String, u64>,
    total: u64,
}

/// A snapshot for `GET /_emulator/requests`.
#[derive(Debug, Clone, Serialize)]
pub struct LogSnapshot {
    /// All requests since the last reset.
    pub total: u64,
    /// Requests per endpoint key.
    pub counts: BTreeMap<String, u64>,
    /// The latest entries (at most 10,000), oldest first.
    pub entries: Vec<LogEntry>,
}

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a request; returns its sequence number.
    pub fn record(&self, mut entry: LogEntry) -> u64 {
        let mut g = self.lock();
        g.total += 1;
        entry.seq = g.total;
        *g.counts.entry(entry.endpoint.clone()).or_default() += 1;
        if g.entries.len() == KEEP {
            g.entries.pop_front();
        }
        g.entries.push_back(entry);
        g.total
    }

    /// Sets the status of entry `seq` once the response is known.
    pub fn set_status(&self, seq: u64, status: u16) {
        let mut g = self.lock();
        if let Some(e) = g.entries.iter_mut().rev().find(|e| e.seq == seq) {
            e.status = status;
        }
    }

    /// A copy of the log.
    pub fn snapshot(&self) -> LogSnapshot {
        let g = self.lock();
        LogSnapshot {
            total: g.total,
            counts: g.counts.clone(),
            entries: g.entries.iter().cloned().collect(),
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        *self.lock() = LogInner::default();
    }
}
