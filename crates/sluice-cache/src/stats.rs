//! Looking at the whole store: counts, listings, and emptying it.

use std::collections::BTreeMap;

use crate::backend::LockMode;
use crate::cache::Cache;
use crate::entry::{EntryRecord, decode_entry};
use crate::error::CacheError;

/// How much the store holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Entries, all kinds together.
    pub entries: u64,
    /// Entries per kind.
    pub entries_by_kind: BTreeMap<String, u64>,
    /// Blobs (file contents and manifests).
    pub blobs: u64,
    /// Bytes the blobs hold.
    pub bytes: u64,
}

impl Cache {
    /// Counts entries (per kind) and blobs, and sums blob sizes.
    pub fn stats(&self) -> Result<StoreStats, CacheError> {
        let mut stats = StoreStats::default();
        for stored in self.backend.list_entries(None)? {
            stats.entries += 1;
            *stats.entries_by_kind.entry(stored.kind).or_insert(0) += 1;
        }
        for blob in self.backend.list_blobs()? {
            stats.blobs += 1;
            stats.bytes += blob.size;
        }
        Ok(stats)
    }

    /// Every entry, sorted by kind then id (damaged entry files are
    /// skipped). Does not mark them used.
    pub fn list(&self) -> Result<Vec<EntryRecord>, CacheError> {
        let mut records: Vec<EntryRecord> = self
            .backend
            .list_entries(None)?
            .iter()
            .filter_map(|stored| decode_entry(stored).ok())
            .collect();
        records.sort_by(|a, b| (&a.kind, &a.id).cmp(&(&b.kind, &b.id)));
        Ok(records)
    }

    /// Removes every entry and blob, waiting for running saves and
    /// restores (in every process) to finish first.
    pub fn clear(&self) -> Result<(), CacheError> {
        let _lock = self.backend.lock(LockMode::Exclusive)?;
        self.backend.clear()
    }
}
