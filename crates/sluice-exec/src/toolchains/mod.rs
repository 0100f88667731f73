//! Toolchains at the version a workflow asks for.
//!
//! A request (`node-version: 16`, a JavaScript action's `using: node20`,
//! `go-version: 1.22`) is first looked for on the host: what is on `PATH`,
//! then the directories of the usual version managers (nvm, fnm, volta,
//! asdf, mise, pyenv, sdkman, `/usr/lib/jvm`), the runner tool cache, and
//! what Sluice installed before. Failing that, Node.js and Go are
//! downloaded from their publisher (or a mirror: `mirror` /
//! `NODEJS_ORG_MIRROR`, `go-download-base-url` / `SLUICE_GO_MIRROR`),
//! verified against the publisher's SHA-256 checksums, and kept under
//! Sluice's cache directory (`toolchains/`), removed by `cache prune` once
//! unused for the cache's age limit. Python and Java are looked for on the
//! host only; a version that is nowhere is a clear error naming what was
//! looked for and where.

mod download;
mod go;
mod host_only;
mod locate;
mod node;
mod version_spec;

use std::path::{Path, PathBuf};

pub use version_spec::{InvalidVersionSpec, Release, Version, VersionSpec};

/// The file that marks when an installed toolchain was last used.
const LAST_USED: &str = ".sluice-last-used";

/// Where toolchains are looked for and installed.
#[derive(Debug, Clone)]
pub struct Toolchains {
    /// Sluice's installs: `<root>/<tool>/<version>/`.
    pub root: PathBuf,
    /// The user's home directory (version managers live there).
    pub home: Option<PathBuf>,
    /// `RUNNER_TOOL_CACHE`.
    pub tool_cache: PathBuf,
}

/// A toolchain found or installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub version: Version,
    /// The directory holding its programs (put first on `PATH`).
    pub bin: PathBuf,
    /// The program asked for (`node`, `python3.11`, `java`).
    pub program: PathBuf,
    /// Where it came from, for the log.
    pub source: String,
}

/// Why a toolchain could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolchainError {
    #[error(transparent)]
    Spec(#[from] InvalidVersionSpec),
    #[error("{tool} {spec} is not on this host (looked in {looked}) and {why}")]
    NotFound {
        tool: &'static str,
        spec: String,
        looked: String,
        why: String,
    },
    #[error("cannot download {url}: {reason}")]
    Download { url: String, reason: String },
    #[error(
        "{url} does not match the publisher's checksum (expected {expected}, got {found}); it was not installed"
    )]
    Checksum {
        url: String,
        expected: String,
        found: String,
    },
    #[error("{}: {reason}", path.display())]
    Local { path: PathBuf, reason: String },
}

impl Toolchains {
    /// The installed toolchain `tool` at `version`, if Sluice installed it.
    fn own_install(&self, tool: &str, version: Version) -> Option<PathBuf> {
        let dir = self.root.join(tool).join(version.to_string());
        dir.is_dir().then_some(dir)
    }

    /// Marks an install of Sluice's as used now (for pruning by age).
    fn touch(&self, dir: &Path) {
        let _ = std::fs::write(dir.join(LAST_USED), b"");
    }
}

/// Removes Sluice's installed toolchains unused for longer than
/// `max_age`; returns how many went.
pub fn remove_unused_toolchains(root: &Path, max_age: std::time::Duration) -> usize {
    let mut removed = 0;
    for tool in std::fs::read_dir(root).into_iter().flatten().flatten() {
        for install in std::fs::read_dir(tool.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = install.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            let used = std::fs::metadata(path.join(LAST_USED))
                .or_else(|_| std::fs::metadata(&path))
                .and_then(|m| m.modified())
                .ok();
            let old = used
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > max_age);
            if old && std::fs::remove_dir_all(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// This machine's architecture as publishers name it.
pub(crate) fn arch(node_style: bool) -> &'static str {
    match (std::env::consts::ARCH, node_style) {
        ("x86_64", true) => "x64",
        ("x86_64", false) => "amd64",
        ("aarch64", _) => "arm64",
        ("arm", _) => "armv6l",
        (other, _) => other,
    }
}
