//! Each job's own copy of the repository, so that parallel jobs never see
//! each other's files.
//!
//! The snapshot is the repository as the run sees it: every tracked file
//! as it is in the working tree (uncommitted changes included, deleted
//! files left out) plus untracked files that are not ignored — what
//! `git ls-files --cached --others --exclude-standard` lists. Ignored
//! files (build output, `node_modules`) are not copied, as on a fresh CI
//! checkout. The list is made once per run; each job copies it with
//! several threads (`copy_file_range`, so file systems that can share
//! blocks do).
//!
//! The copy is a git repository too: its `.git` borrows the objects of the
//! original through `objects/info/alternates` and has copies of HEAD, the
//! refs, the index and the configuration, so `git status`, `git log` and
//! `git diff` work and anything a job commits stays in its own copy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::git::layout::Layout;

/// What a snapshot copies, listed once per run.
#[derive(Debug)]
pub struct SnapshotSource {
    root: PathBuf,
    /// Paths relative to `root`.
    files: Vec<PathBuf>,
    /// Every directory that holds a file, parents before children.
    dirs: Vec<PathBuf>,
    git: Option<Layout>,
}

/// Facts about one snapshot, for the log.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotStats {
    pub files: usize,
    pub bytes: u64,
}

impl SnapshotSource {
    /// Lists what a snapshot of `root` holds. Outside a git repository,
    /// everything under `root` except `.git` and the `exclude` directories.
    pub fn list(root: &Path, exclude: &[PathBuf]) -> Result<SnapshotSource, String> {
        let git = Layout::find(root).filter(|layout| layout.root == canonical(root));
        let files = match &git {
            Some(_) => git_listing(root)?,
            None => walk_listing(root, exclude)?,
        };
        let mut dirs: Vec<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent())
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect();
        dirs.sort();
        dirs.dedup();
        Ok(SnapshotSource {
            root: root.to_path_buf(),
            files,
            dirs,
            git,
        })
    }

    /// Number of entries a snapshot copies.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Copies the snapshot to `dest`, which must not exist yet.
    pub fn create(&self, dest: &Path) -> Result<SnapshotStats, String> {
        std::fs::create_dir_all(dest)
            .map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        for dir in &self.dirs {
            let target = dest.join(dir);
            if let Err(e) = std::fs::create_dir_all(&target) {
                return Err(format!("cannot create {}: {e}", target.display()));
            }
        }
        let next = AtomicUsize::new(0);
        let bytes = std::sync::atomic::AtomicU64::new(0);
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 8)
            .min(self.files.len().div_ceil(64).max(1));
        let errors: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| -> Result<(), String> {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(relative) = self.files.get(i) else {
                                return Ok(());
                            };
                            let copied =
                                copy_entry(&self.root.join(relative), &dest.join(relative))?;
                            bytes.fetch_add(copied, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("a copy thread panicked".into()))
                        .err()
                })
                .collect()
        });
        if let Some(first) = errors.into_iter().next() {
            return Err(first);
        }
        if let Some(layout) = &self.git {
            seed_git(layout, &dest.join(".git"))?;
        }
        Ok(SnapshotStats {
            files: self.files.len(),
            bytes: bytes.into_inner(),
        })
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Tracked and untracked-but-not-ignored paths, from git.
fn git_listing(root: &Path) -> Result<Vec<PathBuf>, String> {
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

/// Every file below `root` except `.git` and `exclude`.
fn walk_listing(root: &Path, exclude: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
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

/// Copies one listed entry: a file, a symbolic link, or a directory (a
/// submodule, listed as one path); a tracked file deleted in the working
/// tree is skipped. Returns the bytes copied.
fn copy_entry(from: &Path, to: &Path) -> Result<u64, String> {
    let meta = match std::fs::symlink_metadata(from) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(format!("cannot read {}: {e}", from.display())),
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target =
            std::fs::read_link(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        std::os::unix::fs::symlink(&target, to)
            .map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        Ok(0)
    } else if kind.is_dir() {
        copy_tree(from, to)
    } else {
        std::fs::copy(from, to)
            .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<u64, String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let mut bytes = 0;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot list {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", from.display()))?;
        bytes += copy_entry(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(bytes)
}

/// Makes `git_dir` a repository that shares the original's objects and
/// starts with its HEAD, refs, index and configuration.
fn seed_git(layout: &Layout, git_dir: &Path) -> Result<(), String> {
    let create = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
    };
    create(&git_dir.join("objects/info"))?;
    create(&git_dir.join("refs"))?;
    let objects = canonical(&layout.common_dir.join("objects"));
    std::fs::write(
        git_dir.join("objects/info/alternates"),
        format!("{}\n", objects.display()),
    )
    .map_err(|e| format!("cannot write {}: {e}", git_dir.display()))?;
    // Per-worktree files come from the worktree's own git directory.
    for (from, name) in [
        (&layout.git_dir, "HEAD"),
        (&layout.git_dir, "index"),
        (&layout.common_dir, "config"),
        (&layout.common_dir, "packed-refs"),
        (&layout.common_dir, "shallow"),
        (&layout.common_dir, "info/exclude"),
    ] {
        let source = from.join(name);
        if source.exists() {
            if let Some(parent) = git_dir.join(name).parent() {
                create(parent)?;
            }
            std::fs::copy(&source, git_dir.join(name))
                .map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
        }
    }
    let refs = layout.common_dir.join("refs");
    if refs.is_dir() {
        copy_tree(&refs, &git_dir.join("refs"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_a_plain_directory_without_git_or_excluded_parts() {
        let root = std::env::temp_dir().join(format!("sluice-ws-{}", crate::ids::random_hex(6)));
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("state")).unwrap();
        std::fs::write(root.join("src/deep/a.txt"), "a").unwrap();
        std::fs::write(root.join("top.txt"), "top").unwrap();
        // Not a repository (no HEAD): only skipped by name.
        std::fs::write(root.join(".git/objects"), "x").unwrap();
        std::fs::write(root.join("state/db"), "x").unwrap();
        std::os::unix::fs::symlink("top.txt", root.join("link")).unwrap();
        let source = SnapshotSource::list(&root, &[root.join("state")]).unwrap();
        let mut files = source.files.clone();
        files.sort();
        assert_eq!(
            files,
            [
                PathBuf::from("link"),
                "src/deep/a.txt".into(),
                "top.txt".into()
            ]
        );
        let dest = root.with_extension("copy");
        let stats = source.create(&dest).unwrap();
        assert_eq!(stats.files, 3);
        assert_eq!(
            std::fs::read_to_string(dest.join("src/deep/a.txt")).unwrap(),
            "a"
        );
        assert_eq!(
            std::fs::read_link(dest.join("link")).unwrap(),
            PathBuf::from("top.txt")
        );
        std::fs::write(dest.join("top.txt"), "changed").unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("top.txt")).unwrap(),
            "top",
            "the copy is separate"
        );
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_dir_all(&dest).unwrap();
    }
}
