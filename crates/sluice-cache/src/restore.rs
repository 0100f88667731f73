//! Restoring a captured tree: make each listed file match the manifest,
//! touching only the files that differ.

use std::collections::HashMap;
use std::fs::{self, File, Metadata, Permissions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cache::Cache;
use crate::digest::Digest;
use crate::error::CacheError;
use crate::fresh_dirs::FreshDirs;
use crate::hashing::{CopyFailure, copy_hashing, hash_reader};
use crate::manifest::{FileRecord, RecordContent, parse_manifest_records};
use crate::parallel::map_parallel;
use crate::temp_file::{TempFile, unique_name};
use crate::time::{from_unix_ns, mtime_ns};

/// Prefix of the temporary files a restore writes next to their targets.
const RESTORE_TEMP_PREFIX: &str = ".sluice-restore-";

/// The permission bits a restore sets (no set-user-id and the like from a
/// cache).
const RESTORED_MODE_BITS: u32 = 0o777;

/// What a restore did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoreStats {
    /// Files (and links) in the manifest.
    pub files: u64,
    /// Files written (or links created).
    pub written: u64,
    /// Files already in place with the right content (at most their
    /// modification time or permissions were set).
    pub unchanged: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

/// Where a restore may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Confinement {
    /// The cache trusts its own content: links are restored and files are
    /// written through links already in the target tree (caches, whose
    /// trees are the user's own).
    #[default]
    Trusting,
    /// Nothing is written outside the target directories: a link in the
    /// manifest is refused, and so is a file whose way from its base
    /// passes a symbolic link (downloads of artifacts, which other jobs
    /// made).
    Confined,
}

enum Outcome {
    Unchanged,
    Written { bytes: u64 },
}

impl Cache {
    /// Restores the tree of manifest `manifest`, each root into the
    /// directory `bases` gives for its label.
    ///
    /// For each file: if the target has the recorded size and modification
    /// time, it is left alone (a `lstat`, nothing read or written); with
    /// the size but another time, it is hashed and, if identical, only its
    /// time is set; otherwise the blob is copied into a temporary file next
    /// to the target while being verified, given its permissions and time,
    /// and renamed over the target (so the target is never half-written).
    /// A target that does not exist yet is written straight under its name
    /// and removed if the write fails (a restore killed mid-write leaves it
    /// short, with a time that is not the record's, so the next restore
    /// rewrites it). Missing parent directories are
    /// created. Files the manifest does not list are left alone.
    ///
    /// A corrupt or missing blob aborts the restore with
    /// [`CacheError::Corrupt`] or [`CacheError::Missing`]; files already
    /// restored stay (each is complete and correct), the rest are as they
    /// were. Callers treat that as a cache miss (and may `remove_entry`).
    /// A non-empty directory where a file or link should go is
    /// [`CacheError::RestoreConflict`].
    ///
    /// The cache trusts its own content: a restored link may point
    /// anywhere, and files are written through links already present in
    /// the target tree.
    pub fn restore(
        &self,
        manifest: &Digest,
        bases: &HashMap<String, PathBuf>,
    ) -> Result<RestoreStats, CacheError> {
        self.restore_with(manifest, bases, Confinement::Trusting)
    }

    /// [`Cache::restore`], confined as `confinement` says. A confined
    /// restore that meets a link fails with
    /// [`CacheError::RestoreConflict`] before writing that file.
    pub fn restore_with(
        &self,
        manifest: &Digest,
        bases: &HashMap<String, PathBuf>,
        confinement: Confinement,
    ) -> Result<RestoreStats, CacheError> {
        let started = Instant::now();
        let _lock = self.hold()?;
        let bytes = self.read_verified(manifest)?;
        let files = parse_manifest_records(manifest, &bytes)?;
        let mut targets = Vec::with_capacity(files.len());
        for file in &files {
            let base = bases
                .get(&*file.root)
                .ok_or_else(|| CacheError::UnknownRoot {
                    manifest: *manifest,
                    label: file.root.to_string(),
                })?;
            targets.push((file, base.as_path()));
        }
        let workers = self
            .config
            .workers_for(targets.len(), Some(files.iter().map(|f| f.size).sum()));
        let fresh_dirs = FreshDirs::default();
        fresh_dirs.create_missing_trees(targets.iter().map(|(file, base)| (*base, &*file.path)))?;
        let outcomes = map_parallel(&targets, workers, Vec::new, |buffer, (file, base)| {
            if confinement == Confinement::Confined {
                check_confined(file, base)?;
            }
            self.restore_file(file, &base.join(&*file.path), &fresh_dirs, buffer)
        })?;
        let mut stats = RestoreStats {
            files: files.len() as u64,
            ..RestoreStats::default()
        };
        for outcome in outcomes {
            match outcome {
                Outcome::Unchanged => stats.unchanged += 1,
                Outcome::Written { bytes } => {
                    stats.written += 1;
                    stats.bytes_written += bytes;
                }
            }
        }
        stats.elapsed = started.elapsed();
        Ok(stats)
    }

