//! Pruning, verification, clearing and the locking that keeps them from
//! breaking saves and restores.

use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, SystemTime};

use crate::support::{Scratch, bases, everything, noise, wait_until, write};
use serde_json::json;
use sluice_cache::{Cache, CacheError, Digest, EntryRecord};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Captures a tree of one file of `size` noise bytes and records an entry
/// (`step`, `id`) for it; returns the manifest.
fn saved_tree(scratch: &Scratch, cache: &Cache, id: &str, seed: u64, size: usize) -> Digest {
    let tree = scratch.path(&format!("trees/{id}"));
    write(&tree, "file.bin", &noise(seed, size));
    let capture = cache.capture(&everything(&tree)).unwrap();
    let entry = EntryRecord::new("", "", capture.bytes, vec![capture.manifest], json!(null));
    cache.put_entry("step", id, &entry).unwrap();
    capture.manifest
}

fn ids(records: &[EntryRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

fn age_file(path: &Path, by: Duration) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - by)
        .unwrap();
}

#[test]
fn prune_removes_entries_unused_for_longer_than_max_age_and_their_blobs() {
    let scratch = Scratch::new();
    let cache = scratch.cache_with(|c| c.unreferenced_grace = Duration::ZERO);
    let old = saved_tree(&scratch, &cache, "old", 1, 1000);
    let old_manifest_size = cache.get_bytes(&old).unwrap().len() as u64;
    saved_tree(&scratch, &cache, "recent", 2, 1000);
    let shared = cache.put_bytes(b"shared by both").unwrap();
    for (id, used) in [("old-shared", 8 * DAY), ("kept-shared", 6 * DAY)] {
        let entry = EntryRecord::new("", "", 14, vec![shared], json!(null));
        cache.put_entry("key/s", id, &entry).unwrap();
        cache
            .set_entry_last_used("key/s", id, SystemTime::now() - used)
            .unwrap();
    }
    cache
        .set_entry_last_used("step", "old", SystemTime::now() - 8 * DAY)
        .unwrap();

    let report = cache.prune().unwrap();
    let mut expired = ids(&report.expired);
    expired.sort_unstable();
    assert_eq!(expired, ["old", "old-shared"]);
    assert!(report.evicted.is_empty());
    assert_eq!(report.entries_kept, 2);
    assert_eq!(report.blobs_removed, 2, "the old tree's file and manifest");
    assert_eq!(report.bytes_freed, 1000 + old_manifest_size);
    assert!(cache.get_entry("step", "old").unwrap().is_none());
    assert!(cache.get_bytes(&Digest::of(&noise(1, 1000))).is_err());
    assert_eq!(cache.get_bytes(&shared).unwrap(), b"shared by both");
    let recent = cache.get_entry("step", "recent").unwrap().unwrap();
    cache
        .restore(&recent.references[0], &bases(&scratch.path("out")))
        .unwrap();
}

#[test]
fn prune_evicts_least_recently_used_entries_until_under_max_bytes() {
    let scratch = Scratch::new();
    let cache = scratch.cache_with(|c| {
        c.unreferenced_grace = Duration::ZERO;
        c.max_bytes = 250_000;
    });
    let mut manifests = Vec::new();
    for (n, id) in ["a", "b", "c"].iter().enumerate() {
        manifests.push(saved_tree(&scratch, &cache, id, n as u64, 100_000));
        cache
            .set_entry_last_used(
                "step",
                id,
                SystemTime::now() - Duration::from_secs(300 - 100 * n as u64),
            )
            .unwrap();
    }
    // A second entry for c's tree: shared blobs count once.
    let again = EntryRecord::new("", "", 0, vec![manifests[2]], json!(null));
    cache.put_entry("step", "c-again", &again).unwrap();
    // Using `a` makes `b` the least recently used.
    cache.get_entry("step", "a").unwrap().unwrap();

    let report = cache.prune().unwrap();
    assert!(report.expired.is_empty());
    assert_eq!(ids(&report.evicted), ["b"]);
    assert_eq!(report.entries_kept, 3);
    assert!(report.bytes_referenced <= 250_000, "{report:?}");
    assert!(report.bytes_referenced >= 200_000, "{report:?}");
    assert_eq!(report.blobs_removed, 2);
    assert!(matches!(
        cache.restore(&manifests[1], &bases(&scratch.path("b"))),
        Err(CacheError::Missing { .. })
    ));
    for (manifest, out) in [(manifests[0], "a"), (manifests[2], "c")] {
        cache
            .restore(&manifest, &bases(&scratch.path(out)))
            .unwrap();
    }

    // Under the limit, nothing more goes.
    let quiet = cache.prune().unwrap();
    assert!(
        quiet.evicted.is_empty() && quiet.blobs_removed == 0,
        "{quiet:?}"
    );
}

