//! Reading a repository's files directly (where it is, HEAD, refs) instead
//! of asking git: each git process costs a millisecond or more, and every
//! `sluice run` needs these facts before it can start anything.
//!
//! Only the plain layout is read: a `.git` directory or a `.git` file
//! pointing at one (worktrees, submodules), loose refs and `packed-refs`.
//! Anything else (the reftable format, `GIT_DIR` and friends in the
//! environment, odd contents) answers `None`, and the caller asks git.

use std::path::{Component, Path, PathBuf};

/// Where a working tree keeps its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The top of the working tree.
    pub root: PathBuf,
    /// This working tree's git directory (HEAD lives here).
    pub git_dir: PathBuf,
    /// The directory shared by all working trees (refs, config, objects).
    pub common_dir: PathBuf,
}

/// What HEAD points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Head {
    /// A branch (which may not have a commit yet).
    Branch(String),
    /// A commit, directly.
    Detached(String),
}

/// Environment variables that change where git looks; when any is set the
/// answer is git's to give.
const RELOCATING_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
];

impl Layout {
    /// The repository whose working tree contains `dir`.
    pub(crate) fn find(dir: &Path) -> Option<Layout> {
        if RELOCATING_ENV
            .iter()
            .any(|name| std::env::var_os(name).is_some())
        {
            return None;
        }
        let start = std::fs::canonicalize(dir).ok()?;
        let mut candidate = Some(start.as_path());
        while let Some(dir) = candidate {
            if let Some(git_dir) = git_dir_at(dir) {
                return Layout::with_git_dir(dir.to_path_buf(), git_dir);
            }
            candidate = dir.parent();
        }
        None
    }

    fn with_git_dir(root: PathBuf, git_dir: PathBuf) -> Option<Layout> {
        let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
            Ok(text) => git_dir.join(text.trim_end_matches(['\n', '\r'])),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => git_dir.clone(),
            Err(_) => return None,
        };
        // The reftable format keeps refs in binary tables.
        if common_dir.join("reftable").exists() {
            return None;
        }
        Some(Layout {
            root,
            git_dir,
            common_dir,
        })
    }

    /// What HEAD points at; `None` when it is neither a branch nor a sha.
    pub(crate) fn head(&self) -> Option<Head> {
        let text = std::fs::read_to_string(self.git_dir.join("HEAD")).ok()?;
        let text = text.trim_end();
        if let Some(target) = text.strip_prefix("ref:") {
            let branch = target.trim().strip_prefix("refs/heads/")?;
            return is_safe_ref(branch).then(|| Head::Branch(branch.to_owned()));
        }
        is_sha(text).then(|| Head::Detached(text.to_owned()))
    }

    /// The commit a ref names (following symbolic refs); `Ok(None)` when
    /// the ref does not exist, `Err` when the files cannot say.
    pub(crate) fn resolve(&self, name: &str) -> Result<Option<String>, Unreadable> {
        let mut name = name.to_owned();
        // git gives up on symbolic ref chains after five hops, too.
        for _ in 0..5 {
            if !is_safe_ref(&name) {
                return Err(Unreadable);
            }
            match std::fs::read_to_string(self.common_dir.join(&name)) {
                Ok(text) => {
                    let text = text.trim_end();
                    if let Some(target) = text.strip_prefix("ref:") {
                        name = target.trim().to_owned();
                        continue;
                    }
                    return if is_sha(text) {
                        Ok(Some(text.to_owned()))
                    } else {
                        Err(Unreadable)
                    };
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) =>
                {
                    return self.packed(&name);
                }
                Err(_) => return Err(Unreadable),
            }
        }
        Err(Unreadable)
    }

    /// Where a symbolic ref such as `refs/remotes/origin/HEAD` points.
    pub(crate) fn symbolic_target(&self, name: &str) -> Option<String> {
        if !is_safe_ref(name) {
            return None;
        }
        let text = std::fs::read_to_string(self.common_dir.join(name)).ok()?;
        Some(text.trim_end().strip_prefix("ref:")?.trim().to_owned())
    }

    fn packed(&self, name: &str) -> Result<Option<String>, Unreadable> {
        let text = match std::fs::read_to_string(self.common_dir.join("packed-refs")) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(_) => return Err(Unreadable),
        };
        for line in text.lines() {
            // `# pack-refs with: ...` headers and `^<sha>` peeled tags.
            if line.starts_with('#') || line.starts_with('^') {
                continue;
            }
            if let Some((sha, refname)) = line.split_once(' ')
                && refname == name
            {
                return if is_sha(sha) {
                    Ok(Some(sha.to_owned()))
                } else {
                    Err(Unreadable)
                };
            }
        }
        Ok(None)
    }
}

