//! Keeping the store bounded: evict old and least recently used entries,
//! then sweep the blobs nothing refers to.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use crate::backend::{BlobInfo, Housekeeping, LockMode};
use crate::cache::Cache;
use crate::digest::Digest;
use crate::entry::{EntryRecord, decode_entry, entry_name};
use crate::error::CacheError;
use crate::time::{age, from_unix_ms};

/// `maybe_prune` prunes at least this often.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Staging files older than this were left by a writer that died.
pub(crate) const STALE_STAGING_AGE: Duration = Duration::from_secs(60 * 60);

/// What a prune removed and left.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PruneReport {
    /// Entries removed because they were unused for longer than `max_age`.
    pub expired: Vec<EntryRecord>,
    /// Entries removed, least recently used first, to get under
    /// `max_bytes`.
    pub evicted: Vec<EntryRecord>,
    /// Entry files that could not be read as entries, removed.
    pub invalid_entries: Vec<PathBuf>,
    /// Entries left.
    pub entries_kept: u64,
    /// Blobs removed because nothing refers to them.
    pub blobs_removed: u64,
    /// Bytes those blobs held.
    pub bytes_freed: u64,
    /// Stale staging files removed.
    pub staging_removed: u64,
    /// Bytes of the blobs the remaining entries refer to (each blob once).
    pub bytes_referenced: u64,
    /// Bytes of all blobs left (including recent unreferenced ones, kept
    /// for the grace period).
    pub bytes_stored: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

impl Cache {
    /// Prunes the store, waiting for running saves and restores (in every
    /// process) to finish and keeping new ones waiting meanwhile:
    ///
    /// 1. entries unused for longer than `max_age` are removed;
    /// 2. then the least recently used entries, until the blobs the
    ///    remaining ones refer to (directly or through manifests, each blob
    ///    counted once) take at most `max_bytes`;
    /// 3. then every blob no remaining entry refers to, except blobs
    ///    stored or touched within `unreferenced_grace` and what such a
    ///    recent manifest lists (a capture whose entry is yet to come);
    /// 4. and every staging file (none is being written while it runs).
    pub fn prune(&self) -> Result<PruneReport, CacheError> {
        let _lock = self.backend.lock(LockMode::Exclusive)?;
        self.prune_locked(self.config.unreferenced_grace)
    }

    /// [`Cache::prune`] without the grace for unreferenced blobs: every
    /// blob no entry refers to goes, however new (what a save killed
    /// half-way left, say). Sluice's own saves hold the store across
    /// capture and entry, so none is between the two while this runs;
    /// a caller that is (one not holding [`Cache::hold`]) then fails its
    /// `put_entry` with [`CacheError::Missing`], and saves nothing wrong.
    pub fn prune_now(&self) -> Result<PruneReport, CacheError> {
        let _lock = self.backend.lock(LockMode::Exclusive)?;
        self.prune_locked(Duration::ZERO)
    }

    /// Prunes if it is due: the last prune was more than an hour ago, or
    /// the bytes stored since then may have pushed the store over
    /// `max_bytes` (an estimate kept by every save, read without touching
    /// the store). Does not wait: if any save, restore or prune is running,
    /// it returns `Ok(None)` and leaves the prune to a later call.
    pub fn maybe_prune(&self) -> Result<Option<PruneReport>, CacheError> {
        if !self.prune_due(&self.backend.housekeeping()?) {
            return Ok(None);
        }
        let Some(_lock) = self.backend.try_lock_exclusive()? else {
            return Ok(None);
        };
        // Another process may have pruned between the check and the lock.
        if !self.prune_due(&self.backend.housekeeping()?) {
            return Ok(None);
        }
        self.prune_locked(self.config.unreferenced_grace).map(Some)
    }

    fn prune_due(&self, housekeeping: &Housekeeping) -> bool {
        let Some(last) = housekeeping.last_prune else {
            return true;
        };
        age(SystemTime::now(), last) > PRUNE_INTERVAL
            || housekeeping
                .bytes_after_last_prune
                .saturating_add(housekeeping.bytes_added_since)
                > self.config.max_bytes
    }

