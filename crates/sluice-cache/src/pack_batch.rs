//! A batch of small blobs written together: a capture stores its small
//! files through one, so that a backend that packs them (the local one)
//! writes a few pack files instead of a file per blob. Blobs of a batch
//! are readable once the backend finished it, and a capture finishes its
//! batch before it stores the manifest that refers to them: an entry
//! still exists only once everything it refers to is stored.

use std::sync::Mutex;

use crate::pack_index::PackedBlob;
use crate::temp_file::TempFile;

/// Blobs up to this size are packed; larger ones stay files of their own
/// (they gain nothing, and are streamed rather than held in memory).
pub const PACK_BLOB_LIMIT: u64 = 1024 * 1024;

/// A pack is sealed (made readable) once it holds this much: captures of
/// huge trees then become readable piece by piece, and a repack after a
/// prune never copies more than this.
pub(crate) const PACK_TARGET: u64 = 64 * 1024 * 1024;

/// The packs a batch is writing, one per thread at a time.
#[derive(Debug, Default)]
pub struct PackBatch {
    pub(crate) idle: Mutex<Vec<PackWriter>>,
}

/// One pack being written: a staging file and what it holds so far.
#[derive(Debug)]
pub(crate) struct PackWriter {
    pub file: TempFile,
    pub length: u64,
    pub blobs: Vec<PackedBlob>,
}

impl PackBatch {
    pub(crate) fn take_writer(&self) -> Option<PackWriter> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    pub(crate) fn give_back(&self, writer: PackWriter) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(writer);
    }

    pub(crate) fn drain(self) -> Vec<PackWriter> {
        self.idle.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}
