//! [`Cache`]: the store as callers see it. Blobs and entries here; trees in
//! `capture.rs` and `restore.rs`; maintenance in `prune.rs`, `verify.rs`
//! and `stats.rs`.

use std::io::Read;
use std::sync::Arc;
use std::time::SystemTime;

use crate::backend::{Backend, LockMode, PutOutcome, StoreLock};
use crate::config::CacheConfig;
use crate::digest::Digest;
use crate::entry::{EntryRecord, decode_entry, encode_entry, entry_name};
use crate::error::CacheError;
use crate::kind::validate_kind;
use crate::local::LocalBackend;
use crate::manifest::{ManifestFile, parse_manifest};

/// The content-addressed cache store. Cheap to clone; `Send + Sync`, so one
/// `Cache` can serve every thread, and any number of processes can open
/// the same directory at once.
#[derive(Debug, Clone)]
pub struct Cache {
    pub(crate) config: CacheConfig,
    pub(crate) backend: Arc<dyn Backend>,
    /// The key of [`Cache::private_digest`], read when first needed.
    pub(crate) private_key: Arc<crate::private_digest::KeySlot>,
}

impl Cache {
    /// Opens (creating if needed) the local store in `config.dir`.
    pub fn open(config: CacheConfig) -> Result<Cache, CacheError> {
        let backend = LocalBackend::open(&config.dir)?;
        Ok(Cache::with_backend(config, Arc::new(backend)))
    }

    /// A cache over any backend (`config.dir` is then unused).
    pub fn with_backend(config: CacheConfig, backend: Arc<dyn Backend>) -> Cache {
        Cache {
            config,
            backend,
            private_key: Arc::default(),
        }
    }

    /// The configuration the cache was opened with.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// The backend holding blobs and entries.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Keeps `prune` and `clear` (in every process) waiting until the
    /// returned lock is dropped, so a sequence of calls sees one consistent
    /// store: `get_entry` then `restore`, or `capture` then `put_entry`.
    /// Every call already holds it for its own duration; do not call
    /// `prune`, `maybe_prune` or `clear` on this thread while holding it
    /// (they would wait for it forever).
    pub fn hold(&self) -> Result<StoreLock, CacheError> {
        self.backend.lock(LockMode::Shared)
    }

