//! Where blobs and entries are kept: the [`Backend`] trait.
//!
//! Everything above this trait (trees, entries' format, pruning policy,
//! verification) is shared by every backend; a backend only stores opaque
//! bytes under names. The local-directory backend is
//! [`LocalBackend`](crate::LocalBackend); an S3-compatible one can implement
//! the same methods with objects (`blobs/<hex>`, `entries/<kind>/<hex>`),
//! conditional puts (`If-None-Match: *`) for
//! [`put_entry_if_absent`](Backend::put_entry_if_absent), object
//! timestamps for last use, and a lease object (or nothing) for
//! [`lock`](Backend::lock).

use std::any::Any;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::digest::Digest;
use crate::error::CacheError;
use crate::pack_batch::PackBatch;

/// Whether an entry was stored by this call or was already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PutOutcome {
    /// This call created the entry.
    Created,
    /// An entry with this kind and id existed already and was left as it
    /// was (entries are immutable).
    AlreadyExists,
}

/// How a [`Backend::lock`] is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Saving and restoring: any number at once.
    Shared,
    /// Pruning and clearing: alone.
    Exclusive,
}

/// A held store lock; released when dropped.
pub struct StoreLock {
    _held: Box<dyn Any + Send + Sync>,
}

impl StoreLock {
    /// Wraps whatever keeps the lock held (a locked file, a lease).
    pub fn new(held: impl Any + Send + Sync) -> Self {
        StoreLock {
            _held: Box::new(held),
        }
    }
}

impl fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreLock")
    }
}

/// A stored blob as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its name.
    pub digest: Digest,
    /// Its length in bytes.
    pub size: u64,
    /// When it was stored or last touched.
    pub modified: SystemTime,
}

/// A blob opened for reading. The reader yields the stored bytes as they
/// are; the caller verifies them against the digest.
pub struct BlobReader {
    /// The content.
    pub reader: Box<dyn Read + Send>,
    /// Where the blob is, for messages.
    pub location: PathBuf,
}

/// A stored entry file as a backend returns it: the caller parses `bytes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// The entry's kind (the directory it is stored in).
    pub kind: String,
    /// The entry's name within its kind: the digest of its id.
    pub name: Digest,
    /// The serialized record.
    pub bytes: Vec<u8>,
    /// When it was created or last used.
    pub last_used: SystemTime,
    /// Where it is, for messages.
    pub location: PathBuf,
}

/// The cheap bookkeeping behind `Cache::maybe_prune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Housekeeping {
    /// When the last prune finished, if one ever did.
    pub last_prune: Option<SystemTime>,
    /// Bytes of blobs left by the last prune.
    pub bytes_after_last_prune: u64,
    /// Bytes of blobs stored since then (an over-estimate: it never
    /// subtracts).
    pub bytes_added_since: u64,
}

