//! Entries: immutable, looked up by id or id prefix, safe under races.

use std::fs;
use std::sync::{Arc, Barrier};
use std::thread;

use crate::support::Scratch;
use serde_json::json;
use sluice_cache::{CacheError, Digest, EntryRecord, PutOutcome};

fn record(cache: &sluice_cache::Cache, content: &[u8], payload: serde_json::Value) -> EntryRecord {
    let digest = cache.put_bytes(content).unwrap();
    EntryRecord::new("", "", content.len() as u64, vec![digest], payload)
}

#[test]
fn an_entry_is_created_once_and_never_changes() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let first = record(&cache, b"one", json!({"n": 1}));
    let second = record(&cache, b"two", json!({"n": 2}));
    let id = "Linux-cargo-0123456789abcdef";
    assert_eq!(
        cache.put_entry("key/scope", id, &first).unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        cache.put_entry("key/scope", id, &second).unwrap(),
        PutOutcome::AlreadyExists
    );
    let stored = cache.get_entry("key/scope", id).unwrap().unwrap();
    assert_eq!(stored.kind, "key/scope");
    assert_eq!(stored.id, id);
    assert_eq!(stored.payload, json!({"n": 1}));
    assert_eq!(stored.references, first.references);
    // Same id, other kind: another entry.
    assert_eq!(
        cache.put_entry("step", id, &second).unwrap(),
        PutOutcome::Created
    );
    assert_eq!(cache.get_entry("key/other", id).unwrap(), None);
    // Removing it lets the id be stored anew.
    assert!(cache.remove_entry("key/scope", id).unwrap());
    assert!(!cache.remove_entry("key/scope", id).unwrap());
    assert_eq!(
        cache.put_entry("key/scope", id, &second).unwrap(),
        PutOutcome::Created
    );
}

#[test]
fn entries_may_not_reference_blobs_that_are_not_stored() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let dangling = EntryRecord::new("", "", 0, vec![Digest::of(b"absent")], json!(null));
    assert!(matches!(
        cache.put_entry("step", "x", &dangling),
        Err(CacheError::Missing { .. })
    ));
    assert_eq!(cache.get_entry("step", "x").unwrap(), None);
}

#[test]
fn invalid_kinds_are_rejected() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let entry = EntryRecord::new("", "", 0, vec![], json!(null));
    for kind in ["", "../escape", "/abs", "a//b", "sp ace"] {
        assert!(matches!(
            cache.put_entry(kind, "id", &entry),
            Err(CacheError::InvalidKind { .. })
        ));
        assert!(cache.get_entry(kind, "id").is_err());
        assert!(cache.list_entries(kind, "").is_err());
    }
}

#[test]
fn two_threads_racing_for_one_id_create_it_once() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    for round in 0..20 {
        let id = format!("race-{round}");
        let barrier = Arc::new(Barrier::new(2));
        let outcomes: Vec<(PutOutcome, u64)> = thread::scope(|scope| {
            let handles: Vec<_> = (0..2u64)
                .map(|n| {
                    let (cache, barrier, id) = (cache.clone(), barrier.clone(), id.clone());
                    scope.spawn(move || {
                        let entry = EntryRecord::new("", "", n, vec![], json!(n));
                        barrier.wait();
                        (cache.put_entry("step", &id, &entry).unwrap(), n)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let winners: Vec<u64> = outcomes
            .iter()
            .filter(|(outcome, _)| *outcome == PutOutcome::Created)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        let stored = cache.get_entry("step", &id).unwrap().unwrap();
        assert_eq!(
            stored.payload,
            json!(winners[0]),
            "the winner's record is kept"
        );
    }
}

#[test]
fn list_entries_matches_the_real_id_prefix_newest_first() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let ids = [
        ("Linux-npm-aaa", 1_000),
        ("Linux-npm-bbb", 3_000),
        ("Linux-npm-", 2_000),
        ("Linux-pip-ccc", 4_000),
        ("Windows-npm-ddd", 5_000),
        // Ids longer than any file name, with slashes and Unicode.
        (&*format!("Linux-npm-{}/ü", "x".repeat(1000)), 500),
    ];
    for (id, created) in &ids {
        let mut entry = EntryRecord::new("", "", 0, vec![], json!(id));
        entry.created_ms = *created;
        cache.put_entry("key/s1", id, &entry).unwrap();
    }
    let unrelated = EntryRecord::new("", "", 0, vec![], json!(null));
    cache
        .put_entry("key/s2", "Linux-npm-zzz", &unrelated)
        .unwrap();
    // A nested kind is not part of its parent's listing.
    cache
        .put_entry("key/s1/nested", "Linux-npm-nested", &unrelated)
        .unwrap();

    let found: Vec<String> = cache
        .list_entries("key/s1", "Linux-npm-")
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(found[..3], ["Linux-npm-bbb", "Linux-npm-", "Linux-npm-aaa"]);
    assert_eq!(found.len(), 4);
    assert!(found[3].ends_with("/ü"));
    assert_eq!(cache.list_entries("key/s1", "").unwrap().len(), 6);
    assert!(cache.list_entries("key/s1", "Mac").unwrap().is_empty());
    assert!(cache.list_entries("key/none", "").unwrap().is_empty());

    let all = cache.list().unwrap();
    assert_eq!(all.len(), 8);
    let stats = cache.stats().unwrap();
    assert_eq!(stats.entries, 8);
    assert_eq!(stats.entries_by_kind["key/s1"], 6);
    assert_eq!(stats.entries_by_kind["key/s1/nested"], 1);
}

#[test]
fn damaged_entry_files_are_errors_when_read_and_skipped_when_listed() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let entry = EntryRecord::new("", "", 0, vec![], json!({"ok": true}));
    cache.put_entry("step", "good", &entry).unwrap();
    cache.put_entry("step", "bad", &entry).unwrap();
    let bad_path = scratch.local().entry_path("step", &Digest::of(b"bad"));
    let original = fs::read(&bad_path).unwrap();
    for damage in [
        b"garbage".to_vec(),
        original[..original.len() / 2].to_vec(),
        Vec::new(),
        vec![0xff; 10],
    ] {
        fs::write(&bad_path, &damage).unwrap();
        let error = cache.get_entry("step", "bad").unwrap_err();
        assert!(matches!(error, CacheError::InvalidEntry { ref path, .. } if *path == bad_path));
        let listed = cache.list_entries("step", "").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "good");
    }
    // An entry file copied under another id's name is not taken for it.
    fs::write(
        &bad_path,
        fs::read(scratch.local().entry_path("step", &Digest::of(b"good"))).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        cache.get_entry("step", "bad"),
        Err(CacheError::InvalidEntry { .. })
    ));
}