#[test]
fn unreferenced_blobs_are_swept_after_the_grace_period_referenced_ones_stay() {
    let scratch = Scratch::new();
    let graceful = scratch.loose_cache();
    let loose = graceful.put_bytes(b"nobody refers to me").unwrap();
    let tree = scratch.path("tree");
    write(&tree, "kept.txt", b"kept by a fresh manifest");
    let capture = graceful.capture(&everything(&tree)).unwrap();
    let file_blob = Digest::of(b"kept by a fresh manifest");
    // The file's blob is old; the manifest listing it is fresh.
    age_file(&scratch.blob_path(&file_blob), 2 * DAY);
    let referenced = saved_tree(&scratch, &graceful, "entry", 9, 5000);

    // Within the grace period: everything stays.
    let report = graceful.prune().unwrap();
    assert_eq!(report.blobs_removed, 0, "{report:?}");

    // The loose blob and the manifest age past it; the unreferenced tree
    // and loose blob go, the entry's tree stays.
    age_file(&scratch.blob_path(&loose), 2 * DAY);
    age_file(&scratch.blob_path(&capture.manifest), 2 * DAY);
    let report = graceful.prune().unwrap();
    assert_eq!(report.blobs_removed, 3, "{report:?}");
    assert!(!graceful.has_blob(&loose).unwrap());
    assert!(!graceful.has_blob(&file_blob).unwrap());
    assert!(!graceful.has_blob(&capture.manifest).unwrap());
    graceful
        .restore(&referenced, &bases(&scratch.path("out")))
        .unwrap();
}

#[test]
fn prune_also_removes_stale_staging_files_and_damaged_entries() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let staging = scratch.path("cache/v1/tmp");
    fs::write(staging.join("blob-stale"), b"left by a crash").unwrap();
    age_file(&staging.join("blob-stale"), Duration::from_secs(2 * 3600));
    fs::write(staging.join("blob-fresh"), b"being written").unwrap();
    let entry = EntryRecord::new("", "", 0, vec![], json!(null));
    cache.put_entry("step", "damaged", &entry).unwrap();
    let path = scratch.local().entry_path("step", &Digest::of(b"damaged"));
    fs::write(&path, b"{\"trunc").unwrap();

    // Every save holds the store while it writes; prune holds it alone,
    // so even a new staging file is one a killed save left.
    let report = cache.prune().unwrap();
    assert_eq!(report.staging_removed, 2);
    assert!(!staging.join("blob-fresh").exists());
    assert_eq!(report.invalid_entries, std::slice::from_ref(&path));
    assert!(!path.exists());
}

#[test]
fn prune_waits_for_a_running_restore_instead_of_breaking_it() {
    let scratch = Scratch::new();
    // One worker, so the restore takes a while.
    let cache = scratch.cache_with(|c| {
        c.unreferenced_grace = Duration::ZERO;
        c.workers = 1;
    });
    let tree = scratch.path("tree");
    for n in 0..2000u64 {
        write(&tree, &format!("d{}/f{n}", n % 20), &noise(n, 16_384));
    }
    // No entry refers to the tree: a prune that could run now would
    // remove every blob the restore needs.
    let capture = cache.capture(&everything(&tree)).unwrap();
    let restored = scratch.path("restored");
    let restore = {
        let (cache, restored) = (cache.clone(), restored.clone());
        thread::spawn(move || cache.restore(&capture.manifest, &bases(&restored)))
    };
    wait_until(Duration::from_secs(30), || {
        fs::read_dir(&restored).is_ok_and(|mut dir| dir.next().is_some())
    });
    let overlapped = !restore.is_finished();
    let report = cache.prune().unwrap();
    let stats = restore
        .join()
        .unwrap()
        .expect("the restore is not broken by the prune");
    assert_eq!(stats.written, 2000);
    assert_eq!(
        report.blobs_removed, 2001,
        "the prune ran after the restore"
    );
    assert!(
        overlapped,
        "the restore finished before the prune started; the test proved nothing"
    );
    // A restore after the prune finds the blobs gone.
    assert!(matches!(
        cache.restore(&capture.manifest, &bases(&scratch.path("later"))),
        Err(CacheError::Missing { .. })
    ));
}

