//! Storing and reading single blobs.

use std::fs;

use crate::support::Scratch;
use sluice_cache::{CacheError, Digest};

#[test]
fn bytes_round_trip_and_are_stored_once() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let digest = cache.put_bytes(b"hello").unwrap();
    assert_eq!(digest, Digest::of(b"hello"));
    assert_eq!(cache.put_bytes(b"hello").unwrap(), digest);
    assert_eq!(cache.get_bytes(&digest).unwrap(), b"hello");
    assert!(cache.has_blob(&digest).unwrap());
    let empty = cache.put_bytes(b"").unwrap();
    assert_eq!(cache.get_bytes(&empty).unwrap(), b"");
    let stats = cache.stats().unwrap();
    assert_eq!((stats.blobs, stats.bytes), (2, 5));
    let hex = digest.to_hex();
    assert_eq!(
        scratch.blob_path(&digest),
        scratch.path(&format!("cache/v1/blobs/{}/{}", &hex[..2], &hex[2..]))
    );
}

#[test]
fn a_corrupt_blob_is_reported_removed_and_never_served_again() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let digest = cache.put_bytes(b"precious bytes").unwrap();
    let path = scratch.blob_path(&digest);
    let mut bytes = fs::read(&path).unwrap();
    bytes[0] ^= 1;
    fs::write(&path, bytes).unwrap();

    let error = cache.get_bytes(&digest).unwrap_err();
    assert!(
        matches!(error, CacheError::Corrupt { digest: d, path: ref p } if d == digest && *p == path),
        "{error}"
    );
    assert!(error.to_string().contains(&digest.to_hex()));
    assert!(!path.exists());
    assert!(matches!(
        cache.get_bytes(&digest),
        Err(CacheError::Missing { .. })
    ));
    // Storing it again heals it.
    cache.put_bytes(b"precious bytes").unwrap();
    assert_eq!(cache.get_bytes(&digest).unwrap(), b"precious bytes");
}

#[test]
fn a_truncated_blob_is_corrupt_too() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let digest = cache.put_bytes(b"to be truncated").unwrap();
    fs::write(scratch.blob_path(&digest), b"to be").unwrap();
    assert!(matches!(
        cache.get_bytes(&digest),
        Err(CacheError::Corrupt { .. })
    ));
}

#[test]
fn an_unknown_blob_is_missing() {
    let scratch = Scratch::new();
    let cache = scratch.cache();
    let digest = Digest::of(b"never stored");
    assert!(matches!(
        cache.get_bytes(&digest),
        Err(CacheError::Missing { digest: d }) if d == digest
    ));
    assert!(!cache.has_blob(&digest).unwrap());
}
