//! The one error type of the cache. Every variant names the path, digest or
//! value involved and what was being attempted, so a message read alone (in
//! a terminal or a CI log) says where to look.

use std::io;
use std::path::PathBuf;

use crate::digest::Digest;

/// Everything that can go wrong in the cache.
///
/// [`CacheError::Corrupt`] and [`CacheError::Missing`] are the two a caller
/// usually treats as a cache miss rather than a failure: the store noticed
/// damage (and already removed the damaged blob) or lost a blob.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// A file-system operation failed.
    #[error("cache: cannot {action} {}", path.display())]
    Io {
        /// What was being done, as a verb phrase ("read blob", "create directory").
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },

    /// A blob whose content does not hash to its name. The blob has been
    /// removed from the store, so it is never served again.
    #[error(
        "cache blob {digest} is corrupt: its content does not hash to its name (removed {})",
        path.display()
    )]
    Corrupt {
        /// The name the blob was stored under.
        digest: Digest,
        /// Where it was stored.
        path: PathBuf,
    },

    /// A blob that is not in the store (never stored, pruned, or removed as
    /// corrupt).
    #[error("cache blob {digest} is missing")]
    Missing {
        /// The blob that was asked for.
        digest: Digest,
    },

    /// A blob that was read as a manifest but is not a valid one.
    #[error("cache manifest {digest} is invalid: {reason}")]
    InvalidManifest {
        /// The manifest's blob.
        digest: Digest,
        /// What is wrong with it.
        reason: String,
    },

    /// An entry file that cannot be read as an entry (garbage, truncated,
    /// written by a newer Sluice, or stored under the wrong name).
    #[error("cache entry file {} is invalid: {reason}", path.display())]
    InvalidEntry {
        /// The entry file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The key of [`crate::Cache::private_digest`] cannot be read or made.
    #[error("cache: the private digest key {} cannot be used: {reason}", path.display())]
    PrivateKey {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// An entry kind that cannot name a place in the store.
    #[error("invalid cache entry kind `{kind}`: {reason}")]
    InvalidKind {
        /// The kind as given.
        kind: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// Text that is not a digest.
    #[error("`{text}` is not a BLAKE3 digest (64 hexadecimal digits)")]
    InvalidDigest {
        /// The text as given.
        text: String,
    },

    /// A capture root whose patterns are invalid or whose directory cannot
    /// be walked.
    #[error("cache capture root `{label}` ({}): {source}", dir.display())]
    Walk {
        /// The root's label.
        label: String,
        /// The root's directory.
        dir: PathBuf,
        /// What the walker reported.
        #[source]
        source: sluice_glob::WalkError,
    },

    /// Two capture roots with the same label, whose files would be mixed up.
    #[error("two cache capture roots are labelled `{label}`")]
    DuplicateRootLabel {
        /// The label used twice.
        label: String,
    },

    /// A file (or symbolic-link target) whose name is not UTF-8; manifests
    /// record paths as text.
    #[error("cannot cache {}: its path or link target is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The file.
        path: PathBuf,
    },

    /// A file whose content changed between hashing it and copying it into
    /// the store.
    #[error("cannot cache {}: it changed while it was being stored", path.display())]
    SourceChanged {
        /// The file.
        path: PathBuf,
    },

    /// A restore was not told where to put one of the manifest's roots.
    #[error(
        "cache manifest {manifest} has files for root `{label}`, but no directory was given for it"
    )]
    UnknownRoot {
        /// The manifest being restored.
        manifest: Digest,
        /// The root label without a directory.
        label: String,
    },

    /// Something in the way of a restored file that the restore will not
    /// remove (a non-empty directory where a file or link goes).
    #[error("cannot restore {}: {reason}", path.display())]
    RestoreConflict {
        /// The path that could not be restored.
        path: PathBuf,
        /// What is in the way.
        reason: &'static str,
    },
}

impl CacheError {
    /// An [`CacheError::Io`] naming the action and path.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CacheError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = CacheError> = std::result::Result<T, E>;
