//! Manifests: the description of a captured tree, stored as a blob.
//!
//! A manifest is JSON, one record per file, sorted by root then path:
//!
//! ```json
//! {"format":"sluice-manifest","version":1,"files":[
//!   {"root":"base","path":"src/main.rs","kind":"file","mode":420,"size":120,
//!    "mtime_ns":1700000000123456789,"digest":"<64 hex>"},
//!   {"root":"base","path":"bin/tool","kind":"symlink","mode":511,"size":9,
//!    "mtime_ns":1700000000123456789,"target":"../tool.sh"}]}
//! ```
//!
//! Paths are relative, `/`-separated, without `.`, `..` or empty segments,
//! and never below a symbolic link of the same manifest, so restoring one
//! cannot write outside the directory it is restored into. A manifest that
//! breaks these rules (or is not JSON) is an error, never a panic.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::CacheError;

/// The `format` field of every manifest.
pub const MANIFEST_FORMAT: &str = "sluice-manifest";
/// The manifest version this crate writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// How every manifest starts (serde writes fields in declaration order), so
/// pruning can tell a manifest from a plain blob by its first bytes.
const MANIFEST_MAGIC: &[u8] = br#"{"format":"sluice-manifest""#;

/// The length of the prefix [`looks_like_manifest`] needs.
pub(crate) const MANIFEST_MAGIC_LEN: usize = MANIFEST_MAGIC.len();

/// One file of a captured tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestFile {
    /// The label of the capture root it was found under.
    pub root: String,
    /// Its path relative to that root, `/`-separated.
    pub path: String,
    /// Its permission bits (`0o755`); `0o777` for symbolic links.
    pub mode: u32,
    /// Its length in bytes (for a link, the length of its target).
    pub size: u64,
    /// Its modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// What it holds.
    #[serde(flatten)]
    pub content: FileContent,
}

/// What a captured file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileContent {
    /// A regular file whose bytes are the blob `digest`.
    File {
        /// The blob holding the content.
        digest: Digest,
    },
    /// A symbolic link, restored as a link to `target` (taken as written,
    /// relative or absolute).
    Symlink {
        /// The link's target.
        target: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RecordKind {
    File,
    Symlink,
}

#[derive(Serialize)]
struct ManifestOut<'a> {
    format: &'static str,
    version: u32,
    files: Vec<RecordOut<'a>>,
}

#[derive(Serialize)]
struct RecordOut<'a> {
    root: &'a str,
    path: &'a str,
    kind: RecordKind,
    mode: u32,
    size: u64,
    mtime_ns: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
}

#[derive(Deserialize)]
struct ManifestIn<'a> {
    format: Cow<'a, str>,
    version: u32,
    #[serde(borrow)]
    files: Vec<RecordIn<'a>>,
}

/// A record as read; strings borrow from the manifest's bytes when they
/// can (no escapes), which keeps a restore of a large unchanged tree from
/// spending its time allocating.
#[derive(Deserialize)]
struct RecordIn<'a> {
    #[serde(borrow)]
    root: Cow<'a, str>,
    #[serde(borrow)]
    path: Cow<'a, str>,
    kind: RecordKind,
    mode: u32,
    size: u64,
    mtime_ns: i64,
    #[serde(default)]
    digest: Option<Digest>,
    #[serde(default, borrow)]
    target: Option<Cow<'a, str>>,
}

/// One file of a parsed and checked manifest, borrowing from its bytes.
#[derive(Debug)]
pub(crate) struct FileRecord<'a> {
    pub(crate) root: Cow<'a, str>,
    pub(crate) path: Cow<'a, str>,
    pub(crate) mode: u32,
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
    pub(crate) content: RecordContent<'a>,
}

#[derive(Debug)]
pub(crate) enum RecordContent<'a> {
    File { digest: Digest },
    Symlink { target: Cow<'a, str> },
}

impl FileRecord<'_> {
    fn into_owned(self) -> ManifestFile {
        ManifestFile {
            root: self.root.into_owned(),
            path: self.path.into_owned(),
            mode: self.mode,
            size: self.size,
            mtime_ns: self.mtime_ns,
            content: match self.content {
                RecordContent::File { digest } => FileContent::File { digest },
                RecordContent::Symlink { target } => FileContent::Symlink {
                    target: target.into_owned(),
                },
            },
        }
    }
}

/// The manifest of `files` (which the caller has sorted).
pub(crate) fn encode_manifest(files: &[ManifestFile]) -> Vec<u8> {
    let document = ManifestOut {
        format: MANIFEST_FORMAT,
        version: MANIFEST_VERSION,
        files: files
            .iter()
            .map(|file| {
                let (kind, digest, target) = match &file.content {
                    FileContent::File { digest } => (RecordKind::File, Some(*digest), None),
                    FileContent::Symlink { target } => {
                        (RecordKind::Symlink, None, Some(target.as_str()))
                    }
                };
                RecordOut {
                    root: &file.root,
                    path: &file.path,
                    kind,
                    mode: file.mode,
                    size: file.size,
                    mtime_ns: file.mtime_ns,
                    digest,
                    target,
                }
            })
            .collect(),
    };
    // Serializing plain structs of strings and integers to memory cannot fail.
    serde_json::to_vec(&document).unwrap_or_default()
}

/// Whether a blob starting with `prefix` claims to be a manifest.
pub(crate) fn looks_like_manifest(prefix: &[u8]) -> bool {
    prefix.starts_with(MANIFEST_MAGIC)
}