    fn restore_file(
        &self,
        file: &FileRecord<'_>,
        target: &Path,
        fresh_dirs: &FreshDirs,
        buffer: &mut Vec<u8>,
    ) -> Result<Outcome, CacheError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let existing = if fresh_dirs.contains(dir) {
            None
        } else {
            match fs::symlink_metadata(target) {
                Ok(metadata) => Some(metadata),
                Err(error) if error.kind() == io::ErrorKind::NotFound => None,
                Err(source) => return Err(CacheError::io("inspect", target, source)),
            }
        };
        match &file.content {
            RecordContent::File { digest } => {
                if let Some(metadata) = &existing
                    && already_in_place(file, digest, target, metadata, buffer)?
                {
                    return Ok(Outcome::Unchanged);
                }
                if existing.is_none()
                    && let Some(bytes) =
                        self.write_fresh(file, digest, target, fresh_dirs, buffer)?
                {
                    return Ok(Outcome::Written { bytes });
                }
                clear_directory_in_the_way(target, existing.as_ref())?;
                let bytes = self.write_file(file, digest, target, fresh_dirs, buffer)?;
                Ok(Outcome::Written { bytes })
            }
            RecordContent::Symlink { target: link } => {
                if let Some(metadata) = &existing
                    && metadata.file_type().is_symlink()
                    && fs::read_link(target).is_ok_and(|current| current.as_os_str() == &**link)
                {
                    return Ok(Outcome::Unchanged);
                }
                clear_directory_in_the_way(target, existing.as_ref())?;
                create_link(link, target, fresh_dirs)?;
                Ok(Outcome::Written { bytes: 0 })
            }
        }
    }

    /// Writes a file that is not there yet straight to its name (one
    /// directory operation, not a temporary file and a rename: the disk's
    /// cost of a fresh restore). `None` if something is there after all;
    /// the caller then writes beside it and renames. A failed write
    /// removes what it began.
    fn write_fresh(
        &self,
        file: &FileRecord<'_>,
        digest: &Digest,
        target: &Path,
        fresh_dirs: &FreshDirs,
        buffer: &mut Vec<u8>,
    ) -> Result<Option<u64>, CacheError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let create = || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(file.mode & RESTORED_MODE_BITS)
                .open(target)
        };
        let opened = match create() {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                fresh_dirs.create(dir)?;
                create()
            }
            other => other,
        };
        let mut handle = match opened {
            Ok(handle) => handle,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
            Err(source) => return Err(CacheError::io("create", target, source)),
        };
        // Created with the record's mode: only a mask that took bits of it
        // leaves permissions to set.
        let mode_set = crate::umask::creates_exactly(file.mode & RESTORED_MODE_BITS);
        match self.fill(file, digest, &mut handle, target, mode_set, buffer) {
            Ok(written) => Ok(Some(written)),
            Err(error) => {
                drop(handle);
                let _ = fs::remove_file(target);
                Err(error)
            }
        }
    }

    /// Copies the blob into a temporary file beside `target`, verifying it,
    /// and renames it over `target`. Returns the bytes written.
    fn write_file(
        &self,
        file: &FileRecord<'_>,
        digest: &Digest,
        target: &Path,
        fresh_dirs: &FreshDirs,
        buffer: &mut Vec<u8>,
    ) -> Result<u64, CacheError> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let mut temp = match TempFile::create_in(dir, RESTORE_TEMP_PREFIX) {
            // Parent directories are created only when needed, so a restore
            // over an existing tree costs no directory operations.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                fresh_dirs.create(dir)?;
                TempFile::create_in(dir, RESTORE_TEMP_PREFIX)
            }
            other => other,
        }
        .map_err(|source| CacheError::io("create a temporary file in", dir, source))?;
        let temp_path = temp.path().to_path_buf();
        let written = self.fill(file, digest, temp.file(), &temp_path, false, buffer)?;
        temp.rename_to(target)
            .map_err(|source| CacheError::io("replace", target, source))?;
        Ok(written)
    }

    /// Writes the blob into `handle` (at `path`), verifying it, then the
    /// record's permissions (unless `mode_set`) and, last, its time.
    fn fill(
        &self,
        file: &FileRecord<'_>,
        digest: &Digest,
        handle: &mut File,
        path: &Path,
        mode_set: bool,
        buffer: &mut Vec<u8>,
    ) -> Result<u64, CacheError> {
        // Empty files need no blob (which may never have been stored).
        let written = if file.size == 0 && *digest == Digest::of_empty() {
            0
        } else {
            let mut blob = self.backend.open_blob(digest)?;
            let (copied, length) = match copy_hashing(&mut blob.reader, handle, buffer) {
                Ok(done) => done,
                Err(CopyFailure::Read(source)) => {
                    return Err(CacheError::io("read blob", blob.location, source));
                }
                Err(CopyFailure::Write(source)) => {
                    return Err(CacheError::io("write", path, source));
                }
            };
            if copied != *digest {
                return Err(self.discard_corrupt(digest, blob.location));
            }
            length
        };
        if !mode_set {
            handle
                .set_permissions(Permissions::from_mode(file.mode & RESTORED_MODE_BITS))
                .map_err(|source| CacheError::io("set permissions of", path, source))?;
        }
        // Last, after every write, or a write would move the time again.
        handle
            .set_modified(from_unix_ns(file.mtime_ns))
            .map_err(|source| CacheError::io("set the time of", path, source))?;
        Ok(written)
    }
}

