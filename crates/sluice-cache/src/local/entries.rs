//! Entry files: `entries/<kind>/<hex of the id's digest>.json`, created by
//! hard-linking a complete staging file (which fails if the entry exists);
//! the file's modification time is the entry's last use.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::blobs::read_dir_if_present;
use super::{LocalBackend, create_dir_all};
use crate::backend::{PutOutcome, StoredEntry};
use crate::digest::Digest;
use crate::error::CacheError;
use crate::kind::validate_kind;

/// Entry files larger than this are refused as invalid: entries are small
/// records, and a runaway file must not exhaust memory.
pub(crate) const MAX_ENTRY_BYTES: u64 = 16 * 1024 * 1024;

const ENTRY_SUFFIX: &str = ".json";

impl LocalBackend {
    pub(super) fn link_entry_file(
        &self,
        kind: &str,
        name: &Digest,
        contents: &[u8],
    ) -> Result<PutOutcome, CacheError> {
        validate_kind(kind)?;
        let target = self.entry_path(kind, name);
        let mut staged = self.stage("entry-")?;
        staged
            .file()
            .write_all(contents)
            .map_err(|source| CacheError::io("write staging file", staged.path(), source))?;
        if let Some(parent) = target.parent() {
            create_dir_all(parent)?;
        }
        match staged.link_to_new(&target) {
            Ok(()) => Ok(PutOutcome::Created),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                Ok(PutOutcome::AlreadyExists)
            }
            Err(source) => Err(CacheError::io("create entry", target, source)),
        }
    }

    pub(super) fn read_entry_file(
        &self,
        kind: &str,
        name: &Digest,
        mark_used: bool,
    ) -> Result<Option<StoredEntry>, CacheError> {
        validate_kind(kind)?;
        let path = self.entry_path(kind, name);
        let Some((file, bytes)) = read_capped(&path)? else {
            return Ok(None);
        };
        let last_used = if mark_used {
            let now = SystemTime::now();
            // Best effort: failing to record a use (a file owned by another
            // user, say) only makes the entry look older to `prune`.
            let _ = file.set_modified(now);
            now
        } else {
            modified(&file, &path)?
        };
        Ok(Some(StoredEntry {
            kind: kind.to_owned(),
            name: *name,
            bytes,
            last_used,
            location: path,
        }))
    }

    pub(super) fn set_entry_file_time(
        &self,
        kind: &str,
        name: &Digest,
        when: SystemTime,
    ) -> Result<bool, CacheError> {
        validate_kind(kind)?;
        let path = self.entry_path(kind, name);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(source) => return Err(CacheError::io("open entry", path, source)),
        };
        file.set_modified(when)
            .map_err(|source| CacheError::io("set the time of entry", path, source))?;
        Ok(true)
    }

    pub(super) fn list_entry_files(
        &self,
        kind: Option<&str>,
    ) -> Result<Vec<StoredEntry>, CacheError> {
        let mut found = Vec::new();
        match kind {
            Some(kind) => {
                validate_kind(kind)?;
                self.collect_kind(kind, &self.entries.join(kind), &mut found, None)?;
            }
            None => {
                // Every kind: depth first with an explicit stack of
                // (kind, directory); a kind is the path of its directory.
                let mut subdirectories = Vec::new();
                self.collect_kind("", &self.entries, &mut found, Some(&mut subdirectories))?;
                while let Some((kind, dir)) = subdirectories.pop() {
                    self.collect_kind(&kind, &dir, &mut found, Some(&mut subdirectories))?;
                }
            }
        }
        Ok(found)
    }

    /// Reads the entry files directly in `dir` (of kind `kind`; the top
    /// directory, kind "", holds none) and, when asked, notes its
    /// subdirectories as nested kinds.
    fn collect_kind(
        &self,
        kind: &str,
        dir: &Path,
        found: &mut Vec<StoredEntry>,
        mut subdirectories: Option<&mut Vec<(String, PathBuf)>>,
    ) -> Result<(), CacheError> {
        for child in read_dir_if_present(dir)? {
            let file_name = child.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            let is_dir = child.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                if let Some(subdirectories) = subdirectories.as_deref_mut() {
                    let nested = if kind.is_empty() {
                        file_name.to_owned()
                    } else {
                        format!("{kind}/{file_name}")
                    };
                    if validate_kind(&nested).is_ok() {
                        subdirectories.push((nested, child.path()));
                    }
                }
                continue;
            }
            if kind.is_empty() {
                continue;
            }
            let Some(name) = file_name
                .strip_suffix(ENTRY_SUFFIX)
                .and_then(|hex| hex.parse::<Digest>().ok())
            else {
                continue;
            };
            let path = child.path();
            // Removed by a concurrent prune between listing and reading: gone.
            let Some((file, bytes)) = read_capped(&path)? else {
                continue;
            };
            found.push(StoredEntry {
                kind: kind.to_owned(),
                name,
                bytes,
                last_used: modified(&file, &path)?,
                location: path,
            });
        }
        Ok(())
    }

    pub(super) fn delete_entry_file(&self, kind: &str, name: &Digest) -> Result<bool, CacheError> {
        validate_kind(kind)?;
        let path = self.entry_path(kind, name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(CacheError::io("remove entry", path, source)),
        }
    }
}

/// The open file and its content, `None` if it does not exist; a file
/// above [`MAX_ENTRY_BYTES`] is an invalid entry.
fn read_capped(path: &Path) -> Result<Option<(File, Vec<u8>)>, CacheError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CacheError::io("open entry", path, source)),
    };
    let mut bytes = Vec::new();
    (&file)
        .take(MAX_ENTRY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| CacheError::io("read entry", path, source))?;
    if bytes.len() as u64 > MAX_ENTRY_BYTES {
        return Err(CacheError::InvalidEntry {
            path: path.to_path_buf(),
            reason: format!("it is larger than {MAX_ENTRY_BYTES} bytes"),
        });
    }
    Ok(Some((file, bytes)))
}

fn modified(file: &File, path: &Path) -> Result<SystemTime, CacheError> {
    file.metadata()
        .and_then(|metadata| metadata.modified())
        .map_err(|source| CacheError::io("inspect entry", path, source))
}
