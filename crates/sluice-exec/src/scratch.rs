//! A run's scratch space: step scripts, command files and the event
//! payload, which may hold secrets.
//!
//! It lives in the shared temporary directory, where any local user can
//! create names. So its name is unpredictable (128 random bits from the
//! kernel), it is created fresh with `mkdir` (which fails on anything
//! already there, a symbolic link included, rather than using it), and it
//! is checked to be a directory of ours that nobody else may enter before
//! anything is written into it.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The start of every scratch directory's name.
pub const SCRATCH_PREFIX: &str = "sluice-run-";

/// Why scratch space could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("no random source to name scratch space with: {0}")]
    NoRandomness(#[source] io::Error),
    #[error(
        "cannot create the private directory {path}: {source} (a scratch directory is always made fresh and never reused)"
    )]
    Create { path: PathBuf, source: io::Error },
    #[error("{path} is not a private directory of this user after creating it; refusing to use it")]
    NotPrivate { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// A name for new scratch space in `parent` that nobody can guess.
pub fn unpredictable_path(parent: &Path) -> Result<PathBuf, ScratchError> {
    let random = crate::ids::strong_random_hex(32).map_err(ScratchError::NoRandomness)?;
    Ok(parent.join(format!("{SCRATCH_PREFIX}{random}")))
}

/// Creates `path` as a new directory only this user may enter. Fails if
/// anything (a directory, a file, a link) is already there.
pub fn create_private_dir(path: &Path) -> Result<(), ScratchError> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|source| ScratchError::Create {
            path: path.to_path_buf(),
            source,
        })?;
    let private = std::fs::symlink_metadata(path).is_ok_and(|m| {
        m.file_type().is_dir()
            && m.uid() == nix::unistd::geteuid().as_raw()
            && m.mode() & 0o077 == 0
    });
    if private {
        Ok(())
    } else {
        Err(ScratchError::NotPrivate {
            path: path.to_path_buf(),
        })
    }
}

/// Writes a new file readable by this user only; never through a link or
/// over an existing file.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), ScratchError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .and_then(|mut file| file.write_all(contents))
        .map_err(|source| ScratchError::Write {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn names_are_unpredictable_and_fresh() {
        let parent = tempfile::tempdir().unwrap();
        let a = unpredictable_path(parent.path()).unwrap();
        let b = unpredictable_path(parent.path()).unwrap();
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), SCRATCH_PREFIX.len() + 32, "{name}");
        create_private_dir(&a).unwrap();
        let mode = std::fs::metadata(&a).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(matches!(
            create_private_dir(&a),
            Err(ScratchError::Create { .. })
        ));
    }

    #[test]
    fn a_planted_link_or_directory_is_never_used() {
        let parent = tempfile::tempdir().unwrap();
        let elsewhere = parent.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let planted_link = parent.path().join("link");
        std::os::unix::fs::symlink(&elsewhere, &planted_link).unwrap();
        assert!(create_private_dir(&planted_link).is_err());
        assert!(create_private_dir(&elsewhere).is_err());
        let target = elsewhere.join("victim");
        std::fs::write(&target, "keep").unwrap();
        let planted_file = parent.path().join("event.json");
        std::os::unix::fs::symlink(&target, &planted_file).unwrap();
        assert!(write_new_private_file(&planted_file, b"{}").is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
