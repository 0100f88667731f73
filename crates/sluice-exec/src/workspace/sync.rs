//! Bringing a kept workspace up to date with the source: what is not in
//! the listing goes (build output, files a job created), what changed in
//! the source or was touched by a job is copied again, and everything else
//! stays. A repository whose files did not change costs a walk and a stat
//! per file, not a copy.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::copy::{copy_entry, remove_any};
use super::listing::Listed;
use super::manifest::{self, CopyStamp, Manifest, Record};

/// A change made to a copy within the file system's timestamp tick after
/// the copy cannot be told from the copy by its change time; waiting for
/// the next tick before a job may touch the files rules that out (git's
/// "racy" index entries are the same problem).
const TIMESTAMP_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// What a sync did.
#[derive(Debug, Clone, Copy, Default)]
pub struct SyncStats {
    /// Entries in the workspace afterwards.
    pub files: usize,
    /// Entries copied (new, changed, or touched by a job).
    pub copied: usize,
    /// Entries removed because the source does not list them.
    pub removed: usize,
    pub bytes: u64,
}

pub(crate) fn sync(
    root: &Path,
    listed: &[Listed],
    dest: &Path,
    manifest_path: &Path,
) -> Result<SyncStats, String> {
    let previous = manifest::read(manifest_path);
    match std::fs::remove_file(manifest_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", manifest_path.display())),
    }
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let wanted: HashSet<&Path> = listed.iter().map(|l| l.path.as_path()).collect();
    let mut wanted_dirs: HashSet<&Path> = HashSet::new();
    for entry in listed {
        let mut parent = entry.path.parent();
        while let Some(dir) = parent.filter(|d| !d.as_os_str().is_empty()) {
            if !wanted_dirs.insert(dir) {
                break;
            }
            parent = dir.parent();
        }
    }
    let removed = remove_unlisted(dest, &wanted, &wanted_dirs)?;
    let mut dirs: Vec<&&Path> = wanted_dirs.iter().collect();
    dirs.sort();
    for dir in dirs {
        let target = dest.join(dir);
        std::fs::create_dir_all(&target)
            .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
    }
    let (records, copied, bytes) = copy_changed(root, listed, dest, &previous)?;
    if copied > 0 {
        std::thread::sleep(TIMESTAMP_TICK);
    }
    manifest::write(manifest_path, &records)?;
    Ok(SyncStats {
        files: listed.len(),
        copied,
        removed,
        bytes,
    })
}

/// Removes everything below `dest` (except `.git` at the top) that the
/// listing does not hold. Returns how many entries went.
fn remove_unlisted(
    dest: &Path,
    wanted: &HashSet<&Path>,
    wanted_dirs: &HashSet<&Path>,
) -> Result<usize, String> {
    let mut removed = 0;
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = dest.join(&relative);
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let path = relative.join(entry.file_name());
            if relative.as_os_str().is_empty() && entry.file_name() == ".git" {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && wanted_dirs.contains(path.as_path()) {
                pending.push(path);
            } else if !wanted.contains(path.as_path()) {
                remove_any(&entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Copies the entries whose copy is missing or out of date, on several
/// threads. Returns the new manifest, the number copied, and the bytes.
fn copy_changed(
    root: &Path,
    listed: &[Listed],
    dest: &Path,
    previous: &Manifest,
) -> Result<(Manifest, usize, u64), String> {
    let next = AtomicUsize::new(0);
    let results: Mutex<(Manifest, usize, u64)> = Mutex::new((Manifest::new(), 0, 0));
    let wanted = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8)
        .min(listed.len().div_ceil(64).max(1));
    // Helpers from the process's budget (shared with the cache); this
    // thread copies too.
    let helpers = sluice_cache::thread_budget::Helpers::take(wanted - 1);
    let copy = || -> Result<(), String> {
        let mut records = Vec::new();
        let (mut copied, mut bytes) = (0, 0);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(entry) = listed.get(i) else { break };
            let target = dest.join(&entry.path);
            let current = previous.get(&entry.path).filter(|record| {
                !entry.is_dir
                    && record.source == entry.stamp
                    && std::fs::symlink_metadata(&target)
                        .is_ok_and(|meta| CopyStamp::of(&meta) == record.copy)
            });
            if let Some(record) = current {
                records.push((entry.path.clone(), *record));
                continue;
            }
            remove_any(&target)?;
            bytes += copy_entry(&root.join(&entry.path), &target)?;
            copied += 1;
            if !entry.is_dir
                && let Ok(meta) = std::fs::symlink_metadata(&target)
            {
                let record = Record {
                    source: entry.stamp,
                    copy: CopyStamp::of(&meta),
                };
                records.push((entry.path.clone(), record));
            }
        }
        if let Ok(mut results) = results.lock() {
            results.0.extend(records);
            results.1 += copied;
            results.2 += bytes;
        }
        Ok(())
    };
    let errors: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..helpers.count()).map(|_| scope.spawn(copy)).collect();
        let own = copy().err();
        handles
            .into_iter()
            .filter_map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a copy thread panicked".into()))
                    .err()
            })
            .chain(own)
            .collect()
    });
    drop(helpers);
    if let Some(first) = errors.into_iter().next() {
        return Err(first);
    }
    results
        .into_inner()
        .map_err(|_| "a copy thread panicked".to_string())
}