    /// Stores `bytes` as a blob (once, however often it is stored) and
    /// returns its digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest, CacheError> {
        let _lock = self.hold()?;
        let digest = Digest::of(bytes);
        let added = self.store_blob(&digest, bytes)?;
        self.backend.note_added_bytes(added)?;
        Ok(digest)
    }

    /// Stores a blob whose digest the caller computed; returns the bytes
    /// newly written (for the caller to note for `maybe_prune`). A blob that was already there is touched instead, so
    /// it gets the unreferenced-blob grace period from now on.
    pub(crate) fn store_blob(&self, digest: &Digest, bytes: &[u8]) -> Result<u64, CacheError> {
        if self.backend.put_blob(digest, bytes)? {
            Ok(bytes.len() as u64)
        } else {
            match self.backend.touch_blob(digest) {
                // Removed between the two calls (as corrupt): store it again.
                Err(CacheError::Missing { .. }) => {
                    self.backend.put_blob(digest, bytes)?;
                    Ok(bytes.len() as u64)
                }
                other => other.map(|()| 0),
            }
        }
    }

    /// The content of blob `digest`, verified: a blob whose content does
    /// not hash to its name is removed and reported as
    /// [`CacheError::Corrupt`]; one that is not there as
    /// [`CacheError::Missing`].
    pub fn get_bytes(&self, digest: &Digest) -> Result<Vec<u8>, CacheError> {
        let _lock = self.hold()?;
        self.read_verified(digest)
    }

    /// Whether blob `digest` is stored (not verified).
    pub fn has_blob(&self, digest: &Digest) -> Result<bool, CacheError> {
        self.backend.has_blob(digest)
    }

    pub(crate) fn read_verified(&self, digest: &Digest) -> Result<Vec<u8>, CacheError> {
        let mut blob = self.backend.open_blob(digest)?;
        let mut bytes = Vec::new();
        blob.reader
            .read_to_end(&mut bytes)
            .map_err(|source| CacheError::io("read blob", &blob.location, source))?;
        if Digest::of(&bytes) != *digest {
            return Err(self.discard_corrupt(digest, blob.location));
        }
        Ok(bytes)
    }

    /// Removes a blob found corrupt and returns the error that reports it.
    pub(crate) fn discard_corrupt(
        &self,
        digest: &Digest,
        location: std::path::PathBuf,
    ) -> CacheError {
        // If even removing fails, the next reader detects the damage again.
        let _ = self.backend.delete_blob(digest);
        CacheError::Corrupt {
            digest: *digest,
            path: location,
        }
    }

    /// The files listed by the manifest `digest` (for listings and
    /// `cache why`).
    pub fn manifest_files(&self, manifest: &Digest) -> Result<Vec<ManifestFile>, CacheError> {
        let bytes = self.get_bytes(manifest)?;
        parse_manifest(manifest, &bytes)
    }

    /// Stores `record` as the entry (`kind`, `id`) unless that entry
    /// exists: entries are immutable, so of any number of writers (threads
    /// or processes) exactly one gets [`PutOutcome::Created`] and the
    /// others [`PutOutcome::AlreadyExists`], the stored record unchanged.
    ///
    /// `kind` is one or more `/`-separated segments of ASCII letters,
    /// digits, `-`, `_`, `.`; `id` is any text. The record's own `kind`,
    /// `id` and `last_used_ms` are ignored (the arguments and the store
    /// decide them). Every referenced blob must be stored, else
    /// [`CacheError::Missing`]: an entry never starts out dangling.
    pub fn put_entry(
        &self,
        kind: &str,
        id: &str,
        record: &EntryRecord,
    ) -> Result<PutOutcome, CacheError> {
        validate_kind(kind)?;
        let _lock = self.hold()?;
        for digest in &record.references {
            if !self.backend.has_blob(digest)? {
                return Err(CacheError::Missing { digest: *digest });
            }
        }
        let bytes = encode_entry(kind, id, record);
        self.backend
            .put_entry_if_absent(kind, &entry_name(id), &bytes)
    }

    /// The entry (`kind`, `id`), if there is one, marked as used now (which
    /// keeps it from being pruned for age and moves it to the back of the
    /// eviction order). A damaged entry file is [`CacheError::InvalidEntry`].
    pub fn get_entry(&self, kind: &str, id: &str) -> Result<Option<EntryRecord>, CacheError> {
        validate_kind(kind)?;
        let _lock = self.hold()?;
        match self.backend.get_entry(kind, &entry_name(id), true)? {
            Some(stored) => decode_entry(&stored).map(Some),
            None => Ok(None),
        }
    }

    /// The entries of `kind` whose id starts with `id_prefix` (all of them
    /// for ""), newest first (by creation, then id): the order in which
    /// `actions/cache` tries restore keys. Does not mark them used; call
    /// `get_entry` on the one you take. Damaged entry files are skipped
    /// (`verify` and `prune` remove them).
    pub fn list_entries(
        &self,
        kind: &str,
        id_prefix: &str,
    ) -> Result<Vec<EntryRecord>, CacheError> {
        validate_kind(kind)?;
        let mut found: Vec<EntryRecord> = self
            .backend
            .list_entries(Some(kind))?
            .iter()
            .filter_map(|stored| decode_entry(stored).ok())
            .filter(|record| record.id.starts_with(id_prefix))
            .collect();
        found.sort_by(|a, b| {
            b.created_ms
                .cmp(&a.created_ms)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(found)
    }

    /// Removes the entry (`kind`, `id`); `Ok(false)` if there was none. For
    /// an entry whose restore failed (`Corrupt`, `Missing`), so that the
    /// next save can store it anew. Its blobs go at the next prune.
    pub fn remove_entry(&self, kind: &str, id: &str) -> Result<bool, CacheError> {
        validate_kind(kind)?;
        let _lock = self.hold()?;
        self.backend.delete_entry(kind, &entry_name(id))
    }

    /// Sets when the entry (`kind`, `id`) was last used; `Ok(false)` if
    /// there is no such entry. For importing entries and for tests of
    /// pruning.
    pub fn set_entry_last_used(
        &self,
        kind: &str,
        id: &str,
        when: SystemTime,
    ) -> Result<bool, CacheError> {
        validate_kind(kind)?;
        let _lock = self.hold()?;
        self.backend
            .set_entry_last_used(kind, &entry_name(id), when)
    }
}
