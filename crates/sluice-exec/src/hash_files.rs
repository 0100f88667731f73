//! `hashFiles(...)`: GitHub's fingerprint of a set of files.
//!
//! GitHub hashes each matched file with SHA-256, feeds the binary digests
//! in order into a second SHA-256, and returns its hex digest; with no
//! match it returns the empty string. Patterns are `@actions/glob` globs
//! relative to the workspace; files outside the workspace never count.
//! Sluice walks in sorted order, so the result does not depend on the
//! file system's directory order.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum HashFilesError {
    #[error("hashFiles: {0}")]
    Pattern(#[from] sluice_glob::WalkError),
    #[error("hashFiles: cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The hex digest of the files under `workspace` matching `patterns`
/// (each argument may hold several patterns, one per line).
pub fn hash_files(workspace: &Path, patterns: &[String]) -> Result<String, HashFilesError> {
    let patterns: Vec<String> = patterns
        .iter()
        .flat_map(|p| p.lines().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let files = sluice_glob::walk_matches(workspace, &patterns)?;
    if files.is_empty() {
        return Ok(String::new());
    }
    let mut total = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    for file in files {
        let read_error = |source| HashFilesError::Read {
            path: file.display().to_string(),
            source,
        };
        let mut handle = File::open(&file).map_err(read_error)?;
        let mut one = Sha256::new();
        loop {
            let n = handle
                .read(&mut buffer)
                .map_err(|source| HashFilesError::Read {
                    path: file.display().to_string(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            one.update(&buffer[..n]);
        }
        total.update(one.finalize());
    }
    Ok(hex(&total.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_githubs_algorithm_and_is_empty_without_matches() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.txt"), "hello\n").unwrap();
        std::fs::write(dir.join("sub/b.txt"), "world\n").unwrap();
        let digest = hash_files(&dir, &["**/*.txt".to_string()]).unwrap();
        // sha256(sha256("hello\n") || sha256("world\n")), computed independently.
        let expected = {
            let mut total = Sha256::new();
            total.update(Sha256::digest(b"hello\n"));
            total.update(Sha256::digest(b"world\n"));
            hex(&total.finalize())
        };
        assert_eq!(digest, expected);
        assert_eq!(hash_files(&dir, &["*.none".to_string()]).unwrap(), "");
        let only_a = hash_files(&dir, &["**/*.txt\n!sub/**".to_string()]).unwrap();
        assert_eq!(only_a, hex(&Sha256::digest(Sha256::digest(b"hello\n"))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
