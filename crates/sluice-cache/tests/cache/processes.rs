//! Races between processes: this test binary starts copies of itself
//! (selected by `SLUICE_CACHE_TEST_CHILD`) that use one store at once.

use std::collections::HashMap;
use std::env;
use std::path::PathBuf;

use crate::support::{
    CHILD_DIR, CHILD_NUMBER, CHILD_ROLE, Scratch, bases, child_results, child_wait_for_start,
    everything, noise, snapshot, spawn_child, start_children, write,
};
use serde_json::json;
use sluice_cache::{Cache, CacheConfig, EntryRecord};

const RACED_IDS: usize = 50;

/// In a child: the scratch directory, the child's number and its store.
fn child_context() -> (PathBuf, usize, Cache) {
    let dir = PathBuf::from(env::var(CHILD_DIR).unwrap());
    let number = env::var(CHILD_NUMBER).unwrap().parse().unwrap();
    let cache = Cache::open(CacheConfig::new(dir.join("cache"))).unwrap();
    (dir, number, cache)
}

#[test]
fn two_processes_racing_for_the_same_ids_create_each_once() {
    const TEST: &str = "processes::two_processes_racing_for_the_same_ids_create_each_once";
    if env::var(CHILD_ROLE).is_ok_and(|role| role == "put-entries") {
        let (dir, number, cache) = child_context();
        child_wait_for_start(&dir, number);
        for n in 0..RACED_IDS {
            let entry = EntryRecord::new("", "", 0, vec![], json!(number));
            let outcome = cache.put_entry("step", &format!("id-{n}"), &entry).unwrap();
            println!("RESULT id-{n} {outcome:?}");
        }
        return;
    }
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let children: Vec<_> = (0..2)
        .map(|n| spawn_child(TEST, "put-entries", scratch.dir.path(), n))
        .collect();
    start_children(scratch.dir.path(), 2);
    let mut created: HashMap<String, usize> = HashMap::new();
    let mut lines = 0;
    for child in children {
        for line in child_results(child) {
            lines += 1;
            let (id, outcome) = line.split_once(' ').unwrap();
            if outcome == "Created" {
                *created.entry(id.to_owned()).or_default() += 1;
            } else {
                assert_eq!(outcome, "AlreadyExists");
            }
        }
    }
    assert_eq!(lines, 2 * RACED_IDS);
    assert_eq!(created.len(), RACED_IDS, "every id created by someone");
    assert!(created.values().all(|&count| count == 1), "{created:?}");
    assert_eq!(cache.list_entries("step", "id-").unwrap().len(), RACED_IDS);
}

#[test]
fn two_processes_capturing_the_same_tree_leave_a_consistent_store() {
    const TEST: &str = "processes::two_processes_capturing_the_same_tree_leave_a_consistent_store";
    if env::var(CHILD_ROLE).is_ok_and(|role| role == "capture") {
        let (dir, number, cache) = child_context();
        child_wait_for_start(&dir, number);
        let capture = cache.capture(&everything(&dir.join("tree"))).unwrap();
        let entry = EntryRecord::new("", "", capture.bytes, vec![capture.manifest], json!(number));
        let outcome = cache.put_entry("key/s", "the-key", &entry).unwrap();
        println!("RESULT {} {outcome:?}", capture.manifest);
        return;
    }
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let tree = scratch.path("tree");
    for n in 0..300u64 {
        let size = (n as usize * 997) % 20_000;
        write(&tree, &format!("d{}/f{n}.bin", n % 7), &noise(n, size));
    }
    write(&tree, "big.bin", &noise(1000, 6 * 1024 * 1024));
    let children: Vec<_> = (0..2)
        .map(|n| spawn_child(TEST, "capture", scratch.dir.path(), n))
        .collect();
    start_children(scratch.dir.path(), 2);
    let results: Vec<String> = children.into_iter().flat_map(child_results).collect();
    assert_eq!(results.len(), 2);
    let (first_manifest, first_outcome) = results[0].split_once(' ').unwrap();
    let (second_manifest, second_outcome) = results[1].split_once(' ').unwrap();
    assert_eq!(first_manifest, second_manifest, "same tree, same manifest");
    let mut outcomes = [first_outcome, second_outcome];
    outcomes.sort_unstable();
    assert_eq!(outcomes, ["AlreadyExists", "Created"]);

    let report = cache.verify().unwrap();
    assert!(report.corrupt.is_empty(), "{report:?}");
    assert!(report.dangling.is_empty(), "{report:?}");
    assert_eq!(report.blobs_checked, cache.stats().unwrap().blobs);
    let leftovers = std::fs::read_dir(scratch.path("cache/v1/tmp"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 0, "no staging files left behind");

    let entry = cache.get_entry("key/s", "the-key").unwrap().unwrap();
    let restored = scratch.path("restored");
    cache
        .restore(&entry.references[0], &bases(&restored))
        .unwrap();
    assert_eq!(snapshot(&restored), snapshot(&tree));
    assert_eq!(entry.references[0].to_hex(), first_manifest);
}
