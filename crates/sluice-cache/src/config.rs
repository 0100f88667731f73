//! What a cache is opened with.

use std::path::PathBuf;
use std::time::Duration;

/// Where the cache lives and how big and old it may grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// The cache directory (`SLUICE_CACHE_DIR`). The store keeps its data in
    /// a versioned directory below it (`v1/`), so a future layout can live
    /// next to this one.
    pub dir: PathBuf,
    /// Upper bound for the bytes referenced by entries; `prune` evicts the
    /// least recently used entries above it. Default 10 GiB.
    pub max_bytes: u64,
    /// Entries not used for longer than this are evicted by `prune`.
    /// Default 7 days.
    pub max_age: Duration,
    /// How long a blob that no entry references yet is protected from
    /// `prune`: a capture stores its blobs and manifest before the caller
    /// records an entry for them, and a prune in between must not take them
    /// away. Default 1 hour.
    pub unreferenced_grace: Duration,
    /// Worker threads for hashing and copying; 0 means one per available
    /// core, and at least 8 (the work waits on the disk).
    pub workers: usize,
    /// Small files' contents are stored many to a pack file (one file to
    /// create per capture thread, not one per file). Default on.
    pub pack_small_blobs: bool,
}

impl CacheConfig {
    /// Default for [`CacheConfig::max_bytes`]: 10 GiB.
    pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024 * 1024;
    /// Default for [`CacheConfig::max_age`]: 7 days.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
    /// Default for [`CacheConfig::unreferenced_grace`]: 1 hour.
    pub const DEFAULT_UNREFERENCED_GRACE: Duration = Duration::from_secs(60 * 60);

    /// A configuration for `dir` with every other setting at its default.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CacheConfig {
            dir: dir.into(),
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_age: Self::DEFAULT_MAX_AGE,
            unreferenced_grace: Self::DEFAULT_UNREFERENCED_GRACE,
            workers: 0,
            pack_small_blobs: true,
        }
    }

    /// The number of worker threads to use for `items` pieces of work of
    /// `bytes` in all (when known). Small jobs stay on the calling thread:
    /// starting threads costs more than restoring a handful of files, the
    /// common case of a cached build step.
    pub(crate) fn workers_for(&self, items: usize, bytes: Option<u64>) -> usize {
        let big = items >= PARALLEL_MIN_ITEMS || bytes.is_some_and(|b| b >= PARALLEL_MIN_BYTES);
        if !big {
            return 1;
        }
        let wanted = if self.workers == 0 {
            // Creating and reading files waits on the disk more than on the
            // CPU: a disk keeps more writers busy than there are cores
            // (bench/key-cache.sh's plain program is fastest at 8 here).
            cores().max(IO_WORKERS)
        } else {
            self.workers
        };
        wanted.min(items).max(1)
    }
}

/// The threads file work asks for at least (the process's helper budget
/// still bounds them all).
const IO_WORKERS: usize = 8;

/// Below both of these a piece of work runs on one thread.
const PARALLEL_MIN_ITEMS: usize = 32;
const PARALLEL_MIN_BYTES: u64 = 8 << 20;

/// The cores this process may use, asked once: the standard library reads
/// the cgroup limits from /proc and /sys on every call, which cost more
/// than restoring a small cached step.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |cores| cores.get()))
}
