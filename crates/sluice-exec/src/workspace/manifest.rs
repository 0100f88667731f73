//! What the last sync of a workspace copied: for each path, the source's
//! stamp then, and the copy's inode, change time and size right after.
//! A copy whose inode, change time or size differs has been touched by a
//! job and is copied again.
//!
//! Stored in a small binary file next to the workspace, replaced whole
//! (write, then rename). It is deleted when a sync starts, so a sync cut
//! short leaves no manifest and the next one copies everything.

use std::collections::HashMap;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::listing::Stamp;

const MAGIC: &[u8] = b"sluice-workspace-1\n";

/// The copy's identity right after it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CopyStamp {
    pub inode: u64,
    pub ctime: (i64, i64),
    pub size: u64,
}

impl CopyStamp {
    pub fn of(meta: &std::fs::Metadata) -> CopyStamp {
        CopyStamp {
            inode: meta.ino(),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            size: meta.size(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    pub source: Stamp,
    pub copy: CopyStamp,
}

pub(crate) type Manifest = HashMap<PathBuf, Record>;

/// Reads a manifest; a missing or damaged one is empty (everything is
/// copied again, which is always correct).
pub(crate) fn read(path: &Path) -> Manifest {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| decode(&bytes))
        .unwrap_or_default()
}

pub(crate) fn write(path: &Path, manifest: &Manifest) -> Result<(), String> {
    let temporary = path.with_extension("new");
    std::fs::write(&temporary, encode(manifest))
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn encode(manifest: &Manifest) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAGIC.len() + manifest.len() * 96);
    out.extend_from_slice(MAGIC);
    for (path, record) in manifest {
        let name = path.as_os_str().as_bytes();
        out.extend_from_slice(&(name.len() as u32).to_le_bytes());
        out.extend_from_slice(name);
        let numbers: [u64; 9] = [
            record.source.size,
            record.source.mtime.0 as u64,
            record.source.mtime.1 as u64,
            u64::from(record.source.mode),
            record.copy.inode,
            record.copy.ctime.0 as u64,
            record.copy.ctime.1 as u64,
            record.copy.size,
            0,
        ];
        for n in numbers {
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
    out
}

fn decode(bytes: &[u8]) -> Option<Manifest> {
    let mut rest = bytes.strip_prefix(MAGIC)?;
    let mut manifest = HashMap::new();
    let take = |n: usize, rest: &mut &[u8]| -> Option<Vec<u8>> {
        if rest.len() < n {
            return None;
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Some(head.to_vec())
    };
    while !rest.is_empty() {
        let len = u32::from_le_bytes(take(4, &mut rest)?.try_into().ok()?) as usize;
        let name = take(len, &mut rest)?;
        let mut numbers = [0u64; 9];
        for n in &mut numbers {
            *n = u64::from_le_bytes(take(8, &mut rest)?.try_into().ok()?);
        }
        let record = Record {
            source: Stamp {
                size: numbers[0],
                mtime: (numbers[1] as i64, numbers[2] as i64),
                mode: u32::try_from(numbers[3]).ok()?,
            },
            copy: CopyStamp {
                inode: numbers[4],
                ctime: (numbers[5] as i64, numbers[6] as i64),
                size: numbers[7],
            },
        };
        manifest.insert(PathBuf::from(std::ffi::OsString::from_vec(name)), record);
    }
    Some(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let mut manifest = Manifest::new();
        manifest.insert(
            PathBuf::from("src/ünï code.rs"),
            Record {
                source: Stamp {
                    size: 10,
                    mtime: (-5, 999),
                    mode: 0o100644,
                },
                copy: CopyStamp {
                    inode: 77,
                    ctime: (1_700_000_000, 12),
                    size: 10,
                },
            },
        );
        let bytes = encode(&manifest);
        assert_eq!(decode(&bytes), Some(manifest));
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            None,
            "a cut file is rejected"
        );
        assert_eq!(decode(b"something else"), None);
    }
}