/// Refuses a link record, and a file whose directories below `base` are
/// not all real directories (a link among them would take the write
/// elsewhere).
fn check_confined(file: &FileRecord<'_>, base: &Path) -> Result<(), CacheError> {
    let target = base.join(&*file.path);
    if matches!(file.content, RecordContent::Symlink { .. }) {
        return Err(CacheError::RestoreConflict {
            path: target,
            reason: "it is a symbolic link, which may not be restored here",
        });
    }
    // The base itself: the target directory the caller chose may exist,
    // but not as a link (`dest/<artifact name>` from the repository, say).
    if fs::symlink_metadata(base).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(CacheError::RestoreConflict {
            path: base.to_path_buf(),
            reason: "it is a symbolic link, which a confined restore never writes through",
        });
    }
    let mut dir = base.to_path_buf();
    let mut segments = file.path.split('/').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            break;
        }
        dir.push(segment);
        match fs::symlink_metadata(&dir) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                return Err(CacheError::RestoreConflict {
                    path: dir,
                    reason: "it is a symbolic link, which a confined restore never writes through",
                });
            }
            Ok(_) => {}
            // Missing: the restore creates it, as a real directory.
            Err(error) if error.kind() == io::ErrorKind::NotFound => break,
            Err(source) => return Err(CacheError::io("inspect", &dir, source)),
        }
    }
    Ok(())
}

/// Whether the regular file at `target` already holds the content: same
/// size and time (trusted, as `make` and `cargo` trust them), or same size
/// and same digest (then the time is set, so the next check is cheap).
/// Permissions that differ are set.
fn already_in_place(
    file: &FileRecord<'_>,
    digest: &Digest,
    target: &Path,
    metadata: &Metadata,
    buffer: &mut Vec<u8>,
) -> Result<bool, CacheError> {
    if !metadata.file_type().is_file() || metadata.len() != file.size {
        return Ok(false);
    }
    let wanted_mode = file.mode & RESTORED_MODE_BITS;
    if mtime_ns(metadata) != file.mtime_ns {
        let Ok(mut current) = File::open(target) else {
            return Ok(false);
        };
        let Ok((current_digest, length)) = hash_reader(&mut current, buffer) else {
            return Ok(false);
        };
        if current_digest != *digest || length != file.size {
            return Ok(false);
        }
        // Setting the time needs ownership; if that fails, rewriting the
        // file (ours then) still gets the tree right.
        if current.set_modified(from_unix_ns(file.mtime_ns)).is_err() {
            return Ok(false);
        }
    }
    if metadata.permissions().mode() & RESTORED_MODE_BITS != wanted_mode {
        fs::set_permissions(target, Permissions::from_mode(wanted_mode))
            .map_err(|source| CacheError::io("set permissions of", target, source))?;
    }
    Ok(true)
}

/// Removes an empty directory standing where a file or link is to be
/// restored; a non-empty one is a conflict the restore will not resolve by
/// deleting someone's files.
fn clear_directory_in_the_way(
    target: &Path,
    existing: Option<&Metadata>,
) -> Result<(), CacheError> {
    if !existing.is_some_and(Metadata::is_dir) {
        return Ok(());
    }
    fs::remove_dir(target).map_err(|error| match error.kind() {
        io::ErrorKind::DirectoryNotEmpty => CacheError::RestoreConflict {
            path: target.to_path_buf(),
            reason: "a non-empty directory is in the way",
        },
        _ => CacheError::io("remove the directory in the way at", target, error),
    })
}

/// Creates the link under a temporary name and renames it over `target`.
fn create_link(link: &str, target: &Path, fresh_dirs: &FreshDirs) -> Result<(), CacheError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut created_dir = false;
    let mut attempts = 0;
    loop {
        let temp = dir.join(unique_name(RESTORE_TEMP_PREFIX));
        match std::os::unix::fs::symlink(link, &temp) {
            Ok(()) => {
                return fs::rename(&temp, target).map_err(|source| {
                    let _ = fs::remove_file(&temp);
                    CacheError::io("replace", target, source)
                });
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound && !created_dir => {
                fresh_dirs.create(dir)?;
                created_dir = true;
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                attempts += 1;
            }
            Err(source) => return Err(CacheError::io("create link", temp, source)),
        }
    }
}
