//! The local-directory backend: the store every Sluice process on a machine
//! shares.
//!
//! ```text
//! <cache dir>/v1/
//!   lock                      flock(2)ed: shared to save/restore, exclusive to prune/clear
//!   blobs/ab/cdef…            file contents, named by BLAKE3 (2 + 62 hex digits)
//!   packs/<name>.pack|.idx    small files' contents, many to a pack (see packs.rs)
//!   entries/<kind>/<hex>.json entry records; <hex> is the BLAKE3 of the entry's id
//!   tmp/                      staging: every write is a file here, then a rename or link
//!   last-prune.json           when the last prune ran and the bytes it left
//!   added-bytes               one line per save since then: bytes newly stored
//! ```
//!
//! Writes never fsync: a crash may leave a blob with the right name and
//! wrong content, which every read detects (blobs are verified against
//! their name) and removes. Blobs appear by `rename` from `tmp/`, entries by
//! `link` from `tmp/` (which fails if the entry exists: the create-if-absent
//! that keeps entries immutable), so no reader sees a torn file.

mod blobs;
mod entries;
mod housekeeping;
mod packs;

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::backend::{
    Backend, BlobInfo, BlobReader, Housekeeping, LockMode, PutOutcome, StoreLock, StoredEntry,
};
use crate::digest::Digest;
use crate::error::CacheError;
use crate::pack_batch::PackBatch;

/// The layout version; a different layout goes in a different directory,
/// so two Sluice versions sharing a cache directory never misread each
/// other.
pub const LAYOUT_VERSION: &str = "v1";

/// Blobs and entries in a directory on this machine. See the module
/// documentation for the layout.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
    blobs: PathBuf,
    entries: PathBuf,
    staging: PathBuf,
    packs: PathBuf,
    lock_file: PathBuf,
    pack_table: packs::SharedPackTable,
}

impl LocalBackend {
    /// Opens (creating if needed) the store below `cache_dir`.
    pub fn open(cache_dir: &Path) -> Result<LocalBackend, CacheError> {
        let root = cache_dir.join(LAYOUT_VERSION);
        let backend = LocalBackend {
            blobs: root.join("blobs"),
            entries: root.join("entries"),
            staging: root.join("tmp"),
            packs: root.join("packs"),
            lock_file: root.join("lock"),
            pack_table: Default::default(),
            root,
        };
        create_private_dir(cache_dir)?;
        for dir in [
            &backend.blobs,
            &backend.entries,
            &backend.staging,
            &backend.packs,
        ] {
            create_dir_all(dir)?;
        }
        backend.open_lock_file()?;
        Ok(backend)
    }

    /// The versioned directory everything is stored in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where blob `digest` is (or would be) stored.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.blobs.join(&hex[..2]).join(&hex[2..])
    }

    /// Where the entry named `name` (the digest of its id) of `kind` is (or
    /// would be) stored. `kind` must be valid (see `Cache::put_entry`).
    pub fn entry_path(&self, kind: &str, name: &Digest) -> PathBuf {
        self.entries.join(kind).join(format!("{name}.json"))
    }

    fn open_lock_file(&self) -> Result<File, CacheError> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.lock_file)
            .map_err(|source| CacheError::io("open lock file", &self.lock_file, source))
    }
}

/// Creates the cache directory if needed and makes it private to this
/// user (cached files and logs are nobody else's business). One of ours
/// that others could enter (made by an older Sluice) is closed; one of
/// another user's is refused. (The history's directory follows the same
/// rules, in `sluice-store`.)
fn create_private_dir(dir: &Path) -> Result<(), CacheError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let failed = |source| CacheError::io("create directory", dir, source);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(failed)?;
    let metadata = fs::metadata(dir).map_err(failed)?;
    if !metadata.is_dir() {
        return Err(failed(std::io::Error::other("it is not a directory")));
    }
    // Someone else's directory could hold planted entries and blobs, and
    // could read the private digest key: never use one.
    if std::os::unix::fs::MetadataExt::uid(&metadata) != nix::unistd::geteuid().as_raw() {
        return Err(failed(std::io::Error::other(
            "it belongs to another user; the cache must be a directory of this user's own",
        )));
    }
    if metadata.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

pub(crate) fn create_dir_all(dir: &Path) -> Result<(), CacheError> {
    fs::create_dir_all(dir).map_err(|source| CacheError::io("create directory", dir, source))
}

impl Backend for LocalBackend {
    fn has_blob(&self, digest: &Digest) -> Result<bool, CacheError> {
        Ok(self.has_blob_file(digest)? || self.has_packed_blob(digest)?)
    }

