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
//! a directory (layout in its documentation). Saves and restores hold a
//! shared lock on the store, prunes and clears an exclusive one, so a prune
//! never removes a blob that a restore is reading or that a save has just
//! referenced.
//!
//! This crate knows nothing of workflows and starts no processes.

mod backend;
mod cache;
mod capture;
mod config;
mod digest;
mod entry;
mod error;
mod hashing;
mod kind;
mod local;
mod manifest;
mod parallel;
mod prune;
mod reachability;
mod restore;
mod stats;
mod temp_file;
mod time;
mod verify;

pub use backend::{
    Backend, BlobInfo, BlobReader, Housekeeping, LockMode, PutOutcome, StoreLock, StoredEntry,
};
pub use cache::Cache;
pub use capture::{Capture, CaptureRoot};
pub use config::CacheConfig;
pub use digest::Digest;
pub use entry::{ENTRY_FORMAT, ENTRY_VERSION, EntryRecord};
pub use error::{CacheError, Result};
pub use local::{LAYOUT_VERSION, LocalBackend};
pub use manifest::{FileContent, MANIFEST_FORMAT, MANIFEST_VERSION, ManifestFile};
pub use prune::{PRUNE_INTERVAL, PruneReport};
pub use restore::RestoreStats;
pub use stats::StoreStats;
pub use verify::{DanglingEntry, VerifyReport};
