//! Capturing a tree: walk the files that globs select, hash them in
//! parallel, store the blobs that are new and a manifest describing the
//! whole.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sluice_glob::{WalkOptions, walk_matches_with};

use crate::cache::Cache;
use crate::digest::Digest;
use crate::error::CacheError;
use crate::hashing::hash_reader;
use crate::manifest::{FileContent, ManifestFile, encode_manifest};
use crate::pack_batch::PackBatch;
use crate::parallel::map_parallel;
use crate::time::mtime_ns;

/// Files up to this size are read whole into memory, hashed, and written to
/// the store from memory if new: one read per file. Bigger ones are hashed
/// streaming and, only if new, read again (from the page cache) while
/// copying, so a capture of unchanged content writes nothing.
const WHOLE_FILE_LIMIT: u64 = 4 * 1024 * 1024;

/// One directory to capture files from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureRoot {
    /// Names the root in the manifest; `restore` is given a directory for
    /// each label (e.g. "base" for the workspace, "abs" for `/`).
    pub label: String,
    /// The directory the patterns are relative to.
    pub dir: PathBuf,
    /// `@actions/glob` path globs relative to `dir` (see `sluice-glob`);
    /// `!` excludes, and a pattern naming a directory takes everything
    /// below it.
    pub patterns: Vec<String>,
}

/// How a capture treats symbolic links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Links {
    /// Stored as links, with their target as written (caches: the tree
    /// comes back as it was).
    #[default]
    Keep,
    /// Followed: the files behind them are stored as files, as
    /// `upload-artifact` does (an artifact never holds a link).
    Follow,
}

/// What a capture stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capture {
    /// The manifest blob: what to give `restore` and an entry's references.
    pub manifest: Digest,
    /// Files (and links) captured.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Bytes actually written to the store (new blobs, manifest included);
    /// the rest was there already.
    pub new_bytes: u64,
    /// Wall-clock time taken.
    pub elapsed: Duration,
}

/// The contents one capture has already taken on storing: a second file
/// with the same content, hashed meanwhile by another worker, is not
/// stored again (both would write it, and count it, before either saw the
/// other's blob).
#[derive(Default)]
struct Claimed(Mutex<HashSet<Digest>>);

impl Claimed {
    /// Whether `digest` is claimed by this call (rather than before).
    fn first(&self, digest: &Digest) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .insert(*digest)
    }
}

/// What a capture's files share: the digests already being stored, and
/// the batch small ones are packed in.
struct Batched<'a> {
    claimed: &'a Claimed,
    batch: &'a PackBatch,
}

/// A file the walk found, to be captured.
struct Candidate {
    root: usize,
    relative: String,
    path: PathBuf,
}

impl Cache {
    /// Captures the files that `roots` select into the store and returns
    /// the manifest naming them.
    ///
    /// Regular files are stored as blobs (once each, however many files or
    /// captures share the content); symbolic links as links, with their
    /// target as written. A link to a directory is captured as a link, not
    /// as the files behind it. Broken links, empty directories, sockets and
    /// the like are left out, and so is a file that vanishes while the
    /// capture runs. Permission bits and modification times (nanoseconds)
    /// are recorded.
    ///
    /// The manifest's blobs are protected from pruning for the
    /// unreferenced-blob grace period (`CacheConfig::unreferenced_grace`),
    /// which is how long the caller has to record an entry for it (or hold
    /// the store with [`Cache::hold`] across both calls).
    pub fn capture(&self, roots: &[CaptureRoot]) -> Result<Capture, CacheError> {
        self.capture_with(roots, Links::Keep)
    }

    /// [`Cache::capture`], with `links` deciding what becomes of symbolic
    /// links.
    pub fn capture_with(&self, roots: &[CaptureRoot], links: Links) -> Result<Capture, CacheError> {
        let started = Instant::now();
        let candidates = find_candidates(roots, links)?;
        let _lock = self.hold()?;
        let workers = self.config.workers_for(candidates.len(), None);
        let claimed = Claimed::default();
        let batch = PackBatch::default();
        let captured = map_parallel(&candidates, workers, Vec::new, |buffer, candidate| {
            self.capture_file(
                &roots[candidate.root].label,
                candidate,
                links,
                &Batched {
                    claimed: &claimed,
                    batch: &batch,
                },
                buffer,
            )
        })?;
        // Before the manifest: what it lists must be readable first.
        self.backend.finish_batch(batch)?;
        let mut files = Vec::with_capacity(captured.len());
        let mut bytes = 0u64;
        let mut new_bytes = 0u64;
        for (file, added) in captured.into_iter().flatten() {
            bytes += file.size;
            new_bytes += added;
            files.push(file);
        }
        let manifest_bytes = encode_manifest(&files);
        let manifest = Digest::of(&manifest_bytes);
        new_bytes += self.store_blob(&manifest, &manifest_bytes)?;
        self.backend.note_added_bytes(new_bytes)?;
        Ok(Capture {
            manifest,
            files: files.len() as u64,
            bytes,
            new_bytes,
            elapsed: started.elapsed(),
        })
    }

