//! Pack files: small blobs stored many to a file.
//!
//! ```text
//! packs/<name>.pack   the blobs' bytes, one after another
//! packs/<name>.idx    which blobs, where (pack_index.rs); written after the pack
//! packs/<name>.dead   blobs pruned from the pack but not yet repacked away
//! ```
//!
//! A pack is written in `tmp/` and renamed into `packs/`, then its index:
//! a pack without an index is incomplete (a crash between the two) and is
//! removed with the other staging leftovers. Pruning marks blobs dead;
//! a pack at least half dead is repacked (its live blobs written to a new
//! pack, sealed before the old one goes), an all-dead one removed. Blobs
//! are verified against their digest when read, as loose ones are.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, SystemTime};

use super::blobs::read_dir_if_present;
use super::{LocalBackend, create_dir_all};
use crate::backend::{BlobInfo, BlobReader};
use crate::digest::Digest;
use crate::error::CacheError;
use crate::pack_batch::{PACK_BLOB_LIMIT, PACK_TARGET, PackBatch, PackWriter};
use crate::pack_index::{self, PackedBlob};
use crate::temp_file::unique_name;

/// What this process knows of the packs directory, read again when the
/// directory changed (a pack added or removed, a blob marked dead).
#[derive(Debug, Default)]
pub(crate) struct PackTable {
    read_at: Option<SystemTime>,
    packs: Vec<Pack>,
    live: HashMap<Digest, (usize, u64, u64)>,
}

#[derive(Debug)]
struct Pack {
    name: String,
    blobs: Vec<PackedBlob>,
    dead: HashSet<Digest>,
    file: OnceLock<Option<Arc<File>>>,
}

pub(crate) type SharedPackTable = Arc<RwLock<PackTable>>;

/// A packed blob found: its pack open, where it is, its offset and length.
struct Found {
    file: Arc<File>,
    pack: PathBuf,
    offset: u64,
    length: u64,
}

impl Found {
    fn into_reader(self) -> BlobReader {
        BlobReader {
            reader: Box::new(PackSlice {
                file: self.file,
                offset: self.offset,
                remaining: self.length,
            }),
            location: self.pack,
        }
    }
}

impl LocalBackend {
    fn pack_path(&self, name: &str, extension: &str) -> PathBuf {
        self.packs.join(format!("{name}.{extension}"))
    }

    /// Stores a small blob in one of `batch`'s packs; readable once the
    /// batch is finished.
    pub(super) fn put_blob_packed(
        &self,
        batch: &PackBatch,
        digest: &Digest,
        contents: &[u8],
    ) -> Result<bool, CacheError> {
        if contents.len() as u64 > PACK_BLOB_LIMIT {
            return self.put_blob_bytes(digest, contents);
        }
        if self.has_blob_file(digest)? || self.packed(digest)?.is_some() {
            return Ok(false);
        }
        let mut writer = match batch.take_writer() {
            Some(writer) => writer,
            None => PackWriter {
                file: self.stage("pack-")?,
                length: 0,
                blobs: Vec::new(),
            },
        };
        writer
            .file
            .file()
            .write_all(contents)
            .map_err(|source| CacheError::io("write pack", writer.file.path(), source))?;
        writer.blobs.push(PackedBlob {
            digest: *digest,
            offset: writer.length,
            length: contents.len() as u64,
        });
        writer.length += contents.len() as u64;
        if writer.length >= PACK_TARGET {
            self.seal(writer)?;
        } else {
            batch.give_back(writer);
        }
        Ok(true)
    }

    pub(super) fn finish_pack_batch(&self, batch: PackBatch) -> Result<(), CacheError> {
        for writer in batch.drain() {
            self.seal(writer)?;
        }
        Ok(())
    }

    /// Moves a complete pack into `packs/`, then its index.
    fn seal(&self, mut writer: PackWriter) -> Result<(), CacheError> {
        if writer.blobs.is_empty() {
            return Ok(());
        }
        create_dir_all(&self.packs)?;
        let name = unique_name("p");
        let pack = self.pack_path(&name, "pack");
        writer
            .file
            .rename_to(&pack)
            .map_err(|source| CacheError::io("store pack", &pack, source))?;
        let index = pack_index::encode(&mut writer.blobs);
        let mut staged = self.stage("idx-")?;
        staged
            .file()
            .write_all(&index)
            .map_err(|source| CacheError::io("write pack index", staged.path(), source))?;
        let target = self.pack_path(&name, "idx");
        staged
            .rename_to(&target)
            .map_err(|source| CacheError::io("store pack index", target, source))
    }

    /// Where a packed blob is: (pack, offset, length).
    fn packed(&self, digest: &Digest) -> Result<Option<Found>, CacheError> {
        if let Some(found) = self.lookup(digest) {
            return Ok(Some(found));
        }
        if self.refresh_packs(false)? {
            return Ok(self.lookup(digest));
        }
        Ok(None)
    }

