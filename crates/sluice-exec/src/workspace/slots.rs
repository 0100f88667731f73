//! Kept workspaces, one per job running at a time: slot `N` of a
//! repository is a directory with a lock file; a job holds the lock
//! (`flock`, so it is released when the process dies however it dies)
//! while it runs, and the next job that finds the slot free reuses the
//! copy in it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// Most slots one repository gets: far more jobs than any machine runs at
/// once, across every Sluice process.
const MAX_SLOTS: usize = 256;

/// A slot held by this job.
#[derive(Debug)]
pub(crate) struct Slot {
    pub dir: PathBuf,
    /// Held for as long as the job runs; closing it releases the slot.
    _lock: File,
}

/// Takes the first free slot below `base`.
pub(crate) fn acquire(base: &Path) -> Result<Slot, String> {
    for n in 0..MAX_SLOTS {
        let dir = base.join(n.to_string());
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {
                // The lock file's time says when the slot was last used,
                // for removing idle slots.
                let _ = lock.set_modified(std::time::SystemTime::now());
                return Ok(Slot { dir, _lock: lock });
            }
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", lock_path.display()));
            }
        }
    }
    Err(format!(
        "all {MAX_SLOTS} workspace slots in {} are in use",
        base.display()
    ))
}

/// Removes the slots below `workspaces_dir` (all repositories) that no job
/// holds and, with `idle_for`, that no job used for that long. Returns how
/// many went.
pub(crate) fn remove_idle(workspaces_dir: &Path, idle_for: Option<std::time::Duration>) -> usize {
    let mut removed = 0;
    let repositories = std::fs::read_dir(workspaces_dir)
        .into_iter()
        .flatten()
        .flatten();
    for repository in repositories {
        for slot in std::fs::read_dir(repository.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let lock_path = slot.path().join("lock");
            let Ok(lock) = OpenOptions::new().write(true).open(&lock_path) else {
                continue;
            };
            let idle_enough = match idle_for {
                None => true,
                Some(limit) => lock
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|idle| idle >= limit),
            };
            // Held by a running job: never pulled from under it. The lock
            // is held while the slot is removed.
            if idle_enough
                && lock.try_lock().is_ok()
                && std::fs::remove_dir_all(slot.path()).is_ok()
            {
                removed += 1;
            }
        }
        // Gone once its last slot is (fails harmlessly otherwise).
        let _ = std::fs::remove_dir(repository.path());
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_slot_is_neither_handed_out_twice_nor_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let workspaces = tmp.path().to_path_buf();
        let base = workspaces.join("repo-key");
        let first = acquire(&base).unwrap();
        let second = acquire(&base).unwrap();
        assert_ne!(first.dir, second.dir);
        let first_dir = first.dir.clone();
        drop(first);
        let again = acquire(&base).unwrap();
        assert_eq!(again.dir, first_dir, "the freed slot is reused");

        // `again` is held, `second` is released.
        drop(second);
        let hour = Some(std::time::Duration::from_secs(3600));
        assert_eq!(remove_idle(&workspaces, hour), 0, "used a moment ago");
        assert_eq!(remove_idle(&workspaces, None), 1, "the free slot goes");
        assert!(again.dir.exists(), "the held slot stays");
        drop(again);
        assert_eq!(remove_idle(&workspaces, None), 1);
        assert!(!base.exists(), "an empty repository directory goes too");
        std::fs::remove_dir_all(&workspaces).unwrap();
    }
}
