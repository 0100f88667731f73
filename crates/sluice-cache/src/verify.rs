//! Checking the whole store: rehash every blob, remove the corrupt ones,
//! and remove the entries that can no longer be restored.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::backend::BlobInfo;
use crate::cache::Cache;
use crate::digest::Digest;
use crate::entry::{EntryRecord, decode_entry, entry_name};
use crate::error::CacheError;
use crate::hashing::hash_reader;
use crate::parallel::map_parallel;

/// What `verify` found (and removed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VerifyReport {
    /// Blobs rehashed.
    pub blobs_checked: u64,
    /// Bytes rehashed.
    pub bytes_checked: u64,
    /// Blobs whose content did not hash to their name, removed.
    pub corrupt: Vec<Digest>,
    /// Entries that referred to blobs no longer stored, removed (a restore
    /// from them would fail, and while they exist the same id cannot be
    /// saved again).
    pub dangling: Vec<DanglingEntry>,
    /// Entry files that could not be read as entries, removed.
    pub invalid_entries: Vec<PathBuf>,
    /// Blobs no entry refers to (what a save killed half-way left, say);
    /// `prune_now` removes them.
    pub unreferenced: u64,
    /// Staging files over an hour old (left by saves that were killed),
    /// removed; younger ones may belong to a save running now.
    pub staging_removed: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

/// An entry that referred to blobs that are gone.
#[derive(Debug, Clone, PartialEq)]
pub struct DanglingEntry {
    /// The entry.
    pub entry: EntryRecord,
    /// The blobs it needed that are gone (directly or through a manifest).
    pub missing: Vec<Digest>,
}

enum BlobCheck {
    Sound { bytes: u64 },
    Corrupt,
    Vanished,
}

impl Cache {
    /// Rehashes every blob in parallel, removes the corrupt ones, and
    /// removes the entries left dangling by them (or by blobs lost
    /// otherwise) and entry files that are not valid entries. Saves and
    /// restores may run meanwhile; prunes wait.
    pub fn verify(&self) -> Result<VerifyReport, CacheError> {
        let started = Instant::now();
        let _lock = self.hold()?;
        let mut report = VerifyReport::default();

        // Entries first, blobs second: every blob an entry listed here
        // refers to was stored before the entry, so it is in the blob
        // listing unless it is truly gone (a save running meanwhile cannot
        // make a sound entry look dangling).
        let mut entries = Vec::new();
        for stored in self.backend.list_entries(None)? {
            match decode_entry(&stored) {
                Ok(record) => entries.push(record),
                Err(_) => {
                    self.backend.delete_entry(&stored.kind, &stored.name)?;
                    report.invalid_entries.push(stored.location);
                }
            }
        }

        let blobs = self.backend.list_blobs()?;
        let workers = self
            .config
            .workers_for(blobs.len(), Some(blobs.iter().map(|b| b.size).sum()));
        let checks = map_parallel(&blobs, workers, Vec::new, |buffer, blob: &BlobInfo| {
            let mut opened = match self.backend.open_blob(&blob.digest) {
                Ok(opened) => opened,
                Err(CacheError::Missing { .. }) => return Ok(BlobCheck::Vanished),
                Err(error) => return Err(error),
            };
            let (digest, bytes) = hash_reader(&mut opened.reader, buffer)
                .map_err(|source| CacheError::io("read blob", &opened.location, source))?;
            if digest == blob.digest {
                Ok(BlobCheck::Sound { bytes })
            } else {
                let _ = self.discard_corrupt(&blob.digest, opened.location);
                Ok(BlobCheck::Corrupt)
            }
        })?;
        let mut present = HashSet::with_capacity(blobs.len());
        for (blob, check) in blobs.iter().zip(checks) {
            match check {
                BlobCheck::Sound { bytes } => {
                    report.blobs_checked += 1;
                    report.bytes_checked += bytes;
                    present.insert(blob.digest);
                }
                BlobCheck::Corrupt => {
                    report.blobs_checked += 1;
                    report.corrupt.push(blob.digest);
                }
                BlobCheck::Vanished => {}
            }
        }

        let mut referenced: HashSet<Digest> = HashSet::new();
        for entry in entries {
            let mut missing = Vec::new();
            for reference in &entry.references {
                if !present.contains(reference) {
                    missing.push(*reference);
                    continue;
                }
                referenced.insert(*reference);
                if let Some(listed) = self.manifest_blobs(reference)? {
                    missing.extend(listed.iter().filter(|d| !present.contains(d)).copied());
                    referenced.extend(listed);
                }
            }
            if missing.is_empty() {
                continue;
            }
            missing.sort_unstable();
            missing.dedup();
            self.backend
                .delete_entry(&entry.kind, &entry_name(&entry.id))?;
            report.dangling.push(DanglingEntry { entry, missing });
        }
        report.unreferenced = present.difference(&referenced).count() as u64;
        report.staging_removed = self
            .backend
            .remove_stale_staging(crate::prune::STALE_STAGING_AGE)?;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}
