//! What a job's workspace holds: the repository's tracked files as they
//! are in the working tree, plus untracked files that are not ignored —
//! `git ls-files --cached --others --exclude-standard`. Outside a git
//! repository, every file except `.git` and excluded directories.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Size, modification time and mode of a file: when these match what
/// was copied last time, the copy is still current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub size: u64,
    pub mtime: (i64, i64),
    pub mode: u32,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            mode: meta.mode(),
        }
    }
}

/// One listed path and its state in the source.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub path: PathBuf,
    pub stamp: Stamp,
    /// A directory (a submodule): copied whole every time.
    pub is_dir: bool,
}

/// Tracked and untracked-but-not-ignored paths, from git.
pub(crate) fn git_paths(root: &Path) -> Result<Vec<PathBuf>, String> {
    use std::os::unix::ffi::OsStrExt;
    let output = std::process::Command::new("git")
        .args([
            "-c",
            "core.quotePath=false",
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--deduplicate",
        ])
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git ls-files failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output
        .stdout
        .split(|b| *b == 0)
        .filter(|name| !name.is_empty())
        .map(|name| PathBuf::from(std::ffi::OsStr::from_bytes(name)))
        .collect())
}

/// Every file below `root` except `.git` and the `exclude` directories.
pub(crate) fn walked_paths(root: &Path, exclude: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let exclude: Vec<PathBuf> = exclude.iter().map(|p| canonical(p)).collect();
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
            let path = relative.join(entry.file_name());
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
            if kind.is_dir() {
                if entry.file_name() == ".git" || exclude.contains(&canonical(&entry.path())) {
                    continue;
                }
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Reads the state of each path; paths that no longer exist (tracked
/// files deleted in the working tree) are left out.
pub(crate) fn stamp_all(root: &Path, paths: Vec<PathBuf>) -> Result<Vec<Listed>, String> {
    let mut listed = Vec::with_capacity(paths.len());
    for path in paths {
        match std::fs::symlink_metadata(root.join(&path)) {
            Ok(meta) => listed.push(Listed {
                stamp: Stamp::of(&meta),
                is_dir: meta.is_dir(),
                path,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", root.join(&path).display())),
        }
    }
    Ok(listed)
}
