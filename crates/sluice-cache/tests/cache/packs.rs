//! Small blobs in pack files: stored packed, read back verified, damage
//! detected, pruned by marking dead, repacking what is mostly dead and
//! removing what is all dead, and a crash's leftovers swept.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::json;
use sluice_cache::{CacheError, Digest, EntryRecord, PACK_BLOB_LIMIT};

use crate::support::{Scratch, bases, everything, noise, snapshot, write};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn files_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == extension));
    found.sort();
    found
}

fn loose_blob_files(scratch: &Scratch) -> usize {
    fs::read_dir(scratch.path("cache/v1/blobs"))
        .unwrap()
        .flatten()
        .map(|fan_out| fs::read_dir(fan_out.path()).unwrap().count())
        .sum()
}

fn age(path: &Path, by: Duration) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - by)
        .unwrap();
}

/// Ten small files `f0`..`f9` with distinct contents.
fn ten_files(dir: &Path) {
    for i in 0..10 {
        write(dir, &format!("f{i}"), &noise(i, 1000 + i as usize));
    }
}

#[test]
fn small_files_are_packed_and_restored_verified_big_ones_stay_files() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    for i in 0..300 {
        write(
            &tree,
            &format!("d{}/f{i}.txt", i % 7),
            &noise(i, 50 + i as usize * 13),
        );
    }
    write(&tree, "big.bin", &noise(7, PACK_BLOB_LIMIT as usize + 10));
    let capture = cache.capture(&everything(&tree)).unwrap();
    let packs = scratch.path("cache/v1/packs");
    let (pack_files, indexes) = (files_in(&packs, "pack"), files_in(&packs, "idx"));
    assert!(
        !pack_files.is_empty() && pack_files.len() == indexes.len(),
        "{pack_files:?}"
    );
    assert!(
        pack_files.len() <= 16,
        "a pack per capture thread, not per file: {}",
        pack_files.len()
    );
    assert_eq!(
        loose_blob_files(&scratch),
        2,
        "the big file and the manifest"
    );
    let stats = cache.stats().unwrap();
    assert_eq!(stats.blobs, 302, "300 small, 1 big, the manifest");

    let out = scratch.path("out");
    cache.restore(&capture.manifest, &bases(&out)).unwrap();
    assert_eq!(snapshot(&out), snapshot(&tree));
    // Another process (a new backend) finds the packed blobs too.
    let other = scratch.cache();
    assert!(other.has_blob(&Digest::of(&noise(3, 50 + 3 * 13))).unwrap());
    let report = other.verify().unwrap();
    assert!(report.corrupt.is_empty(), "{report:?}");
    assert_eq!(report.blobs_checked, 302);
}

#[test]
fn a_damaged_packed_blob_fails_the_restore_and_is_stored_again_by_the_next_save() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    ten_files(&tree);
    let capture = cache.capture(&everything(&tree)).unwrap();
    let pack = files_in(&scratch.path("cache/v1/packs"), "pack").remove(0);
    let mut bytes = fs::read(&pack).unwrap();
    bytes[5] ^= 0xff;
    fs::write(&pack, bytes).unwrap();

    let failed = cache.restore(&capture.manifest, &bases(&scratch.path("out")));
    assert!(
        matches!(failed, Err(CacheError::Corrupt { .. })),
        "{failed:?}"
    );
    let damaged = (0..10)
        .map(|i| Digest::of(&noise(i, 1000 + i as usize)))
        .filter(|d| !cache.has_blob(d).unwrap())
        .count();
    assert_eq!(damaged, 1, "the damaged blob is dropped, the others stay");

    let again = cache.capture(&everything(&tree)).unwrap();
    assert_eq!(again.manifest, capture.manifest);
    let out = scratch.path("out2");
    cache.restore(&again.manifest, &bases(&out)).unwrap();
    assert_eq!(snapshot(&out), snapshot(&tree));
}

/// Captures `f0`..`f9` unreferenced (their grace over), and keeps the
/// first `kept` of them in an entry; then prunes.
fn prune_with_kept(kept: u64) -> (Scratch, sluice_cache::Cache, Digest) {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let all = scratch.path("all");
    ten_files(&all);
    let unreferenced = cache.capture(&everything(&all)).unwrap();
    let some = scratch.path("some");
    for i in 0..kept {
        write(&some, &format!("f{i}"), &noise(i, 1000 + i as usize));
    }
    let capture = cache.capture(&everything(&some)).unwrap();
    let entry = EntryRecord::new("", "", capture.bytes, vec![capture.manifest], json!(null));
    cache.put_entry("step", "some", &entry).unwrap();
    for index in files_in(&scratch.path("cache/v1/packs"), "idx") {
        age(&index, 2 * DAY);
    }
    age(&scratch.blob_path(&unreferenced.manifest), 2 * DAY);
    let report = cache.prune().unwrap();
    assert_eq!(report.blobs_removed, 11 - kept, "{report:?}");
    (scratch, cache, capture.manifest)
}

#[test]
fn a_pack_mostly_pruned_is_repacked_with_what_is_still_referenced() {
    let (scratch, cache, kept) = prune_with_kept(3);
    let packs = scratch.path("cache/v1/packs");
    assert_eq!(
        files_in(&packs, "pack").len(),
        1,
        "the old pack gone, a new one"
    );
    assert!(files_in(&packs, "dead").is_empty());
    let stats = cache.stats().unwrap();
    assert_eq!(stats.blobs, 4, "three files and the entry's manifest");
    let out = scratch.path("out");
    cache.restore(&kept, &bases(&out)).unwrap();
    assert_eq!(snapshot(&out), snapshot(&scratch.path("some")));
    assert!(!cache.has_blob(&Digest::of(&noise(9, 1009))).unwrap());
}

#[test]
fn a_pack_a_little_pruned_keeps_its_file_and_marks_the_dead() {
    let (scratch, cache, kept) = prune_with_kept(8);
    let packs = scratch.path("cache/v1/packs");
    assert_eq!(files_in(&packs, "pack").len(), 1);
    assert_eq!(
        files_in(&packs, "dead").len(),
        1,
        "two of ten dead: not worth a rewrite"
    );
    assert!(!cache.has_blob(&Digest::of(&noise(9, 1009))).unwrap());
    assert!(cache.has_blob(&Digest::of(&noise(7, 1007))).unwrap());
    let out = scratch.path("out");
    cache.restore(&kept, &bases(&out)).unwrap();
    assert_eq!(snapshot(&out), snapshot(&scratch.path("some")));
}

#[test]
fn a_pack_all_pruned_is_removed_and_a_crash_leftover_swept() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    ten_files(&tree);
    let capture = cache.capture(&everything(&tree)).unwrap();
    let packs = scratch.path("cache/v1/packs");
    // A pack whose index never came (a crash between the two renames).
    fs::write(packs.join("pcrashed.pack"), b"half a pack").unwrap();
    for index in files_in(&packs, "idx") {
        age(&index, 2 * DAY);
    }
    age(&scratch.blob_path(&capture.manifest), 2 * DAY);
    let report = cache.prune().unwrap();
    assert_eq!(report.blobs_removed, 11, "{report:?}");
    assert!(
        files_in(&packs, "pack").is_empty(),
        "{:?}",
        files_in(&packs, "pack")
    );
    assert!(files_in(&packs, "idx").is_empty());
    assert_eq!(cache.stats().unwrap().blobs, 0);
}
