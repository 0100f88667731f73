//! Entries: immutable records that name blobs (usually a manifest) and
//! carry a payload the cache does not interpret. Callers look them up by
//! kind and id: `actions/cache` keys under `key/<scope>`, step caches
//! under `step`.
//!
//! On disk an entry is JSON:
//!
//! ```json
//! {"format":"sluice-entry","version":1,"kind":"step","id":"…","created_ms":1700000000000,
//!  "size":1234,"references":["<64 hex>"],"payload":{…}}
//! ```
//!
//! Its last use is not in the file (which never changes once written) but
//! in the file's modification time.

use serde::{Deserialize, Serialize};

use crate::backend::StoredEntry;
use crate::digest::Digest;
use crate::error::CacheError;
use crate::time::{now_ms, unix_ms};

/// The `format` field of every entry file.
pub const ENTRY_FORMAT: &str = "sluice-entry";
/// The entry version this crate writes and reads.
pub const ENTRY_VERSION: u32 = 1;

/// A cache entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// Its namespace, e.g. `step` or `key/<scope hash>`.
    pub kind: String,
    /// Its id within the kind; any text (hashed for the file name, kept
    /// here whole so prefix searches work on the real id).
    pub id: String,
    /// When it was stored, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// When it was last read with `get_entry` (or stored), milliseconds
    /// since the Unix epoch. Not stored in the record: kept by the backend.
    pub last_used_ms: u64,
    /// Bytes the entry refers to, as the caller reports it (for listings;
    /// pruning measures the blobs themselves).
    pub size: u64,
    /// The blobs this entry keeps alive: plain blobs, and manifests, whose
    /// files are kept alive with them.
    pub references: Vec<Digest>,
    /// Anything the caller wants back with the entry.
    pub payload: serde_json::Value,
}

impl EntryRecord {
    /// A record created now.
    pub fn new(
        kind: impl Into<String>,
        id: impl Into<String>,
        size: u64,
        references: Vec<Digest>,
        payload: serde_json::Value,
    ) -> Self {
        let now = now_ms();
        EntryRecord {
            kind: kind.into(),
            id: id.into(),
            created_ms: now,
            last_used_ms: now,
            size,
            references,
            payload,
        }
    }
}

#[derive(Serialize)]
struct EntryFileOut<'a> {
    format: &'static str,
    version: u32,
    kind: &'a str,
    id: &'a str,
    created_ms: u64,
    size: u64,
    references: &'a [Digest],
    payload: &'a serde_json::Value,
}

#[derive(Deserialize)]
struct EntryFileIn {
    format: String,
    version: u32,
    kind: String,
    id: String,
    created_ms: u64,
    size: u64,
    references: Vec<Digest>,
    payload: serde_json::Value,
}

/// The name an entry id is stored under: its digest, so any id (long, with
/// slashes, in any script) makes a safe, fixed-length file name.
pub(crate) fn entry_name(id: &str) -> Digest {
    Digest::of(id.as_bytes())
}

/// The entry file for `record`, stored as (`kind`, `id`).
pub(crate) fn encode_entry(kind: &str, id: &str, record: &EntryRecord) -> Vec<u8> {
    let out = EntryFileOut {
        format: ENTRY_FORMAT,
        version: ENTRY_VERSION,
        kind,
        id,
        created_ms: record.created_ms,
        size: record.size,
        references: &record.references,
        payload: &record.payload,
    };
    // Plain data and a `Value` (whose map keys are strings) always serialize.
    serde_json::to_vec(&out).unwrap_or_default()
}

/// The record in a stored entry file, checked against where it was found.
pub(crate) fn decode_entry(stored: &StoredEntry) -> Result<EntryRecord, CacheError> {
    let invalid = |reason: String| CacheError::InvalidEntry {
        path: stored.location.clone(),
        reason,
    };
    let file: EntryFileIn =
        serde_json::from_slice(&stored.bytes).map_err(|error| invalid(error.to_string()))?;
    if file.format != ENTRY_FORMAT {
        return Err(invalid(format!(
            "its format is `{}`, not `{ENTRY_FORMAT}`",
            file.format
        )));
    }
    if file.version != ENTRY_VERSION {
        return Err(invalid(format!(
            "it has version {}, but this Sluice reads version {ENTRY_VERSION}",
            file.version
        )));
    }
    if file.kind != stored.kind || entry_name(&file.id) != stored.name {
        return Err(invalid(format!(
            "it holds `{}` of kind `{}`, which belongs elsewhere",
            file.id, file.kind
        )));
    }
    Ok(EntryRecord {
        kind: file.kind,
        id: file.id,
        created_ms: file.created_ms,
        last_used_ms: unix_ms(stored.last_used),
        size: file.size,
        references: file.references,
        payload: file.payload,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::{Duration, UNIX_EPOCH};

    use super::{EntryRecord, decode_entry, encode_entry, entry_name};
    use crate::backend::StoredEntry;
    use crate::digest::Digest;

    fn stored(kind: &str, id: &str, bytes: Vec<u8>) -> StoredEntry {
        StoredEntry {
            kind: kind.into(),
            name: entry_name(id),
            bytes,
            last_used: UNIX_EPOCH + Duration::from_millis(42),
            location: PathBuf::from("entry.json"),
        }
    }

    #[test]
    fn round_trips_with_the_last_use_from_the_backend() {
        let record = EntryRecord::new(
            "key/abc",
            "Linux-npm-ü",
            7,
            vec![Digest::of(b"m")],
            serde_json::json!({"paths": ["node_modules"]}),
        );
        let bytes = encode_entry("key/abc", "Linux-npm-ü", &record);
        let decoded = decode_entry(&stored("key/abc", "Linux-npm-ü", bytes)).unwrap();
        assert_eq!(decoded.last_used_ms, 42);
        assert_eq!(
            decoded,
            EntryRecord {
                last_used_ms: 42,
                ..record
            }
        );
    }

    #[test]
    fn garbage_truncated_and_misplaced_files_are_errors() {
        let record = EntryRecord::new("step", "a", 0, vec![], serde_json::Value::Null);
        let good = encode_entry("step", "a", &record);
        for cut in 0..good.len() {
            assert!(decode_entry(&stored("step", "a", good[..cut].to_vec())).is_err());
        }
        assert!(decode_entry(&stored("step", "b", good.clone())).is_err());
        assert!(decode_entry(&stored("other", "a", good.clone())).is_err());
        let newer = String::from_utf8(good)
            .unwrap()
            .replace("\"version\":1", "\"version\":9");
        assert!(decode_entry(&stored("step", "a", newer.into_bytes())).is_err());
        assert!(decode_entry(&stored("step", "a", vec![0xff, 0x00])).is_err());
    }
}
