//! Staging files: every write goes to a uniquely named temporary file that
//! is renamed (or hard-linked) into place only once complete, so a reader
//! never sees a half-written file under its final name.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static NEXT_NAME: AtomicU64 = AtomicU64::new(0);

/// A name no other thread of this process will produce, and that another
/// process (different pid) or a previous run of this one (different clock)
/// is very unlikely to have left behind; callers still create with
/// `create_new` and retry on a clash.
pub(crate) fn unique_name(prefix: &str) -> String {
    let counter = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!("{prefix}{:x}-{counter:x}-{clock:x}", std::process::id())
}

/// How many names to try before giving up on finding a free one.
const NAME_ATTEMPTS: usize = 16;

/// A temporary file removed on drop unless it was moved into place.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    file: File,
    placed: bool,
}

impl TempFile {
    /// Creates a new, empty file in `dir`. Fails with `NotFound` when `dir`
    /// does not exist, which callers use to create directories lazily.
    pub(crate) fn create_in(dir: &Path, prefix: &str) -> io::Result<TempFile> {
        let mut last_clash = None;
        for _ in 0..NAME_ATTEMPTS {
            let path = dir.join(unique_name(prefix));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        path,
                        file,
                        placed: false,
                    });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    last_clash = Some(error);
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_clash.unwrap_or_else(|| io::Error::other("no free temporary file name")))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Renames the file over `target` (atomically replacing whatever is
    /// there). On failure the temporary file stays, so the caller may retry
    /// (after creating the target directory, say); it is removed on drop.
    pub(crate) fn rename_to(&mut self, target: &Path) -> io::Result<()> {
        fs::rename(&self.path, target)?;
        self.placed = true;
        Ok(())
    }

    /// Links the file to `target` only if nothing is there yet: the
    /// create-if-absent that makes entries immutable. Fails with
    /// `AlreadyExists` when `target` exists. The temporary name is removed
    /// either way.
    pub(crate) fn link_to_new(self, target: &Path) -> io::Result<()> {
        fs::hard_link(&self.path, target)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.placed {
            // Best effort: a leftover is swept by `prune` once it is stale.
            let _ = fs::remove_file(&self.path);
        }
    }
}