    fn put_blob(&self, digest: &Digest, contents: &[u8]) -> Result<bool, CacheError> {
        if self.has_packed_blob(digest)? {
            return Ok(false);
        }
        self.put_blob_bytes(digest, contents)
    }

    fn put_blob_from_file(&self, digest: &Digest, source: &Path) -> Result<bool, CacheError> {
        if self.has_packed_blob(digest)? {
            return Ok(false);
        }
        self.put_blob_copy(digest, source)
    }

    fn put_blob_in_batch(
        &self,
        batch: &PackBatch,
        digest: &Digest,
        contents: &[u8],
    ) -> Result<bool, CacheError> {
        self.put_blob_packed(batch, digest, contents)
    }

    fn finish_batch(&self, batch: PackBatch) -> Result<(), CacheError> {
        self.finish_pack_batch(batch)
    }

    fn open_blob(&self, digest: &Digest) -> Result<BlobReader, CacheError> {
        if let Some(packed) = self.open_known_packed_blob(digest) {
            return Ok(packed);
        }
        match self.open_blob_file(digest) {
            Err(CacheError::Missing { .. }) => self
                .open_packed_blob(digest)?
                .ok_or(CacheError::Missing { digest: *digest }),
            other => other,
        }
    }

    fn touch_blob(&self, digest: &Digest) -> Result<(), CacheError> {
        match self.touch_blob_file(digest) {
            Err(CacheError::Missing { .. }) if self.touch_packed_blob(digest)? => Ok(()),
            other => other,
        }
    }

    fn delete_blob(&self, digest: &Digest) -> Result<(), CacheError> {
        self.delete_blobs(std::slice::from_ref(digest))
    }

    fn delete_blobs(&self, digests: &[Digest]) -> Result<(), CacheError> {
        for digest in digests {
            self.delete_blob_file(digest)?;
        }
        self.delete_packed_blobs(digests)
    }

    fn list_blobs(&self) -> Result<Vec<BlobInfo>, CacheError> {
        let mut blobs = self.list_blob_files()?;
        let loose: std::collections::HashSet<Digest> = blobs.iter().map(|b| b.digest).collect();
        blobs.extend(
            self.list_packed_blobs()?
                .into_iter()
                .filter(|b| !loose.contains(&b.digest)),
        );
        blobs.sort_unstable_by_key(|blob| blob.digest);
        Ok(blobs)
    }

    fn put_entry_if_absent(
        &self,
        kind: &str,
        name: &Digest,
        contents: &[u8],
    ) -> Result<PutOutcome, CacheError> {
        self.link_entry_file(kind, name, contents)
    }

    fn get_entry(
        &self,
        kind: &str,
        name: &Digest,
        mark_used: bool,
    ) -> Result<Option<StoredEntry>, CacheError> {
        self.read_entry_file(kind, name, mark_used)
    }

    fn set_entry_last_used(
        &self,
        kind: &str,
        name: &Digest,
        when: SystemTime,
    ) -> Result<bool, CacheError> {
        self.set_entry_file_time(kind, name, when)
    }

    fn list_entries(&self, kind: Option<&str>) -> Result<Vec<StoredEntry>, CacheError> {
        self.list_entry_files(kind)
    }

    fn delete_entry(&self, kind: &str, name: &Digest) -> Result<bool, CacheError> {
        self.delete_entry_file(kind, name)
    }

    fn lock(&self, mode: LockMode) -> Result<StoreLock, CacheError> {
        // A new open file description per lock: flock(2) locks belong to the
        // description, so two threads of one process exclude each other just
        // as two processes do.
        let file = self.open_lock_file()?;
        let locked = match mode {
            LockMode::Shared => file.lock_shared(),
            LockMode::Exclusive => file.lock(),
        };
        locked.map_err(|source| CacheError::io("lock", &self.lock_file, source))?;
        Ok(StoreLock::new(file))
    }

    fn try_lock_exclusive(&self) -> Result<Option<StoreLock>, CacheError> {
        let file = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(StoreLock::new(file))),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => {
                Err(CacheError::io("lock", &self.lock_file, source))
            }
        }
    }

    fn note_added_bytes(&self, bytes: u64) -> Result<(), CacheError> {
        self.append_added_bytes(bytes)
    }

    fn housekeeping(&self) -> Result<Housekeeping, CacheError> {
        self.read_housekeeping()
    }

    fn record_prune(&self, at: SystemTime, bytes_after: u64) -> Result<(), CacheError> {
        self.write_prune_record(at, bytes_after)
    }

    fn remove_stale_staging(&self, older_than: Duration) -> Result<u64, CacheError> {
        self.remove_stale_staging_files(older_than)
    }

    fn clear(&self) -> Result<(), CacheError> {
        self.remove_everything()
    }
}
