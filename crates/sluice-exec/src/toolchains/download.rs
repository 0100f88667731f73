//! Fetching a published toolchain: the publisher's index, the archive,
//! and the publisher's checksum, with `curl` (so proxies and mirrors work
//! as users set them up); the archive is verified before it is unpacked,
//! and unpacked into a staging directory renamed into place, so a
//! toolchain directory is always complete.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::ToolchainError;

/// How long one download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// Downloads `url` to `into`.
pub(crate) fn fetch(url: &str, into: &Path) -> Result<(), ToolchainError> {
    let output = Command::new("curl")
        .args(["-fsSL", "--retry", "2", "--max-time"])
        .arg(DOWNLOAD_TIMEOUT.as_secs().to_string())
        .arg("-o")
        .arg(into)
        .arg(url)
        .output()
        .map_err(|e| ToolchainError::Download {
            url: url.to_string(),
            reason: format!("cannot run curl ({e}); install curl to download toolchains"),
        })?;
    if output.status.success() {
        return Ok(());
    }
    let reason = String::from_utf8_lossy(&output.stderr).trim().to_string();
    Err(ToolchainError::Download {
        url: url.to_string(),
        reason: if reason.is_empty() {
            format!("curl failed ({})", output.status)
        } else {
            reason
        },
    })
}

/// Downloads `url` and returns its text.
pub(crate) fn fetch_text(url: &str, scratch: &Path) -> Result<String, ToolchainError> {
    let file = scratch.join("index");
    fetch(url, &file)?;
    std::fs::read_to_string(&file).map_err(|e| ToolchainError::Download {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

/// The SHA-256 of a file, as lowercase hex.
pub(crate) fn sha256_of(path: &Path) -> Result<String, ToolchainError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| ToolchainError::Local {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| ToolchainError::Local {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(crate::hash_files::hex(&hasher.finalize()))
}

/// Downloads the archive at `url`, checks it against `sha256`, unpacks it
/// (its one top directory stripped) and puts it at `target`. The work is
/// done beside `target`, so the final rename is atomic.
pub(crate) fn install_archive(
    url: &str,
    sha256: &str,
    target: &Path,
) -> Result<(), ToolchainError> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| ToolchainError::Local {
        path: parent.to_path_buf(),
        reason: e.to_string(),
    })?;
    let staging = tempfile::Builder::new()
        .prefix(".staging-")
        .tempdir_in(parent)
        .map_err(|e| ToolchainError::Local {
            path: parent.to_path_buf(),
            reason: e.to_string(),
        })?;
    let archive = staging.path().join("archive");
    fetch(url, &archive)?;
    let found = sha256_of(&archive)?;
    if !found.eq_ignore_ascii_case(sha256.trim()) {
        return Err(ToolchainError::Checksum {
            url: url.to_string(),
            expected: sha256.trim().to_string(),
            found,
        });
    }
    let unpacked: PathBuf = staging.path().join("tree");
    std::fs::create_dir(&unpacked).map_err(|e| ToolchainError::Local {
        path: unpacked.clone(),
        reason: e.to_string(),
    })?;
    let output = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .arg("--strip-components=1")
        .arg("--no-same-owner")
        .output()
        .map_err(|e| ToolchainError::Local {
            path: archive.clone(),
            reason: format!("cannot run tar: {e}"),
        })?;
    if !output.status.success() {
        return Err(ToolchainError::Local {
            path: archive,
            reason: format!(
                "tar could not unpack it: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    match std::fs::rename(&unpacked, target) {
        Ok(()) => Ok(()),
        // Another run installed it meanwhile: theirs is as good.
        Err(_) if target.is_dir() => Ok(()),
        Err(e) => Err(ToolchainError::Local {
            path: target.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}
