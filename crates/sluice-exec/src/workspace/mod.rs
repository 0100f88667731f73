//! Each job's own copy of the repository, so that parallel jobs never see
//! each other's files.
//!
//! The copy holds the repository as the run sees it: every tracked file
//! as it is in the working tree (uncommitted changes included, deleted
//! files left out) plus untracked files that are not ignored. Ignored
//! files (build output, `node_modules`) are not copied, as on a fresh CI
//! checkout. The list is made once per run ([`listing`]).
//!
//! Copies are kept between jobs and runs, in numbered slots below the
//! cache directory ([`slots`]), and brought up to date by a sync
//! ([`sync`]): files a job created are removed, files that changed in the
//! repository or were touched by a job are copied again, the rest stays.
//! So a job starts in exactly the snapshot, like a fresh checkout, but an
//! unchanged repository costs a stat per file rather than a copy — as a
//! self-hosted runner keeps its work directory and cleans it.
//!
//! The copy is a git repository too ([`git_seed`]).

mod copy;
mod git_seed;
mod listing;
mod manifest;
mod slots;
mod sync;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::git::layout::Layout;
use listing::Listed;
pub use sync::SyncStats;

/// What job workspaces hold, listed once per run.
#[derive(Debug)]
pub struct SnapshotSource {
    root: PathBuf,
    listed: Vec<Listed>,
    git: Option<Layout>,
}

impl SnapshotSource {
    /// Lists what a workspace of `root` holds. Outside a git repository,
    /// everything under `root` except `.git` and the `exclude` directories.
    pub fn list(root: &Path, exclude: &[PathBuf]) -> Result<SnapshotSource, String> {
        let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let git = Layout::find(root).filter(|layout| layout.root == canonical);
        let paths = match &git {
            Some(_) => listing::git_paths(root)?,
            None => listing::walked_paths(root, exclude)?,
        };
        Ok(SnapshotSource {
            root: root.to_path_buf(),
            listed: listing::stamp_all(root, paths)?,
            git,
        })
    }