/// Storage for blobs (content-addressed, immutable) and entries (small
/// records, created once, never modified, touched when used).
///
/// Implementations must make every write atomic: a reader sees a blob or an
/// entry complete or not at all. Methods never panic; failures are
/// [`CacheError`]s naming what failed.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Whether a blob is stored.
    fn has_blob(&self, digest: &Digest) -> Result<bool, CacheError>;

    /// Stores `contents` as blob `digest`, which the caller computed from
    /// them, unless it is stored already. Returns whether this call stored
    /// it.
    fn put_blob(&self, digest: &Digest, contents: &[u8]) -> Result<bool, CacheError>;

    /// Stores the file at `source` as blob `digest` unless it is stored
    /// already, checking while copying that the file still hashes to
    /// `digest` ([`CacheError::SourceChanged`] otherwise). Returns whether
    /// this call stored it.
    fn put_blob_from_file(&self, digest: &Digest, source: &Path) -> Result<bool, CacheError>;

    /// Stores a small blob as part of `batch` (a capture's): a backend that
    /// packs small blobs makes it readable only once
    /// [`finish_batch`](Backend::finish_batch) returned; by default it is
    /// stored at once, as by [`put_blob`](Backend::put_blob).
    fn put_blob_in_batch(
        &self,
        batch: &PackBatch,
        digest: &Digest,
        contents: &[u8],
    ) -> Result<bool, CacheError> {
        let _ = batch;
        self.put_blob(digest, contents)
    }

    /// Makes every blob of `batch` readable.
    fn finish_batch(&self, batch: PackBatch) -> Result<(), CacheError> {
        drop(batch);
        Ok(())
    }

    /// Opens a blob for reading; [`CacheError::Missing`] if it is not
    /// stored.
    fn open_blob(&self, digest: &Digest) -> Result<BlobReader, CacheError>;

    /// Marks a blob as just stored, so the unreferenced-blob grace period
    /// starts again; [`CacheError::Missing`] if it is not stored.
    fn touch_blob(&self, digest: &Digest) -> Result<(), CacheError>;

    /// Removes a blob; removing one that is not there is not an error.
    fn delete_blob(&self, digest: &Digest) -> Result<(), CacheError>;

    /// Removes blobs, all at once (a backend that packs them rewrites each
    /// pack once, not once per blob).
    fn delete_blobs(&self, digests: &[Digest]) -> Result<(), CacheError> {
        for digest in digests {
            self.delete_blob(digest)?;
        }
        Ok(())
    }

    /// Every stored blob.
    fn list_blobs(&self) -> Result<Vec<BlobInfo>, CacheError>;

    /// Stores an entry under (`kind`, `name`) only if none is there: of two
    /// writers racing, from any thread or process, exactly one gets
    /// [`PutOutcome::Created`]. Its last-used time starts now.
    fn put_entry_if_absent(
        &self,
        kind: &str,
        name: &Digest,
        contents: &[u8],
    ) -> Result<PutOutcome, CacheError>;

    /// Reads an entry, `None` if there is none; with `mark_used` its
    /// last-used time becomes now (and the returned one is now).
    fn get_entry(
        &self,
        kind: &str,
        name: &Digest,
        mark_used: bool,
    ) -> Result<Option<StoredEntry>, CacheError>;

    /// Sets an entry's last-used time; `Ok(false)` if there is no such
    /// entry.
    fn set_entry_last_used(
        &self,
        kind: &str,
        name: &Digest,
        when: SystemTime,
    ) -> Result<bool, CacheError>;

    /// Every entry of one kind (not of kinds nested below it), or of every
    /// kind with `None`. Does not change last-used times.
    fn list_entries(&self, kind: Option<&str>) -> Result<Vec<StoredEntry>, CacheError>;

    /// Removes an entry; `Ok(false)` if there was none.
    fn delete_entry(&self, kind: &str, name: &Digest) -> Result<bool, CacheError>;

    /// Takes the store lock, waiting for it.
    fn lock(&self, mode: LockMode) -> Result<StoreLock, CacheError>;

    /// Takes the exclusive lock if nobody holds the lock at all, without
    /// waiting.
    fn try_lock_exclusive(&self) -> Result<Option<StoreLock>, CacheError>;

    /// Adds to the running estimate of bytes stored since the last prune.
    fn note_added_bytes(&self, bytes: u64) -> Result<(), CacheError>;

    /// Reads the bookkeeping that decides whether a prune is due.
    fn housekeeping(&self) -> Result<Housekeeping, CacheError>;

    /// Records a finished prune and resets the added-bytes estimate. Called
    /// with the exclusive lock held.
    fn record_prune(&self, at: SystemTime, bytes_after: u64) -> Result<(), CacheError>;

    /// Removes staging files left by crashed writers: those older than
    /// `older_than` (all of them for zero, which only a caller holding the
    /// exclusive lock may ask). Returns how many it removed.
    fn remove_stale_staging(&self, older_than: Duration) -> Result<u64, CacheError>;

    /// Removes every blob and entry. Called with the exclusive lock held.
    fn clear(&self) -> Result<(), CacheError>;
}