    /// Captures one file: its manifest record and the bytes newly stored
    /// for it, or `None` if it is not something to capture (any more).
    fn capture_file(
        &self,
        label: &str,
        candidate: &Candidate,
        links: Links,
        shared: &Batched<'_>,
        buffer: &mut Vec<u8>,
    ) -> Result<Option<(ManifestFile, u64)>, CacheError> {
        let path = &candidate.path;
        let inspected = match links {
            Links::Keep => fs::symlink_metadata(path),
            Links::Follow => fs::metadata(path),
        };
        let metadata = match inspected {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::io("inspect", path, source)),
        };
        let record = |mode: u32, size: u64, content: FileContent| ManifestFile {
            root: label.to_owned(),
            path: candidate.relative.clone(),
            mode,
            size,
            mtime_ns: mtime_ns(&metadata),
            content,
        };
        let file_type = metadata.file_type();
        if file_type.is_symlink() {
            let target = match fs::read_link(path) {
                Ok(target) => target,
                Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(source) => return Err(CacheError::io("read link", path, source)),
            };
            let target = target
                .into_os_string()
                .into_string()
                .map_err(|_| CacheError::NonUtf8Path { path: path.clone() })?;
            let size = target.len() as u64;
            return Ok(Some((
                record(0o777, size, FileContent::Symlink { target }),
                0,
            )));
        }
        if !file_type.is_file() {
            return Ok(None);
        }
        let mode = metadata.mode() & 0o7777;
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CacheError::io("open", path, source)),
        };
        if metadata.len() <= WHOLE_FILE_LIMIT {
            buffer.clear();
            (&mut file)
                .take(WHOLE_FILE_LIMIT + 1)
                .read_to_end(buffer)
                .map_err(|source| CacheError::io("read", path, source))?;
            // A file that grew past the limit since it was inspected is
            // streamed like any big file.
            if buffer.len() as u64 <= WHOLE_FILE_LIMIT {
                let digest = Digest::of(buffer);
                let stored = |digest: &Digest, bytes: &[u8]| {
                    if self.config.pack_small_blobs {
                        self.backend.put_blob_in_batch(shared.batch, digest, bytes)
                    } else {
                        self.backend.put_blob(digest, bytes)
                    }
                };
                let added = if shared.claimed.first(&digest) && stored(&digest, buffer)? {
                    buffer.len() as u64
                } else {
                    0
                };
                let size = buffer.len() as u64;
                return Ok(Some((
                    record(mode, size, FileContent::File { digest }),
                    added,
                )));
            }
            drop(file);
            file = File::open(path).map_err(|source| CacheError::io("open", path, source))?;
        }
        let (digest, size) = hash_reader(&mut file, buffer)
            .map_err(|source| CacheError::io("read", path, source))?;
        let added = if shared.claimed.first(&digest)
            && !self.backend.has_blob(&digest)?
            && self.backend.put_blob_from_file(&digest, path)?
        {
            size
        } else {
            0
        };
        Ok(Some((
            record(mode, size, FileContent::File { digest }),
            added,
        )))
    }
}

/// The files to capture, per root, sorted by root and path.
fn find_candidates(roots: &[CaptureRoot], links: Links) -> Result<Vec<Candidate>, CacheError> {
    let mut labels = HashSet::new();
    for root in roots {
        if !labels.insert(root.label.as_str()) {
            return Err(CacheError::DuplicateRootLabel {
                label: root.label.clone(),
            });
        }
    }
    let mut candidates = Vec::new();
    for (index, root) in roots.iter().enumerate() {
        let mut found = root_candidates(index, root, links)?;
        candidates.append(&mut found);
    }
    Ok(candidates)
}

fn root_candidates(
    index: usize,
    root: &CaptureRoot,
    links: Links,
) -> Result<Vec<Candidate>, CacheError> {
    // Links to directories are followed by the walk (so patterns match
    // through them as `@actions/glob` does); when links are kept, each is
    // captured as the link itself in place of the files found through it.
    let options = WalkOptions {
        follow_symlinks: true,
    };
    let found = walk_matches_with(&root.dir, &root.patterns, &options).map_err(|source| {
        CacheError::Walk {
            label: root.label.clone(),
            dir: root.dir.clone(),
            source,
        }
    })?;
    let mut is_link_dir: HashMap<String, bool> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut candidates = Vec::with_capacity(found.len());
    for path in found {
        let Ok(relative) = path.strip_prefix(&root.dir) else {
            continue;
        };
        let relative = relative
            .to_str()
            .ok_or_else(|| CacheError::NonUtf8Path { path: path.clone() })?;
        let linked_dir = match links {
            Links::Keep => shallowest_linked_dir(&root.dir, relative, &mut is_link_dir),
            Links::Follow => None,
        };
        let captured = linked_dir.unwrap_or(relative).to_owned();
        if !seen.insert(captured.clone()) {
            continue;
        }
        let path = root.dir.join(&captured);
        candidates.push(Candidate {
            root: index,
            relative: captured,
            path,
        });
    }
    candidates.sort_by(|a, b| Path::new(&a.relative).cmp(Path::new(&b.relative)));
    Ok(candidates)
}

/// The shallowest directory on the way to `relative` that is a symbolic
/// link, remembering what was learnt (one `lstat` per directory).
fn shallowest_linked_dir<'a>(
    root: &Path,
    relative: &'a str,
    is_link_dir: &mut HashMap<String, bool>,
) -> Option<&'a str> {
    for (slash, _) in relative.match_indices('/') {
        let dir = &relative[..slash];
        let is_link = match is_link_dir.get(dir) {
            Some(known) => *known,
            None => {
                let is_link = fs::symlink_metadata(root.join(dir))
                    .is_ok_and(|metadata| metadata.file_type().is_symlink());
                is_link_dir.insert(dir.to_owned(), is_link);
                is_link
            }
        };
        if is_link {
            return Some(dir);
        }
    }
    None
}