/// The files did not say; ask git.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unreadable;

/// The git directory of a working tree whose top is `dir`, if it is one.
fn git_dir_at(dir: &Path) -> Option<PathBuf> {
    let dot_git = dir.join(".git");
    let meta = std::fs::metadata(&dot_git).ok()?;
    if meta.is_dir() {
        return dot_git.join("HEAD").is_file().then_some(dot_git);
    }
    // A worktree or submodule: `gitdir: <path>`, relative to `dir`.
    let text = std::fs::read_to_string(&dot_git).ok()?;
    let target = text.strip_prefix("gitdir:")?.trim();
    let git_dir = dir.join(target);
    git_dir.join("HEAD").is_file().then_some(git_dir)
}

/// A SHA-1 or SHA-256 object name.
fn is_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A ref name that stays inside the git directory when joined to it.
fn is_safe_ref(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn repo() -> (tempfile::TempDir, Layout) {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path().join(".git");
        std::fs::create_dir_all(git_dir.join("refs/heads")).unwrap();
        std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let layout = Layout::find(dir.path()).unwrap();
        (dir, layout)
    }

    #[test]
    fn finds_the_top_from_a_subdirectory() {
        let (dir, layout) = repo();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let found = Layout::find(&sub).unwrap();
        assert_eq!(found.root, std::fs::canonicalize(dir.path()).unwrap());
        assert_eq!(found, layout);
    }

    #[test]
    fn reads_branches_loose_and_packed_refs() {
        let (_dir, layout) = repo();
        assert_eq!(layout.head(), Some(Head::Branch("main".into())));
        // An unborn branch.
        assert_eq!(layout.resolve("refs/heads/main"), Ok(None));
        std::fs::write(
            layout.common_dir.join("packed-refs"),
            format!(
                "# pack-refs with: peeled fully-peeled sorted\n{SHA} refs/heads/main\n^{SHA}\n"
            ),
        )
        .unwrap();
        assert_eq!(layout.resolve("refs/heads/main"), Ok(Some(SHA.into())));
        // A loose ref wins over the packed one.
        let newer = SHA.replace('0', "f");
        std::fs::write(layout.git_dir.join("refs/heads/main"), format!("{newer}\n")).unwrap();
        assert_eq!(layout.resolve("refs/heads/main"), Ok(Some(newer)));
    }

    #[test]
    fn follows_symbolic_refs_and_detached_heads() {
        let (_dir, layout) = repo();
        let remotes = layout.common_dir.join("refs/remotes/origin");
        std::fs::create_dir_all(&remotes).unwrap();
        std::fs::write(remotes.join("HEAD"), "ref: refs/remotes/origin/trunk\n").unwrap();
        std::fs::write(remotes.join("trunk"), format!("{SHA}\n")).unwrap();
        assert_eq!(
            layout
                .symbolic_target("refs/remotes/origin/HEAD")
                .as_deref(),
            Some("refs/remotes/origin/trunk")
        );
        assert_eq!(
            layout.resolve("refs/remotes/origin/HEAD"),
            Ok(Some(SHA.into()))
        );
        std::fs::write(layout.git_dir.join("HEAD"), format!("{SHA}\n")).unwrap();
        assert_eq!(layout.head(), Some(Head::Detached(SHA.into())));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let (_dir, layout) = repo();
        assert_eq!(
            layout.resolve("refs/heads/../../../etc/passwd"),
            Err(Unreadable)
        );
        std::fs::write(layout.git_dir.join("refs/heads/main"), "not a sha\n").unwrap();
        assert_eq!(layout.resolve("refs/heads/main"), Err(Unreadable));
        std::fs::write(layout.git_dir.join("HEAD"), "garbage").unwrap();
        assert_eq!(layout.head(), None);
    }

    #[test]
    fn follows_a_gitdir_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("store/worktrees/wt");
        std::fs::create_dir_all(&real).unwrap();
        std::fs::write(real.join("HEAD"), "ref: refs/heads/feature\n").unwrap();
        std::fs::write(real.join("commondir"), "../..\n").unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(&tree).unwrap();
        std::fs::write(tree.join(".git"), "gitdir: ../store/worktrees/wt\n").unwrap();
        let layout = Layout::find(&tree).unwrap();
        assert_eq!(layout.head(), Some(Head::Branch("feature".into())));
        assert_eq!(
            std::fs::canonicalize(&layout.common_dir).unwrap(),
            std::fs::canonicalize(dir.path().join("store")).unwrap()
        );
    }
}