/// Parses and checks the manifest stored as blob `digest`.
pub(crate) fn parse_manifest(
    digest: &Digest,
    bytes: &[u8],
) -> Result<Vec<ManifestFile>, CacheError> {
    Ok(parse_manifest_records(digest, bytes)?
        .into_iter()
        .map(FileRecord::into_owned)
        .collect())
}

/// Parses and checks the manifest stored as blob `digest`, borrowing its
/// strings from `bytes`.
pub(crate) fn parse_manifest_records<'a>(
    digest: &Digest,
    bytes: &'a [u8],
) -> Result<Vec<FileRecord<'a>>, CacheError> {
    let invalid = |reason: String| CacheError::InvalidManifest {
        digest: *digest,
        reason,
    };
    let document: ManifestIn<'a> =
        serde_json::from_slice(bytes).map_err(|error| invalid(error.to_string()))?;
    if document.format != MANIFEST_FORMAT {
        return Err(invalid(format!(
            "its format is `{}`, not `{MANIFEST_FORMAT}`",
            document.format
        )));
    }
    if document.version != MANIFEST_VERSION {
        return Err(invalid(format!(
            "it has version {}, but this Sluice reads version {MANIFEST_VERSION}",
            document.version
        )));
    }
    let mut files = Vec::with_capacity(document.files.len());
    for record in document.files {
        check_relative_path(&record.path)
            .map_err(|why| invalid(format!("path `{}` {why}", record.path)))?;
        let content = match (record.kind, record.digest, record.target) {
            (RecordKind::File, Some(digest), None) => RecordContent::File { digest },
            (RecordKind::Symlink, None, Some(target)) => {
                if target.is_empty() || target.contains('\0') {
                    return Err(invalid(format!(
                        "link `{}` has an empty target or one with a NUL",
                        record.path
                    )));
                }
                RecordContent::Symlink { target }
            }
            _ => {
                return Err(invalid(format!(
                    "`{}` must have a digest if it is a file and a target if it is a link",
                    record.path
                )));
            }
        };
        files.push(FileRecord {
            root: record.root,
            path: record.path,
            mode: record.mode,
            size: record.size,
            mtime_ns: record.mtime_ns,
            content,
        });
    }
    check_no_overlaps(&files).map_err(invalid)?;
    Ok(files)
}

/// Why `path` is not a clean relative path, if it is not.
fn check_relative_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.contains('\0') {
        return Err("contains a NUL");
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err("is absolute or has an empty segment"),
            "." | ".." => return Err("has a `.` or `..` segment"),
            _ => {}
        }
    }
    Ok(())
}

/// Rejects a path listed twice, and a path below a symbolic link of the
/// same root (restoring it would write through the link).
fn check_no_overlaps(files: &[FileRecord<'_>]) -> Result<(), String> {
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(files.len());
    let mut links: HashSet<(&str, &str)> = HashSet::new();
    for file in files {
        if !seen.insert((&*file.root, &*file.path)) {
            return Err(format!("`{}` is listed twice", file.path));
        }
        if matches!(file.content, RecordContent::Symlink { .. }) {
            links.insert((&*file.root, &*file.path));
        }
    }
    if links.is_empty() {
        return Ok(());
    }
    for file in files {
        for (slash, _) in file.path.match_indices('/') {
            if links.contains(&(&*file.root, &file.path[..slash])) {
                return Err(format!(
                    "`{}` lies below the symbolic link `{}`",
                    file.path,
                    &file.path[..slash]
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FileContent, ManifestFile, encode_manifest, looks_like_manifest, parse_manifest};
    use crate::digest::Digest;

    fn file(path: &str) -> ManifestFile {
        ManifestFile {
            root: "base".into(),
            path: path.into(),
            mode: 0o644,
            size: 3,
            mtime_ns: -5,
            content: FileContent::File {
                digest: Digest::of(b"abc"),
            },
        }
    }

    fn link(path: &str) -> ManifestFile {
        ManifestFile {
            content: FileContent::Symlink {
                target: "elsewhere".into(),
            },
            ..file(path)
        }
    }

    #[test]
    fn round_trips_and_starts_with_the_magic() {
        let files = vec![file("a/b"), link("c"), file("ü/ñ")];
        let bytes = encode_manifest(&files);
        assert!(looks_like_manifest(&bytes));
        let digest = Digest::of(&bytes);
        assert_eq!(parse_manifest(&digest, &bytes).unwrap(), files);
    }

    #[test]
    fn malformed_manifests_are_errors_not_panics() {
        let digest = Digest::of(b"x");
        let good = encode_manifest(&[file("a")]);
        let mut cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"garbage".to_vec(),
            b"{\"format\":\"sluice-manifest\",\"version\":2,\"files\":[]}".to_vec(),
            b"{\"format\":\"other\",\"version\":1,\"files\":[]}".to_vec(),
            encode_manifest(&[file("../etc/passwd")]),
            encode_manifest(&[file("/abs")]),
            encode_manifest(&[file("a//b")]),
            encode_manifest(&[file("a/./b")]),
            encode_manifest(&[file("a"), file("a")]),
            encode_manifest(&[link("a"), file("a/b")]),
            String::from_utf8(good.clone())
                .unwrap()
                .replace("\"digest\"", "\"target\"")
                .into_bytes(),
        ];
        for cut in 0..good.len() {
            cases.push(good[..cut].to_vec());
        }
        for case in cases {
            assert!(
                parse_manifest(&digest, &case).is_err(),
                "{}",
                String::from_utf8_lossy(&case)
            );
        }
    }
}