    /// How many entries a workspace holds.
    pub fn len(&self) -> usize {
        self.listed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// Makes `dest` a copy of the snapshot (a second checkout inside a job's
    /// workspace), keeping what the copy's manifest says is current.
    pub fn copy_to(&self, dest: &Path, manifest: &Path) -> Result<SyncStats, String> {
        let stats = sync::sync(&self.root, &self.listed, dest, manifest)?;
        if let Some(layout) = &self.git {
            git_seed::seed_git(layout, &dest.join(".git"))?;
        }
        Ok(stats)
    }
}

/// A job's workspace, held until it is dropped.
#[derive(Debug)]
pub struct JobWorkspace {
    /// The top of the copy (what `github.workspace` names).
    pub path: PathBuf,
    _slot: slots::Slot,
}

impl JobWorkspace {
    /// Takes a free slot for the repository below `workspaces_dir` and
    /// brings its copy up to date with `source`. The copy is named `name`
    /// (GitHub names the workspace after the repository).
    pub fn prepare(
        source: &SnapshotSource,
        workspaces_dir: &Path,
        name: &OsStr,
    ) -> Result<(JobWorkspace, SyncStats), String> {
        let slot = slots::acquire(&workspaces_dir.join(repository_key(&source.root)))?;
        let path = slot.dir.join(name);
        let stats = sync::sync(
            &source.root,
            &source.listed,
            &path,
            &slot.dir.join("manifest"),
        )?;
        if let Some(layout) = &source.git {
            git_seed::seed_git(layout, &path.join(".git"))?;
        } else {
            copy::remove_any(&path.join(".git"))?;
        }
        Ok((JobWorkspace { path, _slot: slot }, stats))
    }
}

/// Removes kept workspaces that no running job holds: all of them, or
/// with `idle_for` only those unused for that long. Returns how many.
pub fn remove_idle_workspaces(
    workspaces_dir: &Path,
    idle_for: Option<std::time::Duration>,
) -> usize {
    slots::remove_idle(workspaces_dir, idle_for)
}

/// A directory name for a repository's slots: its name and a digest of
/// its path, so that two checkouts never share slots.
fn repository_key(root: &Path) -> String {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let name: String = canonical
        .file_name()
        .and_then(OsStr::to_str)
        .unwrap_or("repository")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    format!("{name}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> PathBuf {
        // Kept (not removed on drop): the tests hand the path around.
        tempfile::Builder::new()
            .prefix(&format!("sluice-{label}-"))
            .tempdir()
            .unwrap()
            .keep()
    }

    #[test]
    fn a_plain_directory_is_copied_without_git_or_excluded_parts() {
        let root = scratch("ws");
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("state")).unwrap();
        std::fs::write(root.join("src/deep/a.txt"), "a").unwrap();
        std::fs::write(root.join("top.txt"), "top").unwrap();
        // Not a repository (no HEAD): skipped by its name only.
        std::fs::write(root.join(".git/objects"), "x").unwrap();
        std::fs::write(root.join("state/db"), "x").unwrap();
        std::os::unix::fs::symlink("top.txt", root.join("link")).unwrap();
        let source = SnapshotSource::list(&root, &[root.join("state")]).unwrap();
        let mut files: Vec<PathBuf> = source.listed.iter().map(|l| l.path.clone()).collect();
        files.sort();
        assert_eq!(
            files,
            [
                PathBuf::from("link"),
                "src/deep/a.txt".into(),
                "top.txt".into()
            ]
        );
        let slots = scratch("slots");
        let (workspace, stats) =
            JobWorkspace::prepare(&source, &slots, OsStr::new("repo")).unwrap();
        assert_eq!((stats.files, stats.copied), (3, 3));
        let dest = workspace.path.clone();
        assert_eq!(
            std::fs::read_to_string(dest.join("src/deep/a.txt")).unwrap(),
            "a"
        );
        assert_eq!(
            std::fs::read_link(dest.join("link")).unwrap(),
            PathBuf::from("top.txt")
        );
        assert!(!dest.join("state").exists() && !dest.join(".git").exists());

        // A job writes: into a listed file (same size), a new file, a new
        // directory.
        std::fs::write(dest.join("top.txt"), "TOP").unwrap();
        std::fs::write(dest.join("new.txt"), "new").unwrap();
        std::fs::create_dir_all(dest.join("out/x")).unwrap();
        std::fs::write(dest.join("out/x/o"), "o").unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("top.txt")).unwrap(),
            "top",
            "the copy is separate"
        );
        drop(workspace);

        // The next job gets the snapshot back, copying only what changed.
        let (workspace, stats) =
            JobWorkspace::prepare(&source, &slots, OsStr::new("repo")).unwrap();
        assert_eq!(workspace.path, dest, "the slot is reused");
        assert_eq!(
            stats.copied, 1,
            "only the touched file is copied: {stats:?}"
        );
        assert_eq!(stats.removed, 2, "the new file and directory go: {stats:?}");
        assert_eq!(
            std::fs::read_to_string(dest.join("top.txt")).unwrap(),
            "top"
        );
        assert!(!dest.join("new.txt").exists() && !dest.join("out").exists());
        drop(workspace);

        // A change in the source reaches the copy.
        std::fs::write(root.join("src/deep/a.txt"), "changed").unwrap();
        std::fs::remove_file(root.join("top.txt")).unwrap();
        let source = SnapshotSource::list(&root, &[root.join("state")]).unwrap();
        let (workspace, stats) =
            JobWorkspace::prepare(&source, &slots, OsStr::new("repo")).unwrap();
        assert_eq!(stats.copied, 1, "{stats:?}");
        assert_eq!(
            std::fs::read_to_string(workspace.path.join("src/deep/a.txt")).unwrap(),
            "changed"
        );
        assert!(!workspace.path.join("top.txt").exists());
        drop(workspace);
        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_dir_all(&slots).unwrap();
    }
}
