//! Digests only this cache can compute.
//!
//! Some values that make up a key are secrets (a token in an
//! `actions/cache` key, a secret a cached step depends on). Storing them,
//! or a plain hash of them, would put them at rest: a short password is
//! found again from its hash by trying candidates. Such values are stored
//! as a BLAKE3 keyed hash instead, under a random key that is created with
//! the cache and readable only by its owner, so equal values still give
//! equal keys while what is stored reveals nothing without the key.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::cache::Cache;
use crate::digest::Digest;
use crate::error::CacheError;
use crate::temp_file::unique_name;

/// Where a cache keeps its key once read; its `Debug` never shows it.
#[derive(Default)]
pub(crate) struct KeySlot(OnceLock<Result<[u8; KEY_LEN], String>>);

impl std::fmt::Debug for KeySlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySlot(..)")
    }
}

/// The key's file name in the cache directory.
const KEY_FILE: &str = "private-digest-key";
const KEY_LEN: usize = 32;

impl Cache {
    /// The keyed digest of `value` (see the module documentation).
    pub fn private_digest(&self, value: &[u8]) -> Result<Digest, CacheError> {
        let key = self
            .private_key
            .0
            .get_or_init(|| load_or_create_key(&self.config.dir.join(KEY_FILE)))
            .as_ref()
            .map_err(|reason| CacheError::PrivateKey {
                path: self.config.dir.join(KEY_FILE),
                reason: reason.clone(),
            })?;
        Ok(Digest::from_bytes(
            *blake3::keyed_hash(key, value).as_bytes(),
        ))
    }
}

/// Reads the key, creating it first if this cache has none: written under
/// a staging name, then linked into place, so two processes racing agree
/// on one key.
pub(crate) fn load_or_create_key(path: &Path) -> Result<[u8; KEY_LEN], String> {
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }
    let mut key = [0u8; KEY_LEN];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut key))
        .map_err(|e| format!("no random source: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let staging: PathBuf = dir.join(unique_name(".private-key-"));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&staging)
        .and_then(|mut file| file.write_all(&key));
    if let Err(e) = written {
        let _ = fs::remove_file(&staging);
        return Err(format!("cannot write {}: {e}", staging.display()));
    }
    let linked = fs::hard_link(&staging, path);
    let _ = fs::remove_file(&staging);
    match linked {
        Ok(()) => Ok(key),
        // Another process made one first: theirs is the key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_key(path)?.ok_or_else(|| "it vanished while being created".to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

fn read_key(path: &Path) -> Result<Option<[u8; KEY_LEN]>, String> {
    match fs::read(path) {
        Ok(bytes) => bytes
            .try_into()
            .map(Some)
            .map_err(|_| format!("it is not {KEY_LEN} bytes long; remove it to make a new one")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_made_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = load_or_create_key(&path).unwrap();
        let second = load_or_create_key(&path).unwrap();
        assert_eq!(first, second);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::write(&path, b"short").unwrap();
        assert!(load_or_create_key(&path).unwrap_err().contains("32 bytes"));
    }
}
