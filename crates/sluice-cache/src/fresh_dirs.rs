//! The directories a restore created. Nothing in them predates the
//! restore, so their files need no `lstat` to find out whether they are
//! already in place: in a restore into an empty directory that is one
//! system call saved per file.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::error::CacheError;

#[derive(Default)]
pub(crate) struct FreshDirs(Mutex<HashSet<PathBuf>>);

impl FreshDirs {
    pub(crate) fn contains(&self, dir: &Path) -> bool {
        self.lock().contains(dir)
    }

    /// Creates `dir` (and what is missing above it) for a file that found
    /// it missing.
    pub(crate) fn create(&self, dir: &Path) -> Result<(), CacheError> {
        fs::create_dir_all(dir)
            .map_err(|source| CacheError::io("create directory", dir, source))?;
        self.lock().insert(dir.to_path_buf());
        Ok(())
    }

    /// Before any file is written: every directory of a tree whose top
    /// (the first directory under its base) is missing, created on this
    /// thread, parents first, one `mkdir` each, and known fresh. Files
    /// then go straight into them, with no lookups and no threads racing
    /// to create the same directory. A tree whose top exists is left to
    /// the files (only what they find missing is created): an unchanged
    /// restore pays one `lstat` per top, no more.
    pub(crate) fn create_missing_trees<'a>(
        &self,
        files: impl Iterator<Item = (&'a Path, &'a str)>,
    ) -> Result<(), CacheError> {
        let mut tops: HashMap<PathBuf, bool> = HashMap::new();
        let mut wanted = BTreeSet::new();
        for (base, relative) in files {
            let Some(dirs) = directories_of(relative) else {
                continue;
            };
            let Some(top) = dirs.first() else {
                continue;
            };
            let top = base.join(top);
            let missing = match tops.get(&top) {
                Some(&missing) => missing,
                None => {
                    let missing = is_missing(&top)?;
                    tops.insert(top, missing);
                    missing
                }
            };
            if missing {
                wanted.extend(dirs.iter().map(|dir| base.join(dir)));
            }
        }
        // Path order puts a directory before everything under it.
        let mut fresh = self.lock();
        for dir in wanted {
            let made = if fresh.contains(dir.parent().unwrap_or(Path::new(""))) {
                fs::create_dir(&dir)
            } else {
                fs::create_dir_all(&dir)
            };
            match made {
                Ok(()) => {
                    fresh.insert(dir);
                }
                // Made by someone else meanwhile: not fresh, its files are
                // looked at one by one.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(CacheError::io("create directory", &dir, source)),
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<PathBuf>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

/// The directories a relative file path passes through, outermost first
/// (`a/b/f` gives `a`, `a/b`); `None` for a path that is not plain names.
fn directories_of(relative: &str) -> Option<Vec<PathBuf>> {
    let path = Path::new(relative);
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut dirs: Vec<PathBuf> = path
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .collect();
    dirs.reverse();
    Some(dirs)
}

fn is_missing(path: &Path) -> Result<bool, CacheError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(false),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(CacheError::io("inspect", path, source)),
    }
}

#[cfg(test)]
mod tests {
    use super::{FreshDirs, directories_of};
    use std::path::{Path, PathBuf};

    #[test]
    fn a_path_passes_its_directories_outermost_first() {
        let dirs = directories_of("a/b/f").unwrap();
        assert_eq!(dirs, vec![PathBuf::from("a"), PathBuf::from("a/b")]);
        assert_eq!(directories_of("f").unwrap(), Vec::<PathBuf>::new());
        assert!(directories_of("../f").is_none());
        assert!(directories_of("/etc/f").is_none());
    }

    #[test]
    fn only_trees_whose_top_is_missing_are_made_ahead() {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("kept")).unwrap();
        let fresh = FreshDirs::default();
        let files = [
            (base.path(), "new/x/y/f"),
            (base.path(), "new/z/g"),
            (base.path(), "kept/deep/h"),
            (base.path(), "top"),
        ];
        fresh
            .create_missing_trees(files.iter().map(|&(b, p)| (b, p)))
            .unwrap();
        for made in ["new", "new/x", "new/x/y", "new/z"] {
            assert!(base.path().join(made).is_dir(), "{made}");
            assert!(fresh.contains(&base.path().join(made)), "{made}");
        }
        assert!(!base.path().join("kept/deep").exists());
        assert!(!fresh.contains(&base.path().join("kept")));
        assert!(!fresh.contains(Path::new("top")));
    }
}
