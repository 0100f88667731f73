//! The files behind `maybe_prune`: `last-prune.json` (when the last prune
//! ran, bytes it left) and `added-bytes` (one decimal line per save, bytes
//! newly stored). Appends with `O_APPEND` of one short line are atomic, so
//! concurrent savers need no read-modify-write; prune (alone, under the
//! exclusive lock) resets the file.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::LocalBackend;
use super::blobs::read_dir_if_present;
use crate::backend::Housekeeping;
use crate::error::CacheError;
use crate::time::{age, from_unix_ms, unix_ms};

#[derive(Serialize, Deserialize)]
struct PruneRecord {
    at_ms: u64,
    bytes_after: u64,
}

impl LocalBackend {
    fn added_bytes_file(&self) -> PathBuf {
        self.root.join("added-bytes")
    }

    fn prune_record_file(&self) -> PathBuf {
        self.root.join("last-prune.json")
    }

    pub(super) fn append_added_bytes(&self, bytes: u64) -> Result<(), CacheError> {
        if bytes == 0 {
            return Ok(());
        }
        let path = self.added_bytes_file();
        OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut file| file.write_all(format!("{bytes}\n").as_bytes()))
            .map_err(|source| CacheError::io("append to", path, source))
    }

    pub(super) fn read_housekeeping(&self) -> Result<Housekeeping, CacheError> {
        let mut housekeeping = Housekeeping::default();
        let record_path = self.prune_record_file();
        match fs::read(&record_path) {
            // A damaged record just makes a prune due, which rewrites it.
            Ok(bytes) => {
                if let Ok(record) = serde_json::from_slice::<PruneRecord>(&bytes) {
                    housekeeping.last_prune = Some(from_unix_ms(record.at_ms));
                    housekeeping.bytes_after_last_prune = record.bytes_after;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(CacheError::io("read", record_path, source)),
        }
        let added_path = self.added_bytes_file();
        match fs::read_to_string(&added_path) {
            Ok(text) => {
                housekeeping.bytes_added_since = text
                    .lines()
                    .filter_map(|line| line.trim().parse::<u64>().ok())
                    .fold(0u64, u64::saturating_add);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            // Not UTF-8 (damaged): count nothing; the hourly prune still runs.
            Err(error) if error.kind() == io::ErrorKind::InvalidData => {}
            Err(source) => return Err(CacheError::io("read", added_path, source)),
        }
        Ok(housekeeping)
    }

    pub(super) fn write_prune_record(
        &self,
        at: SystemTime,
        bytes_after: u64,
    ) -> Result<(), CacheError> {
        let record = PruneRecord {
            at_ms: unix_ms(at),
            bytes_after,
        };
        let text = serde_json::to_vec(&record).unwrap_or_default();
        let mut staged = self.stage("prune-")?;
        staged
            .file()
            .write_all(&text)
            .map_err(|source| CacheError::io("write staging file", staged.path(), source))?;
        let target = self.prune_record_file();
        staged
            .rename_to(&target)
            .map_err(|source| CacheError::io("write", &target, source))?;
        let added = self.added_bytes_file();
        match fs::remove_file(&added) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                Err(CacheError::io("reset", added, error))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn remove_stale_staging_files(
        &self,
        older_than: Duration,
    ) -> Result<u64, CacheError> {
        let now = SystemTime::now();
        let mut removed = 0;
        for file in read_dir_if_present(&self.staging)? {
            let Ok(metadata) = file.metadata() else {
                continue;
            };
            let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if !older_than.is_zero() && age(now, modified) <= older_than {
                continue;
            }
            let path = file.path();
            let result = if metadata.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match result {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(CacheError::io("remove staging file", path, source)),
            }
        }
        Ok(removed + self.remove_incomplete_packs(older_than)?)
    }

    pub(super) fn remove_everything(&self) -> Result<(), CacheError> {
        for dir in [&self.blobs, &self.entries, &self.staging, &self.packs] {
            match fs::remove_dir_all(dir) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => {
                    return Err(CacheError::io("remove", dir.clone(), error));
                }
                _ => {}
            }
            super::create_dir_all(dir)?;
        }
        for file in [self.added_bytes_file(), self.prune_record_file()] {
            match fs::remove_file(&file) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => {
                    return Err(CacheError::io("remove", file, error));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
