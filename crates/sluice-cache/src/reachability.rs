//! What keeps a blob alive: an entry's references, and, for a reference
//! that is a manifest, every blob the manifest lists.

use std::io::Read;

use crate::cache::Cache;
use crate::digest::Digest;
use crate::error::CacheError;
use crate::manifest::{FileContent, MANIFEST_MAGIC_LEN, looks_like_manifest, parse_manifest};

impl Cache {
    /// The blobs listed by blob `digest` if it is a manifest; `None` if it
    /// is a plain blob, is missing, turns out corrupt (and is removed), or
    /// claims to be a manifest but is not a valid one (then it is kept
    /// alive as a plain blob, which errs on the side of keeping).
    ///
    /// Only the first bytes of a plain blob are read.
    pub(crate) fn manifest_blobs(
        &self,
        digest: &Digest,
    ) -> Result<Option<Vec<Digest>>, CacheError> {
        let mut blob = match self.backend.open_blob(digest) {
            Ok(blob) => blob,
            Err(CacheError::Missing { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let mut bytes = Vec::with_capacity(MANIFEST_MAGIC_LEN);
        (&mut blob.reader)
            .take(MANIFEST_MAGIC_LEN as u64)
            .read_to_end(&mut bytes)
            .map_err(|source| CacheError::io("read blob", &blob.location, source))?;
        if !looks_like_manifest(&bytes) {
            return Ok(None);
        }
        blob.reader
            .read_to_end(&mut bytes)
            .map_err(|source| CacheError::io("read blob", &blob.location, source))?;
        if Digest::of(&bytes) != *digest {
            let _ = self.discard_corrupt(digest, blob.location);
            return Ok(None);
        }
        let Ok(files) = parse_manifest(digest, &bytes) else {
            return Ok(None);
        };
        Ok(Some(
            files
                .into_iter()
                .filter_map(|file| match file.content {
                    FileContent::File { digest } => Some(digest),
                    FileContent::Symlink { .. } => None,
                })
                .collect(),
        ))
    }
}
