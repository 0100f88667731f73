//! Blob files: `blobs/<2 hex>/<62 hex>`, written through `tmp/`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use super::{LocalBackend, create_dir_all};
use crate::backend::{BlobInfo, BlobReader};
use crate::digest::Digest;
use crate::error::CacheError;
use crate::hashing::{CopyFailure, copy_hashing};
use crate::temp_file::TempFile;

impl LocalBackend {
    pub(super) fn has_blob_file(&self, digest: &Digest) -> Result<bool, CacheError> {
        let path = self.blob_path(digest);
        match fs::symlink_metadata(&path) {
            Ok(_) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(CacheError::io("inspect blob", path, source)),
        }
    }

    pub(super) fn put_blob_bytes(
        &self,
        digest: &Digest,
        contents: &[u8],
    ) -> Result<bool, CacheError> {
        if self.has_blob_file(digest)? {
            return Ok(false);
        }
        let mut staged = self.stage("blob-")?;
        staged
            .file()
            .write_all(contents)
            .map_err(|source| CacheError::io("write staging file", staged.path(), source))?;
        self.place_blob(staged, digest)?;
        Ok(true)
    }

    pub(super) fn put_blob_copy(
        &self,
        digest: &Digest,
        source_path: &Path,
    ) -> Result<bool, CacheError> {
        if self.has_blob_file(digest)? {
            return Ok(false);
        }
        let mut source = File::open(source_path)
            .map_err(|source| CacheError::io("open file to cache", source_path, source))?;
        let mut staged = self.stage("blob-")?;
        let mut buffer = Vec::new();
        let (copied, _) = match copy_hashing(&mut source, staged.file(), &mut buffer) {
            Ok(done) => done,
            Err(CopyFailure::Read(error)) => {
                return Err(CacheError::io("read file to cache", source_path, error));
            }
            Err(CopyFailure::Write(error)) => {
                return Err(CacheError::io("write staging file", staged.path(), error));
            }
        };
        if copied != *digest {
            return Err(CacheError::SourceChanged {
                path: source_path.to_path_buf(),
            });
        }
        self.place_blob(staged, digest)?;
        Ok(true)
    }

    /// A new staging file in `tmp/` (recreated if a `clear` removed it).
    pub(super) fn stage(&self, prefix: &str) -> Result<TempFile, CacheError> {
        match TempFile::create_in(&self.staging, prefix) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                create_dir_all(&self.staging)?;
                TempFile::create_in(&self.staging, prefix)
            }
            other => other,
        }
        .map_err(|source| CacheError::io("create staging file", &self.staging, source))
    }

    /// Renames a complete staging file to the blob's name. Two writers of
    /// the same blob both succeed: the content is the same either way.
    fn place_blob(&self, mut staged: TempFile, digest: &Digest) -> Result<(), CacheError> {
        let target = self.blob_path(digest);
        let renamed = match staged.rename_to(&target) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                // The fan-out directory is created on first use.
                if let Some(parent) = target.parent() {
                    create_dir_all(parent)?;
                }
                staged.rename_to(&target)
            }
            other => other,
        };
        renamed.map_err(|source| CacheError::io("store blob", target, source))
    }

    pub(super) fn open_blob_file(&self, digest: &Digest) -> Result<BlobReader, CacheError> {
        let path = self.blob_path(digest);
        match File::open(&path) {
            Ok(file) => Ok(BlobReader {
                reader: Box::new(file),
                location: path,
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Err(CacheError::Missing { digest: *digest })
            }
            Err(source) => Err(CacheError::io("open blob", path, source)),
        }
    }

    pub(super) fn touch_blob_file(&self, digest: &Digest) -> Result<(), CacheError> {
        let path = self.blob_path(digest);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(CacheError::Missing { digest: *digest });
            }
            Err(source) => return Err(CacheError::io("open blob", path, source)),
        };
        file.set_modified(SystemTime::now())
            .map_err(|source| CacheError::io("set the time of blob", path, source))
    }

    pub(super) fn delete_blob_file(&self, digest: &Digest) -> Result<(), CacheError> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                Err(CacheError::io("remove blob", path, error))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn list_blob_files(&self) -> Result<Vec<BlobInfo>, CacheError> {
        let mut blobs = Vec::new();
        for fan_out in read_dir_if_present(&self.blobs)? {
            let prefix = fan_out.file_name();
            let Some(prefix) = prefix.to_str().filter(|p| p.len() == 2) else {
                continue;
            };
            let dir = fan_out.path();
            for file in read_dir_if_present(&dir)? {
                let name = file.file_name();
                let Some(rest) = name.to_str() else { continue };
                // Anything not named like a blob is not one (and is left alone).
                let Ok(digest) = format!("{prefix}{rest}").parse::<Digest>() else {
                    continue;
                };
                let metadata = match file.metadata() {
                    Ok(metadata) => metadata,
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(source) => {
                        return Err(CacheError::io("inspect blob", file.path(), source));
                    }
                };
                if !metadata.is_file() {
                    continue;
                }
                blobs.push(BlobInfo {
                    digest,
                    size: metadata.len(),
                    modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
        blobs.sort_unstable_by_key(|blob| blob.digest);
        Ok(blobs)
    }
}

/// The entries of `dir`; none if it does not exist (or vanished).
pub(super) fn read_dir_if_present(dir: &Path) -> Result<Vec<fs::DirEntry>, CacheError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(CacheError::io("read directory", dir, source)),
    };
    entries
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| CacheError::io("read directory", dir, source))
}
