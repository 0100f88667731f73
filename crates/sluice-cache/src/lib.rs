//! Sluice's content-addressed cache store, shared by every repository and
//! every Sluice process on the machine.
//!
//! - **Blobs** hold file contents, named by their BLAKE3 [`Digest`] and
//!   stored once however many files, trees or entries use them. Every read
//!   is verified; a blob whose content does not match its name is removed
//!   and reported as [`CacheError::Corrupt`].
//! - **Trees**: [`Cache::capture`] stores the files that `@actions/glob`
//!   patterns select under one or more labelled roots, in parallel, and
//!   returns a manifest (itself a blob) listing each file's path, mode,
//!   size, modification time and digest, or link target.
//!   [`Cache::restore`] puts a manifest's files back, skipping those already
//!   in place (same size and time: one `lstat`), verifying what it copies,
//!   and never leaving a half-written file.
//! - **Entries** ([`EntryRecord`]) are immutable records under a kind and
//!   an id (`key/<scope>` and the cache key, `step` and a step's input
//!   hash) that reference blobs and carry an opaque JSON payload.
//!   [`Cache::put_entry`] creates one at most once, even with processes
//!   racing; [`Cache::get_entry`] marks it used; [`Cache::list_entries`]
//!   searches by id prefix (restore keys).
//! - **Bounds**: [`Cache::prune`] evicts entries unused for `max_age`, then
//!   least recently used ones above `max_bytes`, and sweeps blobs nothing
//!   refers to; [`Cache::maybe_prune`] does so when due, cheaply checked.
//!   [`Cache::verify`] rehashes everything.
//!
//! Storage sits behind the [`Backend`] trait; [`LocalBackend`] keeps it in
//! a directory (layout in its documentation).
//!
//! # Atomicity and locking
//!
//! - Every blob and entry is written to a staging file and then renamed
//!   (blobs) or hard-linked (entries) into place, so readers see a complete
//!   file or none. Nothing is fsynced; instead every blob read is verified
//!   against its name, so a blob torn by a crash is detected, removed, and
//!   reported as [`CacheError::Corrupt`] (a miss for the caller).
//! - Entries are created with link(2), which fails if the name exists:
//!   exactly one of any number of racing writers, in any process, creates
//!   an entry, and an entry never changes afterwards.
//! - Restores write each file to a temporary file beside its target, verify
//!   it while writing, and rename it over the target.
//! - The store has one lock file, taken with `flock(2)`: shared by every
//!   save, restore, entry read/write and verify; exclusive by prune and
//!   clear. So a prune never runs while a restore is reading blobs or while
//!   a capture is storing them. Between a capture and the `put_entry` that
//!   references its manifest the lock is not held; blobs stored or touched
//!   within `unreferenced_grace` (1 hour), and the blobs a manifest that
//!   recent lists, are never swept, which covers that window. `put_entry`
//!   checks, under the lock, that every referenced blob exists. Callers
//!   that want one consistent view across calls hold [`Cache::hold`].
//!
//! This crate knows nothing of workflows and starts no processes.

mod backend;
mod cache;
mod capture;
mod config;
mod digest;
mod entry;
mod error;
mod fresh_dirs;
mod hashing;
mod kind;
mod local;
mod manifest;
mod pack_batch;
mod pack_index;
mod parallel;
mod private_digest;
mod prune;
mod reachability;
mod restore;
mod stats;
mod temp_file;
pub mod thread_budget;
mod time;
mod umask;
mod verify;

pub use backend::{
    Backend, BlobInfo, BlobReader, Housekeeping, LockMode, PutOutcome, StoreLock, StoredEntry,
};
pub use cache::Cache;
pub use capture::{Capture, CaptureRoot, Links};
pub use config::CacheConfig;
pub use digest::Digest;
pub use entry::{ENTRY_FORMAT, ENTRY_VERSION, EntryRecord};
pub use error::{CacheError, Result};
pub use local::{LAYOUT_VERSION, LocalBackend};
pub use manifest::{FileContent, MANIFEST_FORMAT, MANIFEST_VERSION, ManifestFile};
pub use pack_batch::{PACK_BLOB_LIMIT, PackBatch};
pub use prune::{PRUNE_INTERVAL, PruneReport};
pub use restore::{Confinement, RestoreStats};
pub use stats::StoreStats;
pub use verify::{DanglingEntry, VerifyReport};
