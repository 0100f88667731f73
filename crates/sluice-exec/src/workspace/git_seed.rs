//! The `.git` of a job's workspace: it borrows the original's objects
//! through `objects/info/alternates` and starts from copies of its HEAD,
//! refs, index and configuration, so `git status`, `log` and `diff` work,
//! and whatever a job commits stays in its own copy.

use std::path::Path;

use super::copy::{copy_tree, remove_any};
use crate::git::layout::Layout;

/// Files copied from the original repository on every sync: (from the
/// worktree's own git directory?, name).
const COPIED: &[(bool, &str)] = &[
    (true, "HEAD"),
    (true, "index"),
    (false, "config"),
    (false, "packed-refs"),
    (false, "shallow"),
    (false, "info/exclude"),
];

/// Makes `git_dir` match the original's HEAD, refs, index and
/// configuration; objects the job created earlier are kept (harmless,
/// and unreachable once the refs are reset).
pub(crate) fn seed_git(layout: &Layout, git_dir: &Path) -> Result<(), String> {
    let create = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
    };
    create(&git_dir.join("objects/info"))?;
    let objects = std::fs::canonicalize(layout.common_dir.join("objects"))
        .unwrap_or_else(|_| layout.common_dir.join("objects"));
    std::fs::write(
        git_dir.join("objects/info/alternates"),
        format!("{}\n", objects.display()),
    )
    .map_err(|e| format!("cannot write {}: {e}", git_dir.display()))?;
    for (own, name) in COPIED {
        let source = if *own {
            layout.git_dir.join(name)
        } else {
            layout.common_dir.join(name)
        };
        let target = git_dir.join(name);
        remove_any(&target)?;
        if source.exists() {
            if let Some(parent) = target.parent() {
                create(parent)?;
            }
            std::fs::copy(&source, &target)
                .map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
        }
    }
    let refs = git_dir.join("refs");
    remove_any(&refs)?;
    let original_refs = layout.common_dir.join("refs");
    if original_refs.is_dir() {
        copy_tree(&original_refs, &refs)?;
    } else {
        create(&refs)?;
    }
    Ok(())
}
