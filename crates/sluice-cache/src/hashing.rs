//! Reading, hashing and copying in one pass, with a reusable buffer.

use std::io::{self, Read, Write};

use crate::digest::Digest;

/// Size of each worker's I/O buffer. Large enough that BLAKE3 hashes many
/// 1 KiB chunks per call with SIMD and that a big file costs few system
/// calls; small enough that every worker can keep one.
pub(crate) const IO_BUFFER_BYTES: usize = 256 * 1024;

/// Which side of a copy failed, so errors can name the right path.
#[derive(Debug)]
pub(crate) enum CopyFailure {
    Read(io::Error),
    Write(io::Error),
}

fn ensure_buffer(buffer: &mut Vec<u8>) {
    if buffer.len() < IO_BUFFER_BYTES {
        buffer.resize(IO_BUFFER_BYTES, 0);
    }
}

fn read_some(reader: &mut dyn Read, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buffer) {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// The digest and length of everything `reader` yields.
pub(crate) fn hash_reader(
    reader: &mut dyn Read,
    buffer: &mut Vec<u8>,
) -> io::Result<(Digest, u64)> {
    ensure_buffer(buffer);
    let mut hasher = blake3::Hasher::new();
    let mut length = 0u64;
    loop {
        let read = read_some(reader, buffer)?;
        if read == 0 {
            return Ok((Digest::from_hasher(&hasher), length));
        }
        hasher.update(&buffer[..read]);
        length += read as u64;
    }
}

/// Copies `reader` into `writer`, hashing what passes through, and returns
/// the digest and length of what was copied.
pub(crate) fn copy_hashing(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    buffer: &mut Vec<u8>,
) -> Result<(Digest, u64), CopyFailure> {
    ensure_buffer(buffer);
    let mut hasher = blake3::Hasher::new();
    let mut length = 0u64;
    loop {
        let read = read_some(reader, buffer).map_err(CopyFailure::Read)?;
        if read == 0 {
            return Ok((Digest::from_hasher(&hasher), length));
        }
        hasher.update(&buffer[..read]);
        writer
            .write_all(&buffer[..read])
            .map_err(CopyFailure::Write)?;
        length += read as u64;
    }
}