#[test]
fn maybe_prune_runs_when_due_and_never_waits() {
    let scratch = Scratch::new();
    let cache = scratch.cache_with(|c| c.max_bytes = 10_000);
    assert!(cache.maybe_prune().unwrap().is_some(), "never pruned: due");
    assert!(cache.maybe_prune().unwrap().is_none(), "just pruned");
    cache.put_bytes(&noise(1, 6_000)).unwrap();
    assert!(
        cache.maybe_prune().unwrap().is_none(),
        "still under max_bytes"
    );
    cache.put_bytes(&noise(2, 6_000)).unwrap();
    {
        let _busy = cache.hold().unwrap();
        assert!(cache.maybe_prune().unwrap().is_none(), "busy: not waiting");
    }
    assert!(
        cache.maybe_prune().unwrap().is_some(),
        "over max_bytes: due"
    );
    assert!(cache.maybe_prune().unwrap().is_none());
}

#[test]
fn verify_removes_corrupt_blobs_and_reports_the_entries_left_dangling() {
    let scratch = Scratch::new();
    let cache = scratch.loose_cache();
    let broken = saved_tree(&scratch, &cache, "broken", 1, 3000);
    let sound = saved_tree(&scratch, &cache, "sound", 2, 3000);
    let plain = cache.put_bytes(b"a plain blob").unwrap();
    let entry = EntryRecord::new("", "", 12, vec![plain], json!(null));
    cache.put_entry("key/s", "plain", &entry).unwrap();
    let rotten = Digest::of(&noise(1, 3000));
    let path = scratch.blob_path(&rotten);
    let mut bytes = fs::read(&path).unwrap();
    bytes[100] ^= 0xff;
    fs::write(&path, bytes).unwrap();

    let report = cache.verify().unwrap();
    assert_eq!(report.corrupt, [rotten]);
    assert_eq!(report.blobs_checked, 5);
    assert_eq!(report.dangling.len(), 1);
    assert_eq!(report.dangling[0].entry.id, "broken");
    assert_eq!(report.dangling[0].missing, [rotten]);
    assert!(!path.exists());
    assert!(cache.get_entry("step", "broken").unwrap().is_none());
    assert!(cache.get_entry("step", "sound").unwrap().is_some());
    assert!(cache.get_entry("key/s", "plain").unwrap().is_some());
    cache.restore(&sound, &bases(&scratch.path("out"))).unwrap();

    assert!(matches!(
        cache.restore(&broken, &bases(&scratch.path("broken"))),
        Err(CacheError::Missing { .. })
    ));

    let clean = cache.verify().unwrap();
    assert!(
        clean.corrupt.is_empty() && clean.dangling.is_empty(),
        "{clean:?}"
    );
}

#[test]
fn clear_empties_the_store_which_stays_usable() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    saved_tree(&scratch, &cache, "x", 1, 100);
    cache.clear().unwrap();
    let stats = cache.stats().unwrap();
    assert_eq!((stats.entries, stats.blobs, stats.bytes), (0, 0, 0));
    assert!(cache.list().unwrap().is_empty());
    saved_tree(&scratch, &cache, "y", 2, 100);
    assert_eq!(cache.stats().unwrap().entries, 1);
}

#[test]
fn kill_9_during_a_save_leaves_a_partial_blob_and_unreferenced_blobs_that_nothing_removes() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    // What a save killed half-way leaves: blobs stored but no entry for
    // them, and a staging file its dead writer never renamed.
    let tree = scratch.path("tree");
    for n in 0..50 {
        write(&tree, &format!("f{n}"), &noise(n, 100));
    }
    let capture = cache.capture(&everything(&tree)).unwrap();
    let staging = scratch.local().root().join("tmp").join("blob-1f-3-1f");
    fs::write(&staging, b"half a blob").unwrap();

    let verified = cache.verify().unwrap();
    assert_eq!(verified.staging_removed, 0, "a save may be writing it now");
    assert!(staging.exists());
    assert_eq!(verified.unreferenced, 51, "50 files and their manifest");
    assert!(
        cache.has_blob(&capture.manifest).unwrap(),
        "verify only reports them"
    );
    age_file(&staging, Duration::from_secs(2 * 60 * 60));
    assert_eq!(
        cache.verify().unwrap().staging_removed,
        1,
        "an old one is garbage"
    );
    fs::write(&staging, b"half a blob").unwrap();

    // The automatic prune keeps the blobs for the grace period (a save may
    // be about to record its entry); `cache prune` removes them at once.
    // Both remove the staging file: nothing writes while prune runs.
    let automatic = cache.prune().unwrap();
    assert_eq!(automatic.blobs_removed, 0);
    assert_eq!(automatic.staging_removed, 1);
    assert!(!staging.exists());
    let report = cache.prune_now().unwrap();
    assert_eq!(report.blobs_removed, 51);
    assert_eq!(report.bytes_stored, 0);
    assert!(!cache.has_blob(&capture.manifest).unwrap());
}
