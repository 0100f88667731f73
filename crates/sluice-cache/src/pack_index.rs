//! The index of a pack file: which blobs it holds, where and how long.
//!
//! ```text
//! "SLUICEPACKIDX1\n"                         15 bytes
//! count                                      u64, little-endian
//! count × (digest 32 bytes, offset u64, length u64), sorted by digest
//! BLAKE3 of everything above                 32 bytes
//! ```
//!
//! An index is written once, after its pack is complete, and only read
//! after that; the trailing digest tells a whole index from a torn or
//! damaged one (which is then ignored: its blobs are simply not there).

use crate::digest::Digest;

const MAGIC: &[u8] = b"SLUICEPACKIDX1\n";
const RECORD: usize = 32 + 8 + 8;

/// Where one blob lies in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackedBlob {
    pub digest: Digest,
    pub offset: u64,
    pub length: u64,
}

pub(crate) fn encode(blobs: &mut [PackedBlob]) -> Vec<u8> {
    blobs.sort_unstable_by_key(|b| b.digest);
    let mut bytes = Vec::with_capacity(MAGIC.len() + 8 + blobs.len() * RECORD + 32);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(blobs.len() as u64).to_le_bytes());
    for blob in blobs.iter() {
        bytes.extend_from_slice(blob.digest.as_bytes());
        bytes.extend_from_slice(&blob.offset.to_le_bytes());
        bytes.extend_from_slice(&blob.length.to_le_bytes());
    }
    let check = Digest::of(&bytes);
    bytes.extend_from_slice(check.as_bytes());
    bytes
}

/// The blobs of a whole, undamaged index whose entries all lie within a
/// pack of `pack_length` bytes; `None` for anything else.
pub(crate) fn decode(bytes: &[u8], pack_length: u64) -> Option<Vec<PackedBlob>> {
    let body_length = bytes.len().checked_sub(32)?;
    let (body, check) = bytes.split_at(body_length);
    if Digest::of(body).as_bytes() != check || !body.starts_with(MAGIC) {
        return None;
    }
    let rest = &body[MAGIC.len()..];
    let count = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let records = &rest[8..];
    if (records.len() as u64) != count.checked_mul(RECORD as u64)? {
        return None;
    }
    records
        .chunks_exact(RECORD)
        .map(|record| {
            let digest = Digest::from_bytes(record[..32].try_into().ok()?);
            let offset = u64::from_le_bytes(record[32..40].try_into().ok()?);
            let length = u64::from_le_bytes(record[40..48].try_into().ok()?);
            (offset.checked_add(length)? <= pack_length).then_some(PackedBlob {
                digest,
                offset,
                length,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(content: &[u8], offset: u64) -> PackedBlob {
        PackedBlob {
            digest: Digest::of(content),
            offset,
            length: content.len() as u64,
        }
    }

    #[test]
    fn an_index_reads_back_as_written() {
        let mut blobs = vec![blob(b"b", 1), blob(b"a", 0), blob(b"cc", 2)];
        let bytes = encode(&mut blobs);
        let read = decode(&bytes, 4).unwrap();
        assert_eq!(read, blobs);
        assert!(read.windows(2).all(|w| w[0].digest < w[1].digest));
    }

    #[test]
    fn a_damaged_torn_or_overreaching_index_is_none() {
        let mut blobs = vec![blob(b"a", 0), blob(b"bb", 1)];
        let bytes = encode(&mut blobs);
        assert!(decode(&bytes[..bytes.len() - 1], 3).is_none(), "torn");
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert!(decode(&flipped, 3).is_none(), "damaged");
        assert!(decode(&bytes, 2).is_none(), "a blob past the pack's end");
        assert!(decode(b"", 0).is_none());
    }
}
