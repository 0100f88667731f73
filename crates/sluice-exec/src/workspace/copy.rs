//! Copying and removing the entries of a workspace.

use std::path::Path;

/// Copies one entry: a file, a symbolic link, or a directory (a submodule
/// is listed as one path). Returns the bytes copied; a source that no
/// longer exists copies nothing.
pub(crate) fn copy_entry(from: &Path, to: &Path) -> Result<u64, String> {
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

/// Copies a directory and everything below it.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<u64, String> {
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

/// Removes whatever is at `path` (file, link or directory); nothing there
/// is fine.
pub(crate) fn remove_any(path: &Path) -> Result<(), String> {
    let result = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(|e| format!("cannot remove {}: {e}", path.display()))
}