    fn prune_locked(&self, unreferenced_grace: Duration) -> Result<PruneReport, CacheError> {
        let started = Instant::now();
        let now = SystemTime::now();
        let mut report = PruneReport::default();

        let mut live = Vec::new();
        for stored in self.backend.list_entries(None)? {
            match decode_entry(&stored) {
                Ok(record) => live.push(record),
                Err(_) => {
                    self.backend.delete_entry(&stored.kind, &stored.name)?;
                    report.invalid_entries.push(stored.location);
                }
            }
        }

        let blobs = self.backend.list_blobs()?;
        let mut index = BlobIndex::new(&blobs);
        // What expired and evicted entries referred to was stored and
        // committed long ago or just now: the grace for unreferenced blobs
        // (which protects captures whose entry is yet to come) must not
        // keep it, or the store would stay over its limit for an hour.
        let mut released: HashSet<u32> = HashSet::new();

        let (expired, mut live): (Vec<_>, Vec<_>) = live
            .into_iter()
            .partition(|record| age(now, from_unix_ms(record.last_used_ms)) > self.config.max_age);
        for record in &expired {
            released.extend(self.reach_of(record, &mut index)?);
            self.delete_record(record)?;
        }
        report.expired = expired;

        // Least recently used first; ties broken by age, then name.
        live.sort_by(|a, b| {
            (a.last_used_ms, a.created_ms, &a.kind, &a.id).cmp(&(
                b.last_used_ms,
                b.created_ms,
                &b.kind,
                &b.id,
            ))
        });
        let mut reach = Vec::with_capacity(live.len());
        for record in &live {
            let blobs = self.reach_of(record, &mut index)?;
            index.add(&blobs);
            reach.push(blobs);
        }
        let mut kept_from = 0;
        while index.referenced_bytes > self.config.max_bytes && kept_from < live.len() {
            index.remove(&reach[kept_from]);
            released.extend(reach[kept_from].iter().copied());
            self.delete_record(&live[kept_from])?;
            kept_from += 1;
        }
        report.evicted = live.drain(..kept_from).collect();
        report.entries_kept = live.len() as u64;
        report.bytes_referenced = index.referenced_bytes;

        let mut keep: HashSet<u32> = (0..blobs.len() as u32)
            .filter(|&i| index.references[i as usize] > 0)
            .collect();
        for (i, blob) in blobs.iter().enumerate() {
            if age(now, blob.modified) > unreferenced_grace || released.contains(&(i as u32)) {
                continue;
            }
            keep.insert(i as u32);
            if let Some(listed) = index.manifest(self, &blob.digest)? {
                keep.extend(listed.iter().copied().filter(|b| !released.contains(b)));
            }
        }
        let mut unreferenced = Vec::new();
        for (i, blob) in blobs.iter().enumerate() {
            if keep.contains(&(i as u32)) {
                report.bytes_stored += blob.size;
            } else {
                unreferenced.push(blob.digest);
                report.blobs_removed += 1;
                report.bytes_freed += blob.size;
            }
        }
        // All at once: a pack is rewritten once, however many of its blobs go.
        self.backend.delete_blobs(&unreferenced)?;

        // Every save holds the store while it writes, so under the
        // exclusive lock every staging file is one a crash left.
        report.staging_removed = self.backend.remove_stale_staging(Duration::ZERO)?;
        self.backend.record_prune(now, report.bytes_referenced)?;
        report.elapsed = started.elapsed();
        Ok(report)
    }

    fn delete_record(&self, record: &EntryRecord) -> Result<(), CacheError> {
        self.backend
            .delete_entry(&record.kind, &entry_name(&record.id))
            .map(|_| ())
    }

    /// The stored blobs an entry keeps alive, each once.
    fn reach_of(
        &self,
        record: &EntryRecord,
        index: &mut BlobIndex,
    ) -> Result<Vec<u32>, CacheError> {
        let mut reached = HashSet::new();
        for reference in &record.references {
            if let Some(&i) = index.position.get(reference) {
                reached.insert(i);
            }
            if let Some(listed) = index.manifest(self, reference)? {
                reached.extend(listed.iter().copied());
            }
        }
        Ok(reached.into_iter().collect())
    }
}

/// The stored blobs by position, with how many live entries refer to each,
/// and the manifests read so far (as positions, 4 bytes per file, so even
/// many large manifests fit in memory).
struct BlobIndex {
    position: HashMap<Digest, u32>,
    sizes: Vec<u64>,
    references: Vec<u32>,
    referenced_bytes: u64,
    manifests: HashMap<Digest, Option<Rc<[u32]>>>,
}

impl BlobIndex {
    fn new(blobs: &[BlobInfo]) -> Self {
        BlobIndex {
            position: blobs
                .iter()
                .enumerate()
                .map(|(i, blob)| (blob.digest, i as u32))
                .collect(),
            sizes: blobs.iter().map(|blob| blob.size).collect(),
            references: vec![0; blobs.len()],
            referenced_bytes: 0,
            manifests: HashMap::new(),
        }
    }

    /// The stored blobs manifest `digest` lists (`None` if it is not a
    /// manifest), read once.
    fn manifest(
        &mut self,
        cache: &Cache,
        digest: &Digest,
    ) -> Result<Option<Rc<[u32]>>, CacheError> {
        if let Some(known) = self.manifests.get(digest) {
            return Ok(known.clone());
        }
        let listed = cache.manifest_blobs(digest)?.map(|digests| {
            digests
                .iter()
                .filter_map(|digest| self.position.get(digest).copied())
                .collect::<Rc<[u32]>>()
        });
        self.manifests.insert(*digest, listed.clone());
        Ok(listed)
    }

    fn add(&mut self, blobs: &[u32]) {
        for &i in blobs {
            let count = &mut self.references[i as usize];
            if *count == 0 {
                self.referenced_bytes += self.sizes[i as usize];
            }
            *count += 1;
        }
    }

    fn remove(&mut self, blobs: &[u32]) {
        for &i in blobs {
            let count = &mut self.references[i as usize];
            *count -= 1;
            if *count == 0 {
                self.referenced_bytes -= self.sizes[i as usize];
            }
        }
    }
}