    fn lookup(&self, digest: &Digest) -> Option<Found> {
        let table = self.pack_table.read().unwrap_or_else(|e| e.into_inner());
        let &(pack, offset, length) = table.live.get(digest)?;
        let pack = &table.packs[pack];
        let path = self.pack_path(&pack.name, "pack");
        let file = pack
            .file
            .get_or_init(|| File::open(&path).ok().map(Arc::new))
            .clone()?;
        Some(Found {
            file,
            pack: path,
            offset,
            length,
        })
    }

    /// Reads the packs directory again if it changed since (or `always`);
    /// true if it did.
    fn refresh_packs(&self, always: bool) -> Result<bool, CacheError> {
        let changed = fs::metadata(&self.packs).and_then(|m| m.modified()).ok();
        {
            let table = self.pack_table.read().unwrap_or_else(|e| e.into_inner());
            if !always && table.read_at.is_some() && table.read_at == changed {
                return Ok(false);
            }
        }
        let fresh = self.read_pack_table(changed)?;
        *self.pack_table.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(true)
    }

    fn read_pack_table(&self, read_at: Option<SystemTime>) -> Result<PackTable, CacheError> {
        let mut table = PackTable {
            read_at,
            ..PackTable::default()
        };
        for file in read_dir_if_present(&self.packs)? {
            let file_name = file.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".idx")) else {
                continue;
            };
            let Some(pack) = self.read_pack(name) else {
                continue;
            };
            let at = table.packs.len();
            for blob in &pack.blobs {
                if !pack.dead.contains(&blob.digest) {
                    table
                        .live
                        .insert(blob.digest, (at, blob.offset, blob.length));
                }
            }
            table.packs.push(pack);
        }
        Ok(table)
    }

    /// A sealed pack, or `None` if its index is damaged or its pack gone
    /// (its blobs are then missing, which readers handle).
    fn read_pack(&self, name: &str) -> Option<Pack> {
        let pack_length = fs::metadata(self.pack_path(name, "pack")).ok()?.len();
        let index = fs::read(self.pack_path(name, "idx")).ok()?;
        let blobs = pack_index::decode(&index, pack_length)?;
        let dead = match fs::read(self.pack_path(name, "dead")) {
            Ok(bytes) => bytes
                .chunks_exact(32)
                .filter_map(|c| c.try_into().ok().map(Digest::from_bytes))
                .collect(),
            Err(_) => HashSet::new(),
        };
        Some(Pack {
            name: name.to_owned(),
            blobs,
            dead,
            file: OnceLock::new(),
        })
    }

    pub(super) fn has_packed_blob(&self, digest: &Digest) -> Result<bool, CacheError> {
        Ok(self.packed(digest)?.is_some())
    }

    pub(super) fn open_packed_blob(
        &self,
        digest: &Digest,
    ) -> Result<Option<BlobReader>, CacheError> {
        Ok(self.packed(digest)?.map(Found::into_reader))
    }

    /// The blob if the packs already read hold it: no system call, so a
    /// restore of packed files does not first look for each one loose.
    /// A blob pruned since still reads (its pack stays open) and is
    /// verified like any other.
    pub(super) fn open_known_packed_blob(&self, digest: &Digest) -> Option<BlobReader> {
        self.lookup(digest).map(Found::into_reader)
    }

    /// A packed blob's grace period starts again: its pack's index is
    /// touched (the whole pack's, which only makes pruning later).
    pub(super) fn touch_packed_blob(&self, digest: &Digest) -> Result<bool, CacheError> {
        let Some(found) = self.packed(digest)? else {
            return Ok(false);
        };
        let index = found.pack.with_extension("idx");
        let touched = File::open(&index).and_then(|f| f.set_modified(SystemTime::now()));
        touched.map_err(|source| CacheError::io("set the time of pack index", index, source))?;
        Ok(true)
    }

    /// Every live packed blob; its time is its pack index's.
    pub(super) fn list_packed_blobs(&self) -> Result<Vec<BlobInfo>, CacheError> {
        self.refresh_packs(true)?;
        let table = self.pack_table.read().unwrap_or_else(|e| e.into_inner());
        let modified: Vec<SystemTime> = table
            .packs
            .iter()
            .map(|pack| {
                fs::metadata(self.pack_path(&pack.name, "idx"))
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            })
            .collect();
        // A blob stored in two packs (two captures racing) is listed once,
        // where lookups find it.
        Ok(table
            .live
            .iter()
            .map(|(digest, &(pack, _, length))| BlobInfo {
                digest: *digest,
                size: length,
                modified: modified[pack],
            })
            .collect())
    }

    /// Removes packed blobs: marks them dead, repacks a pack at least half
    /// dead, removes one all dead.
    pub(super) fn delete_packed_blobs(&self, digests: &[Digest]) -> Result<(), CacheError> {
        self.refresh_packs(true)?;
        let mut by_pack: HashMap<String, Vec<Digest>> = HashMap::new();
        {
            let table = self.pack_table.read().unwrap_or_else(|e| e.into_inner());
            for digest in digests {
                if let Some(&(pack, ..)) = table.live.get(digest) {
                    by_pack
                        .entry(table.packs[pack].name.clone())
                        .or_default()
                        .push(*digest);
                }
            }
        }
        for (name, dying) in by_pack {
            let Some(mut pack) = self.read_pack(&name) else {
                continue;
            };
            pack.dead.extend(dying);
            self.settle_pack(&pack)?;
        }
        self.refresh_packs(true)?;
        Ok(())
    }

    fn settle_pack(&self, pack: &Pack) -> Result<(), CacheError> {
        let total: u64 = pack.blobs.iter().map(|b| b.length).sum();
        let dead: u64 = pack
            .blobs
            .iter()
            .filter(|b| pack.dead.contains(&b.digest))
            .map(|b| b.length)
            .sum();
        let all_dead = pack.blobs.iter().all(|b| pack.dead.contains(&b.digest));
        if !all_dead && dead * 2 < total {
            let mut list = Vec::with_capacity(pack.dead.len() * 32);
            for digest in &pack.dead {
                list.extend_from_slice(digest.as_bytes());
            }
            let mut staged = self.stage("dead-")?;
            staged
                .file()
                .write_all(&list)
                .map_err(|source| CacheError::io("write pack tombstones", staged.path(), source))?;
            let target = self.pack_path(&pack.name, "dead");
            return staged
                .rename_to(&target)
                .map_err(|source| CacheError::io("store pack tombstones", target, source));
        }
        if !all_dead {
            self.repack(pack)?;
        }
        // The index first: a pack without one is a leftover, never read.
        for extension in ["idx", "dead", "pack"] {
            remove_if_present(&self.pack_path(&pack.name, extension))?;
        }
        Ok(())
    }

    /// Writes the live blobs of `pack` to a new, sealed pack.
    fn repack(&self, pack: &Pack) -> Result<(), CacheError> {
        let source_path = self.pack_path(&pack.name, "pack");
        let source =
            File::open(&source_path).map_err(|e| CacheError::io("open pack", &source_path, e))?;
        let batch = PackBatch::default();
        let mut bytes = Vec::new();
        for blob in pack.blobs.iter().filter(|b| !pack.dead.contains(&b.digest)) {
            bytes.resize(blob.length as usize, 0);
            source
                .read_exact_at(&mut bytes, blob.offset)
                .map_err(|e| CacheError::io("read pack", &source_path, e))?;
            // A damaged blob is not carried over: it would fail every read.
            if Digest::of(&bytes) != blob.digest {
                continue;
            }
            let mut writer = match batch.take_writer() {
                Some(writer) => writer,
                None => PackWriter {
                    file: self.stage("pack-")?,
                    length: 0,
                    blobs: Vec::new(),
                },
            };
            writer
                .file
                .file()
                .write_all(&bytes)
                .map_err(|e| CacheError::io("write pack", writer.file.path(), e))?;
            writer.blobs.push(PackedBlob {
                digest: blob.digest,
                offset: writer.length,
                length: blob.length,
            });
            writer.length += blob.length;
            batch.give_back(writer);
        }
        self.finish_pack_batch(batch)
    }

    /// Packs a crash left without an index, or tombstones without a pack.
    pub(super) fn remove_incomplete_packs(&self, older_than: Duration) -> Result<u64, CacheError> {
        let now = SystemTime::now();
        let mut removed = 0;
        for file in read_dir_if_present(&self.packs)? {
            let path = file.path();
            let is_leftover = match path.extension().and_then(|e| e.to_str()) {
                Some("pack") | Some("dead") => !path.with_extension("idx").exists(),
                _ => false,
            };
            let old = file.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
                older_than.is_zero() || now.duration_since(t).unwrap_or_default() > older_than
            });
            if is_leftover && old {
                remove_if_present(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn remove_if_present(path: &Path) -> Result<(), CacheError> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            Err(CacheError::io("remove", path, error))
        }
        _ => Ok(()),
    }
}

/// One blob's bytes within a pack, read with `pread` so that many threads
/// share one open pack.
struct PackSlice {
    file: Arc<File>,
    offset: u64,
    remaining: u64,
}

impl Read for PackSlice {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let wanted = buffer.len().min(self.remaining as usize);
        if wanted == 0 {
            return Ok(0);
        }
        let read = self.file.read_at(&mut buffer[..wanted], self.offset)?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the pack ends early",
            ));
        }
        self.offset += read as u64;
        self.remaining -= read as u64;
        Ok(read)
    }
}
